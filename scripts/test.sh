#!/bin/sh
# test.sh — what CI runs: install what is missing, build, run `make check` in a normal
# tree and again in a tree built with AddressSanitizer + UndefinedBehaviorSanitizer.
# Prints one summary line per tree: "tests: N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" || exit 2

summary() { # build dir, label
	log="$1/test-suite.log"
	[ -f "$log" ] || { echo "$2: no test-suite.log"; return; }
	total=$(sed -n 's/^# TOTAL: *//p' "$log"); pass=$(sed -n 's/^# PASS: *//p' "$log")
	skip=$(sed -n 's/^# SKIP: *//p' "$log"); fail=$(sed -n 's/^# FAIL: *//p' "$log")
	xpass=$(sed -n 's/^# XPASS: *//p' "$log"); err=$(sed -n 's/^# ERROR: *//p' "$log")
	echo "$2: ${pass:-0} passed, $(( ${fail:-0} + ${xpass:-0} + ${err:-0} )) failed, ${skip:-0} skipped"
}

run_tree() { # dir, label, configure args...
	dir=$1 label=$2
	shift 2
	echo "== $label: building in $dir"
	"$top/scripts/build.sh" "$dir" "$@" || { echo "$label: build failed"; return 1; }
	echo "== $label: make check"
	rc=0
	make -s -C "$dir" -j"$(nproc)" check >"$dir/check.out" 2>&1 || rc=$?
	grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$dir/check.out" | grep -v '^PASS' || true
	if [ $rc -ne 0 ]; then
		for f in $(grep -lE '^(FAIL|ERROR)' $(find "$dir" -name '*.log' ! -name 'test-suite.log' ! -name config.log) 2>/dev/null); do
			echo "--- $f"; tail -n 40 "$f"
		done
	fi
	summary "$dir" "$label"
	return $rc
}

# The two trees build and check at the same time, each printing when both are done: one
# tree's tests sleep (race loops, signal timing) while the other's compute, and on a machine
# busy with other jobs two trees get twice the share of the CPUs one does (at a load of 14
# on 2 CPUs, one after the other took 13.5 minutes).
"$top/scripts/build.sh" --prepare || { echo "autoreconf failed"; exit 1; }
logs=$(mktemp -d "${TMPDIR:-/tmp}/onnxdiff-test.XXXXXX") || exit 2
trap 'rm -rf "$logs"' EXIT
run_tree "$top/build" tests >"$logs/plain" 2>&1 &
plain=$!
san=
if [ "${ONNXDIFF_NO_SANITIZERS:-}" = "" ]; then
	# -O1, as ASan advises: the sanitizer tree compiles in about half the time of -O2
	run_tree "$top/build-san" sanitizers --enable-sanitizers CFLAGS="-g -O1" >"$logs/san" 2>&1 &
	san=$!
fi
status=0
wait $plain || status=1
cat "$logs/plain"
if [ -n "$san" ]; then
	wait $san || status=1
	cat "$logs/san"
fi
exit $status
