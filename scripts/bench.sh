#!/bin/bash
# bench.sh — how fast onnxdiff loads, hashes, diffs and writes large models, as ratios to
# baselines measured in the same run (never a timed test: it is not part of `make check`).
#
#   scripts/bench.sh [-n RUNS] [-k] [SECTION...]   sections: vit resnet big nodes shapes eval (all)
#
# Inputs are built once by scripts/bench/make-inputs.py into the cache folder
# ($ONNXDIFF_BENCH_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/onnxdiff-bench; about 6 GB).
# onnxdiff is built with -O2 in <cache>/build-<hash of this tree's path> unless $ONNXDIFF
# names a binary (one build folder per work tree: a shared one would build another tree). Every
# measurement runs RUNS times (default 5) with a warm page cache (the files are read
# with cat first) and prints the median wall time and the median peak RSS
# and CPU time (os.wait4, in microseconds; scripts/bench/run1.py). A command that does not exist yet (diff, freeze) is skipped, saying so.
# -k keeps what freeze wrote (<cache>/big-frozen.onnx and its data).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${ONNXDIFF_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/onnxdiff-bench}
runs=5 keep=
while getopts n:k opt; do
	case $opt in
	n) runs=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: scripts/bench.sh [-n RUNS] [-k] [vit|resnet|big|nodes|shapes|eval]..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
sections=${*:-vit resnet big nodes shapes eval}
PY=/usr/bin/python3
work=$(mktemp -d "${TMPDIR:-/tmp}/onnxdiff-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

say() { printf '%s\n' "$*" >&2; }

# ---- what the benchmark needs --------------------------------------------------------------
apt_install() { # package...
	if [ "$(id -u)" = 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$work/apt.log" 2>&1
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >"$work/apt.log" 2>&1
	else
		return 1
	fi || { tail -n 5 "$work/apt.log" >&2; return 1; }
}
$PY -c 'import onnx, numpy' 2>/dev/null || apt_install python3-onnx python3-numpy ||
	{ say "bench: $PY lacks onnx (Debian's python3-onnx)"; exit 2; }
have_torchvision=1
$PY -c 'import torch, torchvision' 2>/dev/null || apt_install python3-torchvision ||
	{ have_torchvision=; say "bench: no torchvision (Debian's python3-torchvision): vit and resnet skipped"; }

if [ -n "${ONNXDIFF:-}" ]; then
	od=$ONNXDIFF
else
	bdir=$cache/build-$(printf '%s' "$top" | cksum | cut -d' ' -f1)
	say "bench: building onnxdiff (-O2) in $bdir"
	mkdir -p "$bdir" || exit 2
	[ -x "$top/configure" ] || (cd "$top" && autoreconf -fi >/dev/null 2>&1) || { say "bench: autoreconf failed"; exit 2; }
	# only the CLI (no shared library: nothing a timing needs)
	# flags come from configure.ac and Makefile.am: when they change, objects built with
	# the old flags go (make would keep those of unchanged sources)
	stamp=$(cat "$top/configure.ac" "$top/Makefile.am" | cksum)
	(cd "$bdir" &&
	 { [ -f Makefile ] && [ config.status -nt "$top/configure" ] && grep -q disable-shared config.status ||
	   "$top/configure" -q --disable-shared CFLAGS='-O2 -g'; } &&
	 { [ "$(cat .flags-stamp 2>/dev/null)" = "$stamp" ] || { make -s clean >/dev/null 2>&1; printf '%s\n' "$stamp" >.flags-stamp; }; } &&
	 make -s src/onnx.pb-c.h >"$work/make.log" 2>&1 &&
	 make -s -j"$(nproc)" onnxdiff >>"$work/make.log" 2>&1) || { tail -n 20 "$work/make.log" >&2; exit 2; }
	od=$bdir/onnxdiff
fi
has_cmd() { "$od" "$1" --help >/dev/null 2>&1; }
# what reading and hashing every byte alone cost (scripts/bench/hashfloor.c): the floor under
# issue 15's CPU goals on this machine
floor=$work/hashfloor
${CC:-cc} -O2 -o "$floor" "$top/scripts/bench/hashfloor.c" $(pkg-config --cflags --libs libxxhash) ||
	{ say "bench: building hashfloor failed"; exit 2; }

inputs() { # make-inputs.py target...
	$PY "$top/scripts/bench/make-inputs.py" "$cache" "$@" || { say "bench: building inputs ($*) failed"; exit 2; }
}

# ---- measuring ------------------------------------------------------------------------------
# once SLOT LABEL CMD...: runs CMD once, appending wall seconds, peak RSS (KiB) and CPU
# seconds (user + sys) to W_SLOT, R_SLOT, C_SLOT. Exit 0 or 1 is success (diff(1) style).
once() {
	local slot=$1 label=$2 t0 t1 rc
	shift 2
	t0=$EPOCHREALTIME
	$PY "$top/scripts/bench/run1.py" "$work/rss" "$@"
	rc=$?
	mv -f "$work/rss.err" "$work/err" 2>/dev/null
	t1=$EPOCHREALTIME
	if [ $rc -gt 1 ]; then
		say "bench: '$label' failed (exit $rc):"; tail -n 5 "$work/err" >&2
		return 1
	fi
	printf -v "W_$slot" '%s %s' "$(eval echo "\${W_$slot-}")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')"
	read -r kb cpu < <(tail -n 1 "$work/rss")
	printf -v "R_$slot" '%s %s' "$(eval echo "\${R_$slot-}")" "$kb"
	printf -v "C_$slot" '%s %s' "$(eval echo "\${C_$slot-}")" "$cpu"
}
# summary SLOT: sets T, M, C to the medians of what once() gathered in SLOT, TS and CS to
# the spread (max - min) of wall and CPU times, and clears it.
summary() {
	local w r c
	eval "w=\${W_$1-} r=\${R_$1-} c=\${C_$1-}"
	T=$(median $w) M=$(median $r) C=$(median $c) TS=$(spread $w) CS=$(spread $c)
	unset "W_$1" "R_$1" "C_$1"
}
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.3f", hi - lo }'; }
# measure LABEL CMD...: runs CMD $runs times; T, M, C are the medians.
T= M= C= TS= CS=
measure() {
	local label=$1 i
	shift
	for ((i = 0; i < runs; i++)); do
		once m "$label" "$@" || { unset W_m R_m C_m; T= M= C=; return 1; }
	done
	summary m
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
warm() { cat "$@" >/dev/null; }
bytes() { local s=0 f; for f; do s=$((s + $(stat -c %s "$f"))); done; echo $s; }
mb() { awk -v b="$1" 'BEGIN { printf "%.0f MB", b / 1e6 }'; }

base= base_cpu=
row() { # LABEL [SIZE-BYTES-FOR-RSS-BOUND]: prints the last measurement against $base
	local ratio=- cratio=- bound=- rss=-
	[ -n "$base" ] && ratio=$(awk -v t="$T" -v b="$base" 'BEGIN { printf "%.2f", t / b }')
	[ -n "$base_cpu" ] && cratio=$(awk -v t="$C" -v b="$base_cpu" 'BEGIN { printf "%.2f", (b > 0 ? t / b : 0) }')
	[ -n "$M" ] && rss=$(awk -v k="$M" 'BEGIN { printf "%.0f MB", k * 1024 / 1e6 }')
	if [ -n "${2:-}" ]; then
		bound=$(awk -v s="$2" 'BEGIN { printf "%.0f MB", (1.1 * s + 64 * 1048576) / 1e6 }')
		RSS_OK=$(awk -v k="$M" -v s="$2" 'BEGIN { print (k * 1024 <= 1.1 * s + 64 * 1048576) ? "ok" : "MISSED" }')
		bound="$bound $RSS_OK"
	fi
	printf '  %-42s %7.3f s ±%.3f %5s x %7.3f s ±%.3f %5s x %7s %s\n' "$1" "$T" "$TS" "$ratio" "$C" "$CS" "$cratio" "$rss" "${bound/#-/}"
}
skip() { printf '  %-44s skipped: %s\n' "$1" "$2"; }
verdict() { # TEXT OK(0/1)
	printf '  target: %-60s %s\n' "$1" "$([ "$2" = 1 ] && echo ok || echo MISSED)"
}
# infer_share MODEL DIFF_WALL: shape inference's part of `show --values MODEL` (its
# ONNXDIFF_TRACE "infer" phase, median of $runs) against the wall time of `onnxdiff A B`
# on the same model (issue 11's bound: at most 25%)
infer_share() {
	local i vals= inf
	for ((i = 0; i < runs; i++)); do
		vals="$vals $(ONNXDIFF_TRACE=1 "$od" show --values "$1" 2>&1 >/dev/null |
		              sed -n 's/^trace: infer \([0-9.]*\) s wall.*/\1/p')"
	done
	inf=$(median $vals)
	[ -n "$inf" ] || { skip "shape inference" "no ONNXDIFF_TRACE line"; return; }
	local pct; pct=$(awk -v i="$inf" -v d="$2" 'BEGIN { printf "%.1f", 100 * i / d }')
	verdict "shape inference <= 25% of onnxdiff A B ($inf s, $pct %)" "$(awk -v p="$pct" 'BEGIN { print (p <= 25) ? 1 : 0 }')"
}
# within LABEL WALL CPU BASE_LABEL BASE_WALL BASE_CPU LIMIT: the verdict on a goal of
# issue 15, "LABEL within LIMIT x BASE_LABEL", in wall and in CPU time
within() {
	local w c
	w=$(awk -v a="$2" -v b="$5" 'BEGIN { printf "%.2f", a / b }')
	c=$(awk -v a="$3" -v b="$6" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	verdict "$1 <= $7 x $4 (wall $w x, CPU $c x)" \
		"$(awk -v w="$w" -v c="$c" -v l="$7" 'BEGIN { print (w <= l && c <= l) ? 1 : 0 }')"
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# ---- the sections ---------------------------------------------------------------------------
pair_section() { # name: cat, python load, show, diff on <name>.onnx and <name>-b.onnx
	local name=$1 A=$cache/$1.onnx B=$cache/$1-b.onnx
	[ -n "$have_torchvision" ] || { echo "== $name: skipped (no torchvision)"; return; }
	inputs "$name"
	local size; size=$(bytes "$A" "$B")
	echo "== $name: A = $(mb "$(bytes "$A")"), B = $(mb "$(bytes "$B")") (B: loaded and re-saved by python-onnx, a few"
	echo "   weights changed; P: a byte copy of A with one element changed)"
	warm "$A" "$B"
	base= base_cpu=
	measure "cat A B" cat "$A" "$B"; base=$T base_cpu=$C; local cat_t=$T
	row "cat A B >/dev/null"
	measure "floor A B" "$floor" "$A" "$B"; local floor_c=$C
	row "floor: pread + XXH3 of A and B, 1 thread"
	measure "python load" $PY -c 'import onnx, sys; onnx.load(sys.argv[1]); onnx.load(sys.argv[2])' "$A" "$B"
	local py_t=$T
	row "python3 onnx.load(A); onnx.load(B)" "$size"
	warm "$A"
	local saved_base=$base saved_cpu=$base_cpu
	measure "cat A" cat "$A"; base=$T base_cpu=$C; local cat_a=$T cat_a_cpu=$C
	row "cat A >/dev/null"
	measure "floor A" "$floor" "$A"; local floor_a_cpu=$C
	row "floor: pread + XXH3 of A, 1 thread"
	measure "show A" "$od" show "$A" && row "onnxdiff show A (hashes every payload)" "$(bytes "$A")"
	local show_t=$T show_c=$C
	base=$saved_base base_cpu=$saved_cpu
	if ! has_cmd diff; then
		skip "onnxdiff A B" "no 'onnxdiff diff' yet"
		return
	fi
	warm "$A" "$B"
	measure "diff A B" "$od" "$A" "$B" || return
	row "onnxdiff A B" "$size"
	local rss_ok=$RSS_OK diff_t=$T diff_c=$C
	local P=$cache/$name-p.onnx p_t= p_c=
	if [ -f "$P" ]; then
		warm "$A" "$P"
		measure "cat A P" cat "$A" "$P"; local catp_t=$T catp_c=$C
		local ab_base=$base ab_cpu=$base_cpu
		base=$catp_t base_cpu=$catp_c           # the row against cat A P, its own baseline
		measure "diff A P" "$od" "$A" "$P" && row "onnxdiff A P (same layout, 1 element; x cat A P)" "$(bytes "$A" "$P")"
		p_t=$T p_c=$C base=$ab_base base_cpu=$ab_cpu
	fi
	if [ "$name" = vit_b_16 ]; then
		warm "$A"
		measure "show --values A" "$od" show --values "$A" && row "onnxdiff show --values A (infers shapes)" "$(bytes "$A")"
		infer_share "$A" "$diff_t"
		within "onnxdiff A B" "$diff_t" "$diff_c" "cat A B" "$cat_t" "$base_cpu" 1.3
		[ -n "$p_t" ] && within "onnxdiff A P" "$p_t" "$p_c" "cat A P" "$catp_t" "$catp_c" 1.3
		within "onnxdiff show A" "$show_t" "$show_c" "cat A" "$cat_a" "$cat_a_cpu" 1.2
		# the same goals against reading and hashing alone, which no content hash beats
		printf '  floor: pread + XXH3 of A and B costs %s x cat A B in CPU, of A %s x cat A;\n' \
			"$(awk -v a="$floor_c" -v b="$base_cpu" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$floor_a_cpu" -v b="$cat_a_cpu" 'BEGIN { printf "%.2f", a / b }')"
		printf '         onnxdiff A B costs %s x that floor in CPU, show A %s x\n' \
			"$(awk -v a="$diff_c" -v b="$floor_c" 'BEGIN { printf "%.2f", a / b }')" \
			"$(awk -v a="$show_c" -v b="$floor_a_cpu" 'BEGIN { printf "%.2f", a / b }')"
		verdict "python load >= 5 x onnxdiff A B ($(awk -v p="$py_t" -v t="$diff_t" 'BEGIN { printf "%.1f", p / t }') x)" \
			"$(ge "$py_t" "$(awk -v t="$diff_t" 'BEGIN { print 5 * t }')" && echo 1)"
		verdict "peak RSS <= 1.1 x (A + B) + 64 MB" "$([ "$rss_ok" = ok ] && echo 1)"
	fi
}

big_section() {
	local A=$cache/big.onnx B=$cache/big-b.onnx
	inputs big
	local sa sb; sa=$(bytes "$A" "$A.data") sb=$(bytes "$B" "$B.data")
	echo "== big: A = $(mb "$sa") (.onnx $(mb "$(bytes "$A")") + external data), B = $(mb "$sb") (a few weights changed)"
	warm "$A" "$A.data" "$B" "$B.data"
	base= base_cpu=
	measure "cat A B" cat "$A" "$A.data" "$B" "$B.data"; base=$T base_cpu=$C
	row "cat A A.data B B.data >/dev/null"
	warm "$A" "$A.data"
	measure "show A" "$od" show "$A" && row "onnxdiff show A" "$sa"
	if has_cmd diff; then
		warm "$A" "$A.data" "$B" "$B.data"
		measure "diff A B" "$od" "$A" "$B" && row "onnxdiff A B" "$((sa + sb))" &&
			within "onnxdiff A B" "$T" "$C" "cat of the four files" "$base" "$base_cpu" 1.3
	else
		skip "onnxdiff A B" "no 'onnxdiff diff' yet"
	fi
	if has_cmd freeze; then
		local out=$cache/big-frozen.onnx
		# freeze writes every payload again (external stays external) and fsyncs it: the
		# physical limit is writing the data, so cp of the same bytes and sync is the baseline
		local saved=$runs
		[ "$runs" -gt 3 ] && runs=3     # each run writes 2.7 GB to the disk
		mkdir -p "$cache/cp.tmp"
		warm "$A" "$A.data"
		measure "cp" sh -c 'cp "$1" "$2" "$3"/ && sync' sh "$A" "$A.data" "$cache/cp.tmp"
		rm -rf "$cache/cp.tmp"
		row "cp A A.data DIR && sync"
		local cp_t=$T cp_c=$C
		warm "$A" "$A.data"
		measure "freeze A" "$od" freeze "$A" -o "$out" --set scale=0.5 &&
			row "onnxdiff freeze A -o OUT --set scale=0.5" "$sa" &&
			within "onnxdiff freeze (median of $runs)" "$T" "$C" "cp + sync" "$cp_t" "$cp_c" 1.2
		runs=$saved
		if [ -f "$out" ]; then
			printf '  %-44s %s\n' "frozen output" "$(mb "$(bytes "$out")") + $(ls "$(dirname "$out")" | grep -c "^$(basename "$out").*data") side file(s), $(mb "$(cat "$(dirname "$out")/$(basename "$out")"*.data 2>/dev/null | wc -c)") external"
			has_cmd check && "$od" check --inputs x "$out" >/dev/null 2>&1 &&
				printf '  %-44s %s\n' "onnxdiff check --inputs x OUT" "passes"
			[ -n "$keep" ] || rm -f "$out" "$out".*data
		fi
	else
		skip "onnxdiff freeze A -o OUT --set scale=0.5" "no 'onnxdiff freeze' yet"
	fi
}

nodes_section() {
	inputs graphs
	local a20=$cache/g20k.onnx a200=$cache/g200k.onnx
	echo "== nodes: generated graphs, $($PY -c 'import onnx,sys; print(" and ".join("%d" % len(onnx.load(f).graph.node) for f in sys.argv[1:]))' "$a20" "$a200") nodes; B renames everything and makes a few edits"
	warm "$a20" "$a200"
	base= base_cpu=
	measure "show 20k" "$od" show "$a20" && row "onnxdiff show g20k"
	measure "show 200k" "$od" show "$a200" && row "onnxdiff show g200k"
	if ! has_cmd diff; then
		skip "onnxdiff g20k g20k-b" "no 'onnxdiff diff' yet"
		return
	fi
	warm "$cache"/g20k*.onnx "$cache"/g200k*.onnx
	# alternated, so that both see the same load from whatever else runs on the machine
	local i
	for ((i = 0; i < runs; i++)); do
		once d20 "diff 20k" "$od" "$a20" "$cache/g20k-b.onnx" &&
			once d200 "diff 200k" "$od" "$a200" "$cache/g200k-b.onnx" || return
	done
	summary d20; local t20=$T c20=$C; row "onnxdiff g20k g20k-b"
	summary d200; local t200=$T c200=$C; row "onnxdiff g200k g200k-b"
	measure "show --values 200k" "$od" show --values "$a200" && row "onnxdiff show --values g200k"
	infer_share "$a200" "$t200"
	local r rc
	r=$(awk -v a="$t200" -v b="$t20" 'BEGIN { printf "%.1f", a / b }')
	rc=$(awk -v a="$c200" -v b="$c20" 'BEGIN { printf "%.1f", a / b }')
	verdict "200k diff < 12 x 20k diff ($r x wall, $rc x CPU)" "$(awk -v r="$r" 'BEGIN { print (r < 12) ? 1 : 0 }')"
}

# Inputs that once cost the square of their size (make-inputs.py shapes=N; tests/cli/scale.sh
# checks the same at small sizes), at N and 4N: 4N should cost about 4 times N (16 times
# when quadratic) and stay within the memory bound. Then diff --fold against diff on a long
# chain. SHAPES_N (default 10000) and CHAIN_N (default 1000000) set the sizes.
shapes_section() {
	local n=${SHAPES_N:-10000} chain=${CHAIN_N:-1000000} c=$cache
	local big=$((4 * n)) label args files k t1 c1
	inputs "shapes=$n" "shapes=$big" "chain=$chain"
	echo "== shapes: N = $n and 4N = $big (and a chain of $chain nodes)"
	base= base_cpu=
	while IFS='|' read -r label args files; do
		for k in $n $big; do
			# shellcheck disable=SC2086 # word lists
			measure "$label" "$od" ${args//@/$k} || continue
			row "$label, N=$k" "$(bytes ${files//@/$k})"
			if [ "$k" = "$n" ]; then
				t1=$T c1=$C
			else
				printf '  %-44s %5.1f x wall %5.1f x CPU\n' "  4N / N" \
					"$(awk -v a="$T" -v b="$t1" 'BEGIN { print a / b }')" \
					"$(awk -v a="$C" -v b="$c1" 'BEGIN { print a / b }')"
			fi
		done
	done <<-LIST
	show, N spellings of one location|show $c/locs-@.onnx|$c/locs-@.onnx $c/locs-@.data
	freeze --set x=1, N outputs folded|freeze $c/outputs-@.onnx -o $work/out.onnx --set x=1|$c/outputs-@.onnx
	diff, N opset imports|diff $c/opsets-@.onnx $c/opsets-@-b.onnx|$c/opsets-@.onnx $c/opsets-@-b.onnx
	diff, N If nodes, one-node branches|diff $c/ifs-@.onnx $c/ifs-@-b.onnx|$c/ifs-@.onnx $c/ifs-@-b.onnx
	diff, N chained local functions|diff $c/funcs-@.onnx $c/funcs-@-b.onnx|$c/funcs-@.onnx $c/funcs-@-b.onnx
	LIST
	local A=$c/chain-$chain.onnx B=$c/chain-$chain-b.onnx i
	warm "$A" "$B"
	for ((i = 0; i < runs; i++)); do   # alternated: both see the same load
		once cd "diff chain" "$od" diff "$A" "$B" && once cf "diff --fold chain" "$od" diff --fold "$A" "$B" || return
	done
	summary cd; local td=$T ccd=$C; row "diff, a chain of $chain nodes" "$(bytes "$A" "$B")"
	summary cf; row "diff --fold, the same" "$(bytes "$A" "$B")"
	printf '  %-44s %5.2f x wall %5.2f x CPU\n' "  --fold / diff" \
		"$(awk -v a="$T" -v b="$td" 'BEGIN { print a / b }')" "$(awk -v a="$C" -v b="$ccd" 'BEGIN { print a / b }')"
}

# onnxdiff run against onnxruntime-node's session.run, one thread each, then all threads
# each, on $EVAL_MODELS (default: resnet50 vit_b_16 mobilenet_v2 mobilenet_v3_small;
# EVAL_MODELS=resnet50 for the resnet alone). The ratio is onnxdiff's median time over onnxruntime's: 1.5 is the target.
eval_section() {
	local name t_od t_ort threads out act rss_kib
	[ -n "$have_torchvision" ] || { echo "== eval: skipped (no torchvision)"; return; }
	[ -d "$top/tests/oracle/node_modules/onnxruntime-node" ] ||
		{ echo "== eval: skipped (no tests/oracle/node_modules: cd tests/oracle && npm ci --ignore-scripts)"; return; }
	has_cmd run || { echo "== eval: skipped (no 'onnxdiff run' yet)"; return; }
	echo "== eval: onnxdiff run (median of --repeat $runs, loading excluded) / onnxruntime-node session.run (median of $runs)"
	# OpenBLAS picks its kernels for the CPU unless OPENBLAS_CORETYPE names them (some
	# machines pin an older core for reproducible numbers): then the detected core too
	local core detected cores
	core=$(OPENBLAS_VERBOSE=2 "$od" --version 2>&1 | sed -n 's/^Core: //p')
	detected=$(env -u OPENBLAS_CORETYPE OPENBLAS_VERBOSE=2 "$od" --version 2>&1 | sed -n 's/^Core: //p')
	echo "   OpenBLAS kernels: $core${OPENBLAS_CORETYPE:+ (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE; detected: $detected)}"
	cores=$core
	[ -n "${OPENBLAS_CORETYPE:-}" ] && [ "$detected" != "$core" ] && cores="$core $detected"
	for name in ${EVAL_MODELS:-resnet50 vit_b_16 mobilenet_v2 mobilenet_v3_small}; do
		inputs "$name"
		for run_core in $cores; do
		for threads in 1 "$(nproc)"; do
			out=$(OPENBLAS_CORETYPE=$run_core "$od" run "$cache/$name.onnx" -o "$work/eval" --threads "$threads" --repeat "$runs")
			t_od=$(printf '%s\n' "$out" | sed -n 's/^eval: median \([0-9.]*\) ms.*/\1/p')
			# what `run` prints as activations, in bytes: the same on every run
			act=$(printf '%s\n' "$out" | sed -n 's/^activations: \([0-9.]*\) \(B\|KiB\|MiB\) .*/\1 \2/p' |
			      awk '{ printf "%.0f\n", $1 * ($2 == "MiB" ? 1048576 : $2 == "KiB" ? 1024 : 1) }')
			t_ort=$(node "$top/scripts/bench/ort-time.js" "$cache/$name.onnx" "$threads" "$runs")
			if [ -z "$t_od" ] || [ -z "$t_ort" ]; then skip "$name, $threads thread(s)" "a run failed"; continue; fi
			printf '  %-20s %2s thread(s), %-10s onnxdiff %9.1f ms, onnxruntime %9.1f ms, ratio %5.2f\n' \
				"$name" "$threads" "$run_core:" "$t_od" "$t_ort" "$(awk -v a="$t_od" -v b="$t_ort" 'BEGIN { print a / b }')"
		done
		done
		# issue 12's memory bound: peak RSS at most the mapped weights (the file) plus twice
		# the most bytes of node outputs alive at once
		once rss "run $name" "$od" run "$cache/$name.onnx" -o "$work/eval" --threads 1 || continue
		summary rss; rss_kib=$M
		[ -n "$act" ] || { skip "$name peak RSS" "no activations line"; continue; }
		verdict "$name run peak RSS $(mb $((rss_kib * 1024))) <= $(mb "$(bytes "$cache/$name.onnx")") file + 2 x $(mb "$act") activations" \
			"$(awk -v r="$rss_kib" -v f="$(bytes "$cache/$name.onnx")" -v a="$act" 'BEGIN { print (r * 1024 <= f + 2 * a) ? 1 : 0 }')"
	done
}

# ---- run ------------------------------------------------------------------------------------
mem=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "onnxdiff benchmark: $("$od" --version 2>/dev/null), $(git -C "$top" rev-parse --short HEAD 2>/dev/null)"
echo "machine: $(nproc) CPUs ($cpu), $mem RAM, $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "median of $runs runs each, warm page cache; columns: wall time ± spread (max - min), wall / cat wall,"
echo "CPU time (user + sys) ± spread, CPU / cat CPU, peak RSS, RSS bound 1.1 x size + 64 MB"
for s in $sections; do
	case $s in
	vit) pair_section vit_b_16 ;;
	resnet) pair_section resnet50 ;;
	big) big_section ;;
	nodes) nodes_section ;;
	shapes) shapes_section ;;
	eval) eval_section ;;
	*) say "bench: unknown section '$s'"; exit 2 ;;
	esac
done
