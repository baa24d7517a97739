#!/bin/sh
# workflows.sh — the README's workflow on stock exports (fixtures/encoder, bert, decoder):
# freeze the argument, then `diff --fold` against the module exported with the value as a
# buffer exits 0; a merged decoder frozen on use_cache_branch keeps exactly the inputs of
# the branch it took. onnxruntime's word on the frozen models is in freeze-oracle.sh.
. "$top_srcdir/tests/cli/lib.sh"

# workflow NAME MODEL INPUT VALUE.npy WRAPPER: freeze, then diff --fold against the wrapper
workflow() {
	expect 0 "$1: freeze $3" -- od freeze "$2" -o "$T/$1.onnx" --set "$3=@$4" --expect-inputs x
	grep_ok "$T/out" '^folded: [0-9]+ nodes \([1-9][0-9]* from shapes\)' "$1: shape arithmetic folds"
	expect 0 "$1: diff --fold equals the wrapper" -- od diff --fold "$T/$1.onnx" "$5"
	[ -s "$T/out" ] && echo "$(head -20 "$T/out" | sed 's/^/#   /')"
	expect 0 "$1: no shape arithmetic is left" -- od check --no-op Shape,Gather,Unsqueeze,Concat "$T/$1.onnx"
}

# nn.TransformerEncoder(x, src_key_padding_mask=mask), batch and seq dynamic
E="$FIX/encoder"
workflow encoder "$E/with_mask.onnx" mask "$E/mask.npy" "$E/wrapper.onnx"
# The wrapper exported with dynamic axes is another model: its x stays [batch,seq,16] and
# the buffer is reshaped to [batch,1,1,seq], so any batch*seq = 8 runs (onnxruntime takes a
# [2,4,16] x). The diff says so, starting with the interface.
expect 1 "encoder: the dynamic-axes wrapper differs" -- od diff --fold "$T/encoder.onnx" "$E/wrapper-dynamic.onnx"
grep_ok "$T/out" '^~ input x: float\[1,8,16\] -> float\[batch,seq,16\]$' "encoder: first the dims the mask fixed"

# a BERT-style block: x.size() head split, (1 - mask) * finfo.min, batch and sequence dynamic
B="$FIX/bert"
workflow bert "$B/with_mask.onnx" attention_mask "$B/attention_mask.npy" "$B/wrapper.onnx"

# an optimum-style merged decoder: If on use_cache_branch, the with-past branch reads past_*
D="$FIX/decoder/decoder_model_merged.onnx"
expect 0 "decoder: freeze use_cache_branch=false" -- \
	od freeze "$D" -o "$T/dec0.onnx" --set use_cache_branch=@"$FIX/decoder/use_cache_false.npy" \
	--expect-inputs input_ids,encoder_hidden_states
grep_ok "$T/out" '^folded: 0 nodes, 1 If inlined' "decoder: the If is inlined"
grep_ok "$T/out" '^dropped: past_key_values\.0\.key, past_key_values\.0\.value \(no longer read\)$' \
	"decoder: the past inputs are listed as dropped"
expect 0 "decoder: exactly input_ids, encoder_hidden_states" -- \
	od check --inputs input_ids,encoder_hidden_states --no-op If "$T/dec0.onnx"
expect 0 "decoder: freeze use_cache_branch=true" -- \
	od freeze "$D" -o "$T/dec1.onnx" --set use_cache_branch=true \
	--expect-inputs input_ids,encoder_hidden_states,past_key_values.0.key,past_key_values.0.value
if grep -q '^dropped:' "$T/out"; then not_ok "decoder: nothing dropped with true" "$(cat "$T/out")"
else ok "decoder: nothing dropped with true"; fi
expect 0 "decoder: the past inputs stay" -- \
	od check --inputs input_ids,encoder_hidden_states,past_key_values.0.key,past_key_values.0.value \
	--no-op If "$T/dec1.onnx"
expect 0 "decoder: --keep-unused-inputs keeps them with false" -- \
	od freeze -q "$D" -o "$T/deck.onnx" --set use_cache_branch=false --keep-unused-inputs \
	--expect-inputs input_ids,encoder_hidden_states,past_key_values.0.key,past_key_values.0.value

# Silero's branching (fixtures/if/sr.onnx): freezing sr inlines its If and the If on the
# conv's static channel count; the If on the dynamic length stays
S="$FIX/if/sr.onnx"
# z.size(-1) as torch exports it: Slice(Shape(z), -1, INT64_MAX), read exactly
expect 0 "sr: show --values" -- od show --values "$S"
grep_ok "$T/out" '^  /Slice_1_output_0 +int64\[1\]$' "sr: a Slice to INT64_MAX of a shape has one element"
expect 0 "sr: freeze sr=16000" -- od freeze "$S" -o "$T/sr.onnx" --set sr=16000
grep_ok "$T/out" '^folded: [0-9]+ nodes \(1 from shapes\), 2 If inlined' "sr: the If on a static dim folds from shapes"
od show --json "$T/sr.onnx" >"$T/sr.json" 2>"$T/err"
if grep -Eq '^ *"If": 1,?$' "$T/sr.json"; then ok "sr: one If left (on the dynamic length)"
else not_ok "sr: one If left (on the dynamic length)" "$(grep -o '"If[^,]*' "$T/sr.json")"; fi
done_testing
