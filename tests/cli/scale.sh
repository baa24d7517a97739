#!/bin/bash
# scale.sh — cost stays linear: each shape of input that once cost the square of its size
# (many spellings of one external-data location, many folded graph outputs, many opset
# imports, many local functions) is run at N and 4N, and the CPU time it adds over
# `onnxdiff --version` may grow at most 10 times (linear is 4, quadratic 16; the margin is
# for caches and load). Memory: N If nodes with one-node branches stay under 100 bytes of
# peak RSS per byte of the files.
# Ratios of the same machine's CPU times (least of 3 runs), never absolute timings;
# scripts/bench.sh measures the same shapes at sizes this suite has no time for.
# In a sanitizer tree the costs are reported as skipped: ASan's quarantine, redzones and
# shadow memory grow faster than the program's own work (4x the input costs 8x there even
# where the plain build is linear), so only the plain tree can tell linear from quadratic.
# The answers are checked in both trees. Against the code before the linear rewrite
# (d0852c4^) the opset, graph-output and both memory checks failed at 5000/20000 (15.9x,
# 10.8x, 710 and 1041 bytes per byte); at 2000/8000 the graph-output one still passed.
. "$top_srcdir/tests/cli/lib.sh"
PY=/usr/bin/python3
$PY -c 'import onnx, numpy' 2>/dev/null || skip_all "$PY lacks onnx and numpy (Debian's python3-onnx)"
# the sanitizer tree checks only the answers: small inputs there
if [ "${ONNXDIFF_SANITIZERS:-no}" = yes ]; then N=500 BIG=2000; else N=4000 BIG=16000; fi
$PY "$top_srcdir/scripts/bench/make-inputs.py" "$T" shapes=$N shapes=$BIG 2>"$T/gen.err" ||
	{ echo "Bail out! cannot generate the inputs: $(tail -n 3 "$T/gen.err")"; exit 99; }

# Every job runs 3 times in one python process (os.wait4 gives a child's peak RSS and CPU
# time).
# Lines in: LABEL<TAB>ARG<TAB>ARG...; lines out: LABEL KIB CPU (the least of the 3 runs).
job() { local IFS=$'\t'; printf '%s\n' "$*" >>"$T/jobs"; }
job base --version
for k in $N $BIG; do
	job locs$k show locs-$k.onnx
	job outputs$k freeze outputs-$k.onnx -o "$T/out.onnx" --set x=1
	job opsets$k diff opsets-$k.onnx opsets-$k-b.onnx
	job funcs$k diff funcs-$k.onnx funcs-$k-b.onnx
done
job ifs$BIG diff ifs-$BIG.onnx ifs-$BIG-b.onnx
# run: a MatMul by 64 MiB of float32 weights at an odd offset of the file, which the
# evaluator must copy to align; read from the file, the weights' pages are never mapped in
$PY - "$T/mm.onnx" "$T/mm-aligned.onnx" <<'GEN' 2>"$T/gen.err" || { echo "Bail out! cannot generate mm.onnx: $(tail -n 3 "$T/gen.err")"; exit 99; }
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
w = np.arange(4096 * 4096, dtype=np.float32).reshape(4096, 4096) % 7 - 3
init = numpy_helper.from_array(w, "w")
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4096])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4096])], [init])
for pad in range(4):        # a producer name one byte longer moves the payload by one byte
    m = helper.make_model(g, producer_name="p" * pad, opset_imports=[helper.make_opsetid("", 13)])
    data = m.SerializeToString()
    open(sys.argv[1 if data.find(w.tobytes()[:64]) % 4 else 2], "wb").write(data)
GEN
job runmm run mm.onnx -o mm.out --threads 1
runner='
import os, subprocess, sys
od = sys.argv[1]
for line in open("jobs"):
    label, *args = line.rstrip("\n").split("\t")
    best = None
    for _ in range(3):
        with open(os.devnull, "wb") as null, open("err." + label, "wb") as err:
            p = subprocess.Popen([od] + args, stdout=null, stderr=err)
            _, status, ru = os.wait4(p.pid, 0)
        if os.waitstatus_to_exitcode(status) > 1:
            best = None
            break
        run = (ru.ru_maxrss, ru.ru_utime + ru.ru_stime)
        best = run if best is None else (min(best[0], run[0]), min(best[1], run[1]))
    print(label, *(best or ("-", "-")))
'
(cd "$T" && $PY -c "$runner" "$ONNXDIFF") >"$T/costs" 2>"$T/costs.err" ||
	{ echo "Bail out! $(tail -n 3 "$T/costs.err")"; exit 99; }
cost() { read -r _ KIB CPU < <(grep "^$1 " "$T/costs"); [ -n "$CPU" ] && [ "$CPU" != - ]; }
cost base; base_cpu=$CPU base_kib=$KIB

# linear LABEL DESCRIPTION: the job at N against the job at 4N
linear() {
	local small big r
	cost "$1$N" || { not_ok "$2" "failed at N=$N: $(head -c 300 "$T/err.$1$N")"; return; }
	small=$CPU
	cost "$1$BIG" || { not_ok "$2" "failed at N=$BIG: $(head -c 300 "$T/err.$1$BIG")"; return; }
	big=$CPU
	# a floor of 5 ms under the smaller run: a ratio of two tiny numbers says nothing
	r=$(awk -v s="$small" -v b="$big" -v o="$base_cpu" \
		'BEGIN { s -= o; b -= o; if (s < 0.005) s = 0.005; printf "%.1f", b / s }')
	if [ "${ONNXDIFF_SANITIZERS:-no}" = yes ]; then
		ok "$2: 4x the input, $r x the CPU time # SKIP sanitizer build: measured in the plain tree"
	elif awk -v r="$r" 'BEGIN { exit !(r <= 10) }'; then
		ok "$2: 4x the input, $r x the CPU time"
	else
		not_ok "$2: 4x the input, $r x the CPU time (at most 10)" \
			"N=$N: $small s, N=$BIG: $big s, --version: $base_cpu s"
	fi
}
linear locs "show, N spellings of one external-data location"
linear outputs "freeze, N folded nodes that are graph outputs"
linear opsets "diff, N opset imports"
linear funcs "diff, N chained local functions"

# bounded LABEL DESCRIPTION FILE...: peak RSS over --version's, per byte of the files
bounded() {
	local label=$1 desc=$2 bytes=0 f per
	shift 2
	for f; do bytes=$((bytes + $(stat -c %s "$T/$f"))); done
	cost "$label" || { not_ok "$desc" "failed: $(head -c 300 "$T/err.$label")"; return; }
	per=$(awk -v k="$KIB" -v o="$base_kib" -v b="$bytes" 'BEGIN { printf "%.0f", (k - o) * 1024 / b }')
	if [ "${ONNXDIFF_SANITIZERS:-no}" = yes ]; then
		ok "$desc: $per bytes of memory per byte of file # SKIP sanitizer build: measured in the plain tree"
	elif [ "$per" -le 100 ]; then
		ok "$desc: $per bytes of memory per byte of file"
	else
		not_ok "$desc: $per bytes of memory per byte of file (at most 100)" "peak RSS $KIB KiB, files $bytes bytes"
	fi
}
bounded ifs$BIG "diff, $BIG If nodes with one-node branches" ifs-$BIG.onnx ifs-$BIG-b.onnx
bounded funcs$BIG "diff, $BIG chained local functions" funcs-$BIG.onnx funcs-$BIG-b.onnx

# run mm.onnx: the aligned copy of the weights (64 MiB) and little else; through the
# mapping it was twice that (the mapped pages and the copy)
if ! cost runmm; then not_ok "run of a MatMul by misaligned weights" "failed: $(head -c 300 "$T/err.runmm")"
else
	mib=$(( (KIB - base_kib) / 1024 ))
	if [ "${ONNXDIFF_SANITIZERS:-no}" = yes ]; then
		ok "run, 64 MiB of misaligned weights: $mib MiB of memory # SKIP sanitizer build: measured in the plain tree"
	elif [ "$mib" -le 96 ]; then ok "run, 64 MiB of misaligned weights: $mib MiB of memory"
	else not_ok "run, 64 MiB of misaligned weights: $mib MiB of memory (at most 96)" "peak RSS $KIB KiB"; fi
fi

# the answers, not only the costs
expect 0 "weights read from the file compute what aligned ones do" -- od verify --threads 1 "$T/mm.onnx" "$T/mm-aligned.onnx"
expect 1 "diff of the opset imports names the one that changed" -- od diff "$T/opsets-$N.onnx" "$T/opsets-$N-b.onnx"
grep_ok "$T/out" "d$((N / 2))" "the changed import is d$((N / 2))"
[ "$(grep -c . "$T/out")" -le 4 ] && ok "and nothing else" || not_ok "and nothing else" "$(head -5 "$T/out")"
expect 0 "show reads the N spellings of one side file" -- od show "$T/locs-$N.onnx"
done_testing
