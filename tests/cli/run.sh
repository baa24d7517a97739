#!/bin/sh
# run.sh — `onnxdiff run`: outputs as .npy with a summary line each, feeds checked like
# freeze --set, seeded random inputs, an op without a kernel named with its node
# (run-oracle.sh compares the outputs with onnxruntime's).
. "$top_srcdir/tests/cli/lib.sh"

expect 0 "run seed with both inputs fed" -- od run "$FIX/seed/with_mask.onnx" -o "$T/o1" \
	--feed x=@"$FIX/seed/x.npy" --feed mask=@"$FIX/seed/mask.npy"
grep_ok "$T/out" '^y  float\[2,4\]  min -?[0-9.e-]+  max -?[0-9.e-]+  mean -?[0-9.e-]+  -> .*/o1/y\.npy$' "a line per output: dtype, shape, min, max, mean, file"
grep_ok "$T/out" '^eval: [0-9.]+ ms$' "the evaluation time"
# the written output is a value run can read back (y has the shape of x)
expect 0 "the .npy output reads back as a value" -- od run "$FIX/seed/with_mask.onnx" -o "$T/o2" \
	--feed x=@"$T/o1/y.npy" --feed mask=@"$FIX/seed/mask.npy"

# seeded random inputs: the same seed gives the same file, another seed another
od run -q "$FIX/cnn/model.onnx" -o "$T/s1" --seed 7 >/dev/null 2>&1
od run -q "$FIX/cnn/model.onnx" -o "$T/s2" --seed 7 >/dev/null 2>&1
od run -q "$FIX/cnn/model.onnx" -o "$T/s3" --seed 8 >/dev/null 2>&1
if cmp -s "$T/s1/logits.npy" "$T/s2/logits.npy"; then ok "same seed, same outputs"; else not_ok "same seed, same outputs"; fi
if cmp -s "$T/s1/logits.npy" "$T/s3/logits.npy"; then not_ok "another seed, other outputs"; else ok "another seed, other outputs"; fi
expect 0 "--dim sizes a symbolic dim" -- od run "$FIX/cnn/model.onnx" -o "$T/dim" --dim batch=3
grep_ok "$T/out" '^logits  float\[3,5\]' "batch 3 gives 3 rows of logits"
# x * mask then Gemm: both [3,4] float outputs are alive while Gemm runs, and no more
expect 0 "the activations alive at once" -- od run "$FIX/seed/with_mask.onnx" -o "$T/act" --dim batch=3
grep_ok "$T/out" '^activations: 96 B alive at most$' "Mul's and Gemm's [3,4] outputs: 96 B"
expect 0 "--repeat" -- od run "$FIX/seed/with_mask.onnx" -o "$T/r" --repeat 3 --threads 1
grep_ok "$T/out" '^eval: median [0-9.]+ ms over 3 runs$' "--repeat prints the median"
expect 0 "Loop with a carried and a scanned value" -- od run "$FIX/run/loop.onnx" -o "$T/loop"
grep_ok "$T/out" '^history  float\[3,2,3\]' "the scan output stacks 3 iterations"
expect 0 "Scan with reversed and non-zero axes" -- od run "$FIX/run/scan.onnx" -o "$T/scan"
grep_ok "$T/out" '^ys  float\[2,4\]' "the scan output stacks 4 steps along axis -1"
# Scan-8 on ones, sequence_lens [3, 2]: running sums 1 2 3 and 1 2, zeros past the second
expect 0 "Scan-8 with a short sequence" -- od run "$FIX/run/scan8.onnx" -o "$T/scan8" \
	--feed 's0=[[0,0],[0,0]]' --feed 'xs=[[[1,1],[1,1],[1,1]],[[1,1],[1,1],[1,1]]]'
grep_ok "$T/out" '^s_final  float\[2,2\]  min 2  max 3  mean 2\.5 ' "Scan-8: each sequence stops at its length"
grep_ok "$T/out" '^ys  float\[2,3,2\]  min 0  max 3  mean 1\.5 ' "Scan-8: outputs past a short sequence are zeros"

# opset 23's Attention: grouped-query heads, a KV cache, a mask, causal; the probabilities
# of each query sum to 1 over its 7 keys
expect 0 "Attention-23" -- od run "$FIX/run/attention.onnx" -o "$T/attn"
grep_ok "$T/out" '^y  float\[2,3,32\] ' "Y in Q's layout: [batch, seq, heads * size]"
grep_ok "$T/out" '^present_key  float\[2,2,7,8\] ' "the cache grows by the new keys"
grep_ok "$T/out" '^qk  float\[2,4,3,7\]  min 0  max [0-9.]*  mean 0\.142857 ' "probabilities: mean 1/7"

# STFT of Hann windows, then the inverse DFT of each frame: the windowed frames, whose
# imaginary parts are zero (the spectrum of a real frame is Hermitian)
expect 0 "STFT and inverse DFT" -- od run "$FIX/run/stft.onnx" -o "$T/stft"
grep_ok "$T/out" '^spec  float\[2,22,64,2\] ' "22 frames of 64 bins"
grep_ok "$T/out" '^frames  float\[2,22,64,2\]  min -0\.98[0-9]*  max 0\.99[0-9]* ' "the frames again: a Hann window times samples in [-1, 1)"

# trouble: one line, exit 2, no output written
expect 2 "no kernel" -- od run "$FIX/run/custom-op.onnx" -o "$T/none"
same "$T/err" "no kernel: the op and the node named" /dev/stdin <<EOT
error: cannot run '$FIX/run/custom-op.onnx': no kernel for com.microsoft::Attention (node 'attn_0')
EOT
if [ -e "$T/none" ]; then not_ok "nothing written when the model cannot run"; else ok "nothing written when the model cannot run"; fi
expect 2 "a feed of the wrong dtype" -- od run "$FIX/seed/with_mask.onnx" -o "$T/bad" --feed x=@"$FIX/bad/mask-int.npy"
grep_ok "$T/err" "^error: cannot run '.*with_mask.onnx': value for 'x' has dtype int32, input is float\[batch,4\]$" "the dtype refused like freeze --set"
expect 2 "a feed of the wrong shape" -- od run "$FIX/seed/with_mask.onnx" -o "$T/bad" --feed mask='[1,2,3]'
grep_ok "$T/err" "value for 'mask' has shape \[3\], input is float\[1,4\]" "the shape refused like freeze --set"
expect 2 "an unknown input" -- od run "$FIX/seed/with_mask.onnx" -o "$T/bad" --feed nope=1
grep_ok "$T/err" "^error: input 'nope' not found in graph$" "the unknown input named"
# an output past half the machine's memory is refused before it is allocated (the kernel
# would fill memory the system promised without having it, until the OOM killer came)
expect 0 "a fill of a fed shape" -- od run "$FIX/run/fill.onnx" -o "$T/fill" --feed 'shape=[1000]'
grep_ok "$T/out" '^total  float\[\]  min 1000  max 1000  mean 1000 ' "1000 ones sum to 1000"
over=$(awk '/^MemTotal:/ { printf "%.0f", $2 * 1024 / 2 / 4 + 1 }' /proc/meminfo)
expect 2 "an output past half the memory ($over floats)" -- od run "$FIX/run/fill.onnx" -o "$T/fill2" --feed "shape=[$over]"
grep_ok "$T/err" "^error: cannot run '.*fill.onnx': node '[^']*' \(ConstantOfShape\): .*output of $over elements exceeds the limit of [0-9]+$" "refused, the node named"
expect 2 "no -o" -- od run "$FIX/seed/with_mask.onnx"
one_error 2 "--threads 0 refused" "^error: .*--threads" -- od run "$FIX/seed/with_mask.onnx" -o "$T/bad" --threads 0

done_testing
