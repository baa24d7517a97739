// ort-time.js: onnxruntime's session.run time on a model, for scripts/bench.sh's eval
// section: node ort-time.js MODEL THREADS RUNS. Every input gets 0.5 (floats) or 1 (ints),
// symbolic dims 1; prints the median milliseconds of RUNS runs after one warm-up.
'use strict';
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'tests', 'oracle', 'node_modules', 'onnxruntime-node'));

async function main([file, threads, runs]) {
  const s = await ort.InferenceSession.create(file, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, logSeverityLevel: 4 });
  const feeds = {};
  s.inputNames.forEach((name, i) => {
    const m = s.inputMetadata[i];
    const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    const n = dims.reduce((a, b) => a * b, 1);
    feeds[name] = m.type === 'int64' ? new ort.Tensor('int64', new BigInt64Array(n).fill(1n), dims)
      : new ort.Tensor('float32', new Float32Array(n).fill(0.5), dims);
  });
  await s.run(feeds);
  const t = [];
  for (let i = 0; i < Number(runs); i++) {
    const t0 = process.hrtime.bigint();
    await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  const k = t.length >> 1;
  console.log((t.length % 2 ? t[k] : (t[k - 1] + t[k]) / 2).toFixed(3));
}

main(process.argv.slice(2)).catch((e) => { console.error(`ort-time: ${e.message}`); process.exitCode = 2; });
