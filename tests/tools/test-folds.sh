# fer-folds: subject-independent folds, deterministic, every row assigned,
# train/test parts complementary; the error paths.
. "$FER_ROOT/tests/tools/lib.sh"
cd "$T"

# 23 subjects with 1..6 clips of 1..4 rows each (uneven, as CK+ is).
awk 'BEGIN {
    print "clip\tframe\tsubject\tlabel\tpath"
    for (s = 1; s <= 23; s++)
        for (c = 1; c <= 1 + s % 6; c++)
            for (f = 1; f <= 1 + (s * c) % 4; f++)
                printf "S%03d_%d\t%d\tS%03d\thappiness\tS%03d/%d/%d.png\n", s, c, f, s, s, c, f
}' >m.tsv
rows=$(($(wc -l <m.tsv) - 1))

fer-folds -q -k 10 --seed 7 m.tsv >f.tsv
fold=$(col f.tsv fold)
[ "$fold" = 6 ] || fail "fold is column '$fold', expected the 6th (appended)"
[ $(($(wc -l <f.tsv) - 1)) -eq "$rows" ] || fail "not every row was written"
# Input columns unchanged, in order.
cut -f1-5 f.tsv | cmp -s - m.tsv || fail "input columns changed"
# Every fold in 0..9 is used; no subject is in two folds.
used=$(tail -n +2 f.tsv | cut -f6 | sort -un | tr '\n' ' ')
[ "$used" = "0 1 2 3 4 5 6 7 8 9 " ] || fail "folds used: $used"
leaks=$(tail -n +2 f.tsv | cut -f3,6 | sort -u | cut -f1 | uniq -d | head -n 1)
[ -z "$leaks" ] || fail "subject $leaks is in two folds"
# Balanced: fold sizes differ by at most the largest subject's row count.
big=$(tail -n +2 m.tsv | cut -f3 | sort | uniq -c | sort -n | tail -n 1 | awk '{print $1}')
spread=$(tail -n +2 f.tsv | cut -f6 | sort | uniq -c | awk 'NR == 1 || $1 < lo { lo = $1 } $1 > hi { hi = $1 } END { print hi - lo }')
[ "$spread" -le "$big" ] || fail "fold sizes differ by $spread rows, more than the largest subject ($big)"

# Deterministic: same seed, same bytes, whatever the row order; another
# seed, another assignment.
fer-folds -q -k 10 --seed 7 m.tsv | cmp -s - f.tsv || fail "not deterministic"
{ head -n 1 m.tsv; tail -n +2 m.tsv | sort -r; } >r.tsv
fer-folds -q -k 10 --seed 7 r.tsv | tail -n +2 | cut -f3,6 | sort -u >a.txt
tail -n +2 f.tsv | cut -f3,6 | sort -u >b.txt
cmp -s a.txt b.txt || fail "assignment depends on row order"
fer-folds -q -k 10 --seed 8 m.tsv | cmp -s - f.tsv && fail "seed has no effect"

# --fold/--part: test and train are complementary, the test part is one fold.
for i in 0 3 9; do
    fer-folds -q -k 10 --seed 7 --fold $i --part test m.tsv >te.tsv
    fer-folds -q -k 10 --seed 7 --fold $i --part train -o tr.tsv m.tsv
    [ "$(tail -n +2 te.tsv | cut -f6 | sort -u)" = "$i" ] || fail "test part of fold $i has other folds"
    tail -n +2 tr.tsv | cut -f6 | grep -qx "$i" && fail "train part of fold $i contains it"
    n=$(( $(wc -l <te.tsv) + $(wc -l <tr.tsv) - 2 ))
    [ "$n" -eq "$rows" ] || fail "fold $i: train + test = $n rows, expected $rows"
    tail -n +2 tr.tsv | cut -f3 | sort -u >trs.txt
    both=$(tail -n +2 te.tsv | cut -f3 | sort -u | grep -Fx -f trs.txt || true)
    [ -z "$both" ] || fail "fold $i: subject $both in train and test"
done
# From a folds file, --fold/--part select by its fold column: the same rows
# as recomputing, and a filtered folds file keeps every subject's fold.
fer-folds -q -k 10 --seed 7 --fold 3 --part test m.tsv >te_m.tsv
fer-folds -q -k 10 --fold 3 --part test f.tsv | cmp -s - te_m.tsv || fail "selection by column differs"
fer-folds -q -k 10 --seed 7 --fold 3 --part train m.tsv >tr_m.tsv
fer-folds -q -k 10 --fold 3 --part train f.tsv | cmp -s - tr_m.tsv || fail "train selection by column differs"
{ head -n 1 f.tsv; tail -n +2 f.tsv | awk -F '\t' '$2 == 1'; } >f1.tsv
fer-folds -q -k 10 --fold 3 --part test f1.tsv >te1.tsv
[ "$(tail -n +2 te1.tsv | cut -f6 | sort -u)" = 3 ] || fail "filtered folds file: other folds selected"
[ "$(tail -n +2 te1.tsv | wc -l)" = "$(tail -n +2 f1.tsv | cut -f6 | grep -cx 3)" ] || fail "filtered folds file: rows lost"
{ head -n 2 f.tsv; printf 'x\t1\tS999\thappiness\tp.png\tten\n'; } >badfold.tsv
expect_error 1 "badfold.tsv: line 3: fold 'ten' is not a number in 0..9" fer-folds --fold 1 --part test -o out.tsv badfold.tsv
[ -e out.tsv ] && fail "out.tsv written on error"

# Re-running on its own output replaces the fold column, not a second one.
fer-folds -q -k 10 --seed 7 f.tsv | cmp -s - f.tsv || fail "re-run changed the manifest"

# Balance by clips: fold clip counts within one subject's clips (6).
fer-folds -q -k 5 --balance clips m.tsv >c.tsv
spread=$(tail -n +2 c.tsv | cut -f1,6 | sort -u | cut -f2 | sort | uniq -c |
    awk 'NR == 1 || $1 < lo { lo = $1 } $1 > hi { hi = $1 } END { print hi - lo }')
[ "$spread" -le 6 ] || fail "clip-balanced folds differ by $spread clips"

# --subject-from clip: clips are the groups.
fer-folds -q -k 4 --subject-from clip m.tsv >s.tsv
leaks=$(tail -n +2 s.tsv | cut -f1,6 | sort -u | cut -f1 | uniq -d | head -n 1)
[ -z "$leaks" ] || fail "clip $leaks in two folds"

# Errors: one line, non-zero exit, nothing on stdout.
expect_error 1 "24 folds but only 23 subjects" fer-folds -k 24 m.tsv
[ -s "$T/stdout" ] && fail "output written on error"
cut -f1,2,4,5 m.tsv >nosubj.tsv
expect_error 1 "nosubj.tsv: no 'subject' column" fer-folds nosubj.tsv
{ head -n 3 m.tsv; printf 'x\t1\t\thappiness\tp.png\n'; } >empty.tsv
expect_error 1 "empty.tsv: line 4: empty 'subject'" fer-folds -k 2 empty.tsv
expect_error 1 "no header line" fer-folds -k 2 /dev/null
head -n 1 m.tsv >header.tsv
expect_error 1 "header.tsv: no rows" fer-folds -k 2 header.tsv
expect_error 2 "go together" fer-folds --fold 1 m.tsv
expect_error 2 "folds are numbered 0..4" fer-folds -k 5 --fold 5 --part test m.tsv
expect_error 2 "--part" fer-folds --fold 1 --part both m.tsv
expect_error 1 "missing.tsv: No such file" fer-folds missing.tsv
cut -f2-5 m.tsv >noclip.tsv
expect_error 1 "--balance clips: no .clip. column" fer-folds --balance clips noclip.tsv
mkdir ro && chmod 555 ro
if [ "$(id -u)" != 0 ]; then
    expect_error 1 "cannot create" fer-folds -o ro/out.tsv m.tsv
fi
no_temp_files "$T"
exit 0
