# fer-pretrain on real face crops (cut from franck.mp4 by ffmpeg): rotation
# learns, the relational middle-frame head learns a sequence whose order is
# visible, contrastive runs with hard negatives, deterministically and
# resumably, and bad input fails before training starts.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4
cd "$T"

# faces.tsv: one track of the given crops, 5 frames per second.
faces() { # dir
    printf 'clip\tframe\tpts\ttrack\tcrop\n'
    i=0
    for f in "$1"/*.png; do
        printf '%s\t%d\t%s\t1\t%s\n' "$1" "$i" "$(awk -v i="$i" 'BEGIN { printf "%.3f", i / 5 }')" "$f"
        i=$((i + 1))
    done
}

# Rotation: 120 48x48 grey crops, one every 20th frame of the video; the
# last 20% of the time range is held out.
mkdir rot
ffmpeg -v error -i "$FER_MEDIA/franck.mp4" -vf "select=not(mod(n\,40)),crop=160:160:100:40,scale=48:48,format=gray" \
    -vsync 0 -frames:v 120 rot/%03d.png
faces rot >rot-faces.tsv
fer-shuffle-seq -q -t rotation rot-faces.tsv >rot.tsv
fer-pretrain -q --task rotation --epochs 4 --batch 16 --log rot.log -o rot.safetensors rot.tsv >rot.out
acc=$(awk '$1 == "pretext_accuracy" { print $2 }' rot.out)
awk -v a="$acc" 'BEGIN { exit !(a >= 0.7) }' || fail "rotation: held-out accuracy $acc, expected >= 0.7 (chance 0.25)"
fer-weights meta rot.safetensors >rot.meta
grep -q "^pretext_accuracy	$acc" rot.meta || fail "pretext_accuracy not in the metadata"
grep -q "^chance	0.2500" rot.meta || fail "chance not in the metadata"
grep -q "^task	rotation" rot.meta || fail "task not in the metadata"
# The backbone under cnn-s's names, the head under head.*.
fer-weights list rot.safetensors >rot.list
grep -q "^features.0.weight	F32	32,1,3,3" rot.list || fail "backbone tensor missing"
grep -q "^head.fc.weight	F32	4,256" rot.list || fail "head tensor missing"
[ "$(head -n 1 rot.log)" = "$(printf 'epoch\tstep\tloss\taccuracy\tlr\tseconds')" ] || fail "log header"
[ "$(wc -l <rot.log)" -eq 5 ] || fail "log: expected 4 epoch rows"

# Middle frame: one still frame panned 2 pixels a frame, so the middle
# frame of a window is the one between the others, a fact of comparison
# that the relational head can learn.
mkdir pan
ffmpeg -v error -i "$FER_MEDIA/franck.mp4" -frames:v 1 still.png
ffmpeg -v error -loop 1 -i still.png -vf "crop=140:140:x='20+2*n':y=40,scale=48:48,format=gray" \
    -frames:v 100 pan/%03d.png
faces pan >pan-faces.tsv
fer-shuffle-seq -q -n 3 --hop 1 pan-faces.tsv >pan.tsv
# learns_pan NAME WIDTH [OPTION]...: 3 epochs with OPTIONs reach a held-out
# accuracy of 0.6 or more on the pan (chance 1/3), and the relational head
# reads WIDTH features of a pair (head.pair.weight 64 x WIDTH).
learns_pan() {
    name=$1 width=$2
    shift 2
    fer-pretrain -q --task middle --epochs 3 --batch 16 "$@" -o "$name.safetensors" \
        pan.tsv >"$name.out"
    acc=$(awk '$1 == "pretext_accuracy" { print $2 }' "$name.out")
    awk -v a="$acc" 'BEGIN { exit !(a >= 0.6) }' ||
        fail "middle $*: held-out accuracy $acc, expected >= 0.6 (chance 1/3)"
    fer-weights list "$name.safetensors" | grep -q "^head.pair.weight	F32	64,$width	" ||
        fail "middle $*: head.pair.weight is not 64 x $width"
}
learns_pan mid 256
fer-weights meta mid.safetensors >mid.meta
grep -q "^pixel_baseline	" mid.meta || fail "pixel_baseline not in the metadata"
grep -q "^head	relational" mid.meta || fail "head not in the metadata"
grep -q "^seq_len	3" mid.meta || fail "seq_len not in the metadata"
# --pair-features widens what the head reads of a pair to 2 x 256, and
# still learns the pan.
learns_pan sq 512 --pair-features abs+square
expect_error 2 "--pair-features is for --task middle with the relational head" \
    fer-pretrain --task middle --head concat --pair-features abs+product -o x.safetensors pan.tsv
# relative pairs (each window's differences over their mean) keep the
# width and learn the pan too, with dropout on the pair input.
learns_pan rel 256 --pair-features relative --dropout 0.3
expect_error 2 "--dropout is for --task middle with the relational head" \
    fer-pretrain --task middle --head concat --dropout 0.5 -o x.safetensors pan.tsv
# The middle task augments a window's frames alike by default: the same
# bytes as --augment shared, not those of --augment none.
fer-pretrain -q --task middle --epochs 1 --batch 16 -o def.safetensors pan.tsv >/dev/null
fer-pretrain -q --task middle --epochs 1 --batch 16 --augment shared -o shared.safetensors pan.tsv >/dev/null
fer-pretrain -q --task middle --epochs 1 --batch 16 --augment none -o none.safetensors pan.tsv >/dev/null
# The tensors' bytes, after the 8-byte header length and the JSON header
# (whose metadata holds the options, which differ).
tensors() { # file
    n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
    tail -c +$((9 + n)) "$1"
}
tensors def.safetensors >def.w
tensors shared.safetensors >shared.w
tensors none.safetensors >none.w
[ -s def.w ] || fail "no tensor bytes in def.safetensors"
cmp -s def.w shared.w || fail "the default is not --augment shared"
! cmp -s def.w none.w || fail "--augment none trains like the default"
expect_error 2 "--augment is for --task middle" \
    fer-pretrain --task rotation --augment shared -o x.safetensors rot.tsv

# --select keeps the epoch that scores best on the tail of the training
# windows, logged per epoch; --augment shared trains on augmented windows.
# A run stopped after epoch 1 and resumed writes the same file (the best
# weights so far travel in the checkpoint, and the head's dropout masks
# follow from the step).
select_run() { # epochs [--resume]
    fer-pretrain -q --task middle --epochs "$1" --batch 16 --select 0.25 --augment shared --dropout 0.2 \
        --checkpoint-every 1000 --log sel.log -o sel.safetensors ${2-} ../pan.tsv >sel.out
}
mkdir once twice
(cd twice && select_run 1 && select_run 2 --resume) || fail "--select: resumed run failed"
cd once
select_run 2 || fail "--select run failed"
cmp -s sel.safetensors ../twice/sel.safetensors || fail "--select: the resumed run differs"
[ "$(head -n 1 sel.log)" = "$(printf 'epoch\tstep\tloss\taccuracy\tlr\tseconds\tselect_accuracy')" ] ||
    fail "--select: log header $(head -n 1 sel.log)"
best=$(awk -F'\t' 'NR > 1 && ($7 > b || NR == 2) { b = $7; e = $1 } END { print e }' sel.log)
fer-weights meta sel.safetensors | grep -q "^selected_epoch	$best$" ||
    fail "--select: selected_epoch is not the log's best epoch $best"
cd ..
expect_error 2 "--select is for --task middle" \
    fer-pretrain --task rotation --select 0.2 -o x.safetensors rot.tsv

# Contrastive: runs, and reports retrieval beside the pixel rule and chance.
fer-shuffle-seq -q -t contrastive rot-faces.tsv >con.tsv
fer-pretrain -q --task contrastive --epochs 1 --batch 16 -o con.safetensors con.tsv >con.out
for key in pretext_accuracy pixel_baseline chance; do
    grep -q "^$key	0\.[0-9]*$" con.out || fail "contrastive: no $key in $(cat con.out)"
done
fer-weights list con.safetensors | grep -q "^head.fc2.weight	F32	32,64" || fail "projection head missing"
# --val replaces the manifest's own split=val rows: chance is 1 / its rows.
awk -F'\t' -v s="$(col con.tsv split)" 'NR == 1 || ($s == "val" && ++k <= 5)' con.tsv >con-val.tsv
fer-pretrain -q --task contrastive --epochs 1 --batch 16 --val con-val.tsv \
    -o con2.safetensors con.tsv >con2.out
grep -q "^chance	0\.2000$" con2.out || fail "--val of 5 anchors: $(grep chance con2.out)"

# Contrastive with hard negatives (input3, input4: the same track far in
# time) and RMFER's filtering. A small manifest: 48 training anchors (3
# steps an epoch at batch 16) and the held-out ones; input4 is empty on
# every third row (a track with too few far faces).
[ "$(awk -F'\t' -v c="$(col con.tsv n)" 'NR == 2 { print $c }' con.tsv)" = 4 ] ||
    fail "fer-shuffle-seq wrote no hard negatives"
awk -F'\t' -v OFS='\t' -v s="$(col con.tsv split)" -v c="$(col con.tsv input4)" \
    'NR == 1 || $s == "val" || ++k <= 48 { if (NR % 3 == 0) $c = ""; print }' con.tsv >neg.tsv
small="fer-pretrain -q --task contrastive --epochs 2 --batch 16 --gamma 0.5 --log log.tsv"
# Runs in directories of their own, since the options (paths included)
# are in the weight file's metadata.
mkdir full again killed none
(cd full && $small -o neg.safetensors ../neg.tsv >neg.out)
grep -q "^pretext_accuracy	0\.[0-9]*$" full/neg.out || fail "contrastive with negatives: $(cat full/neg.out)"
# The negatives enter the loss: without them the logged loss differs.
(cd none && $small --hard-negatives 0 -o neg.safetensors ../neg.tsv >/dev/null)
[ "$(sed -n 2p full/log.tsv | cut -f3)" != "$(sed -n 2p none/log.tsv | cut -f3)" ] ||
    fail "--hard-negatives 0 gave the same loss: the negatives are not used"
# Same seed, same bytes.
(cd again && $small -o neg.safetensors ../neg.tsv >/dev/null)
cmp full/neg.safetensors again/neg.safetensors || fail "contrastive: same seed, different weights"
# kill -9 after the first mid-epoch checkpoint, then --resume: the same
# bytes as a run that checkpoints but is not interrupted, and the same log
# (but for the seconds column).
(cd full && $small --checkpoint-every 2 -o ckpt.safetensors ../neg.tsv >/dev/null && mv log.tsv ckpt.log)
(
    cd killed
    $small --checkpoint-every 2 -o ckpt.safetensors ../neg.tsv >/dev/null 2>&1 &
    pid=$!
    while [ ! -e ckpt.safetensors.ckpt ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
    kill -9 $pid 2>/dev/null || true
    set +e
    wait $pid
    rc=$?
    set -e
    [ "$rc" -eq 137 ] || fail "the contrastive run ended (exit $rc) before it could be killed"
    grep -q '"epoch_batch":"[1-9]' ckpt.safetensors.ckpt || fail "checkpoint is not mid-epoch"
    $small --checkpoint-every 2 --resume -o ckpt.safetensors ../neg.tsv >/dev/null
)
cmp full/ckpt.safetensors killed/ckpt.safetensors || fail "resumed contrastive run differs"
cut -f1-5 full/ckpt.log >full.log
cut -f1-5 killed/log.tsv >killed.log
cmp -s full.log killed.log || fail "resumed contrastive log differs (columns but seconds)"
expect_error 2 "--gamma must be above 0" \
    fer-pretrain --task contrastive --gamma 0 -o x.safetensors neg.tsv
awk -F'\t' -v OFS='\t' -v c="$(col con.tsv input2)" 'NR == 2 { $c = "" } { print }' neg.tsv >nopos.tsv
expect_error 1 "line 2: input2 is empty" fer-pretrain --task contrastive -o x.safetensors nopos.tsv

# Errors, each before training: one line, no output file.
expect_error 1 "a 'rotation' example, but --task is middle" \
    fer-pretrain --task middle -o x.safetensors rot.tsv
expect_error 1 "no 'task' column" fer-pretrain --task middle -o x.safetensors pan-faces.tsv
awk -F'\t' -v OFS='\t' -v c="$(col pan.tsv input1)" 'NR == 2 { $c = "pan/missing.png" } { print }' pan.tsv >missing.tsv
expect_error 1 "pan/missing.png: cannot read crop" fer-pretrain --task middle -o x.safetensors missing.tsv
n=$(col pan.tsv n)
awk -F'\t' -v OFS='\t' -v c="$n" 'NR > 1 { $c = 4 } { print }' pan.tsv >even.tsv
expect_error 1 "n = '4' (middle needs an odd number" fer-pretrain --task middle -o x.safetensors even.tsv
cp rot.tsv broken.tsv
first=$(awk -F'\t' -v c="$(col rot.tsv input1)" 'NR == 2 { print $c }' rot.tsv)
cp "$first" keep.png
printf 'not a png' >"$first"
expect_error 1 "$first" fer-pretrain --task rotation -o x.safetensors broken.tsv
cp keep.png "$first"
expect_error 2 "--task is required" fer-pretrain -o x.safetensors rot.tsv
expect_error 1 "a 'rotation' example, but --task is contrastive" \
    fer-pretrain --task contrastive -o x.safetensors rot.tsv
[ ! -e x.safetensors ] || fail "an output file was left after an error"
no_temp_files .
exit 0
