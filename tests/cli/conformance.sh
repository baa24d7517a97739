#!/bin/sh
# conformance.sh — every model of ONNX's backend tests loads, shows (text and JSON, with
# inferred shapes), round-trips (load -> save -> load serialises the same), diffs against
# itself as the same (no text, "same": true in JSON) and dumps for textconv.
# All of them through the library in one process (tests/backend); a sample of them through
# the command line, five runs each (show, show --json, diff, diff --json, textconv): a
# process start costs more than most of these models, and the command line is one thin
# layer over the same calls.
. "$top_srcdir/tests/cli/lib.sh"
[ -d "$SHARED" ] || skip_all "../shared/onnx-backend-tests not found (only in a developer checkout)"

cd "$SHARED" || exit 2
set -- node/*/model.onnx light/*.onnx pytorch-*/*/model.onnx simple/*/model.onnx
all=$#
"$top_builddir/tests/backend" "$T" "$@" >"$T/lib" 2>&1
rc=$?
for check in load show "round trip" diff textconv; do
	line=$(grep "^$check: " "$T/lib")
	case $line in
	*" 0 failed"*) ok "library, all $all backend models: $line" ;;
	*) not_ok "library, all $all backend models: ${line:-$check: no summary (exit $rc)}" \
		"$(grep "^not ok [^:]*: $check" "$T/lib" | head -5)" "$(tail -3 "$T/lib")" ;;
	esac
done

# the command line: 1 in 16 (1 in 64 in a sanitizer tree), spread over the whole list
every=16
[ "$SAMPLE" = 1 ] || every=64
i=0 count=0 bad=0
for f in "$@"; do
	i=$((i + 1))
	[ $((i % every)) = 1 ] || continue
	count=$((count + 1))
	# each check: the command, what its output must hold (grep -E), or "" for no output
	why=
	while IFS='|' read -r what want; do
		[ -z "$why" ] || break
		# shellcheck disable=SC2086 # $what is a word list
		od $what >"$T/out" 2>"$T/err"
		rc=$?
		if [ -z "$want" ]; then [ $rc = 0 ] && ! [ -s "$T/out" ] || why="$what: exit $rc, $(head -3 "$T/out")"
		else [ $rc = 0 ] && grep -Eq "$want" "$T/out" || why="$what: exit $rc, no '$want'"; fi
	done <<-EOC
	show $f|^inputs
	show --json --values $f|"values"
	$f $f|
	--json $f $f|"same": true
	textconv $f|.
	EOC
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		[ $bad -le 5 ] && note "$f: $why: $(head -c 300 "$T/err")"
	fi
done
if [ $bad = 0 ]; then ok "command line, 1 in $every of $all: $count models show, show --json --values, diff (text and JSON) and textconv as they should"
else not_ok "command line: $bad of $count models failed"; fi
done_testing
