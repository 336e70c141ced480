# fer-facetrack on bad input: one clear line, non-zero exit, no partial crop.
. "$FER_ROOT/tests/tools/lib.sh"
need_media grace_hopper_512x512.jpg
cd "$T"
cp "$FER_MEDIA/grace_hopper_512x512.jpg" face.jpg
printf 'clip\tframe\tpath\nc\t1\tface.jpg\n' >frames.tsv

# It works on the good input first, so that the failures below mean something.
fer-facetrack -q --min-track 1 -o crops frames.tsv >faces.tsv
[ "$(sed 1d faces.tsv | wc -l)" -eq 1 ] || fail "no face found in grace_hopper"

# A corrupt cascade: truncated XML, and a text file.
head -c 20000 /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml >cut.xml
expect_error 1 "cut.xml" fer-facetrack --cascade cut.xml -o crops frames.tsv
echo "not a cascade" >text.xml
expect_error 1 "text.xml" fer-facetrack --cascade text.xml -o crops frames.tsv
expect_error 1 "nonexistent.xml" fer-facetrack --cascade nonexistent.xml -o crops frames.tsv

# A crop directory that cannot be made, or is a file.
expect_error 1 "cannot create crop directory" fer-facetrack -o /nonexistent/crops frames.tsv
expect_error 1 "not a directory" fer-facetrack -o face.jpg frames.tsv
expect_error 2 "required" fer-facetrack frames.tsv

# Frames that do not exist, or are not images.
printf 'clip\tframe\tpath\nc\t1\tmissing.png\n' >missing.tsv
expect_error 1 "missing.png" fer-facetrack -o out1 missing.tsv
echo "text" >fake.png
printf 'clip\tframe\tpath\nc\t1\tfake.png\n' >fake.tsv
expect_error 1 "fake.png" fer-facetrack -o out2 fake.tsv

# A manifest without the needed columns, with a short row, or empty.
printf 'clip\tframe\nc\t1\n' >nopath.tsv
expect_error 1 "no 'path' column" fer-facetrack -o out3 nopath.tsv
printf 'clip\tframe\tpath\nc\t1\n' >short.tsv
expect_error 1 "line 2" fer-facetrack -o out4 short.tsv
: >empty.tsv
expect_error 1 "empty manifest" fer-facetrack -o out5 empty.tsv

# Bad options.
expect_error 2 "scale-factor" fer-facetrack --scale-factor 0.9 -o crops frames.tsv
expect_error 2 "mask" fer-facetrack --mask 1,2,3 -o crops frames.tsv
expect_error 2 "min-size" fer-facetrack --min-size 30 -o crops frames.tsv
no_temp_files "$T"
exit 0
