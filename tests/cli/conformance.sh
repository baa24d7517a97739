#!/bin/sh
# conformance.sh — every model of ONNX's backend tests loads, shows (text and JSON) with
# exit 0, and round-trips (load -> save -> load serialises the same).
. "$top_srcdir/tests/cli/lib.sh"
[ -d "$SHARED" ] || skip_all "../shared/onnx-backend-tests not found (only in a developer checkout)"

cd "$SHARED"
set -- node/*/model.onnx pytorch-*/*/model.onnx simple/*/model.onnx light/*.onnx
all=$#
# shellcheck disable=SC2046
set -- $(sample "$@")
count=$#
bad=0
for f in "$@"; do
	if ! od show "$f" >/dev/null 2>"$T/err" || ! od show --json "$f" >/dev/null 2>>"$T/err"; then
		bad=$((bad + 1)); [ $bad -le 5 ] && cat "$T/err"
	fi
done
if [ $bad = 0 ]; then ok "show: all $count backend models load and show$(sampled $all)"; else not_ok "show: $bad of $count models failed"; fi
"$top_builddir/tests/roundtrip" "$T" "$@" >"$T/rt" 2>&1
if [ $? = 0 ]; then ok "round trip: $(tail -1 "$T/rt")"; else not_ok "round trip" "$(grep -m5 'not ok' "$T/rt")" "$(tail -1 "$T/rt")"; fi
done_testing
