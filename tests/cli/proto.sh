#!/bin/sh
# proto.sh — onnxdiff reads a model as protobuf and onnxruntime do (tests/cli/proto/, written
# by make-proto.py): a singular field given twice counts once, the last; a message given
# twice merges; packed and unpacked runs are the same; bool in int32_data is nonzero. Sparse
# tensors are compared, shown and written back by content, and the rarer attribute kinds
# (TENSORS, SPARSE_TENSOR(S), TYPE_PROTO(S)) are compared and printed. Where onnxruntime-node
# is installed (tests/oracle), it confirms what the odd files compute.
. "$top_srcdir/tests/cli/lib.sh"
P="$top_srcdir/tests/cli/proto"
ORACLE="$top_srcdir/tests/oracle"
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# ---- protobuf's rules --------------------------------------------------------------------
expect 0 "raw_data given twice: the last one counts (reads as the 1000.0 twin)" -- od "$P/raw-twice.onnx" "$P/raw-1000.onnx"
expect 1 "raw_data given twice differs from the first occurrence's 1.0" -- od "$P/raw-twice.onnx" "$P/raw-1.onnx"
grep_ok "$T/out" "initializer w: float\[1\]: 1 of 1 element differs" "  the difference is the weight's value"
expect 0 "Constant value tensor given twice: the two messages merge (later raw_data wins)" -- od "$P/const-twice.onnx" "$P/const-1000.onnx"
expect 1 "merged Constant differs from the first message's value" -- od "$P/const-twice.onnx" "$P/const-1.onnx"
expect 0 "merged Constant: repeated float_data of both messages concatenate" -- od "$P/const-split.onnx" "$P/const-12.onnx"
expect 0 "int64_data one element per key reads as the packed form" -- od "$P/int64-unpacked.onnx" "$P/int64-packed.onnx"
expect 0 "bool from int32_data 256 and -1 is true" -- od "$P/bool-256.onnx" "$P/bool-101.onnx"
expect 1 "bool from int32_data 256 is not false" -- od "$P/bool-256.onnx" "$P/bool-001.onnx"
od textconv "$P/raw-twice.onnx" >"$T/a" 2>&1
od textconv "$P/raw-1000.onnx" >"$T/b" 2>&1
same "$T/a" "textconv of raw_data given twice is the last one's" "$T/b"

# ---- sparse tensors ----------------------------------------------------------------------
expect 1 "sparse initializers differing only in values (1 vs 1000) differ" -- od "$P/sparse-1.onnx" "$P/sparse-1000.onnx"
grep_ok "$T/out" "^~ initializer w: sparse float\[2,2\]" "  reported as a changed sparse initializer"
od textconv "$P/sparse-1.onnx" >"$T/a" 2>&1
od textconv "$P/sparse-1000.onnx" >"$T/b" 2>&1
if cmp -s "$T/a" "$T/b"; then not_ok "textconv of the two sparse models differs" "same text"; else ok "textconv of the two sparse models differs"; fi
expect 1 "Constant(sparse_value) differing only in values differ" -- od "$P/sparse-const-1.onnx" "$P/sparse-const-1000.onnx"
grep_ok "$T/out" "attribute sparse_value: sparse float\[2,2\] \{1.0,0.0,0.0,1.0\} -> sparse float\[2,2\] \{1000.0,0.0,0.0,1000.0\}" "  with the values"
expect 0 "an explicit zero in a sparse tensor is the same content" -- od "$P/sparse-1.onnx" "$P/sparse-1-zero.onnx"
expect 1 "a sparse initializer is not its dense twin (the representation changed)" -- od "$P/sparse-1.onnx" "$P/dense-1.onnx"
expect 0 "show on a model whose only initializer is sparse" -- od show "$P/sparse-1.onnx"
grep_ok "$T/out" "^initializers \(1, 4 parameters" "  counts it in initializers"
grep_ok "$T/out" "^  w +float\[2,2\] .* sparse$" "  lists it as sparse"
expect 0 "show --json" -- od show --json "$P/sparse-1.onnx"
grep_ok "$T/out" '"sparse": true' "  marks it sparse"

# freeze writes sparse initializers back, their side-file values into the output's side file
mkdir "$T/fz"
expect 0 "freeze a model with a sparse initializer in a side file" -- od freeze "$P/sparse-ext.onnx" --set m=2 -o "$T/fz/out.onnx"
expect 1 "the frozen model differs only by the bound input" -- od "$P/sparse-ext.onnx" "$T/fz/out.onnx"
if grep -q "initializer w" "$T/out"; then not_ok "  the sparse initializer is unchanged" "$(cat "$T/out")"
else ok "  the sparse initializer is unchanged"; fi
grep_ok "$T/out" "^\+ initializer m: float\[2,2\]" "  m is now an initializer"
expect 0 "the frozen model shows its sparse initializer" -- od show "$T/fz/out.onnx"
grep_ok "$T/out" "^  w +float\[2,2\] .* sparse  external$" "  kept sparse, its values in the output's side file"

# ---- attribute kinds ---------------------------------------------------------------------
for k in tensors sparse-tensor sparse-tensors type-proto type-protos; do
	name=$(echo "$k" | tr - _)
	expect 1 "attribute of kind $name: a changed value is a difference" -- od "$P/attr-$k-1.onnx" "$P/attr-$k-1000.onnx"
	grep_ok "$T/out" "^~     attribute $name: .+ -> .+" "  described as a changed attribute"
	od textconv "$P/attr-$k-1.onnx" >"$T/a" 2>&1
	od textconv "$P/attr-$k-1000.onnx" >"$T/b" 2>&1
	if cmp -s "$T/a" "$T/b"; then not_ok "  textconv prints the $name value" "same text: $(tail -1 "$T/a")"
	else ok "  textconv prints the $name value"; fi
done
od textconv "$P/attr-type-protos-1000.onnx" >"$T/a" 2>&1
grep_ok "$T/a" "type_protos=\[tensor\(float\)\[2\], tensor\(double\)\[2\]\]" "textconv writes type protos as types"

# ---- onnxruntime reads the odd files as onnxdiff does --------------------------------------
if command -v node >/dev/null && [ -d "$ORACLE/node_modules/onnxruntime-node" ]; then
	cat >"$T/run.js" <<'JS'
const ort = require(process.argv[2]);
(async () => {
  for (const f of process.argv.slice(3)) {
    const s = await ort.InferenceSession.create(f);
    const feeds = {};
    for (const name of s.inputNames) feeds[name] = new ort.Tensor('float32', new Float32Array(4), [2, 2]);
    const r = await s.run(feeds);
    console.log(Array.from(r[s.outputNames[0]].data).map(Number).join(','));
  }
})().catch(e => { console.error(e.message); process.exit(2); });
JS
	node "$T/run.js" "$ORACLE/node_modules/onnxruntime-node" "$P/raw-twice.onnx" "$P/const-twice.onnx" \
		"$P/const-split.onnx" "$P/bool-256.onnx" "$P/sparse-1.onnx" "$P/sparse-1000.onnx" >"$T/ort" 2>"$T/err"
	printf '1000\n1000,1000\n1,2\n1,0,1\n1,0,0,1\n1000,0,0,1000\n' >"$T/want"
	same "$T/ort" "onnxruntime computes what onnxdiff reads (last raw_data, merged Constant, bool 256, sparse)" "$T/want"
else
	skip "onnxruntime computes what onnxdiff reads" "no $ORACLE/node_modules (cd tests/oracle && npm ci --ignore-scripts)"
fi
done_testing
