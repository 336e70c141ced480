#!/bin/sh
# fer-detect: options, output format, and every failure path giving one
# clear line and a non-zero exit with no partial output. (Agreement with
# OpenCV is test-detect-opencv.sh.)
. "$FER_ROOT/tests/tools/lib.sh"
fix=$FER_ROOT/tests/fixtures/detect

# A 64x48 textured grey image, and a few bad ones.
{ printf 'P5\n# made by the test\n64 48\n255\n'; head -c 3072 /dev/urandom; } >"$T/noise.pgm"
printf 'P5\n64 48\n255\n' >"$T/truncated.pgm"
head -c 100 /dev/zero >"$T/truncated.pgm.tail" && cat "$T/truncated.pgm.tail" >>"$T/truncated.pgm"
printf 'P2\n2 2\n255\n1 2 3 4\n' >"$T/ascii.pgm"
printf 'P5\n2 2\n65535\n12345678' >"$T/deep.pgm"

# Runs, prints the header, and boxes that lie inside the image.
fer-detect -c "$fix/tiny_lbp.xml" --min-size 1x1 --min-neighbors 1 "$T/noise.pgm" >"$T/out.tsv"
[ "$(head -n 1 "$T/out.tsv")" = "$(printf 'path\tx\ty\tw\th\tscore')" ] || fail "bad header"
awk -F'\t' 'NR > 1 && ($2 < 0 || $3 < 0 || $2 + $4 > 64 || $3 + $5 > 48 || $6 < 2) { exit 1 }' \
    "$T/out.tsv" || fail "box outside the image or too few neighbours"
# Same output with more threads, and with -o.
fer-detect -j 3 -c "$fix/tiny_lbp.xml" --min-size 1x1 --min-neighbors 1 -o "$T/out3.tsv" "$T/noise.pgm"
cmp -s "$T/out.tsv" "$T/out3.tsv" || fail "-j 3 -o output differs from -j 1"
no_temp_files "$T"
# The default cascade: nothing in noise, header only.
if [ -f /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml ]; then
    [ "$(fer-detect "$T/noise.pgm" | wc -l)" -eq 1 ] || fail "faces found in noise"
fi

# Bad usage: exit 2.
expect_error 2 "no input image" fer-detect
expect_error 2 "scale-factor" fer-detect --scale-factor 1 "$T/noise.pgm"
expect_error 2 "min-size" fer-detect --min-size 30 "$T/noise.pgm"
expect_error 2 "threads" fer-detect -j 0 "$T/noise.pgm"

# Bad data: exit 1, "fer-detect: FILE: cause", nothing on stdout.
expect_error 1 "fer-detect: $T/missing.xml: No such file" fer-detect -c "$T/missing.xml" "$T/noise.pgm"
head -c 700 "$fix/tiny_haar.xml" >"$T/cut.xml"
expect_error 1 "fer-detect: $T/cut.xml: line [0-9]*: " fer-detect -c "$T/cut.xml" "$T/noise.pgm"
sed 's/<featureType>HAAR/<featureType>HOG/' "$fix/tiny_haar.xml" >"$T/hog.xml"
expect_error 1 "$T/hog.xml: line 6: featureType must be HAAR or LBP" fer-detect -c "$T/hog.xml" "$T/noise.pgm"
sed 's/0 -1 2 5.0e-03/0 -1 9 5.0e-03/' "$fix/tiny_haar.xml" >"$T/index.xml"
expect_error 1 "feature index 9 out of range" fer-detect -c "$T/index.xml" "$T/noise.pgm"
expect_error 1 "fer-detect: $T/none.pgm: cannot open: No such file" fer-detect "$T/noise.pgm" "$T/none.pgm"
[ ! -s "$T/stdout" ] || fail "partial output before a missing image"
expect_error 1 "$T/truncated.pgm: truncated PGM file" fer-detect "$T/truncated.pgm"
expect_error 1 "$T/ascii.pgm: not a binary PGM" fer-detect "$T/ascii.pgm"
expect_error 1 "$T/deep.pgm: PGM maxval 65535 unsupported" fer-detect "$T/deep.pgm"
expect_error 1 "$T/nodir/out.tsv" fer-detect -o "$T/nodir/out.tsv" "$T/noise.pgm"
exit 0
