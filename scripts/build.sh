#!/bin/sh
# build.sh [DIR [CONFIGURE-ARGS...]] — configures (once) and builds onnxdiff out of tree in
# DIR (default: build/). Reconfigures when configure.ac or Makefile.am changed.
# build.sh --prepare only makes configure (so that builds started together do not run
# autoreconf in the same folder at once).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/build}
[ $# -gt 0 ] && shift
cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
[ "$dir" = --prepare ] && exit 0
mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ] || [ "$top/configure" -nt config.status ]; then
	"$top/configure" -q "$@"
fi
make -s -j"$(nproc)" >/dev/null
