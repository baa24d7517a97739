#!/bin/sh
# fuzz-regressions.sh — every input the fuzzer (scripts/fuzz.sh) once crashed, hung or blew
# up on, kept in tests/fuzz/regressions/: `onnxdiff show` (--json, --values), `onnxdiff A A`
# and `freeze` exit 0
# or 2 with no crash, in bounded time, writing nothing beside it.
. "$top_srcdir/tests/cli/lib.sh"
R="$top_srcdir/tests/fuzz/regressions"
set -- "$R"/*
if [ ! -e "$1" ]; then not_ok "tests/fuzz/regressions holds the inputs"; done_testing; exit 1; fi
command -v timeout >/dev/null 2>&1 && tmo="timeout -k 5 120" || tmo=
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
	check "show --values $name" "$f" show --values "$W/in.onnx"
	check "diff $name $name" "$f" "$W/in.onnx" "$W/in.onnx"
	check "freeze $name" "$f" freeze "$W/in.onnx" -o "$T/frozen.onnx" --set x=0
done
done_testing
