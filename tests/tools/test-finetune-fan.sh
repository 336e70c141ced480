# fer-finetune --head fan learns clips: the marked franck.mp4 crops of
# marked-crops.sh grouped into clips of 4 consecutive frames of one class
# (15 training and 5 test clips per class); frame attention over 3
# segments must classify >= 95% of the held-out clips, and fer-eval must
# evaluate and predict per clip.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4
cd "$T"
. "$FER_ROOT/tests/tools/marked-crops.sh"
clips() { # FIRST LAST PREFIX: clips of 4 frames j = FIRST..LAST
    printf 'clip\tpath\tlabel\n'
    k=0
    for n in $names; do
        for j in $(seq "$1" "$2"); do
            printf '%s%d_%02d\tcrops/c%d_%03d.png\t%s\n' "$3" $k $(((j - 1) / 4)) $k "$j" "$n"
        done
        k=$((k + 1))
    done
}
clips 1 60 train >train.tsv
clips 61 80 test >test.tsv
fer-finetune -q -j 2 --head fan --frames 3 --epochs 12 --batch 8 --lr 0.05 \
    -o fan.safetensors train.tsv
fer-weights meta fan.safetensors | grep -q "^seq_len	3$" || fail "seq_len metadata"
fer-weights list fan.safetensors | grep -q "^fan.beta.weight	F32	1,512	" ||
    fail "no fan.beta.weight of shape 1x512"
fer-eval -q -m fan.safetensors --predictions pred.tsv test.tsv >metrics.tsv
acc=$(awk -F'\t' '$1 == "overall_accuracy" { print $2 }' metrics.tsv)
echo "fan clips: test accuracy $acc"
awk -v a="$acc" 'BEGIN { exit !(a >= 0.95) }' || fail "clip accuracy $acc < 0.95"
[ "$(wc -l <pred.tsv)" -eq 21 ] || fail "predictions: $(wc -l <pred.tsv) lines, expected 1 + 20 clips"
[ "$(head -n 1 pred.tsv | cut -f1-3)" = "$(printf 'clip\tlabel\tpredicted')" ] ||
    fail "predictions header: $(head -n 1 pred.tsv)"
# A clip model predicts once per clip: no timeline to draw. A usage error
# (2), found before the input is read (empty stdin would be exit 1).
expect_error 2 "fan.safetensors is a clip (fan) model" \
    fer-eval -m fan.safetensors --timeline-png x.png </dev/null
[ ! -e x.png ] || fail "x.png written for a clip model"
# A single-image manifest (no clip column) cannot feed a clip model.
cut -f2,3 test.tsv >noclip.tsv
expect_error 1 "noclip.tsv: no 'clip' column" fer-eval -m fan.safetensors noclip.tsv
# Clips whose rows disagree are refused.
printf 'clip\tpath\tlabel\na\tcrops/c0_001.png\tneutral\na\tcrops/c1_001.png\thappiness\n' >mixed.tsv
expect_error 1 "clip 'a': labels neutral and happiness" \
    fer-finetune --head fan -o x.safetensors mixed.tsv
exit 0
