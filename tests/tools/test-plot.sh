# fer-plot: each chart type from a TSV of the kind the tools write; the PNGs
# decode with sane sizes (checked by OpenCV when present, else by file(1)
# through our reader); bad input fails cleanly with no PNG left.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4
cd "$T"

# size FILE.png: "WxH" as PNG's IHDR says (bytes 16..23, big-endian).
size() {
    od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%dx%d\n", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'
}
is_png() {
    [ "$(od -An -c -N4 "$1" | tr -d ' ')" = '211PNG' ] || fail "$1 is not a PNG"
}

# Training log: 30 epochs x 4 steps, a val_loss column on epoch ends only.
awk 'BEGIN {
    print "epoch\tstep\tloss\taccuracy\tlr\tseconds\tval_loss"
    for (s = 1; s <= 120; s++) {
        e = int((s - 1) / 4) + 1
        v = (s % 4 == 0) ? sprintf("%.4f", 2.2 * exp(-s / 50) + 0.2) : ""
        printf "%d\t%d\t%.4f\t%.4f\t0.01\t%.1f\t%s\n", e, s, 2 * exp(-s / 40) + 0.05, 1 - 0.85 * exp(-s / 30), s * 0.5, v
    }
}' >log.tsv
fer-plot curve log.tsv -o curve.png --title "Pretraining"
is_png curve.png
[ "$(size curve.png)" = 720x544 ] || fail "curve.png is $(size curve.png), expected 720x544 (2 panels + title)"
fer-plot curve --x epoch --y loss,lr,seconds --width 500 log.tsv -o c3.png
[ "$(size c3.png)" = 500x780 ] || fail "c3.png is $(size c3.png)"

# Confusion matrix as fer-eval writes it.
printf 'true\tneutral\thappiness\tsurprise\nneutral\t8\t1\t1\nhappiness\t0\t12\t0\nsurprise\t2\t0\t5\n' >cm.tsv
fer-plot confusion cm.tsv -o cm.png
is_png cm.png
w=$(size cm.png | cut -dx -f1)
[ "$w" -ge 300 ] && [ "$w" -le 800 ] || fail "cm.png width $w"

# Contact sheet from a faces manifest: 30 real crops, every other row
# without a face.
mkdir -p crops
ffmpeg -v error -i "$FER_MEDIA/franck.mp4" -frames:v 30 -vf crop=160:160:100:40,scale=64:64 crops/%03d.png
{
    printf 'clip\tframe\tpts\ttrack\tcrop\n'
    for f in $(seq 1 30); do
        printf 'franck\t%d\t%s\t1\tcrops/%03d.png\n' "$f" "$(awk -v f="$f" 'BEGIN { printf "%.3f", f / 25 }')" "$f"
        printf 'franck\t%d\t0\t\t\n' "$f"
    done
} >faces.tsv
mkdir sub
fer-plot sheet faces.tsv --max 12 --columns 4 --tile 64 -o sub/sheet.png
# 4 x 3 tiles of (64 + 8) x (64 + 14 + 8) plus an 8 px margin.
[ "$(size sub/sheet.png)" = 296x266 ] || fail "sheet.png is $(size sub/sheet.png)"
# Read from stdin, paths relative to the current directory.
fer-plot sheet - -o all.png <faces.tsv
[ "$(size all.png)" = 840x480 ] || fail "all.png is $(size all.png) (30 faces of 96 px, 8 per row, 4 rows)"

# Timeline: two tracks, 3 classes, probabilities over time.
awk 'BEGIN {
    print "clip\ttrack\tframe\tpts\tpredicted\tprob_neutral\tprob_happiness\tprob_surprise"
    for (f = 1; f <= 100; f++)
        for (t = 1; t <= 2; t++) {
            h = (f > 40 && f < 70) ? 0.8 : 0.1; s = (t == 2 && f > 80) ? 0.7 : 0.05
            n = 1 - h - s; if (n < 0) n = 0
            printf "v\t%d\t%d\t%.2f\tx\t%.3f\t%.3f\t%.3f\n", t, f, f / 25, n, h, s
        }
    print "v\t\t101\t4.04\t\t\t\t"
}' >pred.tsv
fer-plot timeline pred.tsv -o t.png --title "my video"
[ "$(size t.png)" = 720x544 ] || fail "t.png is $(size t.png), expected 2 tracks"
fer-plot timeline pred.tsv --max 1 -o t1.png
[ "$(size t1.png)" = 720x260 ] || fail "t1.png is $(size t1.png), expected 1 track"

# OpenCV, not our reader, decodes them all to the same sizes.
if /usr/bin/python3 -c 'import cv2' 2>/dev/null; then
    for f in curve c3 cm sub/sheet all t t1; do
        got=$(/usr/bin/python3 -c 'import cv2, sys; im = cv2.imread(sys.argv[1]); print("%dx%d" % (im.shape[1], im.shape[0]))' "$f.png")
        [ "$got" = "$(size "$f.png")" ] || fail "$f.png: OpenCV reads $got"
    done
fi

# Errors: one line, exit code, no PNG.
expect_error 2 "no output" fer-plot curve log.tsv
expect_error 2 "chart type" fer-plot pie log.tsv -o x.png
expect_error 2 "need a chart type" fer-plot curve -o x.png
expect_error 1 "log.tsv: no 'bogus' column" fer-plot curve --y bogus log.tsv -o x.png
printf 'step\tloss\n1\t0.5\n2\tabc\n' >bad.tsv
expect_error 1 "bad.tsv: line 3: column 'loss': not a number: 'abc'" fer-plot curve --y loss bad.tsv -o x.png
printf 'step\tloss\n1\t\n' >empty.tsv
expect_error 1 "empty.tsv: column 'loss': no data to plot" fer-plot curve --y loss empty.tsv -o x.png
expect_error 1 "log.tsv: not a confusion matrix" fer-plot confusion log.tsv -o x.png
printf 'true\ta\tb\na\t1\t2\nb\t3\n' >short.tsv
expect_error 1 "short.tsv: line 3: 2 fields, header has 3" fer-plot confusion short.tsv -o x.png
expect_error 1 "log.tsv: no 'crop' column" fer-plot sheet log.tsv -o x.png
printf 'clip\tcrop\nv\tmissing.png\n' >miss.tsv
expect_error 1 "missing.png: No such file" fer-plot sheet miss.tsv -o x.png
expect_error 1 "no prob_<class> columns" fer-plot timeline faces.tsv -o x.png
printf 'clip\ttrack\tprob_neutral\nv\t1\t0.5\n' >notime.tsv
expect_error 1 "notime.tsv: no 'pts' or 'frame' column" fer-plot timeline notime.tsv -o x.png
printf 'clip\ttrack\tpts\tprob_neutral\nv\t1\t0.1\t0.5\nv\t1\t1s\t0.5\n' >badpts.tsv
expect_error 1 "badpts.tsv: line 3: column 'pts': not a number: '1s'" \
    fer-plot timeline badpts.tsv -o x.png
expect_error 1 "nothing.tsv: No such file" fer-plot curve nothing.tsv -o x.png
[ -e x.png ] && fail "x.png written on error"
cp curve.png c3.png cm.png sub/sheet.png all.png t.png "${FER_PLOT_KEEP:-.}/" 2>/dev/null || true
no_temp_files "$T"
exit 0
