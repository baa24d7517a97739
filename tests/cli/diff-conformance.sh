#!/bin/sh
# diff-conformance.sh — every model of ONNX's backend tests diffed against itself exits 0
# with no output, in text and JSON; its textconv dump works too. (The round trip through
# the writer is checked by test_diff_fixtures's backend_round_trip.)
. "$top_srcdir/tests/cli/lib.sh"
[ -d "$SHARED" ] || skip_all "../shared/onnx-backend-tests not found (only in a developer checkout)"

cd "$SHARED" || exit 2
set -- node/*/model.onnx light/*.onnx pytorch-*/*/model.onnx simple/*/model.onnx
all=$#
# shellcheck disable=SC2046
set -- $(sample "$@")
count=$#
bad=0 badjson=0 badconv=0
njson=0
for f in "$@"; do
	od "$f" "$f" >"$T/out" 2>"$T/err"
	rc=$?
	if [ $rc != 0 ] || [ -s "$T/out" ]; then
		bad=$((bad + 1))
		[ $bad -le 5 ] && note "$f: exit $rc: $(head -c 300 "$T/err") $(head -5 "$T/out")"
	fi
	case $f in node/*) ;; *)   # JSON on the larger models only, to keep the run short
		njson=$((njson + 1))
		if ! od --json "$f" "$f" 2>"$T/err" | grep -q '"same": true'; then
			badjson=$((badjson + 1))
			[ $badjson -le 5 ] && note "$f: --json: $(head -c 300 "$T/err")"
		fi;;
	esac
	if ! od textconv "$f" >/dev/null 2>"$T/err"; then
		badconv=$((badconv + 1))
		[ $badconv -le 5 ] && note "$f: textconv: $(head -c 300 "$T/err")"
	fi
done
if [ $bad = 0 ]; then ok "diff: all $count backend models against themselves: exit 0, no output$(sampled $all)"
else not_ok "diff: $bad of $count models differ from themselves"; fi
if [ $badjson = 0 ]; then ok "diff --json: all $njson light/pytorch/simple models say \"same\": true"
else not_ok "diff --json: $badjson of $njson models"; fi
if [ $badconv = 0 ]; then ok "textconv: all $count backend models dump$(sampled $all)"
else not_ok "textconv: $badconv of $count models failed"; fi
echo "# covered $count models"
done_testing
