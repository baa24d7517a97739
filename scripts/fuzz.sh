#!/bin/sh
# fuzz.sh [SECONDS] — builds tests/fuzz/fuzz_model.c with the library sources under
# libFuzzer + ASan + UBSan (Debian's clang) and runs it for SECONDS (default 300) with one
# job, a 2 GiB memory limit and a 10 s time limit per input: no input may crash, hang or
# allocate far beyond its size. The corpus grows in $FUZZ_DIR (default build-fuzz/),
# seeded from fixtures/, tests/bad/, tests/fuzz/regressions/ and a sample of the models
# in ../shared/onnx-backend-tests. Prints executions and what it found; a crash, leak,
# timeout or out-of-memory input is kept under $FUZZ_DIR/artifacts/: fix it, then commit
# it under tests/fuzz/regressions/ (tests/cli/fuzz-regressions.sh runs them).
# Exit status: 0 nothing found, 1 something found, 2 trouble.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-300}
dir=${FUZZ_DIR:-$top/build-fuzz}
max_len=${FUZZ_MAX_LEN:-65536}
shared="$top/../shared/onnx-backend-tests"

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: installing clang"
	[ "$(id -u)" -eq 0 ] || { echo "fuzz: run as root or install Debian's clang" >&2; exit 2; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null || exit 2
fi
mkdir -p "$dir/gen" "$dir/corpus" "$dir/seeds" "$dir/artifacts" || exit 2

# The generated protobuf-c code: from a build tree when there is one, else protoc-c.
proto=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
if [ ! -f "$dir/gen/onnx.pb-c.c" ] || [ "$proto" -nt "$dir/gen/onnx.pb-c.c" ]; then
	cp "$proto" "$dir/gen/onnx.proto" && (cd "$dir/gen" && protoc-c --c_out=. onnx.proto) || {
		echo "fuzz: cannot generate onnx.pb-c.c from $proto" >&2; exit 2; }
fi
cat >"$dir/gen/config.h" <<EOF
#define PACKAGE_VERSION "fuzz"
EOF

# The library: every source but the command line's; built only when something changed.
srcs=$(ls "$top"/src/*/*.c | grep -v /cli/)
bin="$dir/fuzz_model"
if [ ! -x "$bin" ] || [ -n "$(find "$top/src" "$top/tests/fuzz/fuzz_model.c" -newer "$bin" -name '*.[ch]' | head -1)" ]; then
	echo "fuzz: building $bin"
	# shellcheck disable=SC2086
	clang -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-I"$dir/gen" $(for d in "$top"/src/*/; do printf -- "-I%s " "$d"; done) $(pkg-config --cflags libprotobuf-c jansson libxxhash openblas fftw3) \
		-o "$bin" "$top/tests/fuzz/fuzz_model.c" $srcs "$dir/gen/onnx.pb-c.c" \
		$(pkg-config --libs libprotobuf-c jansson libxxhash openblas fftw3) -lm || { echo "fuzz: build failed" >&2; exit 2; }
fi

# Seeds: small models only (libFuzzer ignores what is longer than -max_len).
find "$top/fixtures" "$top/tests/bad" "$top/tests/fuzz/regressions" -type f -name '*.onnx' \
	-size -"$max_len"c -exec cp {} "$dir/seeds/" \; 2>/dev/null
cp "$top"/tests/fuzz/regressions/* "$dir/seeds/" 2>/dev/null
if [ -d "$shared" ]; then
	# every 8th backend model (the node tests are tiny; a few real models are big)
	find "$shared" -name '*.onnx' -size -"$max_len"c | LC_ALL=C sort | awk 'NR % 8 == 1' |
	while read -r f; do
		cp "$f" "$dir/seeds/$(echo "$f" | cksum | cut -d' ' -f1).onnx"
	done
fi

# Tokens worth splicing in: field names libFuzzer cannot guess from the bytes alone.
dict="$dir/onnx.dict"
printf '%s\n' '"If"' '"Loop"' '"Scan"' '"then_branch"' '"else_branch"' '"body"' \
	'"location"' '"offset"' '"length"' '"Constant"' '"value"' '"Reshape"' '"Gemm"' \
	'"Add"' '"Mul"' '"Shape"' '"Gather"' '"Concat"' '"Where"' '"Expand"' \
	'"ConstantOfShape"' '"Range"' '"Slice"' '"Cast"' '"x"' '"mask"' '"y"' \
	'"ai.onnx"' '"\x08\x07"' '"\x42\x02\x10\x0e"' >"$dict"

before=$(ls "$dir/artifacts" | wc -l)
echo "fuzz: $seconds s, one job, corpus $dir/corpus ($(ls "$dir/corpus" | wc -l) inputs), $(ls "$dir/seeds" | wc -l) seeds"
# -fork=1: one worker process at a time that libFuzzer restarts after a crash, so one bug
# (say in a module still being written) does not stop the search for the others.
"$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
	-rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 -max_len="$max_len" \
	-max_total_time="$seconds" -dict="$dict" \
	-artifact_prefix="$dir/artifacts/" "$dir/corpus" "$dir/seeds" >"$dir/last.log" 2>&1
rc=$?
# fork mode's progress lines: "#123456: cov: 2345 ft: ... exec/s: ... oom/timeout/crash: 0/0/1 ..."
execs=$(sed -n 's/^#\([0-9][0-9]*\): cov:.*/\1/p' "$dir/last.log" | tail -1)
found=$(ls "$dir/artifacts" | wc -l)
echo "fuzz: ${execs:-0} executions in $seconds s, $((found - before)) new artifacts (exit $rc)"
echo "${execs:-0}" >>"$dir/executions"
awk '{ s += $1 } END { printf "fuzz: %d executions over %d runs in %s\n", s, NR, ARGV[1] }' "$dir/executions"
if [ "$found" -gt "$before" ] || [ "$rc" -ne 0 ]; then
	ls -t "$dir/artifacts" | head -n $((found - before))
	grep -E 'SUMMARY|fuzz_model:|runtime error' "$dir/last.log" | sort | uniq -c | sort -rn | head -20
	exit 1
fi
exit 0
