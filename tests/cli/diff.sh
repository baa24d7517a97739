#!/bin/sh
# diff.sh — `onnxdiff A B`, `diff`, `textconv` and git's calling forms on the fixtures:
# exact output (golden files in tests/cli/diff/) and exit status.
# Regenerate a golden file after a deliberate change with ONNXDIFF_REGEN=1.
. "$top_srcdir/tests/cli/lib.sh"
G="$top_srcdir/tests/cli/diff"

# golden NAME STATUS DESCRIPTION -- command...: runs in $FIX, compares stdout with $G/NAME
golden() {
	name=$1 want=$2 desc=$3
	shift 4
	(cd "$FIX" && "$@") >"$T/out" 2>"$T/err"
	got=$?
	[ "${ONNXDIFF_REGEN:-}" ] && cp "$T/out" "$G/$name"
	if [ "$got" != "$want" ]; then
		not_ok "$desc" "exit $got, wanted $want" "stderr: $(head -c 400 "$T/err")"
	elif ! diff -u "$G/$name" "$T/out" >"$T/d" 2>&1; then
		not_ok "$desc" "$(head -40 "$T/d")"
	else ok "$desc"; fi
}


# ---- the seed pair: the mask input became a constant ------------------------------------
golden seed.txt 1 "seed: mask removed, now a constant feeding the same Mul; weights renamed" -- \
	od seed/with_mask.onnx seed/wrapper.onnx
golden seed.txt 1 "'onnxdiff diff A B' is 'onnxdiff A B'" -- \
	od diff seed/with_mask.onnx seed/wrapper.onnx
golden seed-renames.txt 1 "--renames lists renamed nodes" -- \
	od --renames seed/with_mask.onnx seed/wrapper.onnx
golden seed-stat.txt 1 "--stat: parameter and byte deltas, change counts" -- \
	od seed/with_mask.onnx seed/wrapper.onnx --stat
golden seed.json 1 "--json: schema onnxdiff-diff/1, details nested under their node" -- \
	od --json seed/with_mask.onnx seed/wrapper.onnx
if /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"]=="onnxdiff-diff/1" and d["same"] is False' "$T/out" 2>"$T/py"; then
	ok "--json parses as JSON"
else not_ok "--json parses as JSON" "$(cat "$T/py")"; fi
golden seed-color.txt 1 "--color=always: roles for removed, added, changed, renamed" -- \
	od --color=always seed/with_mask.onnx seed/wrapper.onnx
NO_COLOR=1 od --color=auto "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx" >"$T/out"
if grep -q "$(printf '\033')" "$T/out"; then not_ok "NO_COLOR: no escapes"; else ok "NO_COLOR: no escapes"; fi
golden seed-ignore-names.txt 1 "--ignore=names drops the renames" -- \
	od --ignore=names seed/with_mask.onnx seed/wrapper.onnx
expect 1 "-q: differences, exit 1" -- od -q "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx"
if [ -s "$T/out" ]; then not_ok "-q prints nothing"; else ok "-q prints nothing"; fi

# ---- renamed copies: the same model ------------------------------------------------------
golden renamed.txt 0 "renamed copy: renames only, exit 0" -- od seed/with_mask.onnx seed/renamed.onnx
golden renamed-io.txt 0 "inputs and outputs renamed too: exit 0" -- \
	od seed/with_mask.onnx seed/renamed-io.onnx
expect 1 "--strict-names: renames are differences" -- \
	od --strict-names "$FIX/seed/with_mask.onnx" "$FIX/seed/renamed.onnx"
expect 0 "a model against itself" -- od "$FIX/if/model.onnx" "$FIX/if/model.onnx"
if [ -s "$T/out" ]; then not_ok "no output when the same"; else ok "no output when the same"; fi
golden transformer-renamed.txt 0 "transformer renamed copy: exit 0" -- \
	od transformer/with_mask.onnx transformer/renamed.onnx
expect 0 "mobilenet renamed and reordered (52 Convs, 133 nodes): exit 0" -- \
	od "$FIX/mobilenet/model.onnx" "$FIX/mobilenet/renamed.onnx"
grep_ok "$T/out" "^= 133 nodes renamed$" "every node paired by structure"
expect 1 "mobilenet with the last depthwise Conv's weight scaled" -- \
	od "$FIX/mobilenet/model.onnx" "$FIX/mobilenet/scaled.onnx"
grep_ok "$T/out" "^~ initializer onnx::Conv_496: float\[144,1,5,5\]" "the changed weight is named"
# torchvision's Swin: 1712 nodes, most of them shape chains that build the window masks
expect 0 "swin renamed and reordered (1712 nodes): exit 0" -- \
	od "$FIX/swin/model.onnx" "$FIX/swin/renamed.onnx"
grep_ok "$T/out" "^= 1712 nodes renamed$" "every node paired by structure"
expect 1 "swin with the patch embedding's weight scaled" -- \
	od "$FIX/swin/model.onnx" "$FIX/swin/scaled.onnx"
grep_ok "$T/out" "^~ initializer features.0.0.weight: float\[8,3,4,4\]: 384 of 384 elements differ" "the changed weight is named"

# ---- other export pairs ------------------------------------------------------------------
golden hidden.txt 1 "hidden_state became a constant: batch dims fixed" -- \
	od hidden/with_hidden.onnx hidden/wrapper.onnx
golden transformer.txt 1 "transformer: torch folded the mask arithmetic into constants" -- \
	od transformer/with_mask.onnx transformer/wrapper.onnx

# ---- freeze, then diff: what the tool is for ----------------------------------------------
frozen() {   # frozen NAME MODEL INPUT VALUE WRAPPER [diff options]
	name=$1 model=$2 input=$3 value=$4 wrapper=$5
	shift 5
	if od freeze "$FIX/$model" -o "$T/$name.onnx" --set "$input=@$FIX/$value" >"$T/fz" 2>&1; then
		expect 0 "freeze $input, then diff against the wrapper export: same" -- \
			od "$@" "$T/$name.onnx" "$FIX/$wrapper"
	else not_ok "freeze $input" "$(cat "$T/fz")"; fi
}
frozen seed seed/with_mask.onnx mask seed/mask.npy seed/wrapper.onnx
frozen hidden hidden/with_hidden.onnx hidden_state hidden/hidden_state.npy hidden/wrapper.onnx
frozen transformer transformer/with_mask.onnx attention_mask transformer/attention_mask.npy \
	transformer/wrapper.onnx --fold

# ---- errors ---------------------------------------------------------------------------------
one_error 2 "missing file" "^error: cannot (open|read) '.*nope.onnx': No such file or directory$" -- \
	od "$FIX/seed/with_mask.onnx" "$T/nope.onnx"
one_error 2 "not a model" "^error: cannot load '.*random.onnx': " -- \
	od "$FIX/bad/random.onnx" "$FIX/seed/with_mask.onnx"
one_error 2 "unknown --ignore category" "^error: unknown --ignore category 'bogus'$" -- \
	od --ignore=doc,bogus "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx"
one_error 2 "negative --atol" "^error: bad value for --atol: '-1'" -- \
	od --atol=-1 "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx"
one_error 2 "bad --color" "^error: bad value for --color: 'pink'" -- \
	od --color=pink "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx"
one_error 2 "one operand is a usage error" "^error: too few operands: want two models" -- \
	od diff "$FIX/seed/with_mask.onnx"
one_error 2 "one operand without 'diff' too" "^error: too few operands: want two models" -- \
	od "$FIX/seed/with_mask.onnx"
expect 0 "diff --help" -- od diff --help
grep_ok "$T/out" "^  --ignore=LIST" "--help lists the options"

# colour on a terminal, none on a dumb one (script(1) gives the command a terminal)
if command -v script >/dev/null 2>&1; then
	TERM=xterm script -qec "$ONNXDIFF $FIX/seed/with_mask.onnx $FIX/seed/wrapper.onnx" /dev/null >"$T/tty" 2>&1
	grep -q "$(printf '\033')\[" "$T/tty" && ok "a terminal gets colour" || not_ok "a terminal gets colour" "$(cat -A "$T/tty" | head -3)"
	TERM=dumb script -qec "$ONNXDIFF $FIX/seed/with_mask.onnx $FIX/seed/wrapper.onnx" /dev/null >"$T/tty" 2>&1
	grep -q "$(printf '\033')" "$T/tty" && not_ok "TERM=dumb gets no colour" "$(cat -A "$T/tty" | head -3)" || ok "TERM=dumb gets no colour"
else
	ok "# SKIP script(1) not installed: colour on a terminal not checked"
fi

# ---- git integration ----------------------------------------------------------------------
golden textconv-seed.txt 0 "textconv: canonical dump" -- od textconv seed/with_mask.onnx
one_error 2 "textconv of a missing file" "^error: cannot (open|read) '.*nope.onnx'" -- \
	od textconv "$T/nope.onnx"
golden external.txt 0 "GIT_EXTERNAL_DIFF: 7 operands, labelled with the path, exit 0" -- \
	od model.onnx seed/with_mask.onnx 1111111 100644 seed/wrapper.onnx 2222222 100644
golden external-new.txt 0 "GIT_EXTERNAL_DIFF: an added model shows its dump" -- \
	od new.onnx /dev/null 0000000 100644 seed/wrapper.onnx 2222222 100644
printf 'one\ntwo\n' >"$T/notes-a.txt"; printf 'one\nthree\n' >"$T/notes-b.txt"
expect 0 "GIT_EXTERNAL_DIFF: a file that is not a model gets a unified diff, exit 0" -- \
	od notes.txt "$T/notes-a.txt" 1111111 100644 "$T/notes-b.txt" 2222222 100644
printf -- '--- a/notes.txt\n+++ b/notes.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+three\n' >"$T/want"
same "$T/out" "GIT_EXTERNAL_DIFF: the unified diff of notes.txt, labelled as git does" "$T/want"
expect 0 "GIT_EXTERNAL_DIFF: an added text file, exit 0" -- \
	od notes.txt /dev/null 0000000 100644 "$T/notes-b.txt" 2222222 100644
grep_ok "$T/out" '^\+three$' "GIT_EXTERNAL_DIFF: the added text file's lines"
one_error 2 "GIT_EXTERNAL_DIFF: a missing file is still an error" "^error: cannot open '.*nope.onnx'" -- \
	od m.onnx "$T/nope.onnx" 1111111 100644 "$FIX/seed/wrapper.onnx" 2222222 100644
cp "$FIX/seed/with_mask.onnx" "$T/abs.onnx"
expect 1 "--json with an absolute path" -- od --json "$T/abs.onnx" "$FIX/seed/wrapper.onnx"
grep_ok "$T/out" "^  \"a\": \"$T/abs.onnx\",\$" "--json gives the paths as they are (no a/ prefix, the slash kept)"

if command -v git >/dev/null 2>&1; then
	R="$T/repo"
	mkdir -p "$R" && cd "$R" || exit 2
	export HOME="$T" GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t \
		GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t
	git init -q . && echo '*.onnx diff=onnx' >.gitattributes
	cp "$FIX/seed/with_mask.onnx" model.onnx
	git add . && git commit -qm one
	cp "$FIX/seed/wrapper.onnx" model.onnx
	git -c diff.onnx.textconv="$ONNXDIFF textconv" diff >"$T/git" 2>&1
	grep_ok "$T/git" "^-input mask float\[1,4\]$" "git textconv driver: the mask input is gone"
	GIT_EXTERNAL_DIFF="$ONNXDIFF" git diff --ext-diff >"$T/git" 2>&1
	grep_ok "$T/git" "^~     input 1: was graph input 'mask' float\[1,4\], now initializer 'mask' float\[1,4\]$" \
		"GIT_EXTERNAL_DIFF: structural diff inside git diff"
	grep_ok "$T/git" "^--- a/model.onnx$" "GIT_EXTERNAL_DIFF: labelled with the path"
	printf 'one\n' >notes.txt && git add notes.txt && git commit -qm notes && printf 'two\n' >notes.txt
	GIT_EXTERNAL_DIFF="$ONNXDIFF" git diff --ext-diff >"$T/git" 2>&1
	rc=$?
	[ $rc = 0 ] && ok "GIT_EXTERNAL_DIFF: git diff goes on past notes.txt (exit 0)" ||
		not_ok "GIT_EXTERNAL_DIFF: git diff goes on past notes.txt" "exit $rc" "$(head -5 "$T/git")"
	grep_ok "$T/git" "^\+two$" "GIT_EXTERNAL_DIFF: notes.txt's change is shown"
	grep_ok "$T/git" "^~     input 1: was graph input 'mask'" "GIT_EXTERNAL_DIFF: and the model's, in the same run"
	cd "$top_srcdir" || exit 2
else
	ok "# SKIP git not installed"
fi
# Hostile names (fuzz regressions): no raw control character reaches the terminal, and JSON
# stays valid when a name is not UTF-8.
R="$top_srcdir/tests/fuzz/regressions"
expect 1 "diff of hostile names" -- od --strict-names "$R/name-escape-sequence.onnx" "$R/name-not-utf8.onnx"
if tr -d '\n' <"$T/out" | LC_ALL=C grep -q '[[:cntrl:]]'; then not_ok "names with control characters are escaped" "$(cat -A "$T/out")"
else ok "names with control characters are escaped"; fi
grep_ok "$T/out" '^= input \\x1b -> ' "the escape character shows as \\x1b"
expect 1 "diff --json of a name that is not UTF-8" -- od --json --strict-names "$R/name-escape-sequence.onnx" "$R/name-not-utf8.onnx"
if /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/out" 2>"$T/py"; then ok "the JSON parses"
else not_ok "the JSON parses" "$(cat "$T/py")"; fi

done_testing
