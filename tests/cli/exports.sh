#!/bin/sh
# exports.sh — libonnxdiff.so exports exactly the functions its installed headers declare
# with OD_API: no internal helper (od_malloc, od_map_*, the fault hooks...) leaks out, and
# no declared function is missing; and the command line, linked with the library's objects,
# calls nothing else of them (the layering rule: the CLI and the TUI use the installed
# headers only).
. "$top_srcdir/tests/cli/lib.sh"
so="$top_builddir/.libs/libonnxdiff.so"
[ -f "$so" ] || skip_all "no shared library at $so (configured with --disable-shared?)"
command -v nm >/dev/null || skip_all "nm not found: install Debian's binutils"

headers=$(sed -n 's/^pkginclude_HEADERS = //p' "$top_srcdir/Makefile.am")
[ -n "$headers" ] || { not_ok "Makefile.am names the installed headers"; done_testing; exit; }
(cd "$top_srcdir" && cat $headers) |
	sed -n 's/^OD_API[^(]*[^a-z0-9_]\([a-z_][a-z0-9_]*\)(.*/\1/p' | sort -u >"$T/declared"
nm -D --defined-only "$so" | awk '$2 ~ /^[TDBRVWiu]$/ { print $3 }' | sort -u >"$T/exported"

if [ "$(wc -l <"$T/declared")" -lt 20 ]; then
	not_ok "the installed headers declare the API with OD_API" "found: $(cat "$T/declared")"
else ok "the installed headers declare $(wc -l <"$T/declared") functions"; fi
comm -23 "$T/exported" "$T/declared" >"$T/extra"
if [ -s "$T/extra" ]; then
	not_ok "every exported symbol is declared in an installed header" \
		"exported but not declared: $(tr '\n' ' ' <"$T/extra")"
else ok "every exported symbol is declared in an installed header"; fi
comm -13 "$T/exported" "$T/declared" >"$T/missing"
if [ -s "$T/missing" ]; then
	not_ok "every function the installed headers declare is exported" \
		"declared but not exported: $(tr '\n' ' ' <"$T/missing")"
else ok "every function the installed headers declare is exported"; fi

core="$top_builddir/.libs/libonnxdiff_core.a"
objs=$(find "$top_builddir/src/cli" "$top_builddir/tui" -name 'onnxdiff-*.o' 2>/dev/null)
if [ ! -f "$core" ] || [ -z "$objs" ]; then
	not_ok "the command line's objects and the library's archive are there" "core: $core; objects: $objs"
else
	nm --defined-only "$core" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ { print $3 }' | sort -u >"$T/core"
	nm -u $objs | awk 'NF == 2 { print $2 }' | sort -u >"$T/used"
	comm -12 "$T/used" "$T/core" >"$T/cli"
	comm -23 "$T/cli" "$T/declared" >"$T/internal"
	if [ ! -s "$T/cli" ]; then
		not_ok "the command line calls the library" "no reference found in: $objs"
	elif [ -s "$T/internal" ]; then
		not_ok "the command line calls only what the installed headers declare" \
			"internal: $(tr '\n' ' ' <"$T/internal")"
	else ok "the command line calls $(wc -l <"$T/cli") functions, all declared in an installed header"; fi
fi

# OpenBLAS's blas_thread_shutdown_ is not in its serial build, which Debian may select
# (update-alternatives) after onnxdiff is built: a strong reference would make every
# command fail with "symbol lookup error"; a weak one is NULL there
ref=$(nm "$ONNXDIFF" 2>/dev/null | awk '$NF == "blas_thread_shutdown_" { print $(NF - 1) }')
case $ref in
"" | w | v) ok "onnxdiff starts without OpenBLAS's blas_thread_shutdown_ (reference: ${ref:-none})" ;;
*) not_ok "onnxdiff refers to blas_thread_shutdown_ weakly" "nm shows it as '$ref'" ;;
esac
done_testing
