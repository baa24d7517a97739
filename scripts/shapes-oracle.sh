#!/bin/sh
# shapes-oracle.sh [ONNXDIFF] — the full run of tests/oracle/shapes.py: every model of
# ../shared/onnx-backend-tests and the fixtures against onnx.shape_inference (python3-onnx
# 1.12) and the node tests' expected outputs. make check runs a sample (tests/cli/shapes.sh).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
od=${1:-$top/build/onnxdiff}
shared="$top/../shared/onnx-backend-tests"
[ -d "$shared" ] || { echo "$shared absent: nothing to check" >&2; exit 77; }
# fixtures/bad holds models that must not load
exec /usr/bin/python3 "$top/tests/oracle/shapes.py" "$od" "$shared" $(ls -d "$top"/fixtures/*/ | grep -v /bad/)
