#!/bin/bash
# install.sh — `make install` into a staging folder installs what a user and a packager need
# (the command, the library, its headers and pkg-config file, the man page, the bash
# completion), and docs/example.c builds against it with pkg-config and runs.
. "$top_srcdir/tests/cli/lib.sh"
command -v pkg-config >/dev/null || skip_all "pkg-config not installed"
R="$T/root"
if make -s -C "$top_builddir" install DESTDIR="$R" >"$T/make" 2>&1; then ok "make install DESTDIR=..."
else not_ok "make install DESTDIR=..." "$(tail -5 "$T/make")"; done_testing; exit; fi
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
libdir=$(sed -n 's/^libdir = //p' "$top_builddir/Makefile" | sed "s|\${exec_prefix}|$prefix|")
has() { [ -e "$R$1" ] && ok "installs $1" || not_ok "installs $1" "$(cd "$R" && find . -type f | head -20)"; }
has "$prefix/bin/onnxdiff"
has "$libdir/libonnxdiff.so"
has "$prefix/include/onnxdiff/od.h"
has "$prefix/include/onnxdiff/diff.h"
has "$prefix/include/onnxdiff/shape.h"
has "$libdir/pkgconfig/onnxdiff.pc"
has "$prefix/share/man/man1/onnxdiff.1"
comp=$(find "$R" -path '*/completions/onnxdiff' | head -1)
[ -n "$comp" ] && ok "installs the bash completion as completions/onnxdiff" ||
	not_ok "installs the bash completion" "$(cd "$R" && find . -type f)"

# the command carries the library's objects: it runs without the installed library
env -u LD_LIBRARY_PATH "$R$prefix/bin/onnxdiff" --version >"$T/out" 2>&1 && grep -q '^onnxdiff ' "$T/out" &&
	ok "the installed command runs without the library on the loader's path" ||
	not_ok "the installed command runs without the library on the loader's path" "$(cat "$T/out")"
export LD_LIBRARY_PATH="$R$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# the C API example, built as README says: cc example.c $(pkg-config --cflags --libs onnxdiff)
CC=$(sed -n 's/^CC = //p' "$top_builddir/Makefile")
CFLAGS=$(sed -n 's/^CFLAGS = //p' "$top_builddir/Makefile")   # a sanitizer tree's flags too
flags=$(PKG_CONFIG_PATH="$R$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$R" pkg-config --cflags --libs onnxdiff)
if $CC $CFLAGS "$top_srcdir/docs/example.c" $flags -o "$T/same" 2>"$T/cc"; then ok "docs/example.c builds with pkg-config's flags"
else not_ok "docs/example.c builds with pkg-config's flags" "$flags" "$(head -5 "$T/cc")"; fi
expect 1 "the example tells two different exports apart" -- "$T/same" "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx"
grep_ok "$T/out" "^- input mask: float\[1,4\]" "the example prints the diff"
expect 0 "the example finds a renamed copy the same" -- "$T/same" "$FIX/seed/with_mask.onnx" "$FIX/seed/renamed.onnx"

# the completion: commands, then a command's options, then models
if [ -n "$comp" ]; then
	complete_words() { bash -c 'source "$1"; shift; compopt() { :; }; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _onnxdiff; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$R$prefix/bin/onnxdiff" "$@"; }
	complete_words fr >"$T/c"; grep_ok "$T/c" '^freeze$' "completion: 'onnxdiff fr<TAB>' gives freeze"
	complete_words freeze --se >"$T/c"; grep_ok "$T/c" '^--set' "completion: 'freeze --se<TAB>' gives --set"
	(cd "$FIX/seed" && complete_words show w) >"$T/c"; grep_ok "$T/c" '^with_mask\.onnx$' "completion: models by name"
	(cd "$FIX/seed" && complete_words freeze x.onnx --set mask= @ma) >"$T/c"
	grep_ok "$T/c" '^@mask\.npy$' "completion: --set NAME=@ gives .npy files"
fi
done_testing
