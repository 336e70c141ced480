# fer-finetune + fer-eval learn something real: face crops from franck.mp4
# (cut by ffmpeg, so no other fer tool is involved) carry a class-specific
# white mark that survives the default augmentation (flip-symmetric, away
# from the border): neutral none, happiness above the eyes, sadness on the
# chin, surprise on both cheeks. Fine-tuning cnn-s at 48 px must reach
# >= 95% on held-out frames; the same images with shuffled labels must
# stay near chance (25%); a run killed with kill -9 and resumed must end
# with the same bytes as an uninterrupted one. With --ial the main head
# still learns (>= 90%), and --ial-weight 0 changes nothing.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4
cd "$T"

. "$FER_ROOT/tests/tools/marked-crops.sh"
{
    printf 'path\tlabel\n'
    k=0
    for n in $names; do
        for j in $(seq -f %03g 1 60); do printf 'crops/c%d_%s.png\t%s\n' $k "$j" "$n"; done
        k=$((k + 1))
    done
} >train.tsv
{
    printf 'path\tlabel\n'
    k=0
    for n in $names; do
        for j in $(seq -f %03g 61 80); do printf 'crops/c%d_%s.png\t%s\n' $k "$j" "$n"; done
        k=$((k + 1))
    done
} >test.tsv

run="fer-finetune -q -j 2 --arch cnn-s --size 48 --epochs 8 --batch 32 --lr 0.05 --seed 3"
$run --log log.tsv -o model.safetensors train.tsv
[ "$(wc -l <log.tsv)" -eq 9 ] || fail "log has $(wc -l <log.tsv) lines, expected header + 8"
fer-eval -q -m model.safetensors --confusion cm.tsv --confusion-png cm.png \
    --predictions pred.tsv test.tsv >metrics.tsv
acc=$(awk -F'\t' '$1 == "overall_accuracy" { print $2 }' metrics.tsv)
echo "marked crops: test accuracy $acc"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "test accuracy $acc < 0.95"
[ "$(head -n 1 cm.tsv)" = "$(printf 'true\tneutral\thappiness\tsadness\tsurprise')" ] ||
    fail "confusion header: $(head -n 1 cm.tsv)"
[ "$(head -c 8 cm.png | od -An -tx1 | tr -d ' ')" = 89504e470d0a1a0a ] || fail "cm.png is not a PNG"
[ "$(wc -l <pred.tsv)" -eq 81 ] || fail "predictions: $(wc -l <pred.tsv) lines"
[ "$(head -n 1 pred.tsv)" = "$(printf 'path\tlabel\tpredicted\tprob_neutral\tprob_happiness\tprob_sadness\tprob_surprise')" ] ||
    fail "predictions header: $(head -n 1 pred.tsv)"
# Predictions agree with the metrics, and the probabilities sum to 1.
awk -F'\t' -v a="$acc" 'NR > 1 { n++; ok += ($2 == $3); s = $4 + $5 + $6 + $7
        if (s < 0.999 || s > 1.001) exit 1 }
    END { if (sprintf("%.6f", ok / n) != a) exit 1 }' pred.tsv || fail "predictions disagree with metrics"
# Without labels: predictions only ("run on my video").
cut -f1 test.tsv >nolabel.tsv
fer-eval -q -m model.safetensors --predictions - nolabel.tsv >pred2.tsv
cut -f3 pred.tsv | tail -n +2 >a.txt
cut -f2 pred2.tsv | tail -n +2 >b.txt
cmp -s a.txt b.txt || fail "predictions without labels differ"

# Inter-sample attention (--ial): the auxiliary loss still lets the main
# head learn the marks; the model file holds no ial.* tensor (the branch
# only trains) and fer-eval reads it as any linear model; the checkpoint
# keeps the branch for --resume.
$run --ial -o ial.safetensors train.tsv
iacc=$(fer-eval -q -m ial.safetensors test.tsv | awk -F'\t' '$1 == "overall_accuracy" { print $2 }')
echo "marked crops with --ial: test accuracy $iacc"
awk -v a="$iacc" 'BEGIN { exit !(a >= 0.9) }' || fail "--ial test accuracy $iacc < 0.9"
! fer-weights list ial.safetensors | grep -q '^ial\.' || fail "the model file has ial.* tensors"
[ "$(fer-weights list ial.safetensors.ckpt | grep -c '^ial\.')" -eq 6 ] ||
    fail "the checkpoint lacks the ial.* tensors"

# Transfer: a linear probe (--freeze) on the backbone just trained, for
# two of the classes, beats one on a random backbone by a wide margin.
grep -v -e neutral -e sadness train.tsv >train2.tsv
grep -v -e neutral -e sadness test.tsv >test2.tsv
probe="fer-finetune -q -j 2 --freeze --epochs 3 --batch 16 --lr 0.05"
$probe --init model.safetensors -o probe.safetensors train2.tsv
$probe -o probe0.safetensors train2.tsv
pacc=$(fer-eval -q -m probe.safetensors test2.tsv | awk -F'\t' '$1 == "overall_accuracy" { print $2 }')
racc=$(fer-eval -q -m probe0.safetensors test2.tsv | awk -F'\t' '$1 == "overall_accuracy" { print $2 }')
echo "linear probe: transferred backbone $pacc, random backbone $racc"
awk -v a="$pacc" 'BEGIN { exit !(a >= 0.9) }' || fail "probe on the trained backbone: $pacc < 0.9"
# --freeze really froze it: every backbone tensor (weights and batch-norm
# statistics) has --init's bytes; only fc differs.
/usr/bin/python3 - model.safetensors probe.safetensors <<'PY' || fail "--freeze changed the backbone"
import json, struct, sys
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8:8 + n])
    head.pop("__metadata__", None)
    return {k: data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in head.items()}
a, b = load(sys.argv[1]), load(sys.argv[2])
diff = sorted(k for k in a if not k.startswith("fc.") and a[k] != b[k])
sys.exit(1 if diff or a["fc.weight"] == b.get("fc.weight") else 0)
PY

# Control: labels shuffled (a fixed permutation unrelated to the marks).
awk -F'\t' 'BEGIN { srand(7) } NR == 1 { print; next } { p[NR] = $1; l[NR] = $2; n = NR }
    END { for (i = n; i > 2; i--) { j = 2 + int(rand() * (i - 1)); t = l[i]; l[i] = l[j]; l[j] = t }
          for (i = 2; i <= n; i++) print p[i] "\t" l[i] }' train.tsv >shuffled.tsv
$run -o shuffled.safetensors shuffled.tsv
fer-eval -q -m shuffled.safetensors test.tsv >shuffled-metrics.tsv
sacc=$(awk -F'\t' '$1 == "overall_accuracy" { print $2 }' shuffled-metrics.tsv)
echo "shuffled labels: test accuracy $sacc (chance 0.25)"
awk -v a="$sacc" 'BEGIN { exit !(a <= 0.45) }' || fail "shuffled-label accuracy $sacc > 0.45"

# kill -9 after the first mid-epoch checkpoint, then --resume: same bytes.
head -n 97 train.tsv >small.tsv # 96 images, 6 steps per epoch at batch 16
small="fer-finetune -q -j 2 --epochs 3 --batch 16 --lr 0.05 --checkpoint-every 2 --log log.tsv"
mkdir full killed
(cd full && $small -o m.safetensors ../small.tsv)
cd killed
$small -o m.safetensors ../small.tsv 2>/dev/null &
pid=$!
while [ ! -e m.safetensors.ckpt ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
kill -9 $pid 2>/dev/null || true
set +e
wait $pid
rc=$?
set -e
[ "$rc" -eq 137 ] || fail "the run ended (exit $rc) before it could be killed"
[ ! -e m.safetensors ] || fail "a killed run left an output"
grep -q '"epoch_batch":"[1-9]' m.safetensors.ckpt || fail "checkpoint is not mid-epoch"
$small --resume -o m.safetensors ../small.tsv
cd ..
cmp full/m.safetensors killed/m.safetensors || fail "resumed run differs from the uninterrupted one"
# --ial with lambda1 = 0 trains the main head exactly as without --ial (the
# branch's gradient is zero): same tensors, bit for bit.
$small --ial --ial-weight 0 --log ial0.log -o ial0.safetensors small.tsv
/usr/bin/python3 - full/m.safetensors ial0.safetensors <<'PY' || fail "--ial-weight 0 changed the model"
import json, struct, sys
def load(path):
    data = open(path, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    head = json.loads(data[8:8 + n])
    head.pop("__metadata__", None)
    return {k: data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in head.items()}
sys.exit(0 if load(sys.argv[1]) == load(sys.argv[2]) else 1)
PY
cut -f1-5,7- full/log.tsv >full.log
cut -f1-5,7- killed/log.tsv >killed.log
cmp -s full.log killed.log || fail "resumed log differs (columns but seconds)"

# Run on my video, with model.safetensors trained above: real frames of
# franck.mp4 through fer-extract and fer-facetrack into fer-eval by pipes,
# no labels and no file argument:
# predictions on stdout and a timeline PNG, 720 px wide, 24 px of title and
# FER_PLOT_PANEL_HEIGHT = 260 px per track (plot.h). The face carries no
# mark, so the model should call it neutral.
png_size() { # "WxH" from the PNG's IHDR (bytes 16..23, big-endian)
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
fer-extract -q -r 5 --end 8 -o frames "$FER_MEDIA/franck.mp4" | fer-facetrack -q -o faces |
    tee faces.tsv | fer-eval -q -m model.safetensors --predictions - --timeline-png tl.png >video.tsv
rows=$(($(wc -l <video.tsv) - 1))
[ "$rows" -ge 30 ] || fail "run on my video: $rows predictions for 40 frames"
[ "$rows" -eq $(($(wc -l <faces.tsv) - 1)) ] || fail "one prediction per face expected"
tc=$(col video.tsv track) pc=$(col video.tsv predicted) cc=$(col video.tsv clip)
tracks=$(awk -F'\t' -v t="$tc" -v c="$cc" 'NR > 1 && $t != "" { k[$c "/" $t] = 1 }
    END { n = 0; for (i in k) n++; print (n > 6 ? 6 : n) }' video.tsv)
[ "$(png_size tl.png)" = "720x$((24 + 260 * tracks))" ] ||
    fail "tl.png is $(png_size tl.png), expected 720x$((24 + 260 * tracks)) ($tracks tracks)"
if /usr/bin/python3 -c 'import cv2' 2>/dev/null; then
    got=$(/usr/bin/python3 -c 'import cv2, sys; im = cv2.imread(sys.argv[1]); print("%dx%d" % (im.shape[1], im.shape[0]))' tl.png)
    [ "$got" = "$(png_size tl.png)" ] || fail "tl.png: OpenCV reads $got"
fi
neutral=$(awk -F'\t' -v p="$pc" 'NR > 1 { n++; k += ($p == "neutral") } END { printf "%.2f", k / n }' video.tsv)
echo "run on my video: $rows faces, $tracks tracks, $neutral predicted neutral"
awk -v a="$neutral" 'BEGIN { exit !(a >= 0.8) }' || fail "unmarked face: only $neutral neutral"
# The same picture: with the manifest named '-', without --predictions
# (nothing on stdout); from a file with labels (metrics on stdout); and by
# fer-plot timeline from the predictions TSV.
fer-eval -q -m model.safetensors --timeline-png tl2.png - <faces.tsv >out2.txt
[ ! -s out2.txt ] || fail "timeline alone wrote to stdout"
cmp tl.png tl2.png || fail "timeline from stdin without --predictions differs"
lc=$(col faces.tsv label)
awk -F'\t' -v OFS='\t' -v l="$lc" 'NR > 1 { $l = "neutral" } { print }' faces.tsv >labelled.tsv
fer-eval -q -m model.safetensors --timeline-png tl3.png labelled.tsv >metrics3.tsv
acc3=$(awk -F'\t' '$1 == "overall_accuracy" { print $2 }' metrics3.tsv)
[ "$acc3" = "$(printf %.6f "$neutral")" ] || fail "labelled video: accuracy $acc3, $neutral neutral"
cmp tl.png tl3.png || fail "timeline with labels differs"
fer-plot timeline --title model.safetensors video.tsv -o tl4.png
cmp tl.png tl4.png || fail "fer-plot timeline draws the predictions differently"
# Frames without a face (fer-facetrack --keep-empty: empty face columns)
# keep their row in the predictions, with an empty prediction, and change
# neither the other rows' predictions nor the metrics.
crc=$(col labelled.tsv crop) trc=$(col labelled.tsv track)
awk -F'\t' -v OFS='\t' -v c="$crc" -v t="$trc" 'NR > 1 && NR % 5 == 0 { $c = ""; $t = "" } { print }' \
    labelled.tsv >gaps.tsv
fer-eval -q -m model.safetensors --predictions gaps-pred.tsv gaps.tsv >gaps-metrics.tsv
[ "$(wc -l <gaps-pred.tsv)" -eq "$(wc -l <gaps.tsv)" ] ||
    fail "--keep-empty rows: $(wc -l <gaps-pred.tsv) prediction lines for $(wc -l <gaps.tsv)"
gpc=$(col gaps-pred.tsv predicted)
awk -F'\t' -v p="$gpc" -v c="$crc" 'NR > 1 && (($c == "") != ($p == "")) { exit 1 }' gaps-pred.tsv ||
    fail "a row without a face got a prediction, or a face none"
fer-eval -q -m model.safetensors --predictions faces-pred.tsv labelled.tsv >/dev/null
awk -F'\t' -v p="$gpc" -v c="$crc" 'NR == FNR { if ($c != "") want[FNR] = $p; next }
    FNR in want && $p != want[FNR] { exit 1 }' gaps-pred.tsv faces-pred.tsv ||
    fail "predictions of the face rows changed beside rows without a face"
awk -F'\t' -v c="$crc" 'NR == 1 || $c != ""' gaps.tsv >faces-only.tsv
fer-eval -q -m model.safetensors faces-only.tsv >faces-only-metrics.tsv
cmp -s gaps-metrics.tsv faces-only-metrics.tsv || fail "rows without a face were scored"
# No track column: each clip is one panel; no pts: the frame axis; beyond
# 6 panels the rest is left out with a warning. Here 4 classes x 2 clips.
awk -F'\t' -v OFS='\t' 'NR == 1 { print "clip", "frame", $0; next }
    { print $2 "_" (NR % 2), NR, $0 }' test.tsv >clips.tsv
fer-eval -q -m model.safetensors --timeline-png tl5.png clips.tsv >metrics5.tsv 2>warn.txt
[ "$(png_size tl5.png)" = "720x$((24 + 260 * 6))" ] || fail "tl5.png is $(png_size tl5.png)"
grep -q "tl5.png: only the first 6 tracks drawn, 20 rows of later ones left out" warn.txt ||
    fail "no warning about left-out tracks: $(cat warn.txt)"
cmp -s metrics.tsv metrics5.tsv || fail "metrics differ with a timeline"
# No time axis at all: a clear error before the model runs, no PNG.
expect_error 1 "test.tsv: --timeline-png: no 'pts' or 'frame' column" \
    fer-eval -m model.safetensors --timeline-png x.png test.tsv
[ ! -e x.png ] || fail "x.png written on error"
# A bad time field stops the run with its line, and leaves no output.
ptc=$(col faces.tsv pts)
awk -F'\t' -v OFS='\t' -v p="$ptc" 'NR == 3 { $p = "x" } { print }' faces.tsv >badpts.tsv
expect_error 1 "badpts.tsv: line 3: column 'pts': not a number: 'x'" \
    fer-eval -m model.safetensors --timeline-png x.png --predictions p.tsv badpts.tsv
[ ! -e x.png ] && [ ! -e p.tsv ] || fail "output written on a bad pts"
no_temp_files .
exit 0
