#!/usr/bin/env node
// ort-compare.js: onnxruntime as an oracle for freezing.
//
//   node ort-compare.js ORIG.onnx FROZEN.onnx [--set name=FILE.npy]...
//        [--input name=FILE.npy]... [--seed N] [--rtol 1e-5] [--atol 1e-6]
//
// Runs ORIG with every input fed (the --set values, the --input values, and
// deterministic pseudo-random data for the rest), runs FROZEN with the inputs it
// still declares (same data), and compares the outputs by position and name:
// same count, names, types, shapes, and values within |a - b| <= atol + rtol * |a|
// (a from ORIG; integers and bools exactly; NaN matches NaN).
// Exit 0 when all agree, 1 with a line per mismatch, 2 on trouble.
'use strict';

const lib = require('./lib');

const USAGE = 'usage: node ort-compare.js ORIG.onnx FROZEN.onnx [--set name=FILE.npy]... ' +
  '[--input name=FILE.npy]... [--seed N] [--rtol R] [--atol A]';

function number(text, what) {
  const v = Number(text);
  if (text === '' || !Number.isFinite(v) || v < 0) throw new lib.Trouble(`bad ${what} '${text}'`);
  return v;
}

// Values for every input either model declares: given ones first, so that
// symbolic dims learn their sizes from them, then generated ones.
function inputValues(args, origMeta, frozenMeta, seed) {
  const values = new Map(), dimSizes = new Map();
  for (const [name, file] of [...args.set, ...args.input]) {
    if (values.has(name)) throw new lib.Trouble(`input '${name}' given twice`);
    const meta = origMeta.get(name);
    if (!meta) throw new lib.Trouble(`input '${name}' not found in ORIG`);
    const value = lib.readNpy(file);
    if (value.type !== meta.type)
      throw new lib.Trouble(`input '${name}' is ${meta.type} but '${file}' holds ${value.type}`);
    values.set(name, value);
    lib.learnDims(meta, value, dimSizes);
    lib.learnDims(frozenMeta.get(name), value, dimSizes);
  }
  for (const meta of [...origMeta.values(), ...frozenMeta.values()])
    if (!values.has(meta.name)) values.set(meta.name, lib.generate(meta, dimSizes, seed));
  return values;
}

async function run(session, file, values) {
  const feeds = {};
  for (const name of session.inputNames) feeds[name] = lib.toOrtTensor(values.get(name));
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new lib.Trouble(`cannot run '${file}': ${lib.oneLine(e)}`);
  }
  return session.outputNames.map((name) => ({ name, tensor: results[name] }));
}

// Compares one pair of tensors; returns [reason or null, max abs error].
function compareTensor(label, a, b, rtol, atol) {
  if (a.type !== b.type) return [`${label}: type ${a.type} in ORIG, ${b.type} in FROZEN`, 0];
  if (a.dims.join(',') !== b.dims.join(','))
    return [`${label}: shape [${a.dims}] in ORIG, [${b.dims}] in FROZEN`, 0];
  const exact = !a.type.startsWith('float');
  const x = exact ? a.data : lib.toNumbers(a), y = exact ? b.data : lib.toNumbers(b);
  let bad = 0, first = -1, maxErr = 0;
  for (let i = 0; i < x.length; i++) {
    const same = exact ? x[i] === y[i]
      : x[i] === y[i] || (Number.isNaN(x[i]) && Number.isNaN(y[i])) ||
        Math.abs(x[i] - y[i]) <= atol + rtol * Math.abs(x[i]);
    const err = exact ? Math.abs(Number(x[i]) - Number(y[i])) : Math.abs(x[i] - y[i]);
    if (err > maxErr || Number.isNaN(err)) maxErr = Number.isNaN(err) ? maxErr : err;
    if (!same && bad++ === 0) first = i;
  }
  if (!bad) return [null, maxErr];
  return [`${label}: ${bad} of ${x.length} element(s) differ, max abs err ` +
          `${maxErr.toPrecision(3)}, first at flat index ${first}: ${x[first]} vs ${y[first]}` +
          ` (rtol ${rtol}, atol ${atol})`, maxErr];
}

function compare(orig, frozen, rtol, atol) {
  const reasons = [];
  let maxErr = 0;
  if (orig.length !== frozen.length)
    reasons.push(`ORIG has ${orig.length} output(s), FROZEN has ${frozen.length}`);
  for (let i = 0; i < Math.min(orig.length, frozen.length); i++) {
    const a = orig[i], b = frozen[i];
    if (a.name !== b.name) reasons.push(`output ${i}: named '${a.name}' in ORIG, '${b.name}' in FROZEN`);
    const [reason, err] = compareTensor(`output ${i} '${a.name}'`, a.tensor, b.tensor, rtol, atol);
    if (reason) reasons.push(reason);
    maxErr = Math.max(maxErr, err);
  }
  return [reasons, maxErr];
}

async function main(argv) {
  const args = lib.parseArgs(argv, ['set', 'input'], ['seed', 'rtol', 'atol']);
  if (args.positional.length !== 2) throw new lib.Trouble(USAGE);
  const seed = number(args.seed ?? '0', 'seed'), rtol = number(args.rtol ?? '1e-5', 'rtol');
  const atol = number(args.atol ?? '1e-6', 'atol');
  const [origFile, frozenFile] = args.positional;
  const orig = await lib.openSession(origFile), frozen = await lib.openSession(frozenFile);
  const values = inputValues(args, lib.metadataOf(orig), lib.metadataOf(frozen), seed);
  for (const name of args.set.keys())
    if (frozen.inputNames.includes(name))
      console.error(`ort-compare: note: FROZEN still declares input '${name}'`);
  const [reasons, maxErr] = compare(await run(orig, origFile, values),
                                    await run(frozen, frozenFile, values), rtol, atol);
  for (const r of reasons) console.error(`ort-compare: ${r}`);
  if (reasons.length) return 1;
  console.log(`ort-compare: ${orig.outputNames.length} output(s) agree ` +
              `(max abs err ${Number(maxErr.toPrecision(3))})`);
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e) => {
  console.error(e instanceof lib.Trouble ? `ort-compare: ${e.message}` : e);
  process.exitCode = 2;
});
