#!/bin/sh
# freeze-oracle.sh — every fixture case frozen by onnxdiff, judged by checks no one here
# wrote: onnx.checker (tests/oracle/check.py --strict, Debian python3-onnx) and
# onnxruntime (tests/oracle/ort-compare.js: the original fed the frozen value against the
# frozen model on the same inputs). Each oracle is skipped when it is not installed; the
# whole script when neither is.
. "$top_srcdir/tests/cli/lib.sh"
ORACLE="$top_srcdir/tests/oracle"

have_checker=yes have_ort=yes
/usr/bin/python3 -c 'import onnx' 2>/dev/null || have_checker=
{ command -v node >/dev/null && [ -d "$ORACLE/node_modules/onnxruntime-node" ]; } || have_ort=
[ -n "$have_checker$have_ort" ] || skip_all "no oracle: /usr/bin/python3 lacks onnx and $ORACLE/node_modules is missing (cd tests/oracle && npm ci --ignore-scripts)"
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# case NAME MODEL INPUT VALUE.npy [extra freeze args] [-- ort-compare args]
case_() {
	name=$1 model=$2 input=$3 npy=$4
	shift 4
	fargs="" oargs=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do fargs="$fargs $1"; shift; done
	[ $# -gt 0 ] && shift
	oargs="$*"
	# shellcheck disable=SC2086
	expect 0 "$name: freeze" -- od freeze -q "$model" -o "$T/$name.onnx" --set "$input=@$npy" $fargs
	if [ -n "$have_checker" ]; then
		if /usr/bin/python3 "$ORACLE/check.py" --strict "$T/$name.onnx" 2>"$T/chk"; then ok "$name: onnx.checker --strict"
		else not_ok "$name: onnx.checker --strict" "$(cat "$T/chk")"; fi
	else skip "$name: onnx.checker" "/usr/bin/python3 lacks onnx"; fi
	if [ -n "$have_ort" ]; then
		# shellcheck disable=SC2086
		if node "$ORACLE/ort-compare.js" "$model" "$T/$name.onnx" --set "$input=$npy" $oargs >"$T/ort" 2>&1; then
			ok "$name: onnxruntime agrees: $(cat "$T/ort")"
		else not_ok "$name: onnxruntime agrees" "$(cat "$T/ort")"; fi
	else skip "$name: onnxruntime" "no $ORACLE/node_modules"; fi
}

case_ seed "$FIX/seed/with_mask.onnx" mask "$FIX/seed/mask.npy" -- --input x="$FIX/seed/x.npy"
case_ hidden "$FIX/hidden/with_hidden.onnx" hidden_state "$FIX/hidden/hidden_state.npy" -- --input x="$FIX/hidden/x.npy"
case_ transformer "$FIX/transformer/with_mask.onnx" attention_mask "$FIX/transformer/attention_mask.npy" -- --input x="$FIX/transformer/x.npy"
case_ transformer-growth "$FIX/transformer/with_mask.onnx" attention_mask "$FIX/transformer/attention_mask.npy" --max-growth 100B -- --input x="$FIX/transformer/x.npy"
case_ if-flag1 "$FIX/if/model.onnx" flag "$FIX/if/flag.npy" -- --input x="$FIX/if/x.npy"
case_ if-flag0 "$FIX/if/model.onnx" flag "$FIX/if/flag0.npy" -- --input x="$FIX/if/x.npy"
case_ if-x-flag1 "$FIX/if/model.onnx" x "$FIX/if/x.npy" -- --input flag="$FIX/if/flag.npy"
case_ if-x-flag0 "$FIX/if/model.onnx" x "$FIX/if/x.npy" -- --input flag="$FIX/if/flag0.npy"
case_ sr "$FIX/if/sr.onnx" sr "$FIX/if/sr.npy" -- --input x="$FIX/if/sr-x.npy"

# issue 11's stock exports: frozen on their mask, and the frozen model against the wrapper
# that holds the mask as a buffer (diff --fold calls them equal: tests/cli/workflows.sh)
case_ encoder "$FIX/encoder/with_mask.onnx" mask "$FIX/encoder/mask.npy" -- --input x="$FIX/encoder/x.npy"
case_ bert "$FIX/bert/with_mask.onnx" attention_mask "$FIX/bert/attention_mask.npy" -- --input x="$FIX/bert/x.npy"
for w in encoder bert; do
	if [ -z "$have_ort" ]; then skip "$w: onnxruntime, wrapper" "no $ORACLE/node_modules"
	elif node "$ORACLE/ort-compare.js" "$FIX/$w/wrapper.onnx" "$T/$w.onnx" --input x="$FIX/$w/x.npy" >"$T/ort" 2>&1; then
		ok "$w: onnxruntime: the frozen model computes what the wrapper does: $(cat "$T/ort")"
	else not_ok "$w: onnxruntime: the frozen model computes what the wrapper does" "$(cat "$T/ort")"; fi
done
# the merged decoder frozen on each branch (past inputs fed to the original either way)
D="$FIX/decoder"
feeds="--input input_ids=$D/input_ids.npy --input encoder_hidden_states=$D/encoder_hidden_states.npy --input past_key_values.0.key=$D/past_key.npy --input past_key_values.0.value=$D/past_value.npy"
# shellcheck disable=SC2086
case_ decoder-no-cache "$D/decoder_model_merged.onnx" use_cache_branch "$D/use_cache_false.npy" -- $feeds
# shellcheck disable=SC2086
case_ decoder-cache "$D/decoder_model_merged.onnx" use_cache_branch "$D/use_cache_true.npy" -- $feeds

# a half-masked transformer: a mask of ones says little about the folded values
h="{'descr': '<i8', 'fortran_order': False, 'shape': (1, 8), }"
{
	printf '\223NUMPY\001\000\166\000'
	printf '%-117s\n' "$h"
	for v in 1 1 1 1 1 0 0 0; do printf "\\$(printf %03o "$v")\\000\\000\\000\\000\\000\\000\\000"; done
} >"$T/half.npy"
case_ transformer-half "$FIX/transformer/with_mask.onnx" attention_mask "$T/half.npy" -- --input x="$FIX/transformer/x.npy"

# nested Ifs, a name both branches define, a branch output that is a branch initializer
# (built here: the committed fixtures have one plain If)
npy_bool() {
	{
		printf '\223NUMPY\001\000\166\000'
		printf '%-117s\n' "{'descr': '|b1', 'fortran_order': False, 'shape': (), }"
		printf "\\00$1"
	} >"$2"
}
npy_bool 1 "$T/true.npy"
npy_bool 0 "$T/false.npy"
if [ -n "$have_checker" ] && /usr/bin/python3 - "$T/nested-if.onnx" <<'PY' 2>"$T/py"; then
import sys, onnx
from onnx import helper, TensorProto as TP
def c(name, v): return helper.make_node('Constant', [], [name], value=helper.make_tensor('v', TP.FLOAT, [], [v]))
inner_then = helper.make_graph([helper.make_node('Add', ['t', 'c'], ['u'])], 'inner_then', [], [helper.make_tensor_value_info('u', TP.FLOAT, [2])])
inner_else = helper.make_graph([helper.make_node('Identity', ['t'], ['u2'])], 'inner_else', [], [helper.make_tensor_value_info('u2', TP.FLOAT, [2])])
then = helper.make_graph([c('c', 2.0), helper.make_node('Mul', ['x', 'c'], ['t']),
                          helper.make_node('If', ['flag'], ['ti'], then_branch=inner_then, else_branch=inner_else)],
                         'then', [], [helper.make_tensor_value_info('ti', TP.FLOAT, [2])])
els = helper.make_graph([c('c', 3.0), helper.make_node('Add', ['x', 'c'], ['e'])], 'else', [],
                        [helper.make_tensor_value_info('e', TP.FLOAT, [2]), helper.make_tensor_value_info('k', TP.FLOAT, [2])],
                        [helper.make_tensor('k', TP.FLOAT, [2], [5.0, 7.0])])
then.output.append(helper.make_tensor_value_info('t', TP.FLOAT, [2]))
g = helper.make_graph([helper.make_node('If', ['flag'], ['y', 'y2'], then_branch=then, else_branch=els),
                       helper.make_node('Add', ['y', 'y2'], ['z'])], 'g',
                      [helper.make_tensor_value_info('x', TP.FLOAT, [2]), helper.make_tensor_value_info('flag', TP.BOOL, [])],
                      [helper.make_tensor_value_info('z', TP.FLOAT, [2]), helper.make_tensor_value_info('y', TP.FLOAT, [2])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 14)])
m.ir_version = 7
onnx.checker.check_model(m, full_check=True)
onnx.save(m, sys.argv[1])
PY
	case_ nested-if-true "$T/nested-if.onnx" flag "$T/true.npy"
	expect 0 "nested-if-true: both Ifs inlined" -- od check --inputs x --no-op If "$T/nested-if-true.onnx"
	case_ nested-if-false "$T/nested-if.onnx" flag "$T/false.npy"
	expect 0 "nested-if-false: the If inlined" -- od check --inputs x --no-op If "$T/nested-if-false.onnx"
else
	skip "nested If model" "cannot build it: $(tail -1 "$T/py")"
fi

# the interface that CI asserts
expect 0 "seed result: exactly x" -- od check --inputs x "$T/seed.onnx"
expect 0 "hidden result: exactly x" -- od check --inputs x "$T/hidden.onnx"
done_testing
