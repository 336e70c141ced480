# test-extract-datasets.sh - fer-extract --dataset on miniature trees laid
# out like the real ones (the importers themselves are unit-tested in
# test_dataset): subject, label and split reach the manifest; an unknown
# class is skipped with a warning; images and FER2013 pixels are written.
. "$FER_ROOT/tests/tools/lib.sh"
need_media astronaut.png grace_hopper_512x512.jpg

# A 16x12 PNG and a 16x12 JPEG made from the test stills.
fer-extract -q --size 16x12 -o "$T/src" "$FER_MEDIA/astronaut.png" "$FER_MEDIA/grace_hopper_512x512.jpg" \
    >/dev/null || fail "cannot make the small stills"
png="$T/src/astronaut/000000.png"
fer-extract -q --size 16x12 --format jpg -o "$T/src" "$FER_MEDIA/grace_hopper_512x512.jpg" >/dev/null
jpg="$T/src/grace_hopper_512x512/000000.jpg"
[ -s "$png" ] && [ -s "$jpg" ] || fail "small stills missing"

# folder (ImageFolder): two known classes, one unknown, subject from the name.
root="$T/folder"
mkdir -p "$root/happy" "$root/Sad" "$root/bored"
cp "$png" "$root/happy/S01_a.png"
cp "$jpg" "$root/happy/S02_b.jpg"
cp "$png" "$root/Sad/S01_c.png"
cp "$png" "$root/bored/S03_d.png"
fer-extract -j2 --dataset folder --subject-regex '^(S[0-9]+)_' -o "$T/out" "$root" \
    >"$T/folder.tsv" 2>"$T/folder.err" || fail "folder: $(cat "$T/folder.err")"
[ "$(tail -n +2 "$T/folder.tsv" | wc -l)" -eq 3 ] || fail "folder: expected 3 rows"
tail -n +2 "$T/folder.tsv" | cut -f7,8 | sort | tr '\t\n' ':,' >"$T/got"
[ "$(cat "$T/got")" = "S01:happiness,S01:sadness,S02:happiness," ] || fail "folder: subject/label $(cat "$T/got")"
grep -q "bored" "$T/folder.err" || fail "folder: no warning about the unknown class 'bored'"
tail -n +2 "$T/folder.tsv" | cut -f4 | while read -r p; do [ -s "$p" ] || fail "folder: $p missing"; done

# CK+: two sequences, one with an emotion file (3 = disgust), one without.
root="$T/ck"
mkdir -p "$root/cohn-kanade-images/S005/001" "$root/cohn-kanade-images/S010/002" \
    "$root/Emotion/S005/001" "$root/Emotion/S010/002"
for i in 1 2 3; do cp "$png" "$root/cohn-kanade-images/S005/001/S005_001_0000000$i.png"; done
cp "$png" "$root/cohn-kanade-images/S010/002/S010_002_00000001.png"
printf '   3.0000000e+00\n' >"$root/Emotion/S005/001/S005_001_00000003_emotion.txt"
fer-extract -q --dataset ckplus --grey -o "$T/ckout" "$root" >"$T/ck.tsv" || fail "ckplus failed"
[ "$(tail -n +2 "$T/ck.tsv" | wc -l)" -eq 4 ] || fail "ckplus: expected 4 rows"
tail -n +2 "$T/ck.tsv" | cut -f1,2,7,8 | head -n 1 | grep -qx 'S005_001	0	S005	disgust' ||
    fail "ckplus: first row $(sed -n 2p "$T/ck.tsv")"
tail -n 1 "$T/ck.tsv" | cut -f1,7,8 | grep -qx 'S010_002	S010	' || fail "ckplus: unlabelled sequence"

# FER2013: pixels in a CSV become 48x48 grey PNGs.
root="$T/fer2013"
mkdir -p "$root"
pixels=$(awk 'BEGIN { for (i = 0; i < 2304; i++) printf "%s%d", i ? " " : "", i % 256 }')
{ echo "emotion,pixels,Usage"; echo "3,$pixels,Training"; echo "6,$pixels,PrivateTest"; } >"$root/fer2013.csv"
fer-extract -q --dataset fer2013 -o "$T/ferout" "$root/fer2013.csv" >"$T/fer.tsv" ||
    fail "fer2013 failed"
[ "$(tail -n +2 "$T/fer.tsv" | wc -l)" -eq 2 ] || fail "fer2013: expected 2 rows"
tail -n +2 "$T/fer.tsv" | cut -f5,6 | sort -u | grep -qx '48	48' || fail "fer2013: not 48x48"
no_temp_files "$T"
echo ok
