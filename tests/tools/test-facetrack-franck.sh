# On franck.mp4 (one man, 4800 frames), one track covers at least 95% of
# the frames in which OpenCV's detectMultiScale finds a face (same cascade,
# scale factor 1.1, 3 neighbours, 30x30).
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4
/usr/bin/python3 -c 'import cv2' 2>/dev/null || skip "python3-opencv missing"
cd "$T"

# OpenCV's frames with a face, in the background while we run.
/usr/bin/python3 - "$FER_MEDIA/franck.mp4" >opencv.txt <<'PY' &
import sys, cv2
cv2.setNumThreads(1)
cascade = cv2.CascadeClassifier("/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
video = cv2.VideoCapture(sys.argv[1])
i = 0
while True:
    ok, frame = video.read()
    if not ok:
        break
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if len(cascade.detectMultiScale(grey, 1.1, 3, minSize=(30, 30))):
        print(i)
    i += 1
print("frames", i, file=sys.stderr)
PY
oracle=$!

fer-extract -q -o frames "$FER_MEDIA/franck.mp4" >frames.tsv
fer-facetrack -q -j 2 -o crops frames.tsv >faces.tsv
wait $oracle || fail "the OpenCV oracle failed"

frame=$(col faces.tsv frame) track=$(col faces.tsv track)
# frames of the longest track
awk -F'\t' -v f="$frame" -v t="$track" 'NR > 1 && $t != "" { n[$t]++; at[$t, n[$t]] = $f }
    END { best = ""; for (k in n) if (best == "" || n[k] > n[best]) best = k
          for (i = 1; i <= n[best]; i++) print at[best, i] }' faces.tsv | sort -n >ours.txt
total=$(wc -l <opencv.txt)
covered=$(sort -n opencv.txt | comm -12 - ours.txt | wc -l)
tracks=$(cut -f "$track" faces.tsv | sed 1d | grep -v '^$' | sort -u | wc -l)
echo "OpenCV finds a face in $total of 4800 frames; the longest of $tracks tracks covers $covered"
[ "$total" -gt 4000 ] || fail "oracle found faces in only $total frames"
[ $((covered * 100)) -ge $((total * 95)) ] || fail "coverage $covered/$total is below 95%"
exit 0
