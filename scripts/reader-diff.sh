#!/bin/sh
# reader-diff.sh [COUNT [SEED]] — the long run of the differential reader test
# (tests/oracle/reader_diff.py): COUNT generated models (default 10000) whose fields are
# given twice, merged, packed and unpacked or need ONNX's typed-field conversions, each read
# by onnxdiff and by python-onnx; prints the count and every disagreement (the failing
# models are kept in reader-diff-failing/), exit 1 on any. make check runs 200 of them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-10000}
seed=${2:-7}
onnxdiff=${ONNXDIFF:-$top/build/onnxdiff}
[ -x "$onnxdiff" ] || { echo "error: no $onnxdiff (run scripts/build.sh)" >&2; exit 2; }
exec nice -n 10 /usr/bin/python3 "$top/tests/oracle/reader_diff.py" "$onnxdiff" --seed "$seed" \
	--count "$count" --keep reader-diff-failing
