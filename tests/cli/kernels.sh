#!/bin/sh
# kernels.sh — every eval kernel against ONNX's backend node tests (tests/kernels.c): each
# node test whose ops the kernel table claims must give the reference outputs.
. "$top_srcdir/tests/cli/lib.sh"
[ -d "$SHARED/node" ] || skip_all "../shared/onnx-backend-tests not found (only in a developer checkout)"

"$top_builddir/tests/kernels" "$SHARED/node" >"$T/out" 2>&1
st=$?
sed 's/^/# /' "$T/out"
if [ $st = 0 ]; then ok "$(tail -1 "$T/out")"; else not_ok "exit $st: $(tail -1 "$T/out")" "$(grep -m20 '^FAIL' "$T/out")"; fi
done_testing
