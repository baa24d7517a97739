#!/bin/sh
# bad.sh — the catalogue of hostile and broken files (tests/bad/, written by make-bad.py):
# `onnxdiff show` (and `onnxdiff A B`, `onnxdiff freeze` once they exist) on each gives exit
# 2, exactly one line on stderr matching tests/bad/expected.txt, nothing on stdout, no crash
# or hang, no file left behind and the input untouched; the ok-* files load. Then the same
# for a sample of cuts of a small model (every cut of several models is loaded in process by
# test_model's truncation_at_every_byte: spawning the binary 400 times took minutes on a
# loaded machine). The files are copied to a scratch folder first, where the run-time cases
# are set up: symlinks out of the folder, a fifo, a folder. In a sanitizer tree every file
# is shown, and diffed and frozen for a 1-in-8 sample (lib.sh's SAMPLE).
. "$top_srcdir/tests/cli/lib.sh"
BAD="$top_srcdir/tests/bad"
W="$T/w"
D="$W/models"
mkdir -p "$D"
cp "$BAD"/*.onnx "$BAD"/*.npy "$BAD"/*.pb "$BAD"/*.bin "$D/"
cp "$BAD/ext-data.bin" "$W/outside.bin"
ln -s ../outside.bin "$D/link.bin"
ln -s /etc/passwd "$D/abslink.bin"
mkdir "$D/folder.bin"
have_fifo=yes
mkfifo "$D/fifo.bin" 2>/dev/null || have_fifo=no

# A sample of cuts through the command line: the first bytes, then every 29th (a prime, so
# the cuts fall at varied offsets inside fields); under valgrind, ~50x slower, every 97th.
step=29
[ -n "${ONNXDIFF_WRAP:-}" ] && step=97
limit=120
command -v timeout >/dev/null 2>&1 && tmo="timeout -k 5 $limit" || tmo=


ere_quote() { printf '%s' "$1" | sed 's/[][\.*^$/+?(){}|]/\\&/g'; }
# The scratch folder's state around each run: names, sizes, modes and change times, in one
# process (a write changes ctime); its contents are checksummed once at the end.
state() { find "$W" -printf '%p %s %m %C@ %T@\n'; }
contents() { (cd "$W" && find . -type f -exec cksum {} + | LC_ALL=C sort); }
contents >"$T/contents-before"

# run DESC STATUS PATTERN ARGS...: onnxdiff ARGS exits STATUS; for 2 with one stderr line
# matching PATTERN and an empty stdout; the scratch folder the same before and after.
run() {
	desc=$1 want=$2 pat=$3
	shift 3
	state >"$T/before"
	$tmo ${ONNXDIFF_WRAP:-} "$ONNXDIFF" "$@" >"$T/out" 2>"$T/err"
	got=$?
	state >"$T/after"
	why=
	if [ "$got" != "$want" ]; then why="exit $got, wanted $want"
	elif ! cmp -s "$T/before" "$T/after"; then why="files changed: $(diff "$T/before" "$T/after" | head -5 | tr '\n' ' ')"
	elif [ "$want" = 2 ]; then
		if [ -s "$T/out" ]; then why="stdout not empty: $(head -c 200 "$T/out")"
		elif [ "$(wc -l <"$T/err")" != 1 ]; then why="$(wc -l <"$T/err") lines on stderr"
		elif ! grep -qE -- "$pat" "$T/err"; then why="message does not match /$pat/"; fi
	fi
	if [ -z "$why" ]; then ok "$desc"; else not_ok "$desc" "$why" "stderr: $(head -c 600 "$T/err")"; fi
}

setup_needed() { # file: the run-time setup it needs is there
	case $1 in
	ext-fifo.onnx) [ "$have_fifo" = yes ] ;;
	*) true ;;
	esac
}

while read -r f st pat; do
	case $f in ''|\#*) continue ;; esac
	setup_needed "$f" || continue
	case $f in
	*.npy|*.pb)
		rm -f "$T/frozen.onnx"
		run "freeze --set mask=@$f" "$st" "^error: .*$pat" \
			freeze "$top_srcdir/fixtures/seed/with_mask.onnx" -o "$T/frozen.onnx" --set "mask=@$D/$f"
		if [ "$st" = 2 ] && [ -e "$T/frozen.onnx" ]; then not_ok "freeze --set mask=@$f wrote no output" "it did"; fi
		continue ;;
	esac
	p="$D/$f"
	full="^error: cannot load '$(ere_quote "$p")': $pat\$"
	run "show $f" "$st" "$full" show "$p"
	# diff and freeze read through the same loader: a sanitizer tree runs them on a sample
	i_case=$((${i_case:-0} + 1))
	[ $((i_case % SAMPLE)) = 1 ] || [ "$SAMPLE" = 1 ] || continue
	# a diff that loads nothing it cannot: a good file against itself is "same"
	[ "$st" = 0 ] && dst=0 || dst=2
	run "diff $f $f" "$dst" "$full" "$p" "$p"
	[ "$st" = 2 ] && run "diff good $f" 2 "$full" "$top_srcdir/fixtures/seed/with_mask.onnx" "$p"
	if [ "$st" = 2 ]; then
		rm -f "$T/frozen.onnx"
		run "freeze $f" 2 "$full" freeze "$p" -o "$T/frozen.onnx" --set x=0
	fi
done <"$BAD/expected.txt"

[ "$have_fifo" = yes ] || ok "# SKIP ext-fifo.onnx: mkfifo failed"

# Not a file at all: a fifo given as the model used to block in open(2) for ever.
if [ "$have_fifo" = yes ]; then
	run "show a fifo" 2 "^error: cannot read '$(ere_quote "$D/fifo.bin")': not a regular file\$" show "$D/fifo.bin"
fi
# and a fifo given as a value (--set x=@fifo.npy), with a shorter time limit
if [ "$have_fifo" = yes ] && [ -n "$tmo" ]; then
	for ext in npy pb; do
		ln -s fifo.bin "$D/fifo-value.$ext"
		tmo="timeout -k 5 20"
		run "freeze --set mask=@fifo-value.$ext" 2 "^error: .*fifo-value\\.$ext.*not a regular file" \
			freeze "$top_srcdir/fixtures/seed/with_mask.onnx" -o "$T/frozen.onnx" --set "mask=@$D/fifo-value.$ext"
		tmo="timeout -k 5 $limit"
		rm -f "$D/fifo-value.$ext"
	done
fi
run "show a device" 2 "^error: cannot read '/dev/null': not a regular file\$" show /dev/null
run "show a folder" 2 "^error: cannot read '$(ere_quote "$D/folder.bin")': Is a directory\$" show "$D/folder.bin"

# Cuts of a small model: an error, never a crash; nothing written.
src="$top_srcdir/fixtures/seed/with_mask.onnx"
size=$(wc -c <"$src")
bad_cuts=0 cut=0 ncuts=0
while [ "$cut" -lt "$size" ]; do
	ncuts=$((ncuts + 1))
	head -c "$cut" "$src" >"$D/cut.onnx"
	state >"$T/before"
	$tmo ${ONNXDIFF_WRAP:-} "$ONNXDIFF" show "$D/cut.onnx" >"$T/out" 2>"$T/err"
	got=$?
	state >"$T/after"
	if [ "$got" != 2 ] || [ -s "$T/out" ] || [ "$(wc -l <"$T/err")" != 1 ] ||
	   ! grep -qE "^error: cannot load '[^']*cut\.onnx': " "$T/err" || ! cmp -s "$T/before" "$T/after"; then
		bad_cuts=$((bad_cuts + 1))
		[ "$bad_cuts" -le 3 ] && note "cut at byte $cut: exit $got: $(head -c 300 "$T/err")"
	fi
	if [ "$cut" -lt 8 ]; then cut=$((cut + 1)); else cut=$((cut + step)); fi
done
rm -f "$D/cut.onnx"
if [ "$bad_cuts" = 0 ]; then ok "with_mask.onnx cut at $ncuts places of $size bytes: exit 2, one line, nothing written"
else not_ok "with_mask.onnx cut at $ncuts places of $size bytes" "$bad_cuts cuts misbehaved"; fi
contents >"$T/contents-after"
if cmp -s "$T/contents-before" "$T/contents-after"; then ok "no file's contents changed"
else not_ok "no file's contents changed" "$(diff "$T/contents-before" "$T/contents-after" | head -5)"; fi

# And the folder the models came from is what make-bad.py wrote (nothing wrote there).
if (cd "$BAD" && ls | LC_ALL=C sort) | grep -qvE '^(expected\.txt|make-bad\.py|.*\.onnx|.*\.npy|.*\.pb|.*\.bin)$'; then
	not_ok "tests/bad holds only the catalogue" "$(cd "$BAD" && ls)"
else ok "tests/bad holds only the catalogue"; fi
done_testing
