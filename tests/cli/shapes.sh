#!/bin/sh
# shapes.sh — shape inference as users see it: `show --values` (text and JSON), warnings for
# declared shapes that contradict the inferred ones, freeze folding what shapes make constant,
# dropping inputs nothing reads, --write-shapes; and a sample of the onnx oracle
# (tests/oracle/shapes.py; the full run is scripts/shapes-oracle.sh).
. "$top_srcdir/tests/cli/lib.sh"
PY=/usr/bin/python3

expect 0 "show --values" -- od show --values "$FIX/seed/with_mask.onnx"
grep_ok "$T/out" '^values \(6\):$' "every value of the main graph is listed"
grep_ok "$T/out" '^  /linear/Gemm_output_0 +float\[batch,4\]$' "Gemm keeps the symbol batch"
expect 0 "show --values --json" -- od show --values --json "$FIX/transformer/with_mask.onnx"
tr -d ' \n' <"$T/out" >"$T/flat"
grep_ok "$T/flat" '"name":"/enc/layers.0/self_attn/Transpose_output_0","dtype":"float","shape":\[8,1,16\]' \
	"JSON gives dtype and static dims"
expect 0 "show without --values has no values" -- od show --json "$FIX/seed/with_mask.onnx"
if grep -q '"values"' "$T/out"; then not_ok "no values key without --values"; else ok "no values key without --values"; fi

# Shape arithmetic on a static dim folds: the transformer's head split reshapes become constants.
expect 0 "freeze the transformer mask" -- od freeze "$FIX/transformer/with_mask.onnx" -o "$T/t.onnx" --set attention_mask=1
grep_ok "$T/out" '^folded: [0-9]+ nodes \([1-9][0-9]* from shapes\)' "the summary counts nodes folded from shapes"
expect 0 "no Shape node is left" -- od check --no-op Shape,ConstantOfShape "$T/t.onnx"
expect 0 "frozen transformer equals the wrapper under diff --fold" -- od diff --fold "$T/t.onnx" "$FIX/transformer/wrapper.onnx"
expect 0 "freeze --write-shapes" -- od freeze -q "$FIX/transformer/with_mask.onnx" -o "$T/w.onnx" --set attention_mask=1 --write-shapes
expect 0 "show the model with shapes written" -- od show --values "$T/w.onnx"
if [ -s "$T/err" ]; then not_ok "written shapes agree with inference" "$(head -5 "$T/err")"; else ok "written shapes agree with inference"; fi

if ! $PY -c 'import onnx' 2>/dev/null; then
	echo "# python3-onnx missing: the rest is skipped"
	done_testing; exit
fi
# A model whose declared output contradicts its op, an impossible Reshape, rank above 64.
$PY - "$T" <<'PYEOF'
import sys, onnx
from onnx import helper as h, TensorProto as P
d = sys.argv[1]
g = h.make_graph([h.make_node("MatMul", ["a", "b"], ["y"])], "g",
                 [h.make_tensor_value_info("a", P.FLOAT, [2, 3]), h.make_tensor_value_info("b", P.FLOAT, [3, 4])],
                 [h.make_tensor_value_info("y", P.FLOAT, [2, 5])])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), d + "/contra.onnx")
g = h.make_graph([h.make_node("Reshape", ["a", "s"], ["y"])], "g",
                 [h.make_tensor_value_info("a", P.FLOAT, [2, 3])], [h.make_tensor_value_info("y", P.FLOAT, None)],
                 [h.make_tensor("s", P.INT64, [2], [4, 4])])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), d + "/reshape.onnx")
g = h.make_graph([h.make_node("Reshape", ["a", "s"], ["y"])], "g",
                 [h.make_tensor_value_info("a", P.FLOAT, [1])], [h.make_tensor_value_info("y", P.FLOAT, None)],
                 [h.make_tensor("s", P.INT64, [65], [1] * 65)])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), d + "/rank.onnx")
# merged the way optimum's merge_decoders does: one If on bool[1] use_cache_branch, the
# with-past branch reads past_key, the other only ids
f = lambda n, s: h.make_tensor_value_info(n, P.FLOAT, s)
with_past = h.make_graph([h.make_node("Concat", ["past_key", "ids"], ["y1"], axis=1)], "with_past", [], [f("y1", None)])
no_past = h.make_graph([h.make_node("Identity", ["ids"], ["y0"])], "no_past", [], [f("y0", None)])
g = h.make_graph([h.make_node("If", ["use_cache_branch"], ["y"], then_branch=with_past, else_branch=no_past)], "g",
                 [f("ids", [1, "seq"]), f("past_key", [1, "past"]),
                  h.make_tensor_value_info("use_cache_branch", P.BOOL, [1])], [f("y", None)])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), d + "/merged.onnx")
# int64 extremes in shape arithmetic: a Slice stepping by INT64_MIN, Neg and Abs of it
lo, hi = -2**63, 2**63 - 1
i64 = lambda n, v: h.make_tensor(n, P.INT64, [len(v)], v)
g = h.make_graph([h.make_node("Shape", ["a"], ["s"]),
                  h.make_node("Slice", ["s", "hi", "lo", "zero", "lo"], ["y"]),
                  h.make_node("Neg", ["lo"], ["n"]), h.make_node("Abs", ["lo"], ["m"])], "g",
                 [h.make_tensor_value_info("a", P.FLOAT, [2, 3, 4])],
                 [h.make_tensor_value_info(v, P.INT64, None) for v in ("y", "n", "m")],
                 [i64("hi", [hi]), i64("lo", [lo]), i64("zero", [0])])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), d + "/extremes.onnx")
# attributes and dims near INT64_MAX in every size rule that multiplies or adds them (under
# UBSan an overflow fails the run): windows, transposed convs, Concat, Pad, Resize,
# DepthToSpace, a Reshape's -1 (found by scripts/fuzz.sh)
big = 2**62
x4 = h.make_tensor_value_info("x4", P.FLOAT, [big, 3, big, big])
nodes = [h.make_node("MaxPool", ["x4"], ["p1"], kernel_shape=[hi, 2], strides=[hi, 1], pads=[hi, 0, hi, 0]),
         h.make_node("AveragePool", ["x4"], ["p2"], kernel_shape=[2, 2], ceil_mode=1, strides=[hi, hi]),
         h.make_node("ConvTranspose", ["x4", "w"], ["ct"], strides=[hi, 2], group=hi, output_padding=[hi, 0]),
         h.make_node("ConvTranspose", ["x4", "w"], ["cs"], strides=[hi, 2], auto_pad="SAME_UPPER"),
         h.make_node("MaxRoiPool", ["x4", "rois"], ["mr"], pooled_shape=[2, 2]),
         h.make_node("Concat", ["x4", "x4"], ["cc"], axis=0),
         h.make_node("Pad", ["x4", "pads"], ["pd"]),
         h.make_node("Resize", ["x4", "", "scales"], ["rs"]),
         h.make_node("DepthToSpace", ["x4"], ["ds"], blocksize=2**32),
         h.make_node("SpaceToDepth", ["x4"], ["sd"], blocksize=2**40),
         h.make_node("Reshape", ["x4", "shp"], ["rh"])]
g = h.make_graph(nodes, "g", [x4, h.make_tensor_value_info("rois", P.FLOAT, [1, 5])],
                 [h.make_tensor_value_info(n.output[0], P.FLOAT, None) for n in nodes],
                 [h.make_tensor("w", P.FLOAT, [3, 1, 1, 1], [1, 1, 1]), i64("pads", [0, 0, hi, hi, 0, 0, hi, hi]),
                  h.make_tensor("scales", P.FLOAT, [4], [1, 1, 1e30, 3]), i64("shp", [big, big, -1])])
onnx.save(h.make_model(g, opset_imports=[h.make_opsetid("", 14)]), d + "/overflow.onnx")
PYEOF
expect 0 "int64 extremes in shape values" -- od show --values "$T/extremes.onnx"
grep_ok "$T/out" '^  y +int64\[1\]$' "a Slice from INT64_MAX stepping by INT64_MIN takes one element"
expect 0 "sizes past INT64_MAX are unknown, not undefined" -- od show --values "$T/overflow.onnx"
grep_ok "$T/out" '^  cc +float\[\?,3,4611686018427387904,4611686018427387904\]$' "Concat of two 2^62 dims: unknown"
expect 0 "freeze use_cache_branch=false" -- od freeze "$T/merged.onnx" -o "$T/m0.onnx" --set use_cache_branch=false --expect-inputs ids
grep_ok "$T/out" "^dropped: past_key \(no longer read\)$" "the input nothing reads is dropped and listed"
expect 0 "the no-past model has exactly ids" -- od check --inputs ids "$T/m0.onnx"
expect 0 "freeze use_cache_branch=true" -- od freeze "$T/merged.onnx" -o "$T/m1.onnx" --set use_cache_branch=true
expect 0 "the with-past model keeps past_key" -- od check --inputs ids,past_key "$T/m1.onnx"
expect 0 "--keep-unused-inputs" -- od freeze "$T/merged.onnx" -o "$T/mk.onnx" --set use_cache_branch=false --keep-unused-inputs
expect 0 "keeps past_key" -- od check --inputs ids,past_key "$T/mk.onnx"
expect 0 "a contradicting declared output is a warning, not an error" -- od show --values "$T/contra.onnx"
grep_ok "$T/err" "^warning: graph: output 'y' is declared float\[2,5\], inferred float\[2,4\]$" "the warning names both shapes"
expect 0 "an impossible Reshape is a warning" -- od show --values "$T/reshape.onnx"
grep_ok "$T/err" "^warning: .*cannot reshape float\[2,3\] \(6 elements\) to 16 elements" "the warning says why"
expect 0 "a rank above 64 is a warning" -- od show --values "$T/rank.onnx"
grep_ok "$T/err" "rank 65, above the limit of 64" "the warning names the limit"

[ -d "$SHARED/node" ] || { echo "# $SHARED absent: oracle sample skipped"; done_testing; exit; }
# A sample of the node tests against onnx.shape_inference and the expected outputs.
expect 0 "inferred shapes agree with onnx on a sample of the node tests" -- \
	$PY "$top_srcdir/tests/oracle/shapes.py" --sample 60 "$ONNXDIFF" "$SHARED/node"
cat "$T/out" | head -1 | sed 's/^/# /'
done_testing
