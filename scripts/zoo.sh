#!/bin/sh
# zoo.sh [NAME...] — onnxdiff on models it has no fixture for (a long campaign: make check
# does not run it). Exports the zoo of scripts/zoo/export.py (torchvision classifiers,
# video, segmentation and detection nets, torch.nn transformers, RNNs and an audio net;
# random weights) into ~/.cache/onnxdiff-zoo, then for each model:
#   - onnxruntime agrees with `onnxdiff run` (tests/oracle/run-oracle.js, rtol 1e-3,
#     atol 1e-4: deep nets with random weights reach large values);
#   - `onnxdiff A B` and `onnxdiff verify A B` find nothing between the model and a copy
#     python-onnx loaded and saved again;
# and onnx.shape_inference agrees with `onnxdiff show --values` (tests/oracle/shapes.py).
# Needs /usr/bin/python3 with torch and torchvision, and the onnxruntime oracle
# (cd tests/oracle && npm ci --ignore-scripts). Exit 0 when every check passes.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
od=${ONNXDIFF:-$top/build/onnxdiff}
dir=${ONNXDIFF_ZOO:-${XDG_CACHE_HOME:-$HOME/.cache}/onnxdiff-zoo}
PY=/usr/bin/python3
[ -x "$od" ] || { echo "zoo: $od not built (scripts/build.sh)" >&2; exit 2; }
$PY -c 'import torch, torchvision' 2>/dev/null ||
	{ echo "zoo: $PY lacks torch or torchvision (apt-get install python3-torch python3-torchvision)" >&2; exit 2; }
[ -d "$top/tests/oracle/node_modules/onnxruntime-node" ] ||
	{ echo "zoo: no onnxruntime oracle (cd tests/oracle && npm ci --ignore-scripts)" >&2; exit 2; }
mkdir -p "$dir" || exit 2
names=${*:-$($PY -c 'import sys; sys.path.insert(0, sys.argv[1]); import export; print(" ".join(export.ZOO))' "$top/scripts/zoo" 2>/dev/null)}
bad=0
missing=
for n in $names; do [ -f "$dir/$n.onnx" ] || missing="$missing $n"; done
if [ -n "$missing" ]; then
	echo "zoo: exporting$missing into $dir"
	$PY "$top/scripts/zoo/export.py" "$dir" $missing 2>/dev/null | grep -v '^exported' || true
fi
for n in $names; do
	m=$dir/$n.onnx
	[ -f "$m" ] || { echo "$n: not exported"; bad=1; continue; }
	line=$(cd "$top/tests/oracle" && node run-oracle.js "$od" "$m" --rtol 1e-3 --atol 1e-4 --dim b=2 --dim t=6 2>&1 | tail -n 1)
	case $line in *" agree"*) ;; *) bad=1 ;; esac
	$PY -c 'import onnx, sys; onnx.save(onnx.load(sys.argv[1]), sys.argv[2])' "$m" "$dir/$n.resaved" &&
		mv "$dir/$n.resaved" "$dir/$n-resaved.onnx"
	"$od" "$m" "$dir/$n-resaved.onnx" >/dev/null 2>&1; d=$?
	"$od" verify "$m" "$dir/$n-resaved.onnx" >/dev/null 2>&1; v=$?
	[ $d = 0 ] && [ $v = 0 ] || bad=1
	echo "$line; diff against python-onnx's copy: exit $d, verify: exit $v"
done
rm -f "$dir"/*-resaved.onnx
$PY "$top/tests/oracle/shapes.py" "$od" "$dir" >"$dir/shapes.log" 2>&1 || bad=1
tail -n 1 "$dir/shapes.log" | sed 's/^/shapes: /'
exit $bad
