#!/bin/sh
# fuzz-regressions.sh — every input the fuzzer (scripts/fuzz.sh) once crashed, hung or blew
# up on, kept in tests/fuzz/regressions/: `onnxdiff show` (and `onnxdiff A A`, `freeze` once
# they exist) exits 0 or 2 with no crash, in bounded time, writing nothing beside it.
. "$top_srcdir/tests/cli/lib.sh"
R="$top_srcdir/tests/fuzz/regressions"
set -- "$R"/*
[ -e "$1" ] || skip_all "no regression inputs yet"
command -v timeout >/dev/null 2>&1 && tmo="timeout -k 5 120" || tmo=
has_command() { "$ONNXDIFF" --help 2>&1 | grep -qE "^  $1 "; }
W="$T/w"
mkdir -p "$W"

# check DESC FILE ARGS...: with FILE copied to W/in.onnx, onnxdiff ARGS exits 0 or 2 (2 with
# one line on stderr), leaves in.onnx as it was and writes nothing beside it.
check() {
	desc=$1 src=$2
	shift 2
	cp "$src" "$W/in.onnx"
	$tmo ${ONNXDIFF_WRAP:-} "$ONNXDIFF" "$@" >"$T/out" 2>"$T/err"
	got=$?
	left=$(ls -A "$W")
	if { [ "$got" = 0 ] || { [ "$got" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ]; }; } &&
	   [ "$left" = in.onnx ] && cmp -s "$src" "$W/in.onnx"; then ok "$desc"
	else not_ok "$desc" "exit $got" "stderr: $(head -c 600 "$T/err")" "folder: $left"; fi
	rm -rf "${W:?}"/* "$T/frozen.onnx"
}

for f in "$R"/*; do
	name=$(basename "$f")
	check "show $name" "$f" show "$W/in.onnx"
	check "show --json $name" "$f" show --json "$W/in.onnx"
	has_command diff && check "diff $name $name" "$f" "$W/in.onnx" "$W/in.onnx"
	has_command freeze && check "freeze $name" "$f" freeze "$W/in.onnx" -o "$T/frozen.onnx" --set x=0
done
done_testing
