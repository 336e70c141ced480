#!/bin/sh
# fer-extract --dataset KIND for every KIND, on miniature trees laid out like
# CK+, AFEW, RAF-DB, ImageFolder exports and FER2013, made of real tiny images
# and videos (tests/tools/make-dataset-trees.py). Per clip, the manifest's
# subject, label and split and its number of rows must be what the dataset
# says; the frames must hold the dataset's own pixels, in the dataset's
# order (compared with OpenCV's reading of the sources); unmapped classes
# must be warned about; broken trees must fail with one line naming the file.
. "$FER_ROOT/tests/tools/lib.sh"

command -v ffmpeg >/dev/null || skip "ffmpeg missing"
/usr/bin/python3 -c 'import cv2' 2>/dev/null || skip "python3-opencv missing"
data="$T/data"
/usr/bin/python3 "$FER_ROOT/tests/tools/make-dataset-trees.py" "$data" || fail "cannot make trees"
export data

# summary MANIFEST: one line per clip, "clip subject label split rows",
# sorted, '-' for an empty field; columns are found by name.
summary() {
    awk -F '\t' '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        {
            key = $col["clip"]
            split("subject label split", names, " ")
            for (k = 1; k <= 3; k++) {
                v = (names[k] in col) ? $col[names[k]] : ""
                key = key " " (v == "" ? "-" : v)
            }
            n[key]++
        }
        END { for (k in n) print k, n[k] }' "$1" | LC_ALL=C sort
}

# run NAME KIND ROOT [OPTION...]: fer-extract into $T/out-NAME, manifest in
# $T/NAME.tsv, stderr in $T/NAME.err.
run() {
    name=$1 kind=$2 root=$3; shift 3
    fer-extract -j2 --dataset "$kind" -o "$T/out-$name" "$@" "$root" >"$T/$name.tsv" \
        2>"$T/$name.err" || { cat "$T/$name.err" >&2; fail "$name: fer-extract failed"; }
    for c in clip frame pts path width height subject label split; do
        head -n 1 "$T/$name.tsv" | tr '\t' '\n' | grep -qx "$c" ||
            fail "$name: no '$c' column in: $(head -n 1 "$T/$name.tsv")"
    done
    no_temp_files "$T/out-$name"
}

expect_summary() { # NAME EXPECTED-LINES
    summary "$T/$1.tsv" >"$T/$1.got"
    printf '%s\n' "$2" >"$T/$1.want"
    diff -u "$T/$1.want" "$T/$1.got" >&2 || fail "$1: clips differ from the dataset"
}

# check_pixels NAME EXPR: row k of each clip must equal the image EXPR gives
# (a Python expression over r, the row, and k; grey sources are compared as
# grey copies in all three channels). The checks run together at the end,
# in one Python process.
check_pixels() {
    printf '%s\t%s\n' "$T/$1.tsv" "$2" | tr -d '\n' >>"$T/pixel-checks"
    echo >>"$T/pixel-checks"
}

run_pixel_checks() {
    /usr/bin/python3 - "$T/pixel-checks" <<'PY' || fail "frame pixels differ from the dataset"
import csv, glob, os, sys
import cv2, numpy as np
data = os.environ["data"]
for line in open(sys.argv[1]):
    manifest, expr = line.rstrip("\n").split("\t", 1)
    seen = {}
    for r in csv.DictReader(open(manifest), delimiter="\t"):
        k = seen[r["clip"]] = seen.get(r["clip"], -1) + 1
        got = cv2.imread(r["path"], cv2.IMREAD_UNCHANGED)
        scope = {"cv2": cv2, "np": np, "glob": glob, "data": data, "r": r, "k": k}
        want = eval(expr, scope)
        if got is None or want is None:
            sys.exit(f"{r['path']}: unreadable output or source")
        if got.ndim == 2:
            got = cv2.cvtColor(got, cv2.COLOR_GRAY2BGR)
        if want.ndim == 2:
            want = cv2.cvtColor(want, cv2.COLOR_GRAY2BGR)
        if got.shape != want.shape or not np.array_equal(got, want):
            sys.exit(f"{r['path']}: not the pixels of clip {r['clip']} frame {k}")
PY
}

# CK+: one clip per sequence, all frames in order, subject from the folder,
# label from the emotion file (empty without one), no split; the stray
# .DS_Store and Landmarks/ are ignored.
run ckplus ckplus "$data/ckplus"
expect_summary ckplus "S005_001 S005 disgust - 3
S010_002 S010 - - 2
S010_006 S010 happiness - 4"
check_pixels ckplus 'cv2.imread(sorted(glob.glob(data + "/ckplus/cohn-kanade-images/"
    + r["subject"] + "/" + r["clip"][5:] + "/*.png"))[k], cv2.IMREAD_UNCHANGED)'

# AFEW: split and label from the path, every frame of each 5-frame video;
# the Bored folder is no emotion: skipped with a warning; empty Val/Fear.
run afew afew "$data/afew"
expect_summary afew "train_Angry_000046280 - anger train 5
train_Happy_002326280 - happiness train 5
val_Sad_000406560 - sadness val 5"
grep -q 'Bored (1)' "$T/afew.err" || fail "afew: no warning about the folder Bored"

# RAF-DB: the aligned faces, split from the name, codes 1..7 mapped.
run rafdb rafdb "$data/rafdb"
expect_summary rafdb "test_0001 - happiness test 1
train_00001 - sadness train 1
train_00002 - surprise train 1"
check_pixels rafdb 'cv2.imread(data + "/rafdb/basic/Image/aligned/" + r["clip"] + "_aligned.jpg")'
# Without aligned/, the original photos.
mv "$data/rafdb/basic/Image/aligned" "$T/aligned"
run rafdb-original rafdb "$data/rafdb"
check_pixels rafdb-original 'cv2.imread(data + "/rafdb/basic/Image/original/" + r["clip"] + ".jpg")'
mv "$T/aligned" "$data/rafdb/basic/Image/aligned"

# ImageFolder: synonyms and case (happy, Sad), extensions in any case, the
# subject from the file name; boredom is unmapped, fear is empty.
run folder folder "$data/folder" --subject-regex '^(S[0-9]+)_'
expect_summary folder "Sad_S005_001_00000011 S005 sadness - 1
happy_S010_004_00000019 S010 happiness - 1
happy_S011_001_00000016 S011 happiness - 1"
grep -q 'boredom (1)' "$T/folder.err" || fail "folder: no warning about the folder boredom"
check_pixels folder 'cv2.imread(glob.glob(data + "/folder/" + r["clip"].split("_")[0] + "/"
    + r["clip"].split("_", 1)[1] + ".*")[0])'

# ImageFolder with a split level.
run folder-split folder "$data/folder-split"
expect_summary folder-split "test_neutral_n1 - neutral test 1
train_angry_a1 - anger train 1
val_surprise_s1 - surprise val 1"

# FER2013: each row a 48x48 grey face; Usage gives the split.
run fer2013 fer2013 "$data/fer2013/fer2013.csv"
expect_summary fer2013 "fer2013_000000 - anger train 1
fer2013_000001 - happiness val 1
fer2013_000002 - neutral test 1"
check_pixels fer2013 'np.array([(int(r["clip"][-1]) * 50 + i) % 256 for i in range(2304)],
    np.uint8).reshape(48, 48)'

run_pixel_checks

# Broken trees: one line on stderr naming the file, exit 1.
rm "$data/rafdb/basic/EmoLabel/list_patition_label.txt"
expect_error 1 'list_patition_label.txt: No such file or directory' \
    fer-extract -q --dataset rafdb -o "$T/bad" "$data/rafdb"
printf 'train_00001.jpg 5\ntrain_00003.jpg 2\n' >"$data/rafdb/basic/EmoLabel/list_patition_label.txt"
expect_error 1 'aligned/train_00003_aligned.jpg: missing (listed on line 2' \
    fer-extract -q --dataset rafdb -o "$T/bad" "$data/rafdb"
printf 'emotion,pixels,Usage\n0,1 2 3,Training\n' >"$T/short.csv"
expect_error 1 'short.csv: line 2: 3 pixel values, expected 2304' \
    fer-extract -q --dataset fer2013 -o "$T/bad" "$T/short.csv"
printf '   9.0000000e+00\n' >"$data/ckplus/Emotion/S005/001/S005_001_00000003_emotion.txt"
expect_error 1 'S005_001_00000003_emotion.txt: emotion code 9 is not a whole number 0..7' \
    fer-extract -q --dataset ckplus -o "$T/bad" "$data/ckplus"
expect_error 1 'cohn-kanade-images: no such directory' \
    fer-extract -q --dataset ckplus -o "$T/bad" "$data/afew"
expect_error 1 'no class folders' fer-extract -q --dataset folder -o "$T/bad" "$data/fer2013"
expect_error 1 'no class folder has an expression name (found S005, S010)' \
    fer-extract -q --dataset folder -o "$T/bad" "$data/ckplus/Emotion"
echo ok
