# tests/tools/lib.sh - helpers for the shell tool tests. Source it.
# Each test script exits 0 (pass), 1 (fail) or 77 (skip, with a reason).
set -eu

T=$(mktemp -d "${TMPDIR:-/tmp}/fer-tool-test.XXXXXX")
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skip: $*"; exit 77; }

need_media() { # file...
    for f in "$@"; do
        [ -s "$FER_MEDIA/$f" ] || skip "$FER_MEDIA/$f missing (run scripts/fetch-media)"
    done
}

# expect_error EXIT_CODE PATTERN command...: the command must exit with
# EXIT_CODE and print exactly one line on stderr, matching PATTERN.
expect_error() {
    code=$1 pattern=$2; shift 2
    set +e
    "$@" >"$T/stdout" 2>"$T/stderr"
    rc=$?
    set -e
    [ "$rc" -eq "$code" ] || { cat "$T/stderr" >&2; fail "$*: exit $rc, expected $code"; }
    lines=$(wc -l <"$T/stderr")
    [ "$lines" -eq 1 ] || { cat "$T/stderr" >&2; fail "$*: $lines lines on stderr, expected 1"; }
    grep -q -- "$pattern" "$T/stderr" || fail "$*: stderr '$(cat "$T/stderr")' lacks '$pattern'"
}

# no_temp_files DIR: no hidden temporary output was left behind.
no_temp_files() {
    left=$(find "$1" -name '.*.??????' 2>/dev/null | head -n 1)
    [ -z "$left" ] || fail "temporary file left behind: $left"
}

# col MANIFEST NAME: the 1-based number of column NAME (empty if absent).
col() {
    head -n 1 "$1" | tr '\t' '\n' | grep -n -x -- "$2" | cut -d: -f1
}
