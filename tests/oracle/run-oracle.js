#!/usr/bin/env node
// run-oracle.js: onnxruntime judges `onnxdiff run`. Feeds a model the deterministic data
// of lib.generate (written as .npy and given to onnxdiff with --feed), runs it in both and
// compares every output: same dtype and shape, |a - b| <= atol + rtol * |b| with b from
// onnxruntime.
//
//   node run-oracle.js ONNXDIFF MODEL... [--seed N] [--rtol R] [--atol A] [--dim name=SIZE]...
//
// Prints one line per model ("MODEL: ..."); exit 0 when all agree, 1 when one does not, 2
// on trouble (onnxruntime or onnxdiff cannot run a model).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const lib = require('./lib');

function compare(name, ours, theirs, atol, rtol) {
  if (ours.type !== theirs.type || String(ours.dims) !== String(theirs.dims))
    return { bad: `${name}: onnxdiff gives ${ours.type}[${ours.dims}], onnxruntime ${theirs.type}[${theirs.dims}]`, abs: 0 };
  const a = lib.toNumbers(ours), b = lib.toNumbers(theirs);
  let abs = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(a[i]) && Number.isNaN(b[i])) continue;
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= atol + rtol * Math.abs(b[i])))
      return { bad: `${name}: element ${i} is ${a[i]}, onnxruntime ${b[i]}`, abs: d };
    abs = Math.max(abs, d);
  }
  return { bad: null, abs };
}

// One model: a line saying how they compare; 0 when they agree, 1 when not.
async function runOne(onnxdiff, file, args) {
  const rtol = Number(args.rtol ?? 1e-4), atol = Number(args.atol ?? 1e-5);
  const session = await lib.openSession(file);
  const dimSizes = new Map([...args.dim].map(([k, v]) => [k, Number(v)]));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'run-oracle-'));
  try {
    const feeds = {}, cli = ['run', file, '-o', path.join(dir, 'out')];
    for (const m of lib.metadataOf(session).values()) {
      const v = lib.generate(m, dimSizes, Number(args.seed ?? 0));
      const npy = path.join(dir, `in${Object.keys(feeds).length}.npy`);
      lib.writeNpy(npy, lib.toOrtTensor(v));
      feeds[m.name] = lib.toOrtTensor(v);
      cli.push('--feed', `${m.name}=@${npy}`);
    }
    let text;
    try {
      text = execFileSync(onnxdiff, cli, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new lib.Trouble(`onnxdiff run failed: ${lib.oneLine(e.stderr || e)}`);
    }
    const files = text.split('\n').filter((l) => l.includes(' -> ')).map((l) => l.split(' -> ').pop());
    const results = await session.run(feeds);
    if (files.length !== session.outputNames.length)
      throw new lib.Trouble(`onnxdiff wrote ${files.length} outputs, onnxruntime gives ${session.outputNames.length}`);
    let worst = 0;
    for (let i = 0; i < files.length; i++) {
      const name = session.outputNames[i];
      const theirs = results[name], ours = lib.readNpy(files[i]);
      const r = compare(name, ours, { type: theirs.type, dims: theirs.dims, data: theirs.data }, atol, rtol);
      if (r.bad) {
        console.log(`${file}: ${r.bad}`);
        return 1;
      }
      worst = Math.max(worst, r.abs);
    }
    const n = files.length === 1 ? '1 output agrees' : `${files.length} outputs agree`;
    console.log(`${file}: ${n} with onnxruntime (max abs ${worst.toPrecision(3)})`);
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(argv) {
  const args = lib.parseArgs(argv, ['dim'], ['seed', 'rtol', 'atol']);
  if (args.positional.length < 2)
    throw new lib.Trouble('usage: node run-oracle.js ONNXDIFF MODEL... [--seed N] [--rtol R] [--atol A] [--dim name=SIZE]...');
  const [onnxdiff, ...files] = args.positional;
  let rc = 0;
  for (const file of files) {
    try {
      rc = Math.max(rc, await runOne(onnxdiff, file, args));
    } catch (e) {
      if (!(e instanceof lib.Trouble)) throw e;
      console.log(`${file}: trouble: ${e.message}`);
      rc = 2;
    }
  }
  return rc;
}

main(process.argv.slice(2)).then((rc) => { process.exitCode = rc; }).catch((e) => {
  console.error(e instanceof lib.Trouble ? `run-oracle: ${e.message}` : e);
  process.exitCode = 2;
});
