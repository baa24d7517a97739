# lib.sh — TAP helpers for the CLI tests (sourced). Env: ONNXDIFF (binary), top_srcdir,
# ONNXDIFF_WRAP (e.g. valgrind) optional.
set -u
FIX="$top_srcdir/fixtures"
SHARED="$top_srcdir/../shared/onnx-backend-tests"
T=$(mktemp -d "${TMPDIR:-/tmp}/onnxdiff-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0 failed=0

od() { ${ONNXDIFF_WRAP:-} "$ONNXDIFF" "$@"; }

ok() { n=$((n + 1)); echo "ok $n - $1"; }
# Each line of the details is a TAP comment: a detail holding "ok", "1..N" or "Bail out!"
# must not be read as a result or a plan.
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done; }

# expect STATUS DESCRIPTION -- command...: runs it, checks the exit status; output in $T/out, $T/err
expect() {
	want=$1 desc=$2
	shift 3
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" = "$want" ]; then ok "$desc"; else
		not_ok "$desc" "exit $got, wanted $want" "stderr: $(head -c 400 "$T/err")"; fi
}

# same OUTFILE DESCRIPTION EXPECTEDFILE: compares a file with a golden one
same() {
	if diff -u "$3" "$1" >"$T/d" 2>&1; then ok "$2"; else not_ok "$2" "$(head -40 "$T/d")"; fi
}

# grep_ok FILE PATTERN DESCRIPTION
grep_ok() {
	if grep -qE -- "$2" "$1"; then ok "$3"; else not_ok "$3" "no match for /$2/ in:" "$(head -c 600 "$1")"; fi
}

# one_error STATUS DESCRIPTION PATTERN -- command...: one line on stderr, nothing on stdout
one_error() {
	want=$1 desc=$2 pat=$3
	shift 4
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" = "$want" ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qE -- "$pat" "$T/err" &&
	   [ ! -s "$T/out" ]; then ok "$desc: $(cat "$T/err")"
	else not_ok "$desc" "exit $got, wanted $want" "stderr: $(head -c 400 "$T/err")"; fi
}

# A sanitizer tree starts each process at ~0.2 s of CPU (shadow memory, LeakSanitizer's
# stop-the-world at exit): loops over thousands of models there take a fixed 1-in-$SAMPLE
# sample, and say so; the plain tree takes every one.
if [ "${ONNXDIFF_SANITIZERS:-no}" = yes ]; then SAMPLE=8; else SAMPLE=1; fi
# sample WORD...: prints every $SAMPLE-th word (the first, then each $SAMPLE-th after it)
sample() { _i=0; for _w; do [ $((_i % SAMPLE)) = 0 ] && printf '%s\n' "$_w"; _i=$((_i + 1)); done; }
# sampled: "" in the plain tree, " (1 in 8 of N: sanitizer tree)" in a sanitizer tree
sampled() { [ "$SAMPLE" = 1 ] || printf ' (1 in %s of %s: sanitizer tree)' "$SAMPLE" "$1"; }

# note TEXT: a TAP comment, every line of it
note() { printf '%s\n' "$*" | sed 's/^/# /'; }

done_testing() { echo "1..$n"; [ "$failed" = 0 ]; }

# skip_all REASON: exit 77 (automake's "skipped") with a TAP plan that says why
skip_all() { echo "1..0 # SKIP $1"; exit 77; }
