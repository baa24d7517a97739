#!/bin/sh
# basic.sh — show and check on the committed fixtures; bad input gets one line and exit 2.
. "$top_srcdir/tests/cli/lib.sh"

expect 0 "show seed model" -- od show "$FIX/seed/with_mask.onnx"
grep_ok "$T/out" '^  mask +float\[1,4\]$' "show lists the mask input with dtype and shape"
grep_ok "$T/out" '^  x +float\[batch,4\]$' "show keeps the symbolic batch dim"
grep_ok "$T/out" '^  linear.weight +float\[4,4\] +64 B +[0-9a-f]{16}$' "show lists initializers with bytes and hash"
grep_ok "$T/out" '^  Gemm +1$' "show has an operator histogram"
expect 0 "show --json" -- od show --json "$FIX/seed/wrapper.onnx"
if /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="onnxdiff-show/1"; assert [i["name"] for i in d["inputs"]]==["x"]; assert d["initializers"][0]["name"]=="mask"; assert d["operators"]=={"Gemm":1,"Mul":1}' "$T/out" 2>"$T/py"; then
	ok "show --json is valid JSON with inputs, initializers, operators"
else not_ok "show --json is valid JSON with inputs, initializers, operators" "$(cat "$T/py")"; fi
expect 0 "show counts If subgraphs" -- od show "$FIX/if/model.onnx"
grep_ok "$T/out" '^subgraphs: 2$' "the If model has two subgraphs"

# check: the CI assertion
expect 0 "check --inputs x on the wrapper export" -- od check --inputs x --absent mask "$FIX/seed/wrapper.onnx"
expect 1 "check --absent mask fails on the export with mask" -- od check --absent mask "$FIX/seed/with_mask.onnx"
grep_ok "$T/out" "^absent: input 'mask' is still present$" "the failed assertion is one line"
expect 1 "check --inputs x reports the unexpected input" -- od check --inputs x "$FIX/seed/with_mask.onnx"
grep_ok "$T/out" "^inputs: unexpected 'mask'$" "unexpected input named"
expect 1 "check --no-op If" -- od check --no-op If "$FIX/if/model.onnx"
grep_ok "$T/out" "^no-op: 1 'If' node present" "If node reported"
expect 0 "check --outputs y" -- od check --outputs y --inputs mask,x "$FIX/seed/with_mask.onnx"
expect 2 "check without assertions is a usage error" -- od check "$FIX/seed/with_mask.onnx"

# bad input: one line, exit 2, nothing on stdout
bad() {
	expect 2 "$1" -- od show "$2"
	lines=$(wc -l <"$T/err")
	if [ "$lines" = 1 ] && grep -qE "^error: .*$3" "$T/err" && [ ! -s "$T/out" ]; then ok "$1: one line: $(cat "$T/err")"
	else not_ok "$1: one error line matching /$3/" "$(cat "$T/err")"; fi
}
bad "missing file" "$T/nope.onnx" "cannot open '.*nope.onnx': No such file or directory"
bad "a directory" "$FIX" "cannot read '.*fixtures': Is a directory"
bad "empty file" "$FIX/bad/empty.onnx" "cannot load '.*empty.onnx': empty file"
bad "random bytes" "$FIX/bad/random.onnx" "cannot load '.*random.onnx': "
bad "truncated model" "$FIX/bad/truncated.onnx" "cannot load '.*truncated.onnx': truncated"
bad "a protobuf that is not a model" "$FIX/bad/not-a-model.onnx" "cannot load '.*not-a-model.onnx': not an ONNX model: it looks like a lone TensorProto"
bad "a .npy given as a model" "$FIX/seed/mask.npy" "cannot load '.*mask.npy': not an ONNX model: it looks like a NumPy array \\(.npy\\)"
bad "a text file given as a model" "$top_srcdir/README.md" "cannot load '.*README.md': not an ONNX model: it looks like a text file"
printf 'PK\003\004\024\000\000\000\010\000' >"$T/weights.pt"
bad "a zip archive given as a model" "$T/weights.pt" "cannot load '.*weights.pt': not an ONNX model: it looks like a zip archive"
bad "a model without a graph" "$FIX/bad/no-graph.onnx" "cannot load '.*': not an ONNX model: no graph"
bad "dangling reference" "$FIX/bad/dangling.onnx" "node 'add' \(Add\) reads undefined value 'ghost'"
bad "graph cycle" "$FIX/bad/cycle.onnx" "graph has a cycle"
bad "duplicate value names" "$FIX/bad/duplicate.onnx" "duplicate value name 'y'"
bad "payload size not matching dims" "$FIX/bad/bad-dims.onnx" "initializer 'w': 8 bytes of data for shape \[2,3\] float \(24 bytes\)"

one_error 2 "unknown command" "^error: unknown command 'frobnicate'" -- od frobnicate
expect 0 "--version" -- od --version
grep_ok "$T/out" '^onnxdiff [0-9]' "--version prints the version"
expect 0 "-V" -- od -V
grep_ok "$T/out" '^onnxdiff [0-9]' "-V prints the version"
expect 0 "help check" -- od help check
grep_ok "$T/out" '^  --no-op OP' "help CMD is CMD --help"
# every usage mistake is one error line and exit 2, with a pointer to --help
S="$FIX/seed/with_mask.onnx"
one_error 2 "no arguments" "^error: no models given \(see 'onnxdiff --help'\)$" -- od
one_error 2 "show: unknown option" "^error: unknown option '--bogus'.*'onnxdiff show --help'" -- od show --bogus "$S"
one_error 2 "show A B" "^error: usage: onnxdiff show \[--json\] \[--values\] MODEL" -- od show "$S" "$S"
one_error 2 "textconv --bogus" "^error: unknown option '--bogus'" -- od textconv --bogus
one_error 2 "check: unknown short option" "^error: unknown option '-x'" -- od check -x "$S"
one_error 2 "freeze: unknown option" "^error: unknown option '--zz'" -- od freeze --zz "$S"
one_error 2 "freeze without -o" "^error: usage: onnxdiff freeze" -- od freeze "$S" --set mask=1
one_error 2 "diff: unknown option" "^error: unknown option '--bogus'" -- od --bogus "$S" "$S"
for cmd in show check tui; do
	expect 0 "$cmd --help" -- od "$cmd" --help
	if [ "$(wc -l <"$T/out")" -gt 3 ]; then ok "$cmd --help describes its options"
	else not_ok "$cmd --help describes its options" "$(cat "$T/out")"; fi
done
# true/false are bool literals: an int64 input given `true` is an error, not 1
one_error 2 "--set an int64 input to true" "'true' is for bool inputs only \(int64 wanted\)" -- \
	od freeze "$FIX/if/model.onnx" -o "$T/never.onnx" --set flag=true
# a name with an escape sequence is printed escaped, by check and by textconv
R="$top_srcdir/tests/fuzz/regressions"
expect 1 "check on a hostile input name" -- od check --inputs x "$R/name-escape-sequence.onnx"
grep_ok "$T/out" "^inputs: unexpected '\\\\x1b'$" "check escapes the name"
expect 0 "textconv of a hostile input name" -- od textconv "$R/name-escape-sequence.onnx"
if tr -d '\n' <"$T/out" | LC_ALL=C grep -q '[[:cntrl:]]'; then not_ok "textconv escapes control characters" "$(cat -A "$T/out")"
else ok "textconv escapes control characters"; fi
# ONNXDIFF_TRACE: a line per phase on stderr; stdout as without it
od show "$FIX/encoder/model.onnx" >"$T/plain" 2>/dev/null
expect 0 "show with ONNXDIFF_TRACE=1" -- env ONNXDIFF_TRACE=1 "$ONNXDIFF" show "$FIX/encoder/model.onnx"
if cmp -s "$T/out" "$T/plain" && grep -q '^trace: load [0-9.]* s wall, [0-9.]* s CPU$' "$T/err" &&
   grep -q '^trace: infer ' "$T/err" && grep -q '^trace: show ' "$T/err"; then ok "ONNXDIFF_TRACE times load, infer and show on stderr"
else not_ok "ONNXDIFF_TRACE times load, infer and show on stderr" "$(cat "$T/err")"; fi
expect 1 "diff --fold with ONNXDIFF_TRACE=1" -- env ONNXDIFF_TRACE=1 "$ONNXDIFF" diff --fold "$FIX/seed/with_mask.onnx" "$FIX/encoder/model.onnx"
if [ "$(sed -n 's/^trace: \([a-z]*\) .*/\1/p' "$T/err" | tr '\n' ' ')" = "load fold diff print " ]; then ok "diff --fold traces load, fold, diff, print"
else not_ok "diff --fold traces load, fold, diff, print" "$(cat "$T/err")"; fi
expect 0 "ONNXDIFF_TRACE=0 is off" -- env ONNXDIFF_TRACE=0 "$ONNXDIFF" show "$FIX/encoder/model.onnx"
if [ -s "$T/err" ]; then not_ok "ONNXDIFF_TRACE=0 prints nothing" "$(cat "$T/err")"; else ok "ONNXDIFF_TRACE=0 prints nothing"; fi
done_testing
