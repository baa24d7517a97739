#!/bin/sh
# verify.sh — `onnxdiff verify A B`: a renamed and reordered copy computes the same (exit
# 0); a copy with one Conv weight scaled by 1.5 does not (exit 1), and the first diverging
# pair of matched nodes is that Conv; feeds named in one model go to that one; trouble is
# exit 2. Also `freeze --verify`.
. "$top_srcdir/tests/cli/lib.sh"

expect 0 "a renamed and reordered copy is the same" -- od verify "$FIX/cnn/model.onnx" "$FIX/cnn/renamed.onnx"
same "$T/out" "outputs paired by position when the names differ" /dev/stdin <<EOT
logits <-> t40: float[1,5]  max abs 0  max rel 0  ok
same: 1 output within atol 1e-05 rtol 0.0001 (1 sample)
EOT
expect 0 "the transformer's renamed copy, 3 samples, batch 2" -- od verify "$FIX/transformer/with_mask.onnx" "$FIX/transformer/renamed.onnx" --samples 3
grep_ok "$T/out" '^same: 1 output within atol 1e-05 rtol 0.0001 \(3 samples\)$' "the tolerance and the samples said"

expect 1 "one Conv weight scaled by 1.5 differs" -- od verify "$FIX/cnn/model.onnx" "$FIX/cnn/scaled.onnx"
grep_ok "$T/out" '^logits <-> logits: float\[1,5\]  max abs [0-9.e-]+  max rel [0-9.e-]+  DIFFERENT$' "the output differs"
# the last line, and the only divergence line: the scaled Conv, not a node after it
if [ "$(grep -c '^first divergence: ' "$T/out")" = 1 ] &&
   tail -1 "$T/out" | grep -qE "^first divergence: Conv '/layer2/conv2/Conv' <-> '/layer2/conv2/Conv': max abs [0-9.e-]+$"
then ok "the scaled Conv is the first divergence"
else not_ok "the scaled Conv is the first divergence" "$(cat "$T/out")"; fi
# node11 of renamed.onnx is /layer2/conv2/Conv renamed (same weight, another node order)
expect 1 "the same against the renamed copy's names" -- od verify "$FIX/cnn/scaled.onnx" "$FIX/cnn/renamed.onnx"
grep_ok "$T/out" "^first divergence: Conv '/layer2/conv2/Conv' <-> 'node11': max abs [0-9.e-]+$" "found through the structural pairing, not names"
expect 0 "a loose tolerance accepts it" -- od verify "$FIX/cnn/model.onnx" "$FIX/cnn/scaled.onnx" --atol 1 --rtol 1
# torchvision's mobilenet_v3_small: depthwise convs, squeeze-and-excitation, HardSwish
expect 0 "mobilenet: a renamed and reordered copy is the same" -- od verify "$FIX/mobilenet/model.onnx" "$FIX/mobilenet/renamed.onnx"
expect 1 "mobilenet: the last depthwise Conv scaled by 1.5 differs" -- od verify "$FIX/mobilenet/scaled.onnx" "$FIX/mobilenet/renamed.onnx"
grep_ok "$T/out" "^first divergence: Conv '/features/features.11/block/block.1/block.1.0/Conv' <-> 'node[0-9]+': max abs [0-9.e-]+$" "found through the structural pairing: the depthwise Conv"
# torchvision's Swin: shifted-window masks from shape chains, Dropout in training mode with
# ratio 0 (torchvision calls F.dropout without training=), LayerNorms that undo most of a
# scaled patch embedding
expect 0 "swin: a renamed and reordered copy is the same" -- od verify "$FIX/swin/model.onnx" "$FIX/swin/renamed.onnx"
expect 1 "swin: the patch embedding scaled by 1.5 differs" -- od verify "$FIX/swin/scaled.onnx" "$FIX/swin/renamed.onnx"
grep_ok "$T/out" "^first divergence: Conv '/features/features.0/features.0.0/Conv' <-> 'node[0-9]+': max abs [0-9.e-]+$" "found through the structural pairing: the patch embedding"
expect 1 "--json" -- od verify --json "$FIX/cnn/model.onnx" "$FIX/cnn/scaled.onnx"
grep_ok "$T/out" '"schema": "onnxdiff-verify/1"' "JSON schema"
grep_ok "$T/out" '"op": "Conv"' "JSON names the diverging op"

# a feed named in one model only goes to that one
expect 0 "original fed the mask vs the wrapper" -- od verify "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx" --feed mask=@"$FIX/seed/mask.npy"
expect 1 "without the mask they differ" -- od verify "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx"
grep_ok "$T/out" "^first divergence: Mul '/Mul' <-> '/m/Mul'" "at the Mul that reads the mask"
expect 2 "a feed neither model has" -- od verify "$FIX/seed/with_mask.onnx" "$FIX/seed/wrapper.onnx" --feed nope=1
grep_ok "$T/err" "^error: input 'nope' not found in " "named"
expect 2 "no kernel is trouble" -- od verify "$FIX/run/custom-op.onnx" "$FIX/run/custom-op.onnx"
grep_ok "$T/err" "no kernel for com.microsoft::Attention \(node 'attn_0'\)" "the op named"

# freeze --verify checks the result before writing it
expect 0 "freeze --verify writes a correct freeze" -- od freeze --verify -q "$FIX/seed/with_mask.onnx" -o "$T/f.onnx" --set mask=@"$FIX/seed/mask.npy"
expect 0 "the frozen model is the wrapper export" -- od verify "$T/f.onnx" "$FIX/seed/wrapper.onnx"
expect 0 "freeze --verify on the transformer" -- od freeze --verify -q "$FIX/transformer/with_mask.onnx" -o "$T/t.onnx" --set attention_mask=@"$FIX/transformer/attention_mask.npy"
done_testing
