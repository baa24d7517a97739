#!/bin/sh
# write.sh — what writing and hostile names must never do: a scalar filling a huge declared
# shape (freeze and the TUI), names and arguments reaching the terminal raw (C0 and C1
# controls), the TUI blocking on a fifo, the quit line of a session on a hostile name.
. "$top_srcdir/tests/cli/lib.sh"
BAD="$top_srcdir/tests/bad"
cd "$T" || exit 99
export LC_ALL=C.UTF-8

# one_line DESC PATTERN: $T/err is exactly one line matching PATTERN
one_line() {
	if [ "$(wc -l <"$T/err")" = 1 ] && grep -qE -- "$2" "$T/err"; then ok "$1: $(cat -v "$T/err")"
	else not_ok "$1" "wanted one line matching /$2/, got:" "$(cat -v "$T/err")"; fi
}
# nothing_left DESC: the scratch folder $T/o is empty
nothing_left() {
	if [ -z "$(ls -A "$T/o")" ]; then ok "$1"; else not_ok "$1" "left: $(ls -A "$T/o")"; fi
}
mkdir o

# ---- a scalar fills a declared shape only within the growth and element limits -----------
expect 2 "x=1 for float[268435456] (1 GiB) is refused" -- od freeze "$BAD/ok-fill-1g.onnx" -o o/f.onnx --set x=1
one_line "the growth limit is named" "^error: value for 'x': filling float\[268435456\] takes 1073741824 bytes, more than the growth limit of 1048576 \(--max-growth\)$"
nothing_left "nothing written"
expect 2 "x=1 for float[65536,65536] (16 GiB) is refused even with --max-growth none" -- \
	od freeze "$BAD/ok-fill-16g.onnx" -o o/f.onnx --set x=1 --max-growth none
one_line "the element cap is named" "^error: value for 'x': filling float\[65536,65536\] is more than 268435456 elements$"
nothing_left "nothing written"
printf 'f1<Enter>\n:dump\nqy\n' >fill.keys
expect 0 "the TUI's freeze prompt: x=1 for float[65536,65536]" -- od tui --script fill.keys --dump fill.screen "$BAD/ok-fill-16g.onnx"
grep_ok fill.screen "value for 'x': filling float\[65536,65536\] is more than 268435456 elements" "the TUI shows the limit in its message line"

# ---- control characters from the command line are escaped (C0, DEL, C1) -----------------
expect 2 "a model name with a newline and ESC" -- od freeze "$(printf 'a\nb\033[2Jc')" -o o/x.onnx --set a=1
one_line "the error stays one line, escaped" "^error: cannot open 'a\\\\nb\\\\x1b\[2Jc': No such file or directory$"
expect 2 "C1 controls: U+009B as UTF-8 and 0x9b as a raw byte" -- od show "$(printf 'u\302\233v\233w\303\251')"
one_line "both are escaped, valid UTF-8 stays" "^error: cannot open 'u\\\\u009bv\\\\x9bwé': "
expect 2 "--set without '=': the argument is escaped" -- od freeze "$FIX/seed/with_mask.onnx" -o o/x.onnx --set "$(printf 'm\033]0;X\007')"
one_line "in the one error line" "^error: --set wants NAME=VALUE, got 'm\\\\x1b\]0;X\\\\x07'$"
cp "$FIX/seed/with_mask.onnx" in.onnx
expect 0 "freeze -o a hostile name" -- od freeze in.onnx -o "$(printf 'o/\033[2Jz.onnx')" --set mask=1
grep_ok "$T/out" '^written: o/\\x1b\[2Jz\.onnx$' "the summary escapes the name"
rm -f o/*

# ---- the TUI never blocks on a fifo ------------------------------------------------------
if mkfifo fifo 2>/dev/null; then
	command -v timeout >/dev/null 2>&1 && tmo="timeout -k 2 10" || tmo=
	printf 'q\n' >q.keys
	expect 2 "onnxdiff tui FIFO does not block" -- $tmo "$ONNXDIFF" tui --script q.keys --dump q.screen fifo
	one_line "it says why" "^error: cannot read 'fifo': not a regular, non-empty file$"
else ok "# SKIP mkfifo unavailable"; fi

# ---- the TUI's quit line on a hostile name ------------------------------------------------
name=$(printf 'm\033[2J\033]0;PWNED\007\302\233.onnx')
cp "$FIX/seed/with_mask.onnx" "$name"
printf 'jf1<Enter>\nqy\n' >quit.keys
expect 0 "a session on a name with escape sequences" -- od tui --script quit.keys --dump quit.screen "$name"
if LC_ALL=C grep -q "$(printf '[\001-\037\177\200-\237]')" "$T/out"; then not_ok "the quit line holds no control character" "$(cat -v "$T/out")"
else ok "the quit line holds no control character"; fi
if command -v bash >/dev/null 2>&1; then
	expect 0 "the quit line, run by bash, freezes the same file" -- bash -c "$(sed "s|^onnxdiff |'$ONNXDIFF' |" "$T/out")"
	[ -s "$(printf 'm\033[2J\033]0;PWNED\007\302\233.frozen.onnx')" ] && ok "and writes the proposed name" || not_ok "and writes the proposed name"
fi

done_testing
