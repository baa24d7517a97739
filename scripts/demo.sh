#!/bin/sh
# demo.sh — installs what is missing, builds, and runs onnxdiff on the committed fixtures:
# show, diff, freeze, check. Safe to run again; writes only under build/ (the models it
# freezes stay in build/demo/ to look at afterwards).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/setup.sh" --no-oracle
"$top/scripts/build.sh"
cd "$top"
tmp=build/demo
mkdir -p "$tmp"

onnxdiff() { "$top/build/onnxdiff" "$@"; }
step() { # shows the command as a user would type it, runs it, shows its exit status
	printf '\n\033[1m$ onnxdiff %s\033[0m\n' "$*"
	set +e
	onnxdiff "$@"
	rc=$?
	set -e
	printf '(exit %d)\n' "$rc"
}

echo "# What does the export with a mask input contain?"
step show fixtures/seed/with_mask.onnx
echo
echo "# The same model exported through a wrapper module holding the mask as a buffer:"
echo "# every tensor is renamed, yet only the real change is reported."
step fixtures/seed/with_mask.onnx fixtures/seed/wrapper.onnx
step --stat fixtures/seed/with_mask.onnx fixtures/seed/wrapper.onnx
echo
echo "# Freeze the mask of the existing export instead of exporting twice."
step freeze fixtures/seed/with_mask.onnx -o "$tmp/frozen.onnx" --set mask=@fixtures/seed/mask.npy
echo
echo "# The CI assertion: exactly the input x remains, mask is gone."
step check --inputs x --absent mask "$tmp/frozen.onnx"
step check --inputs x --absent mask fixtures/seed/with_mask.onnx
echo
echo "# The frozen model and torch's wrapper export compute the same thing."
step diff --fold "$tmp/frozen.onnx" fixtures/seed/wrapper.onnx
echo
echo "# An If driven by a configuration input: freezing it keeps only the chosen branch."
step freeze fixtures/if/model.onnx -o "$tmp/if.onnx" --set flag=1
step check --no-op If "$tmp/if.onnx"
