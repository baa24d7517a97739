#!/bin/sh
# freeze.sh — `onnxdiff freeze`: the summary (golden files in tests/cli/freeze/), the
# interface left, exit codes, bad input (exit 2, one line, nothing written, IN untouched),
# OUT equal to IN, --expect-inputs, --strict, --max-growth, and diff --fold of the result
# against the wrapper export.
. "$top_srcdir/tests/cli/lib.sh"
GOLD="$top_srcdir/tests/cli/freeze"

# golden NAME DESCRIPTION -- freeze args...: freezes into $T/NAME.onnx, compares stdout
golden() {
	name=$1 desc=$2
	shift 3
	expect 0 "$desc" -- od freeze "$@" -o "$T/$name.onnx"
	sed "s|$T/|OUT/|" "$T/out" >"$T/$name.txt"
	same "$T/$name.txt" "$desc: summary" "$GOLD/$name.txt"
}

golden seed "freeze seed mask from .npy" -- "$FIX/seed/with_mask.onnx" --set mask=@"$FIX/seed/mask.npy"
expect 0 "frozen seed has exactly the input x" -- od check --inputs x --absent mask "$T/seed.onnx"
golden hidden "freeze hidden_state (fixes batch = 2)" -- "$FIX/hidden/with_hidden.onnx" --set hidden_state=@"$FIX/hidden/hidden_state.npy"
expect 0 "frozen hidden model has exactly the input x" -- od check --inputs x "$T/hidden.onnx"
expect 0 "show the frozen hidden model" -- od show "$T/hidden.onnx"
grep_ok "$T/out" '^  x +float\[2,3,4\]$' "batch is fixed on x"
grep_ok "$T/out" '^  h_n +float\[1,2,5\]$' "batch is fixed on the output h_n"
golden transformer "freeze attention_mask to ones (literal)" -- "$FIX/transformer/with_mask.onnx" --set attention_mask=1
expect 0 "the mask chain is gone" -- od check --inputs x --no-op Expand,Equal "$T/transformer.onnx"
golden if-then "freeze the If flag to 1" -- "$FIX/if/model.onnx" --set flag=@"$FIX/if/flag.npy"
expect 0 "the If is inlined" -- od check --inputs x --no-op If,Relu "$T/if-then.onnx"
golden if-else "freeze the If flag to 0 (literal)" -- "$FIX/if/model.onnx" --set flag=0
expect 0 "the else branch is kept" -- od check --inputs x --no-op If,Mul "$T/if-else.onnx"

# The fold rule holds inside an inlined branch: the exporter's constants there (Add of two
# Constants) stay as they were; only what reads a frozen value folds.
if /usr/bin/python3 - "$T/branch.onnx" <<'PY' 2>"$T/py"
import sys, onnx
from onnx import helper as h, TensorProto as T
c = lambda name, v: h.make_node("Constant", [], [name], value=h.make_tensor(name, T.FLOAT, [2], v))
then = h.make_graph([c("c1", [1, 2]), c("c2", [3, 4]), h.make_node("Add", ["c1", "c2"], ["s"]),
                     h.make_node("Mul", ["x", "s"], ["t"])], "then", [],
                    [h.make_tensor_value_info("t", T.FLOAT, [2])])
other = h.make_graph([h.make_node("Neg", ["x"], ["e"])], "else", [],
                     [h.make_tensor_value_info("e", T.FLOAT, [2])])
g = h.make_graph([h.make_node("If", ["flag"], ["y"], then_branch=then, else_branch=other)], "g",
                 [h.make_tensor_value_info("x", T.FLOAT, [2]), h.make_tensor_value_info("flag", T.BOOL, [])],
                 [h.make_tensor_value_info("y", T.FLOAT, [2])])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 13)]), sys.argv[1])
PY
then
	expect 0 "freeze the flag of an If whose branch holds exporter constants" -- \
		od freeze "$T/branch.onnx" -o "$T/branch-frozen.onnx" --set flag=true
	grep_ok "$T/out" "^folded: 0 nodes, 1 If inlined, \+0 B of constants$" "nothing of the branch folds: its constants do not come from the frozen flag"
	expect 0 "the branch's Add of two exporter constants stays a node" -- \
		od check --inputs x --no-op If,Neg "$T/branch-frozen.onnx"
	od show "$T/branch-frozen.onnx" >"$T/out" 2>&1
	grep_ok "$T/out" "Add +1" "Add stays in the frozen model"
else
	ok "# SKIP /usr/bin/python3 lacks onnx: $(tail -1 "$T/py")"
fi
golden growth "--max-growth 100B keeps the broadcast" -- "$FIX/transformer/with_mask.onnx" --set attention_mask=[[1,1,1,1,1,1,1,1]] --max-growth 100B
golden literal "a scalar literal fills mask [1,4]" -- "$FIX/seed/with_mask.onnx" --set mask=0.5 --expect-inputs x

expect 0 "freeze --help" -- od freeze --help
grep_ok "$T/out" "^  --max-growth X " "--help explains the options"
expect 0 "-q prints nothing" -- od freeze -q "$FIX/seed/with_mask.onnx" -o "$T/q.onnx" --set mask=1
if [ ! -s "$T/out" ] && [ ! -s "$T/err" ] && [ -s "$T/q.onnx" ]; then ok "-q: silent, written"; else not_ok "-q: silent, written" "$(cat "$T/out" "$T/err")"; fi

# --expect-inputs: exit 1, nothing written
expect 1 "--expect-inputs that does not hold" -- od freeze "$FIX/seed/with_mask.onnx" -o "$T/e.onnx" --set mask=1 --expect-inputs x,mask
grep_ok "$T/err" "^inputs: missing 'mask'$" "the failed assertion is named"
if [ ! -e "$T/e.onnx" ]; then ok "--expect-inputs failure writes nothing"; else not_ok "--expect-inputs failure writes nothing"; fi

# bad input: exit 2, one line, no output file, no temporary file, IN untouched
mkdir "$T/o"
sum_before=$(cksum <"$FIX/seed/with_mask.onnx")
bad() {
	what=$1 pat=$2
	shift 2
	expect 2 "$what" -- od freeze "$@"
	lines=$(wc -l <"$T/err")
	left=$(ls -A "$T/o" | wc -l)
	if [ "$lines" = 1 ] && grep -qE -- "^error: $pat" "$T/err" && [ "$left" = 0 ]; then
		ok "$what: one line, nothing written: $(cat "$T/err")"
	else not_ok "$what: one line matching /$pat/, nothing written" "$(cat "$T/err")" "left: $(ls -A "$T/o")"; fi
}
S="$FIX/seed/with_mask.onnx"
bad "unknown input name" "input 'nope' not found in graph$" "$S" -o "$T/o/x.onnx" --set nope=1
bad "wrong dtype" "value for 'mask' has dtype int32, input is float\[1,4\]$" "$S" -o "$T/o/x.onnx" --set mask=@"$FIX/bad/mask-int.npy"
bad "wrong shape" "value for 'mask' has shape \[2,4\], input is float\[1,4\]$" "$S" -o "$T/o/x.onnx" --set mask=@"$FIX/seed/x.npy"
bad "wrong rank from a literal" "value for 'mask' has shape \[4\], input is float\[1,4\]$" "$S" -o "$T/o/x.onnx" --set mask=[1,0,1,1]
bad "scalar for a symbolic shape" "value for 'x' has shape \[\], input is float\[batch,4\]$" "$S" -o "$T/o/x.onnx" --set x=1
bad "malformed .npy" "value for 'mask': cannot read '.*lying.npy': 16 bytes of data, but the header says float \(100, 4\) \(1600 bytes\)$" "$S" -o "$T/o/x.onnx" --set mask=@"$FIX/bad/lying.npy"
bad "missing .npy" "value for 'mask': cannot open '.*nope.npy': No such file or directory$" "$S" -o "$T/o/x.onnx" --set mask=@"$T/nope.npy"
bad "unparsable literal" "value for 'mask': 'abc' is not a number \(float wanted\)$" "$S" -o "$T/o/x.onnx" --set mask=abc
bad "unbalanced list" "value for 'mask': cannot parse '\[\[1,0\]': missing '\]'$" "$S" -o "$T/o/x.onnx" --set mask=[[1,0]
bad "ragged list" "value for 'mask': cannot parse '.*': rows of different lengths$" "$S" -o "$T/o/x.onnx" --set "mask=[[1,0],[1]]"
bad "fraction for an int64 input" "value for 'attention_mask': '0.5' is not an integer \(int64 wanted\)$" "$FIX/transformer/with_mask.onnx" -o "$T/o/x.onnx" --set attention_mask=0.5
bad "value out of range" "value for 'mask': '1e39' is out of range for float$" "$S" -o "$T/o/x.onnx" --set mask=1e39
bad "input given twice" "input 'mask' is given twice$" "$S" -o "$T/o/x.onnx" --set mask=1 --set mask=0
bad "--set without =" "--set wants NAME=VALUE, got 'mask'$" "$S" -o "$T/o/x.onnx" --set mask
bad "nothing to freeze" "nothing to freeze" "$S" -o "$T/o/x.onnx"
bad "bad --max-growth" "bad --max-growth 'lots'" "$S" -o "$T/o/x.onnx" --set mask=1 --max-growth lots
bad "unreadable model" "cannot open '.*nope.onnx'" "$T/nope.onnx" -o "$T/o/x.onnx" --set mask=1
bad "output folder missing" "cannot write '.*/o/missing/x.onnx': No such file or directory$" "$S" -o "$T/o/missing/x.onnx" --set mask=1
: >"$T/file"
bad "output folder is a file" "cannot write '.*/file/x.onnx': Not a directory$" "$S" -o "$T/file/x.onnx" --set mask=1
bad "--strict with a node kept by the size limit" "node '/.*' \(.*\) still depends on a frozen value: size limit: .*\(and [0-9]+ more\)$" \
	"$FIX/transformer/with_mask.onnx" -o "$T/o/x.onnx" --set attention_mask=1 --max-growth 100B --strict
if [ "$(id -u)" != 0 ]; then
	mkdir "$T/o/ro" && chmod 555 "$T/o/ro"
	expect 2 "read-only output folder" -- od freeze "$S" -o "$T/o/ro/x.onnx" --set mask=1
	grep_ok "$T/err" "^error: cannot write '.*ro/x.onnx': Permission denied$" "read-only folder: one line"
	rmdir "$T/o/ro"
fi
expect 2 "usage without -o" -- od freeze "$S" --set mask=1
if [ "$(cksum <"$S")" = "$sum_before" ]; then ok "the input model is untouched"; else not_ok "the input model is untouched"; fi

# OUT equal to IN: refused unless --force, also through another path or a link
cp "$S" "$T/m.onnx"
sum=$(cksum <"$T/m.onnx")
expect 2 "OUT equal to IN is refused" -- od freeze "$T/m.onnx" -o "$T/m.onnx" --set mask=1
grep_ok "$T/err" "^error: output '.*m.onnx' is the input model: use --force to overwrite it$" "refusal names --force"
expect 2 "OUT equal to IN through another path is refused" -- od freeze "$T/m.onnx" -o "$T/./o/../m.onnx" --set mask=1
ln -s m.onnx "$T/link.onnx"
expect 2 "OUT a symlink to IN is refused" -- od freeze "$T/m.onnx" -o "$T/link.onnx" --set mask=1
ln "$T/m.onnx" "$T/hard.onnx"
expect 2 "OUT a hard link to IN is refused" -- od freeze "$T/m.onnx" -o "$T/hard.onnx" --set mask=1
if [ "$(cksum <"$T/m.onnx")" = "$sum" ]; then ok "IN untouched after refusals"; else not_ok "IN untouched after refusals"; fi
expect 0 "--force overwrites IN" -- od freeze --force "$T/m.onnx" -o "$T/m.onnx" --set mask=1
expect 0 "the overwritten model has only x" -- od check --inputs x "$T/m.onnx"

# diff --fold: the frozen model and the wrapper export compute the same
expect 0 "diff --fold frozen seed vs wrapper" -- od diff --fold -q "$T/seed.onnx" "$FIX/seed/wrapper.onnx"
expect 0 "diff --fold frozen hidden vs wrapper" -- od diff --fold -q "$T/hidden.onnx" "$FIX/hidden/wrapper.onnx"
expect 0 "diff --fold frozen transformer vs wrapper" -- od diff --fold -q "$T/transformer.onnx" "$FIX/transformer/wrapper.onnx"
expect 1 "without --fold the transformer differs (torch folded less)" -- od diff -q "$T/transformer.onnx" "$FIX/transformer/wrapper.onnx"
expect 1 "diff --fold still sees a different mask" -- od diff --fold -q "$T/literal.onnx" "$FIX/seed/wrapper.onnx"
done_testing
