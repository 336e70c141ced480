# fer-pretrain on real face crops (cut from franck.mp4 by ffmpeg): rotation
# learns, the relational middle-frame head learns a sequence whose order is
# visible, and bad input fails before training starts.
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
fer-pretrain -q --task middle --epochs 3 --batch 16 -o mid.safetensors pan.tsv >mid.out
acc=$(awk '$1 == "pretext_accuracy" { print $2 }' mid.out)
awk -v a="$acc" 'BEGIN { exit !(a >= 0.6) }' || fail "middle: held-out accuracy $acc, expected >= 0.6 (chance 1/3)"
fer-weights meta mid.safetensors >mid.meta
grep -q "^pixel_baseline	" mid.meta || fail "pixel_baseline not in the metadata"
grep -q "^head	relational" mid.meta || fail "head not in the metadata"
grep -q "^seq_len	3" mid.meta || fail "seq_len not in the metadata"

# --select keeps the epoch that scores best on the tail of the training
# windows, logged per epoch; --augment shared trains on augmented windows.
fer-pretrain -q --task middle --epochs 2 --batch 16 --select 0.25 --augment shared \
    --log sel.log -o sel.safetensors pan.tsv >sel.out
[ "$(head -n 1 sel.log)" = "$(printf 'epoch\tstep\tloss\taccuracy\tlr\tseconds\tselect_accuracy')" ] ||
    fail "--select: log header $(head -n 1 sel.log)"
best=$(awk -F'\t' 'NR > 1 && ($7 > b || NR == 2) { b = $7; e = $1 } END { print e }' sel.log)
fer-weights meta sel.safetensors | grep -q "^selected_epoch	$best$" ||
    fail "--select: selected_epoch is not the log's best epoch $best"
expect_error 2 "--select is for --task middle" \
    fer-pretrain --task rotation --select 0.2 -o x.safetensors rot.tsv

# Contrastive: runs, and reports retrieval beside the pixel rule and chance.
fer-shuffle-seq -q -t contrastive rot-faces.tsv >con.tsv
fer-pretrain -q --task contrastive --epochs 1 --batch 16 -o con.safetensors con.tsv >con.out
for key in pretext_accuracy pixel_baseline chance; do
    grep -q "^$key	0\.[0-9]*$" con.out || fail "contrastive: no $key in $(cat con.out)"
done
fer-weights list con.safetensors | grep -q "^head.fc2.weight	F32	32,64" || fail "projection head missing"

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
