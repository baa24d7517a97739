#!/usr/bin/env node
// ort-run.js: runs a model in onnxruntime and writes its outputs, for debugging.
//
//   node ort-run.js MODEL [--input name=FILE.npy]... [--seed N] --out DIR
//
// Inputs not given get the same deterministic data ort-compare.js would feed.
// Writes output i as DIR/<i>.npy and prints one line per output. Exit 0, or 2.
'use strict';

const fs = require('fs');
const path = require('path');
const lib = require('./lib');

async function main(argv) {
  const args = lib.parseArgs(argv, ['input'], ['seed', 'out']);
  if (args.positional.length !== 1 || !args.out)
    throw new lib.Trouble('usage: node ort-run.js MODEL [--input name=FILE.npy]... [--seed N] --out DIR');
  const [file] = args.positional;
  const session = await lib.openSession(file);
  const meta = lib.metadataOf(session), values = new Map(), dimSizes = new Map();
  for (const [name, npy] of args.input) {
    if (!meta.has(name)) throw new lib.Trouble(`input '${name}' not found in '${file}'`);
    values.set(name, lib.readNpy(npy));
    lib.learnDims(meta.get(name), values.get(name), dimSizes);
  }
  const feeds = {};
  for (const m of meta.values())
    feeds[m.name] = lib.toOrtTensor(values.get(m.name) ?? lib.generate(m, dimSizes, Number(args.seed ?? 0)));
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new lib.Trouble(`cannot run '${file}': ${lib.oneLine(e)}`);
  }
  fs.mkdirSync(args.out, { recursive: true });
  session.outputNames.forEach((name, i) => {
    const t = results[name];
    lib.writeNpy(path.join(args.out, `${i}.npy`), t);
    console.log(`${i}.npy ${name} ${t.type} [${t.dims}]`);
  });
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof lib.Trouble ? `ort-run: ${e.message}` : e);
  process.exitCode = 2;
});
