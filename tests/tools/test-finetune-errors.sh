# fer-finetune and fer-eval refuse bad input with one clear line and no
# output: unknown labels, labels the model lacks, missing images, weights
# of another architecture or shape, bad options.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4
cd "$T"
mkdir c
ffmpeg -v error -i "$FER_MEDIA/franck.mp4" -frames:v 8 \
    -vf crop=160:160:105:70,scale=32:32,format=gray c/%d.png
{
    printf 'path\tlabel\n'
    for i in 1 2 3 4 5 6 7 8; do
        [ $((i % 2)) -eq 0 ] && l=happy || l=neutral # a synonym of happiness
        printf 'c/%d.png\t%s\n' "$i" "$l"
    done
    printf 'c/1.png\t\n' # unlabelled: skipped in training
} >train.tsv
fer-finetune -q -j 1 --size 32 --epochs 1 --batch 4 -o m.safetensors train.tsv
fer-weights meta m.safetensors >meta.tsv
grep -q "^classes	neutral,happiness$" meta.tsv || fail "classes metadata: $(grep classes meta.tsv)"
grep -q "^input_shape	1x32x32$" meta.tsv || fail "input_shape metadata"
grep -q "^arch	cnn-s$" meta.tsv || fail "arch metadata"

# fer-eval's bad inputs.
printf 'path\tlabel\nc/1.png\tanger\n' >anger.tsv
expect_error 1 "anger.tsv: line 2: label 'anger' is not a class of the model (neutral,happiness)" \
    fer-eval -m m.safetensors anger.tsv
printf 'path\tlabel\nc/1.png\thappyy\n' >typo.tsv
expect_error 1 "typo.tsv: line 2: unknown label 'happyy'" fer-eval -m m.safetensors typo.tsv
printf 'path\tlabel\nc/1.png\tneutral\nc/99.png\thappiness\n' >missing.tsv
expect_error 1 "c/99.png: No such file" fer-eval -m m.safetensors missing.tsv
[ ! -s "$T/stdout" ] || fail "fer-eval wrote metrics despite a missing image"
printf 'path\nc/1.png\n' >nolabel.tsv
expect_error 1 "no labelled rows: nothing to score" fer-eval -m m.safetensors nolabel.tsv
fer-weights copy -m arch=resnet18 -o other.safetensors m.safetensors
expect_error 1 "other.safetensors: not a resnet18 linear classifier of 2 classes: .*tensors differ" \
    fer-eval -m other.safetensors train.tsv
fer-weights copy -m task=rotation -o pretext.safetensors m.safetensors
expect_error 1 "a rotation pretext model, not an expression classifier" \
    fer-eval -m pretext.safetensors train.tsv
expect_error 2 "-m MODEL is required" fer-eval train.tsv

# fer-finetune's bad inputs.
expect_error 1 "m.safetensors: weights are for cnn-s, --arch is resnet18" \
    fer-finetune --init m.safetensors --arch resnet18 -o x.safetensors train.tsv
expect_error 1 "m.safetensors: not a cnn-s backbone with 3 input channels: tensor 'features.0.weight' has shape \[32,1,3,3\], the model expects \[32,3,3,3\]" \
    fer-finetune --init m.safetensors --channels 3 -o x.safetensors train.tsv
expect_error 1 "typo.tsv: line 2: unknown label 'happyy'" fer-finetune -o x.safetensors typo.tsv
expect_error 1 "c/99.png: No such file" fer-finetune -q --size 32 --batch 2 -o x.safetensors missing.tsv
printf 'path\tlabel\nc/1.png\tanger\n' >val.tsv
expect_error 1 "val.tsv: line 2: label 'anger' is not one of the classes" \
    fer-finetune --val val.tsv -o x.safetensors train.tsv
expect_error 2 "-o MODEL is required" fer-finetune train.tsv
expect_error 2 "--optimizer" fer-finetune --optimizer adam -o x.safetensors train.tsv
expect_error 2 "--ial: inter-sample attention works with --head linear only" \
    fer-finetune --ial --head fan -o x.safetensors train.tsv
expect_error 2 "--ial with --freeze" fer-finetune --ial --freeze -o x.safetensors train.tsv
expect_error 2 "need --ial" fer-finetune --ial-weight 0.5 -o x.safetensors train.tsv
expect_error 2 "--ial-temperature" fer-finetune --ial --ial-temperature 0 -o x.safetensors train.tsv
[ ! -e x.safetensors ] || fail "a failed run left an output"
no_temp_files .
exit 0
