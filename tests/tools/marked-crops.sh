# tests/tools/marked-crops.sh - sourced by the fer-finetune tests (inside
# $T): 4 x 80 face crops from franck.mp4, 48x48 grey, in crops/c<k>_<j>.png
# (k = class 0..3, j = 001..080 in time order), each class with its own
# white mark (see test-finetune.sh). Sets $names to the four class names.
# 320 frames (every 15th), face region 160x160 at (105,70), 48x48 grey.
mkdir raw
ffmpeg -v error -i "$FER_MEDIA/franck.mp4" \
    -vf "select='not(mod(n\,15))',crop=160:160:105:70,scale=48:48,format=gray" \
    -vsync 0 raw/%03d.png
[ "$(ls raw | wc -l)" -eq 320 ] || fail "ffmpeg made $(ls raw | wc -l) crops, expected 320"
# Frame i belongs to class (i - 1) mod 4: the classes interleave in time, so
# train (the first 3/4 of the video) and test (the last 1/4) both see all.
names="neutral happiness sadness surprise"
for k in 0 1 2 3; do mkdir "m$k"; done
i=0
for f in raw/*.png; do
    k=$((i % 4)) j=$((i / 4 + 1))
    mv "$f" "m$k/$(printf %03d $j).png"
    i=$((i + 1))
done
mark1="drawbox=x=20:y=7:w=8:h=8:color=white:t=fill"
mark2="drawbox=x=20:y=33:w=8:h=8:color=white:t=fill"
mark3="drawbox=x=6:y=20:w=7:h=8:color=white:t=fill,drawbox=x=35:y=20:w=7:h=8:color=white:t=fill"
mkdir crops
mv m0/* crops/ 2>/dev/null || true
for f in crops/*.png; do mv "$f" "crops/c0_$(basename "$f")"; done
for k in 1 2 3; do
    eval "vf=\$mark$k"
    ffmpeg -v error -i "m$k/%03d.png" -vf "$vf" "crops/c${k}_%03d.png"
done
