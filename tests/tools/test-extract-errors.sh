# test-extract-errors.sh - every bad input gives one line
# "fer-extract: FILE: cause", a non-zero exit (1 data, 2 usage), and leaves
# no partial image, temporary file or manifest rows behind.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4 cap13_edit2.mp4 astronaut.png

good="$FER_MEDIA/cap13_edit2.mp4"

# no_frames DIR: nothing was published under DIR (no image, no temporary).
no_frames() {
    left=$(find "$1" -type f 2>/dev/null | head -n 1)
    [ -z "$left" ] || fail "output left behind: $left"
}

# Bad data: exit 1, one line naming the file.
head -c 300000 "$FER_MEDIA/franck.mp4" >"$T/cut.mp4" # moov atom at the end: lost
expect_error 1 "cut.mp4: .*moov atom not found" fer-extract -q -o "$T/o1" "$T/cut.mp4"
no_frames "$T/o1"

# Truncated in the middle of the data (index first, as with -movflags faststart):
# frames were written before the damage is met; they must be removed.
ffmpeg -nostdin -v error -y -i "$good" -c copy -movflags +faststart "$T/fs.mp4"
head -c 300000 "$T/fs.mp4" >"$T/fs-cut.mp4"
expect_error 1 "fs-cut.mp4: .*partial file" fer-extract -q -j2 -o "$T/o2" "$T/fs-cut.mp4"
no_frames "$T/o2"
[ ! -s "$T/stdout" ] || fail "a failed run wrote to stdout"

echo "this is not a video" >"$T/text.mp4"
expect_error 1 "text.mp4: Invalid data found when processing input" \
    fer-extract -q -o "$T/o3" "$T/text.mp4"
: >"$T/empty.mp4"
expect_error 1 "empty.mp4: empty file" fer-extract -q -o "$T/o3" "$T/empty.mp4"
expect_error 1 "missing.mp4: No such file or directory" fer-extract -q -o "$T/o3" "$T/missing.mp4"

# A PNG whose IDAT chunk is damaged (CRC no longer matches).
cp "$FER_MEDIA/astronaut.png" "$T/bad.png"
off=$(grep -abo IDAT "$T/bad.png" | head -n 1 | cut -d: -f1)
printf 'XXXX' | dd of="$T/bad.png" bs=1 seek=$((off + 20)) conv=notrunc 2>/dev/null
expect_error 1 "bad.png: " fer-extract -q -o "$T/o3" "$T/bad.png"
no_frames "$T/o3"
# ... inside a directory of frames: the message names the frame file.
mkdir -p "$T/seq"
cp "$FER_MEDIA/astronaut.png" "$T/seq/001.png"
cp "$T/bad.png" "$T/seq/002.png"
expect_error 1 "seq/002.png: " fer-extract -q -j2 -o "$T/o4" "$T/seq"
no_frames "$T/o4"

mkdir -p "$T/nothing"
echo text >"$T/nothing/readme.txt"
expect_error 1 "nothing: no PNG or JPEG images" fer-extract -q -o "$T/o5" "$T/nothing"

# Unwritable output directory (/sys refuses mkdir even to root).
expect_error 1 "fer-x: cannot create directory" fer-extract -q -o /sys/fer-x "$good"
echo file >"$T/plain"
expect_error 1 "plain: not a directory" fer-extract -q -o "$T/plain" "$good"
if [ "$(id -u)" -ne 0 ]; then
    mkdir -p "$T/ro" && chmod 555 "$T/ro"
    expect_error 1 "ro: cannot write" fer-extract -q -o "$T/ro" "$good"
fi

# A full disk: a file-size limit of 20 kB (dash counts 512-byte blocks)
# makes the first frame write fail with EFBIG, as ENOSPC would.
set +e
(ulimit -f 40; fer-extract -q -j2 -o "$T/o6" "$good" >"$T/full.tsv" 2>"$T/full.err")
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "full disk: exit $rc, expected 1"
[ "$(wc -l <"$T/full.err")" -eq 1 ] || fail "full disk: $(cat "$T/full.err")"
grep -q "000000.png: PNG: write error: File too large" "$T/full.err" || fail "full disk: $(cat "$T/full.err")"
no_temp_files "$T/o6"
no_frames "$T/o6"

# A later input fails: earlier clips stay complete (files and rows), the
# failing one leaves nothing, the exit status says it failed.
set +e
fer-extract -q --end 0.4 -o "$T/o7" "$good" "$T/text.mp4" >"$T/later.tsv" 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "later failure: exit $rc"
[ "$(tail -n +2 "$T/later.tsv" | wc -l)" -eq 10 ] || fail "first clip's rows missing"
[ "$(find "$T/o7" -type f | wc -l)" -eq 10 ] || fail "first clip's frames missing"

# Bad options: exit 2, one line.
expect_error 2 "-o DIR is required" fer-extract "$good"
expect_error 2 "no input" fer-extract -o "$T/o8"
expect_error 2 "'abc' is not a frame rate" fer-extract -r abc -o "$T/o8" "$good"
expect_error 2 "'-5' is not a frame rate" fer-extract -r -5 -o "$T/o8" "$good"
expect_error 2 "not WIDTHxHEIGHT" fer-extract --size 64 -o "$T/o8" "$good"
expect_error 2 "sides must be" fer-extract --size 0x48 -o "$T/o8" "$good"
expect_error 2 "exclude each other" fer-extract --size 64x48 --max-side 9 -o "$T/o8" "$good"
expect_error 2 "not one of" fer-extract --format gif -o "$T/o8" "$good"
expect_error 2 "PNG level" fer-extract --quality 50 -o "$T/o8" "$good"
expect_error 2 "out of range" fer-extract --format jpg --quality 101 -o "$T/o8" "$good"
expect_error 2 "--end must be after --start" fer-extract --start 5 --end 2 -o "$T/o8" "$good"
expect_error 2 "--every: 0 is out of range" fer-extract --every 0 -o "$T/o8" "$good"
expect_error 2 "unknown option" fer-extract --frobnicate -o "$T/o8" "$good"
expect_error 2 "not one of" fer-extract --dataset imagenet -o "$T/o8" "$T"
expect_error 2 "needs --dataset folder" fer-extract --subject-regex 'S(.*)' -o "$T/o8" "$good"
[ ! -e "$T/o8" ] || fail "a usage error created the output directory"
echo ok
