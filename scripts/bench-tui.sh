#!/bin/sh
# bench-tui.sh — how long `onnxdiff tui` takes to show the new state after a freeze (reload
# of A, od_freeze, od_diff, rows), on the transformer fixture and on a generated graph of
# 10k nodes. A measurement, not a test: prints a table against the 100 ms target.
#
#   scripts/bench-tui.sh [ONNXDIFF]     (default: ./onnxdiff, run from a build folder)
#
# Each case runs the headless TUI with a key script that freezes and undoes RUNS times
# (--timing prints the time of every action on stderr) and reports the median.
# The 10k graph is written by /usr/bin/python3 with python3-onnx into a temporary folder:
# x float [N,16] and mask float [1,16]; 2500 blocks of  m = Mul(mask, c_i) (folds once mask
# is frozen), h = Mul(h, m), h = Add(h, b_i), h = Relu(h).  B is the same graph exported
# "through a wrapper": mask an initializer, every name changed.
set -eu
ONNXDIFF=${1:-${ONNXDIFF:-./onnxdiff}}
# the script changes folder below: make a relative path absolute first
case $ONNXDIFF in /*) ;; *) ONNXDIFF=$(pwd)/$ONNXDIFF ;; esac
SRC=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-7}
TARGET_MS=100
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-tui.XXXXXX")
trap 'rm -rf "$W"' EXIT

[ -x "$ONNXDIFF" ] || { echo "bench-tui: no onnxdiff at '$ONNXDIFF' (give its path)" >&2; exit 2; }

/usr/bin/python3 - "$W" <<'EOF'
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper

def build(blocks, frozen_mask):
    p = "m." if frozen_mask else ""          # the wrapper export renames everything
    rng = np.random.RandomState(0)
    inits, nodes = [], []
    mask = np.ones((1, 16), np.float32)
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])]
    if frozen_mask:
        inits.append(numpy_helper.from_array(mask, "mask"))
    else:
        inputs.append(helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 16]))
    h = "x"
    for i in range(blocks):
        c = rng.uniform(0.5, 1.5, (1, 16)).astype(np.float32)
        b = rng.uniform(-1, 1, (16,)).astype(np.float32)
        inits += [numpy_helper.from_array(c, f"{p}c{i}"), numpy_helper.from_array(b, f"{p}b{i}")]
        t = f"/{p}block{i}"
        nodes += [
            helper.make_node("Mul", ["mask", f"{p}c{i}"], [f"{t}/m"], name=f"{t}/MulMask"),
            helper.make_node("Mul", [h, f"{t}/m"], [f"{t}/h0"], name=f"{t}/Mul"),
            helper.make_node("Add", [f"{t}/h0", f"{p}b{i}"], [f"{t}/h1"], name=f"{t}/Add"),
            helper.make_node("Relu", [f"{t}/h1"], [f"{t}/h2"], name=f"{t}/Relu"),
        ]
        h = f"{t}/h2"
    nodes.append(helper.make_node("Identity", [h], ["y"], name=f"/{p}out"))
    g = helper.make_graph(nodes, "big", inputs,
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 16])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)], producer_name="bench-tui")
    m.ir_version = 7
    onnx.checker.check_model(m)
    return m

out = sys.argv[1]
onnx.save(build(2500, False), f"{out}/big.onnx")
onnx.save(build(2500, True), f"{out}/big-wrapper.onnx")
np.save(f"{out}/mask.npy", np.ones((1, 16), np.float32))
EOF

# keys INPUT_ROW VALUE: select the input on row INPUT_ROW (0-based), freeze and undo RUNS times
keys() {
	i=0
	while [ "$i" -lt "$1" ]; do printf 'j'; i=$((i + 1)); done
	echo
	i=0
	while [ "$i" -lt "$RUNS" ]; do printf 'f<C-u>%s<Enter>\nu\n' "$2"; i=$((i + 1)); done
}

# median of the numbers on stdin
median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : "-"}'; }

# field NAME FILE: the values of "NAME x ms" on the "timing freeze:" lines
field() { sed -n "s/^timing freeze:.* $1 \([0-9.]*\) ms.*/\1/p" "$2" | median; }

# bench LABEL ROW VALUE A [B]
bench() {
	label=$1 row=$2 value=$3
	shift 3
	keys "$row" "$value" >"$W/keys"
	(cd "$W" && "$ONNXDIFF" tui --timing --script keys --dump /dev/null "$@" >/dev/null 2>timing) ||
		{ echo "bench-tui: $label failed:" >&2; cat "$W/timing" >&2; exit 2; }
	n=$(grep -c '^timing freeze:' "$W/timing" || true)
	[ "$n" -gt 0 ] || { echo "bench-tui: $label: no freeze happened:" >&2; cat "$W/timing" >&2; exit 2; }
	nodes=$(cd "$W" && "$ONNXDIFF" show "$1" 2>/dev/null | sed -n "s/^operators (\([0-9]*\) nodes.*/\1/p" | head -1)
	total=$(field total "$W/timing")
	verdict=$(awk -v t="$total" -v m="$TARGET_MS" 'BEGIN {print (t + 0 < m) ? "ok" : "OVER"}')
	printf '%-30s %6s %8s %8s %8s %8s %9s  %s\n' "$label" "${nodes:-?}" "$(field load "$W/timing")" \
		"$(field freeze "$W/timing")" "$(field diff "$W/timing")" "$(field rows "$W/timing")" "$total" "$verdict"
}

cp "$SRC/fixtures/transformer/with_mask.onnx" "$SRC/fixtures/transformer/wrapper.onnx" \
	"$SRC/fixtures/transformer/attention_mask.npy" "$W/"
echo "re-diff after a freeze: median of $RUNS, milliseconds (target: total under $TARGET_MS ms)"
printf '%-30s %6s %8s %8s %8s %8s %9s\n' "case" "nodes" "load" "freeze" "diff" "rows" "total"
bench "transformer vs wrapper" 1 @attention_mask.npy with_mask.onnx wrapper.onnx
bench "transformer vs original" 1 @attention_mask.npy with_mask.onnx
bench "generated 10k vs wrapper" 1 @mask.npy big.onnx big-wrapper.onnx
bench "generated 10k vs original" 1 @mask.npy big.onnx
