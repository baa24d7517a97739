#!/bin/sh
# lsan-check.sh TEST...: runs a Criterion test program so that a leak fails it. In the
# --enable-sanitizers tree LeakSanitizer reports a leak when a Criterion worker exits,
# after Criterion has already counted the test as passed (and exits 0); so the reports go
# to files, are shown, and any leak turns the run into a failure. Harmless without ASan.
dir=$(mktemp -d "${TMPDIR:-/tmp}/onnxdiff-lsan.XXXXXX") || exit 99
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$dir/asan" "$@"
rc=$?
if [ -n "$(ls "$dir")" ]; then
	cat "$dir"/* >&2
	if grep -q 'ERROR: LeakSanitizer' "$dir"/*; then
		echo "lsan-check: memory leaked in $1 (reports above)" >&2
		[ "$rc" = 0 ] && rc=1
	fi
fi
rm -rf "$dir"
exit $rc
