#!/bin/sh
# write.sh — what writing and hostile names must never do: a scalar filling a huge declared
# shape (freeze and the TUI), names and arguments reaching the terminal raw (C0 and C1
# controls), the TUI blocking on a fifo, the quit line of a session on a hostile name;
# `freeze -o` harming a file that is not the output (the input's side files, a folder, a
# fifo, a device), concurrent writers mixing a model with another's side file, signals and
# `ulimit -f` leaving temporary files, a replaced OUT's mode, long names; external data read
# outside the model's folder while a folder is swapped for a symlink.
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
# the stress loops run the program itself (lib.sh resolved libtool's wrapper), not under
# ONNXDIFF_WRAP: their timing is the test
FAST=$ONNXDIFF

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

# ---- freeze -o harms no file but the output --------------------------------------------------
rm -rf o && mkdir o
# in.onnx keeps its weights in out.onn.data: the legacy side file name of OUT 'out.onn'
cp "$BAD/ok-ext.onnx" o/in.onnx
perl -0777 -pi -e 's/ext-data\.bin/out.onn.data/g' o/in.onnx
cp "$BAD/ext-data.bin" o/out.onn.data
cp o/out.onn.data side.orig
expect 0 "the input reads out.onn.data" -- od show o/in.onnx
cp o/in.onnx o/out.onn      # an earlier OUT that used out.onn.data as well
expect 0 "freeze -o out.onn --external-data where the input reads out.onn.data" -- \
	od freeze o/in.onnx -o o/out.onn --set x=1 --no-fold --external-data
cmp -s o/out.onn.data side.orig && ok "the input's side file is untouched" || not_ok "the input's side file is untouched"
expect 0 "the input still loads" -- od show o/in.onnx
expect 0 "the output loads" -- od show o/out.onn
set -- o/out.onn.*.data
[ $# = 1 ] && [ -f "$1" ] && ok "the output's side file is named after its content: $1" || not_ok "one side file named after its content" "$*"
expect 2 "-o the input's side file is refused" -- od freeze o/in.onnx -o o/out.onn.data --set x=1 --force
one_line "it says so" "^error: output 'o/out.onn.data' is external data of the input model$"
cmp -s o/out.onn.data side.orig && ok "and the side file is untouched" || not_ok "and the side file is untouched"
expect 2 "-o the input model without --force is refused" -- od freeze o/in.onnx -o o/in.onnx --set x=1
cp o/in.onnx o/in2.onnx
expect 0 "--force over the input model" -- od freeze o/in2.onnx -o o/in2.onnx --set x=1 --no-fold --force
expect 0 "the input's side file survives (another model reads it)" -- od show o/in.onnx

# only a regular file or a new name is written
rm -rf o && mkdir o o/d
expect 2 "-o a folder" -- od freeze "$FIX/seed/with_mask.onnx" -o o/d --set mask=1 --external-data
one_line "is refused" "^error: cannot write 'o/d': Is a directory$"
[ "$(ls -A o)" = d ] && [ -z "$(ls -A o/d)" ] && ok "nothing written (no o/d.data either)" || not_ok "nothing written" "$(ls -A o o/d)"
if mkfifo o/fifo 2>/dev/null; then
	expect 2 "-o a fifo" -- od freeze "$FIX/seed/with_mask.onnx" -o o/fifo --set mask=1
	one_line "is refused" "^error: cannot write 'o/fifo': not a regular file$"
	[ -p o/fifo ] && ok "the fifo stays a fifo" || not_ok "the fifo stays a fifo"
fi
if perl -MIO::Socket::UNIX -e 'IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $ARGV[0], Listen => 1) or exit 1' o/sock 2>/dev/null && [ -S o/sock ]; then
	expect 2 "-o a socket" -- od freeze "$FIX/seed/with_mask.onnx" -o o/sock --set mask=1
	one_line "is refused" "^error: cannot write 'o/sock': not a regular file$"
fi
if mknod o/null c 1 3 2>/dev/null; then
	expect 2 "-o a character device" -- od freeze "$FIX/seed/with_mask.onnx" -o o/null --set mask=1
	one_line "is refused" "^error: cannot write 'o/null': not a regular file$"
	[ -c o/null ] && ok "the device stays a device" || not_ok "the device stays a device"
fi

# an existing OUT keeps its mode; a name of NAME_MAX bytes works
rm -rf o && mkdir o
: >o/m.onnx && chmod 600 o/m.onnx
expect 0 "freeze over a 0600 file" -- od freeze "$FIX/seed/with_mask.onnx" -o o/m.onnx --set mask=1
[ "$(stat -c %a o/m.onnx)" = 600 ] && ok "it stays 0600" || not_ok "it stays 0600" "$(stat -c %a o/m.onnx)"
long=$(printf '%0250d' 0).onnx
expect 0 "an OUT name of 255 bytes" -- od freeze "$FIX/seed/with_mask.onnx" -o "o/$long" --set mask=1 --external-data --max-growth none
expect 0 "it loads" -- od show "o/$long"
rm -rf o && mkdir o
expect 0 "an OUT name of 255 bytes with a side file" -- od freeze "$BAD/ok-two-inputs.onnx" -o "o/$long" --set x=1 --set s=1 --no-fold --external-data
expect 0 "it loads" -- od show "o/$long"
[ "$(ls o | wc -l)" = 2 ] && ok "two files: the model and its side file" || not_ok "two files" "$(ls o)"

# ---- interrupted and limited writes leave nothing -----------------------------------------
rm -rf o && mkdir o
( ulimit -f 1; exec "$ONNXDIFF" freeze "$BAD/ok-two-inputs.onnx" -o o/big.onnx --set x=1 --set s=1 --no-fold ) >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 2 ] && ok "past ulimit -f: exit 2" || not_ok "past ulimit -f: exit 2" "exit $rc"
one_line "one line" "^error: cannot write 'o/big\.onnx': File too large$"
nothing_left "nothing left"
if [ -w /dev/full ]; then
	expect 2 "a full stdout after OUT is written" -- sh -c "exec '$ONNXDIFF' freeze '$FIX/seed/with_mask.onnx' -o o/s.onnx --set mask=1 >/dev/full"
	one_line "says OUT is written" "^error: 'o/s\.onnx' is written, but its summary is not: No space left on device$"
	[ -s o/s.onnx ] && ok "and it is" || not_ok "and it is"
	rm -f o/s.onnx
fi
# signals at random points of a 64 MiB write: no temporary file, OUT whole or absent. A
# named temporary file (no O_TMPFILE) can be removed on SIGINT and SIGTERM, not on SIGKILL.
for mode in tmpfile named; do
	sigs="INT TERM KILL"
	[ $mode = named ] && export ONNXDIFF_FAULT_NO_TMPFILE=1 && sigs="INT TERM"
	for i in 1 2; do
		for sig in $sigs; do
			"$FAST" freeze "$BAD/ok-fill-64m.onnx" -o o/sig.onnx --set x=1 --max-growth none -q 2>/dev/null &
			pid=$!
			sleep "0.$(( (i * 7 + ${#sig}) % 10 ))"
			kill -s $sig $pid 2>/dev/null
			wait $pid 2>/dev/null
		done
	done
	unset ONNXDIFF_FAULT_NO_TMPFILE
	left=$(ls -A o | grep -v '^sig\.onnx$')
	[ -z "$left" ] && ok "SIG$(echo $sigs | sed 's| |/SIG|g') while writing ($mode temporary files): nothing left" ||
		not_ok "signals while writing ($mode): nothing left" "$left"
	if [ -e o/sig.onnx ]; then
		[ "$(wc -c <o/sig.onnx)" -gt 67108864 ] && ok "OUT is whole ($mode)" || not_ok "OUT is whole ($mode)"
	else ok "# SKIP no OUT was completed ($mode)"; fi
	rm -rf o && mkdir o
done

# ---- two writers of the same OUT never mix a model with the other's side file ----------------
W2="$BAD/ok-two-inputs.onnx"
od freeze "$W2" -o ref1.onnx --set x=1 --set s=1 --no-fold --external-data -q &&
od freeze "$W2" -o ref2.onnx --set x=2 --set s=2 --no-fold --external-data -q
inits() { "$FAST" show "$1" | sed -n '/^initializers/,/^operators/p'; }
inits ref1.onnx >ref1.txt; inits ref2.onnx >ref2.txt
mixed=0 broken=0 rounds=0
end=$(( $(date +%s) + 3 ))
while [ $rounds -lt 40 ] && [ "$(date +%s)" -lt $end ]; do
	"$FAST" freeze "$W2" -o o/c.onnx --set x=1 --set s=1 --no-fold --external-data -q &
	p1=$!
	"$FAST" freeze "$W2" -o o/c.onnx --set x=2 --set s=2 --no-fold --external-data -q
	wait $p1
	if inits o/c.onnx >c.txt 2>/dev/null; then
		cmp -s c.txt ref1.txt || cmp -s c.txt ref2.txt || mixed=$((mixed + 1))
	else broken=$((broken + 1)); fi
	rounds=$((rounds + 1))
done
[ $mixed = 0 ] && [ $broken = 0 ] && ok "$rounds rounds of two concurrent writers: every OUT is one writer's, whole" ||
	not_ok "concurrent writers" "$mixed of $rounds mixed, $broken did not load"
[ "$(ls -A o | wc -l)" = 2 ] && ok "one model and one side file left" || not_ok "one model and one side file left" "$(ls -A o)"

# ---- external data is read beneath the model's folder, also while folders move ---------------
# the location is 'lnk/data.bin' (as long as 'ext-data.bin'); lnk is a symlink to a folder
rm -rf o && mkdir -p o/m/real o/outside/real
cp "$BAD/ok-ext.onnx" o/m/model.onnx
perl -0777 -pi -e 's/ext-data\.bin/lnk\/data.bin/g' o/m/model.onnx
cp o/m/model.onnx o/outside/model.onnx
cp "$BAD/ext-data.bin" o/m/real/data.bin
perl -e 'print pack("f<*", map { 1000 + $_ } 0..15)' >o/outside/real/data.bin
ln -s real o/outside/lnk
ln -s real o/m/lnk          # a symlink inside the folder: followed
expect 0 "a symlink inside the folder is followed" -- od show o/m/model.onnx
hash_in=$(od show o/m/model.onnx | awk '$1 == "w" {print $5}')
hash_out=$(od show o/outside/model.onnx | awk '$1 == "w" {print $5}')
[ -n "$hash_in" ] && [ -n "$hash_out" ] && [ "$hash_in" != "$hash_out" ] && ok "inside and outside data differ" ||
	not_ok "inside and outside data differ" "'$hash_in' '$hash_out'"
ln -s ../outside/real o/m/out-link
ln -s real o/m/in-link
( end=$(( $(date +%s) + 2 )); while [ "$(date +%s)" -lt $end ]; do
	mv -T o/m/out-link o/m/lnk; ln -s ../outside/real o/m/out-link
	mv -T o/m/in-link o/m/lnk; ln -s real o/m/in-link
done ) &
swapper=$!
outside=0 loads=0 tries=0
while kill -0 $swapper 2>/dev/null; do
	h=$("$FAST" show o/m/model.onnx 2>/dev/null | awk '$1 == "w" {print $5}')
	[ -n "$h" ] && loads=$((loads + 1))
	[ -n "$h" ] && [ "$h" = "$hash_out" ] && outside=$((outside + 1))
	tries=$((tries + 1))
done
wait $swapper
[ $outside = 0 ] && [ $loads -gt 0 ] && ok "$tries loads while a folder swaps between inside and outside: none read outside ($loads loaded)" ||
	not_ok "loads while the folder swaps" "$outside of $tries read the outside file, $loads loaded"
rm -f o/m/lnk && ln -s real o/m/lnk
expect 2 "without openat2 a symlink is not followed" -- env ONNXDIFF_FAULT_NO_OPENAT2=1 "$ONNXDIFF" show o/m/model.onnx
one_line "it says why" "external data location 'lnk/data\.bin' is a symlink \(not followed without openat2\)$"
rm -f o/m/lnk && ln -s ../outside/real o/m/lnk
expect 2 "a symlink out of the folder" -- od show o/m/model.onnx
one_line "is refused" "external data location 'lnk/data\.bin' leads out of the model's folder$"

done_testing
