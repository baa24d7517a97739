#!/bin/sh
# setup.sh — installs the Debian packages onnxdiff's build and tests need, and the npm
# onnxruntime oracle (not with --no-oracle: the demo needs no oracle). Idempotent and quiet
# when everything is there. Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

PACKAGES="gcc make autoconf automake libtool pkg-config protobuf-c-compiler libprotobuf-c-dev
libncurses-dev libcriterion-dev libxxhash-dev libjansson-dev libonnx-dev libopenblas-dev libfftw3-dev python3 python3-onnx
python3-numpy tmux"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
oracle=yes
[ "${1:-}" = --no-oracle ] && oracle=no
if [ $oracle = yes ]; then
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
fi

if [ -n "$missing" ]; then
	echo "setup: installing$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: run as root (or install:$missing)" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The onnxruntime oracle: the npm package ships its CPU library; its install script only
# fetches GPU extras, so it is skipped. A failure here only skips the oracle tests.
[ $oracle = yes ] || exit 0
oracle="$top/tests/oracle"
if [ ! -d "$oracle/node_modules/onnxruntime-node" ]; then
	echo "setup: installing onnxruntime-node for the oracle tests"
	(cd "$oracle" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) ||
		echo "setup: npm install failed; the onnxruntime oracle tests will be skipped" >&2
fi
exit 0
