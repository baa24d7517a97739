#!/bin/sh
# tui.sh — `onnxdiff tui` in a real terminal: tmux runs it in an 80x24 window, send-keys
# types, capture-pane reads the screen. Opens the seed pair, freezes mask, sees the status
# line report that the inputs match B, writes the model (which then passes
# `onnxdiff check --inputs x`), redraws on resize, leaves the terminal clean on quit and on
# Ctrl-C. Skipped when tmux is missing (scripts/setup.sh installs it).
. "$top_srcdir/tests/cli/lib.sh"
G="$top_srcdir/tests/cli/tui"
command -v tmux >/dev/null 2>&1 || skip_all "tmux is not installed (scripts/setup.sh installs it)"

cp "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx" "$FIX/seed/mask.npy" "$T/"
cd "$T" || exit 99
SOCK="$T/tmux.sock"
tm() { tmux -S "$SOCK" -f /dev/null "$@"; }
trap 'tm kill-server >/dev/null 2>&1; rm -rf "$T"' EXIT
unset NO_COLOR TMUX

# start NAME: a detached 80x24 session running the TUI on the seed pair; its exit status
# goes to NAME.status, its stdout to NAME.stdout (the shell outlives a Ctrl-C to tell it)
start() {
	tm new-session -d -x 80 -y 24 -s "$1" -c "$T" \
		"trap : INT; LC_ALL=C.UTF-8 '$ONNXDIFF' tui with_mask.onnx wrapper.onnx >$1.stdout 2>$1.stderr; echo \$? >$1.status; sleep 600"
}

# screen NAME: the window as text, line-drawing normalised, trailing blanks cut
screen() {
	tm capture-pane -p -t "$1" | sed -e 's/│/|/g' -e 's/ *$//'
}

# wait_for NAME PATTERN: up to 10 s for PATTERN (grep -E) on the screen
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		screen "$1" >"$T/screen"
		grep -qE -- "$2" "$T/screen" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_file FILE: up to 10 s for FILE to appear
wait_file() {
	i=0
	while [ $i -lt 100 ] && [ ! -s "$1" ]; do sleep 0.1; i=$((i + 1)); done
	[ -s "$1" ]
}

# check DESCRIPTION NAME PATTERN
check() {
	if wait_for "$2" "$3"; then ok "$1"; else not_ok "$1" "no /$3/ on the screen:" "$(cat "$T/screen")"; fi
}

start s
check "the TUI opens the seed pair in 80x24" s '^ Inputs 2 '
tm send-keys -t s j f
check "f prompts with the declared dtype and shape" s '^freeze mask \(float\[1,4\]\) =$'
tm send-keys -t s -l '@mask.npy'
tm send-keys -t s Enter
check "after freezing mask the status line reports that the inputs and the graph match B" s '^ inputs: x, as in B  ·  ✓ graph: equal to B$'
screen s >"$T/frozen.screen"
if [ "${ONNXDIFF_REGEN:-}" = 1 ]; then cp "$T/frozen.screen" "$G/tmux-frozen.screen"; fi
same "$T/frozen.screen" "the screen after freezing matches tests/cli/tui/tmux-frozen.screen" "$G/tmux-frozen.screen"

tm resize-window -t s -x 100 -y 30
check "a resize redraws at the new size" s '^ onnxdiff tui .{60,} \? help  q quit$'
[ "$(screen s | wc -l)" = 30 ] && grep -q '^ inputs: x, as in B  ·  ✓ graph: equal to B' "$T/screen" && ok "with every line in place" \
	|| not_ok "with every line in place" "$(cat "$T/screen")"
tm resize-window -t s -x 80 -y 24

tm send-keys -t s w
check "w proposes a path" s '^write to: with_mask\.frozen\.onnx$'
tm send-keys -t s Enter
check "the model is written" s "^wrote 'with_mask\.frozen\.onnx'$"
tm send-keys -t s q
if wait_file "$T/s.status"; then ok "q quits"; else not_ok "q quits" "$(cat "$T/screen")"; fi
[ "$(cat "$T/s.status")" = 0 ] && ok "with status 0" || not_ok "with status 0" "$(cat "$T/s.status" "$T/s.stderr")"
echo 'onnxdiff freeze with_mask.onnx -o with_mask.frozen.onnx --set mask=@mask.npy --expect-inputs x' >"$T/want"
same "$T/s.stdout" "and prints the equivalent command" "$T/want"
[ "$(tm display-message -p -t s '#{alternate_on}')" = 0 ] && ok "the terminal is back on its normal screen" \
	|| not_ok "the terminal is back on its normal screen"
[ "$(tm display-message -p -t s '#{cursor_flag}')" = 1 ] && ok "with the cursor visible" \
	|| not_ok "with the cursor visible"
expect 0 "the written model passes 'onnxdiff check --inputs x'" -- od check --inputs x with_mask.frozen.onnx

# Ctrl-C: the terminal is restored too
start c
check "a second session starts" c '^ Inputs 2 '
tm send-keys -t c C-c
if wait_file "$T/c.status" && [ "$(cat "$T/c.status")" = 130 ]; then ok "Ctrl-C ends it (status 130)"
else not_ok "Ctrl-C ends it (status 130)" "status: $(cat "$T/c.status" 2>&1)"; fi
[ "$(tm display-message -p -t c '#{alternate_on}')" = 0 ] && ok "and leaves the terminal clean" \
	|| not_ok "and leaves the terminal clean" "$(screen c)"

done_testing
