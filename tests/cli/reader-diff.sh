#!/bin/sh
# reader-diff.sh — a fast sample (200 models, seed 1) of the differential reader test:
# models with fields given twice, merged messages, packed and unpacked runs and typed fields
# needing ONNX's conversions, each read by onnxdiff and by python-onnx; any disagreement
# fails (tests/oracle/reader_diff.py; scripts/reader-diff.sh runs thousands). 50 models in
# a sanitizer tree.
. "$top_srcdir/tests/cli/lib.sh"
/usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null || skip_all "/usr/bin/python3 lacks onnx or numpy (python3-onnx)"
/usr/bin/python3 "$top_srcdir/tests/oracle/reader_diff.py" "$ONNXDIFF" --seed 1 --count "${READER_DIFF_COUNT:-$((SAMPLE > 1 ? 50 : 200))}" \
	--keep "$T/failing" >"$T/out" 2>&1
rc=$?
case $rc in
0) ok "$(tail -1 "$T/out")" ;;
77) skip_all "$(tail -1 "$T/out")" ;;
*) not_ok "onnxdiff and python-onnx read the generated models alike (exit $rc)" "$(head -20 "$T/out")" ;;
esac
done_testing
