#!/bin/sh
# tui-headless.sh — `onnxdiff tui --script KEYS --dump SCREEN` on the seed pair: the screens
# after each step match the golden dumps in tests/cli/tui/, the written model passes
# `onnxdiff check --inputs x`, and the command printed on quit reproduces it.
# ONNXDIFF_REGEN=1 rewrites the golden dumps (then review them with git diff).
. "$top_srcdir/tests/cli/lib.sh"
G="$top_srcdir/tests/cli/tui"

cp "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx" "$FIX/seed/mask.npy" "$T/"
cd "$T" || exit 99
unset NO_COLOR
export LC_ALL=C.UTF-8 TERM=xterm-256color

# session NAME [ENV...]: runs tests/cli/tui/NAME.keys on the seed pair; the screens go to
# $T/NAME.screen and are compared with the golden one
session() {
	name=$1
	shift
	expect 0 "tui session '$name' runs" -- env "$@" "$ONNXDIFF" tui --script "$G/$name.keys" \
		--dump "$T/$name.screen" with_mask.onnx wrapper.onnx
	cp "$T/out" "$T/$name.stdout"
	if [ "${ONNXDIFF_REGEN:-}" = 1 ]; then cp "$T/$name.screen" "$G/$name.screen"; fi
	same "$T/$name.screen" "screens of '$name' match tests/cli/tui/$name.screen" "$G/$name.screen"
}

# ---- freeze mask, see it match B, write ---------------------------------------------------
session seed
grep_ok "$T/seed.screen" '^ inputs: x, as in B  ·  ✓ graph: equal to B' "the status line reports that the inputs and the graph match B"
grep_ok "$T/seed.screen" "^wrote 'with_mask.frozen.onnx'" "the write is reported"
echo 'onnxdiff freeze with_mask.onnx -o with_mask.frozen.onnx --set mask=@mask.npy --expect-inputs x' >"$T/want"
same "$T/seed.stdout" "quit prints the equivalent command" "$T/want"
expect 0 "the written model has exactly the input x" -- od check --inputs x with_mask.frozen.onnx
expect 0 "and compares equal to B (renames only)" -- od diff with_mask.frozen.onnx wrapper.onnx
mv with_mask.frozen.onnx tui.onnx
expect 0 "the printed command runs" -- sh -c "$(sed "s|^onnxdiff |'$ONNXDIFF' |" "$T/seed.stdout")"
if cmp -s tui.onnx with_mask.frozen.onnx; then ok "and writes the same bytes as the session"
else not_ok "and writes the same bytes as the session"; fi
cmp -s with_mask.onnx "$FIX/seed/with_mask.onnx" && ok "the input is untouched" || not_ok "the input is untouched"

# ---- errors, undo, resize, search ---------------------------------------------------------
session errors
grep_ok "$T/errors.screen" "^nothing to undo" "a second undo says there is nothing to undo"
grep_ok "$T/errors.screen" "^froze mask: " "a good value after a bad one freezes"
[ -s "$T/errors.stdout" ] && not_ok "nothing printed when nothing is frozen" "$(cat "$T/errors.stdout")" \
	|| ok "nothing printed when nothing is frozen"

# ---- the other side, sideways scrolling -----------------------------------------------------
session scroll
awk '/^=== dump 1 ===/{d=1;next} /^=== dump/{d=0} d' "$T/scroll.screen" >"$T/d1"
awk '/^=== dump 2 ===/{d=1;next} /^=== dump/{d=0} d' "$T/scroll.screen" >"$T/d2"
awk '/^=== dump 3 ===/{d=1;next} /^=== dump/{d=0} d' "$T/scroll.screen" >"$T/d3"
grep_ok "$T/d1" '\|>@@ graph @@' "o jumps to the diff pane (its first row selected)"
grep_ok "$T/d1" 'linear\.weight: f…$' "a row cut at the pane's edge ends in …"
grep_ok "$T/d2" '\| …near\.weight -> m\.linear\.weight: float\[4,4\]$' "l scrolls the diff sideways: a row starts with …"
grep_ok "$T/d2" '^ Inputs 2 .*\| Diff vs B' "and the left panes stay as they were"
grep_ok "$T/d3" '^>x +float\[batch,4\] +\| @@ graph @@$' "h scrolls back and o returns to the left pane"

# ---- the title: long paths keep their tails (the file names), at any width ------------------
mkdir -p "$T/a-rather-long-folder-name/and-another-one"
cp with_mask.onnx wrapper.onnx "$T/a-rather-long-folder-name/and-another-one/"
printf ':dump\nq\n' >"$T/title.keys"
for size in 80x24 100x20; do
	"$ONNXDIFF" tui --script "$T/title.keys" --dump "$T/title.screen" --size $size \
		"$T/a-rather-long-folder-name/and-another-one/with_mask.onnx" "$T/a-rather-long-folder-name/and-another-one/wrapper.onnx"
	grep_ok "$T/title.screen" '^ onnxdiff tui  A: \.\.\.[^ ]*h_mask\.onnx  B: \.\.\.[^ ]*wrapper\.onnx ' "title at $size: both paths cut from the left, the file names kept"
done

# ---- confirmations -------------------------------------------------------------------------
session confirm
cmp -s with_mask.onnx "$FIX/seed/with_mask.onnx" && ok "declining the overwrite leaves the input alone" \
	|| not_ok "declining the overwrite leaves the input alone"
grep_ok "$T/confirm.stdout" '^onnxdiff freeze with_mask.onnx ' "quitting anyway still prints the command"

# ---- v verifies the freeze by running both models -------------------------------------------
printf 'jf@mask.npy<Enter>v\n:dump\nq\ny\n' >"$T/verify.keys"
expect 0 "a session that verifies" -- "$ONNXDIFF" tui --script "$T/verify.keys" --dump "$T/verify.screen" with_mask.onnx wrapper.onnx
grep_ok "$T/verify.screen" "^verify: A fed the values: same \(max abs 0\); B: same \(max abs 0\)" "v runs the freeze against A fed the value and against B"
printf 'v\n:dump\nq\n' >"$T/verify0.keys"
expect 0 "verify before a freeze" -- "$ONNXDIFF" tui --script "$T/verify0.keys" --dump "$T/verify0.screen" --size 160x30 with_mask.onnx wrapper.onnx
grep_ok "$T/verify0.screen" "^verify: A: same \(max abs 0\); B: differs, first divergence: Mul '/Mul' <-> '/m/Mul': max abs" "unfrozen, it differs from B at the Mul that reads the mask"

# ---- monochrome and ASCII -------------------------------------------------------------------
expect 0 "NO_COLOR and a C locale run" -- env LC_ALL=C NO_COLOR=1 "$ONNXDIFF" tui \
	--script "$G/seed.keys" --dump "$T/ascii.screen" with_mask.onnx wrapper.onnx
grep_ok "$T/ascii.screen" '^ inputs: x, as in B \| graph: equal to B' "ASCII status line without a check mark"
if LC_ALL=C grep -q "$(printf '[\200-\377]')" "$T/ascii.screen"; then not_ok "ASCII-only screens"; else ok "ASCII-only screens"; fi

# ---- bad use -----------------------------------------------------------------------------------
expect 2 "a missing model is trouble" -- "$ONNXDIFF" tui --script "$G/seed.keys" nope.onnx
grep_ok "$T/err" "^error: cannot open 'nope.onnx'" "and says which file"
printf 'j<Bogus>\n' >"$T/bad.keys"
expect 2 "an unknown key name in a script is trouble" -- "$ONNXDIFF" tui --script "$T/bad.keys" with_mask.onnx
grep_ok "$T/err" "script line 1: unknown key name" "and says where"
expect 2 "without a terminal or a script tui refuses" -- setsid -w sh -c "'$ONNXDIFF' tui with_mask.onnx </dev/null"
grep_ok "$T/err" "tui needs a terminal" "and says why"

done_testing
