#!/bin/sh
# exports.sh — libonnxdiff.so exports exactly the functions its installed headers declare
# with OD_API: no internal helper (od_malloc, od_map_*, the fault hooks...) leaks out, and
# no declared function is missing.
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
done_testing
