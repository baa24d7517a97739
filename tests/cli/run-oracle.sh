#!/bin/sh
# run-oracle.sh — `onnxdiff run` computes what onnxruntime computes on every committed model
# it can run (tests/oracle/run-oracle.js: the same seeded feeds, every output within rtol
# 1e-4, atol 1e-5): the small resnet, the transformer encoders, the GRU with h0, the LSTM
# with h0 and c0, If, Loop, Scan, torchvision's MobileNet and Swin. Skipped without onnxruntime-node (tests/oracle/node_modules).
. "$top_srcdir/tests/cli/lib.sh"
ORACLE="$top_srcdir/tests/oracle"
command -v node >/dev/null || skip_all "node not found: the onnxruntime oracle runs on Node.js (apt-get install nodejs)"
[ -d "$ORACLE/node_modules/onnxruntime-node" ] ||
	skip_all "no onnxruntime oracle: $ORACLE/node_modules is missing (cd tests/oracle && npm ci --ignore-scripts)"

MODELS="cnn/model cnn/scaled encoder/model rnn/gru rnn/lstm hidden/with_hidden
transformer/with_mask transformer/wrapper seed/with_mask seed/wrapper if/model run/loop run/scan run/scan8
mobilenet/model mobilenet/scaled swin/model swin/scaled run/attention run/stft"
set --
for m in $MODELS; do set -- "$@" "$FIX/$m.onnx"; done
# one node process for all models: loading onnxruntime costs about a second
node "$ORACLE/run-oracle.js" "$ONNXDIFF" "$@" --dim batch=2 --dim seq=5 >"$T/ort" 2>&1
rc=$?
for m in $MODELS; do
	line=$(grep -F "$FIX/$m.onnx: " "$T/ort")
	case $line in
	*" with onnxruntime (max abs "*) ok "onnxruntime agrees on $m: ${line#*: }" ;;
	*) not_ok "onnxruntime agrees on $m" "${line:-no line for it in:}" "$(head -c 600 "$T/ort")" ;;
	esac
done
if [ "$rc" = 0 ]; then ok "run-oracle.js exits 0"; else not_ok "run-oracle.js exits 0" "exit $rc"; fi

# the oracle notices a difference: an onnxdiff that runs the scaled copy instead
cat >"$T/fake" <<EOT
#!/bin/sh
[ "\$1" = run ] && shift 2
exec "$ONNXDIFF" run "$FIX/cnn/scaled.onnx" "\$@"
EOT
chmod +x "$T/fake"
node "$ORACLE/run-oracle.js" "$T/fake" "$FIX/cnn/model.onnx" >"$T/ort" 2>&1
rc=$?
if [ "$rc" = 1 ] && grep -q "^$FIX/cnn/model.onnx: logits: element [0-9]* is " "$T/ort"; then
	ok "a wrong output is caught: $(cat "$T/ort")"
else not_ok "a wrong output is caught" "exit $rc" "$(cat "$T/ort")"; fi
done_testing
