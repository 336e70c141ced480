# fer-weights: listing, metadata, checking and copying safetensors files, and
# one clear line plus exit 1 for every kind of corrupt file.
. "$FER_ROOT/tests/tools/lib.sh"

W="$FER_BIN/fer-weights"
C="$FER_ROOT/tests/fixtures/weights-seeds"

# list: TSV with a header, rows in data order; F16/BF16/I64 shown as stored
"$W" list "$C/mixed.safetensors" >"$T/list"
printf 'name\tdtype\tshape\telements\nh\tF16\t3\t3\nn\tI64\t\t1\nz\tF32\t0,4\t0\nf\tF32\t1\t1\nb\tBF16\t1\t1\n' >"$T/want"
cmp "$T/list" "$T/want" || fail "list output differs"

"$W" meta "$C/mixed.safetensors" >"$T/meta"
printf 'key\tvalue\narch\tcnn-s\nclasses\tneutral,happiness\n' | cmp - "$T/meta" || fail "meta output differs"

# a pipe is read whole, then parsed the same way
cat "$C/mixed.safetensors" | "$W" list /dev/stdin | cmp - "$T/want" || fail "list from a pipe differs"
head -c 50 "$C/mixed.safetensors" | { expect_error 1 "runs past the end of the file (50 bytes)" "$W" list /dev/stdin; }

# copy: widened to F32, sorted by name, metadata edited; a second copy is
# byte-identical (the writer is deterministic)
"$W" copy -o "$T/a.safetensors" --meta tool=test --meta arch= "$C/mixed.safetensors"
"$W" copy -o "$T/b.safetensors" "$T/a.safetensors"
cmp "$T/a.safetensors" "$T/b.safetensors" || fail "copy of a copy differs"
"$W" list "$T/a.safetensors" | cut -f 1,2 | tr '\t\n' '  ' | grep -qx 'name dtype b F32 f F32 h F32 n I64 z F32 ' ||
    fail "copy: wrong dtypes or order: $("$W" list "$T/a.safetensors" | tr '\n\t' ' :')"
printf 'key\tvalue\nclasses\tneutral,happiness\ntool\ttest\n' | cmp - "$("$W" meta "$T/a.safetensors" >"$T/m2"; echo "$T/m2")" ||
    fail "copy: metadata not edited"
# the header length is a multiple of 8
[ $(( $(od -An -tu8 -N8 "$T/a.safetensors") % 8 )) -eq 0 ] || fail "header not padded"

# check: one summary line per good file
"$W" check "$C/attn.safetensors" "$C/empty.safetensors" >"$T/out"
printf '%s\t1 tensors\t6 elements\n%s\t0 tensors\t0 elements\n' "$C/attn.safetensors" "$C/empty.safetensors" |
    cmp - "$T/out" || fail "check summary differs"
"$W" check -q "$C/attn.safetensors" >"$T/out"
[ ! -s "$T/out" ] || fail "check -q printed something"

# corrupt files: one line naming the file and the cause, exit 1
good="$C/attn.safetensors"
head -c 5 "$good" >"$T/short"
expect_error 1 "fer-weights: $T/short: file is 5 bytes, too short" "$W" check "$T/short"
head -c 50 "$good" >"$T/cut"
expect_error 1 "header length 64 runs past the end of the file (50 bytes)" "$W" list "$T/cut"
head -c 90 "$good" >"$T/cutdata"
expect_error 1 "run past the end of the data (18 bytes)" "$W" list "$T/cutdata"
{ cat "$good"; printf 'x'; } >"$T/long"
expect_error 1 "cover 24 bytes of data, but the file has 25" "$W" check "$T/long"
sed 's/F32/F64/' "$good" >"$T/f64"
expect_error 1 "tensor 'attn.0': dtype 'F64' is not supported" "$W" check "$T/f64"
sed 's/\[1,2,3\]/[1,2,4]/' "$good" >"$T/shape"
expect_error 1 "data_offsets \[0, 24) do not match shape \[1,2,4\] of F32 (32 bytes)" "$W" check "$T/shape"
printf 'not a safetensors file at all\n' >"$T/text"
expect_error 1 "over the limit of 100000000 bytes" "$W" meta "$T/text"
expect_error 1 "No such file or directory" "$W" list "$T/none"
expect_error 1 "is a directory" "$W" list "$T"
# check goes on after a bad file, and fails at the end
set +e
"$W" check "$T/short" "$good" >"$T/out" 2>"$T/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "check with one bad file: exit $rc"
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "check did not go on to the good file"
# a failed copy leaves nothing behind
expect_error 1 "too short" "$W" copy -o "$T/out.safetensors" "$T/short"
[ ! -e "$T/out.safetensors" ] || fail "failed copy left an output"
no_temp_files "$T"

# usage errors: exit 2
expect_error 2 "no command" "$W"
expect_error 2 "'frob' is not one of list, meta, check, copy" "$W" frob x
expect_error 2 "copy needs -o OUT" "$W" copy "$good"
expect_error 2 "list takes one FILE" "$W" list "$good" "$good"
expect_error 2 "'x' is not KEY=VALUE" "$W" copy -o "$T/o" --meta x "$good"
