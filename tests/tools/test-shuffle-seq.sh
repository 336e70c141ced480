# fer-shuffle-seq on real face crops (cut from franck.mp4 by ffmpeg, so this
# test does not depend on fer-facetrack): windows, targets, splits, errors.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4

# 48 frames, 24 fps: a 64x64 crop around the face.
mkdir -p "$T/c"
ffmpeg -v error -i "$FER_MEDIA/franck.mp4" -frames:v 48 \
    -vf crop=160:160:100:40,scale=64:64 "$T/c/%03d.png"
# Track 1 on frames 1-48 less 20-21 (a gap); track 2 on frames 1-10 (the
# same pixels shifted: a second face for contrastive positives).
{
    printf 'clip\tframe\tpts\ttrack\tcrop\tsubject\n'
    for f in $(seq 1 48); do
        pts=$(awk -v f="$f" 'BEGIN { printf "%.6f", (f - 1) / 24 }')
        if [ "$f" -ne 20 ] && [ "$f" -ne 21 ]; then
            printf 'franck\t%d\t%s\t1\tc/%03d.png\tS1\n' "$f" "$pts" "$f"
        else
            printf 'franck\t%d\t%s\t\t\tS1\n' "$f" "$pts"
        fi
        [ "$f" -le 10 ] && printf 'franck\t%d\t%s\t2\tc/%03d.png\tS1\n' "$f" "$pts" "$((f + 20))"
    done
} >"$T/faces.tsv"
cd "$T"

# Middle frame, n = 3, no split, no motion filter: track 1 has runs of 19
# and 27 faces -> 6 + 9 non-overlapping windows (--hop 3); track 2 (10
# faces) -> 3. By default windows overlap (hop 1): 17 + 25 + 8.
rows=$(($(fer-shuffle-seq -q -n 3 --min-motion 0 --split-by none faces.tsv | wc -l) - 1))
[ "$rows" -eq 150 ] || fail "middle n=3, default hop: $rows examples, expected 50 windows x 3"
fer-shuffle-seq -q -n 3 --hop 3 --min-motion 0 --split-by none faces.tsv >mid.tsv
rows=$(($(wc -l <mid.tsv) - 1))
[ "$rows" -eq 54 ] || fail "middle n=3: $rows examples, expected 18 windows x 3"
# Every k equally often; the middle frame (first_frame + 1) is at input(k+1).
target=$(col mid.tsv target) first=$(col mid.tsv first_frame) in1=$(col mid.tsv input1)
awk -F'\t' -v t="$target" 'NR > 1 { count[$t]++ }
    END { if (count[0] != 18 || count[1] != 18 || count[2] != 18) exit 1 }' mid.tsv ||
    fail "targets not balanced"
# Check the middle frame position exactly on track 1 rows (crop = frame).
awk -F'\t' -v t="$target" -v f="$first" -v i1="$in1" -v tr="$(col mid.tsv track)" '
    NR > 1 && $tr == 1 {
        if ($(i1 + $t) != sprintf("c/%03d.png", $f + 1)) { print "row " NR; exit 1 }
        # the three inputs are frames f, f+1, f+2 in some order
        s = $(i1) " " $(i1 + 1) " " $(i1 + 2)
        for (k = 0; k < 3; k++) if (index(s, sprintf("c/%03d.png", $f + k)) == 0) { print "row " NR; exit 1 }
    }' mid.tsv || fail "middle frame not at position k, or inputs not the window"
# No window crosses the gap at frames 20-21.
awk -F'\t' -v f="$first" -v l="$(col mid.tsv last_frame)" -v tr="$(col mid.tsv track)" \
    'NR > 1 && $tr == 1 && $f < 20 && $l > 19 { exit 1 }' mid.tsv || fail "a window crosses the gap"
# Input columns are kept.
[ "$(col mid.tsv subject)" != "" ] || fail "subject column dropped"

# Deterministic for a seed; another seed shuffles differently.
fer-shuffle-seq -q -n 3 --hop 3 --min-motion 0 --split-by none faces.tsv | cmp -s - mid.tsv ||
    fail "same seed gave different output"
fer-shuffle-seq -q -n 3 --hop 3 --min-motion 0 --split-by none --seed 2 faces.tsv | cmp -s - mid.tsv &&
    fail "another seed gave the same output"

# n = 5, stride 2: windows span 9 frames.
fer-shuffle-seq -q -n 5 --stride 2 --min-motion 0 --split-by none faces.tsv >mid5.tsv
awk -F'\t' -v f="$(col mid5.tsv first_frame)" -v l="$(col mid5.tsv last_frame)" \
    'NR > 1 && $l - $f != 8 { exit 1 }' mid5.tsv || fail "n=5 stride 2: span is not 8 frames"

# Time split: held-out windows lie in the last 20% of the clip's time.
fer-shuffle-seq -q -n 3 --min-motion 0 faces.tsv >split.tsv
awk -F'\t' -v s="$(col split.tsv split)" -v f="$(col split.tsv first_frame)" -v l="$(col split.tsv last_frame)" '
    NR > 1 { n[$s]++ }
    NR > 1 && $s == "val" && $f < 39 { exit 1 }
    NR > 1 && $s == "train" && $l >= 39 { exit 1 }
    END { if (n["val"] == 0 || n["train"] == 0) exit 1 }' split.tsv ||
    fail "time split: a window on the wrong side"

# Motion filter: a track showing one still image has no usable window.
awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { print; next } $4 == 1 { $5 = "c/001.png" } { print }' \
    faces.tsv >still.tsv
fer-shuffle-seq -q -n 3 --split-by none still.tsv >still-out.tsv
awk -F'\t' -v tr="$(col still-out.tsv track)" 'NR > 1 && $tr == 1 { exit 1 }' still-out.tsv ||
    fail "--min-motion kept a window of identical frames"

# Rotation: four rows per face, targets 0-3.
fer-shuffle-seq -q -t rotation --split-by none --per-track 5 faces.tsv >rot.tsv
[ $(($(wc -l <rot.tsv) - 1)) -eq 40 ] || fail "rotation: expected 2 tracks x 5 faces x 4"
awk -F'\t' -v t="$(col rot.tsv target)" 'NR > 1 { c[$t]++ } END { if (c[0] != 10 || c[3] != 10) exit 1 }' rot.tsv ||
    fail "rotation targets not balanced"

# Contrastive: the positive is about 1 s (24 frames) away on the same
# track, negatives more than 30 frames away.
fer-shuffle-seq -q -t contrastive --split-by none faces.tsv >con.tsv
awk -F'\t' -v tr="$(col con.tsv track)" -v a="$(col con.tsv input1)" \
    -v p="$(col con.tsv input2)" -v n1="$(col con.tsv input3)" '
    function frame(path) { return substr(path, 3, 3) + 0 }
    NR > 1 && $tr == 1 {
        d = frame($p) - frame($a); if (d < 0) d = -d
        if (d < 12 || d > 36) { print "positive " d " frames away, row " NR; exit 1 }
        if ($n1 != "") { d = frame($n1) - frame($a); if (d < 0) d = -d; if (d <= 30) { print "negative " d; exit 1 } }
        rows++
    }
    END { if (rows < 20) { print rows " rows"; exit 1 } }' con.tsv || fail "contrastive pairs"

# Bad input: one line on stderr, non-zero exit, no partial output.
expect_error 2 "even" fer-shuffle-seq -n 4 faces.tsv
expect_error 2 "out of range" fer-shuffle-seq -n 1 faces.tsv
expect_error 2 "unknown option" fer-shuffle-seq --bogus faces.tsv
expect_error 2 "not one of" fer-shuffle-seq -t jigsaw faces.tsv
cut -f 1,2,3,5 faces.tsv >notrack.tsv
expect_error 1 "notrack.tsv: no 'track' column" fer-shuffle-seq notrack.tsv
sed 's|c/030.png|c/missing.png|' faces.tsv >missing.tsv
expect_error 1 "missing.png" fer-shuffle-seq --min-motion 0 -o out.tsv missing.tsv
[ ! -e out.tsv ] || fail "partial output left after an error"
no_temp_files "$T"
expect_error 1 "nonexistent.tsv" fer-shuffle-seq nonexistent.tsv
printf 'clip\tframe\ttrack\tcrop\nfranck\t1\t1\n' >short.tsv
expect_error 1 "line 2: 3 fields, header has 4" fer-shuffle-seq short.tsv
expect_error 1 "cannot create" fer-shuffle-seq -o /nonexistent/out.tsv faces.tsv

# -o FILE: paths made absolute, file complete.
fer-shuffle-seq -q -n 3 --min-motion 0 --split-by none -o "$T/abs.tsv" faces.tsv
awk -F'\t' -v i="$(col abs.tsv input1)" 'NR > 1 && substr($i, 1, 1) != "/" { exit 1 }' abs.tsv ||
    fail "-o FILE: relative paths in output"

# Frames sampled by time from 24 fps (fer-extract -r 5): steps of 4 and 5
# decoded frames are consecutive; a step of 9 (a missed face) is a gap.
{
    printf 'clip\tframe\ttrack\tcrop\n'
    for f in 2 7 11 16 21 26 35 40 45; do printf 'v\t%d\t1\tc/001.png\n' "$f"; done
} >steps.tsv
rows=$(fer-shuffle-seq -q -n 3 --min-motion 0 --hop 1 --split-by none steps.tsv | wc -l)
[ "$rows" -eq $((5 * 3 + 1)) ] || fail "uneven steps: $((rows - 1)) examples, expected 4 + 1 windows x 3"
exit 0
