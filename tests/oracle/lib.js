// lib.js: shared by ort-compare.js and ort-run.js: .npy reading and writing,
// deterministic input data, session creation and argument parsing.
'use strict';

const fs = require('fs');

// .npy descr (without byte order) -> onnxruntime tensor type and typed array
const NPY_TYPES = {
  f2: ['float16', Uint16Array], f4: ['float32', Float32Array], f8: ['float64', Float64Array],
  i1: ['int8', Int8Array], i2: ['int16', Int16Array], i4: ['int32', Int32Array],
  i8: ['int64', BigInt64Array], u1: ['uint8', Uint8Array], u2: ['uint16', Uint16Array],
  u4: ['uint32', Uint32Array], u8: ['uint64', BigUint64Array], b1: ['bool', Uint8Array],
};

class Trouble extends Error {}

function headerField(header, key, pattern, file) {
  const m = header.match(new RegExp(`'${key}'\\s*:\\s*${pattern}`));
  if (!m) throw new Trouble(`cannot read '${file}': no '${key}' in .npy header`);
  return m[1];
}

// Converts a Fortran-ordered buffer of `size`-byte items to C order.
function fortranToC(bytes, dims, size) {
  const out = new Uint8Array(bytes.length);
  const n = bytes.length / size;
  const idx = new Array(dims.length).fill(0);
  for (let c = 0; c < n; c++) {
    let f = 0;
    for (let k = dims.length - 1; k >= 0; k--) f = f * dims[k] + idx[k];
    out.set(bytes.subarray(f * size, (f + 1) * size), c * size);
    for (let k = dims.length - 1; k >= 0 && ++idx[k] === dims[k]; k--) idx[k] = 0;
  }
  return out;
}

// Reads an .npy file (format versions 1, 2, 3) into {type, dims, data}.
function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new Trouble(`cannot read '${file}': ${e.code || e.message}`);
  }
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY')
    throw new Trouble(`cannot read '${file}': not an .npy file`);
  const major = buf[6];
  if (major < 1 || major > 3)
    throw new Trouble(`cannot read '${file}': unknown .npy version ${major}`);
  const start = major === 1 ? 10 : 12;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (start + hlen > buf.length) throw new Trouble(`cannot read '${file}': truncated header`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', start, start + hlen);
  const full = headerField(header, 'descr', "'([<>|=]?[a-z]\\d+)'", file);
  const order = /^[<>|=]/.test(full) ? full[0] : '=', descr = full.replace(/^[<>|=]/, '');
  const fortran = headerField(header, 'fortran_order', '(True|False)', file) === 'True';
  const shape = headerField(header, 'shape', '\\(([^)]*)\\)', file);
  const dims = shape.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new Trouble(`cannot read '${file}': bad shape (${shape})`);
  const kind = NPY_TYPES[descr];
  if (!kind) throw new Trouble(`cannot read '${file}': unsupported dtype '${descr}'`);
  const [type, Array_] = kind;
  const size = Array_.BYTES_PER_ELEMENT;
  const count = dims.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  if (buf.length - off < count * size)
    throw new Trouble(`cannot read '${file}': shape (${shape}) needs ${count * size} bytes, ` +
                      `file has ${buf.length - off}`);
  let bytes = new Uint8Array(buf.subarray(off, off + count * size)); // copy: aligned
  if (order === '>' && size > 1)
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  if (fortran && dims.length > 1) bytes = fortranToC(bytes, dims, size);
  return { type, dims, data: new Array_(bytes.buffer, 0, count) };
}

// Writes {type, dims, data} as a version 1.0 .npy file.
function writeNpy(file, tensor) {
  const descr = Object.keys(NPY_TYPES).find((k) => NPY_TYPES[k][0] === tensor.type);
  if (!descr) throw new Trouble(`cannot write '${file}': unsupported type ${tensor.type}`);
  const shape = tensor.dims.length === 1 ? `${tensor.dims[0]},` : tensor.dims.join(', ');
  const order = descr[1] === '1' ? '|' : '<';
  let header = `{'descr': '${order}${descr}', 'fortran_order': False, 'shape': (${shape}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1;
  pre.writeUInt16LE(header.length, 8);
  const data = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), data]));
}

function halfToFloat(h) {
  const e = (h >> 10) & 0x1f, m = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

function floatToHalf(f) { // enough for values in [-1, 1): no overflow, subnormals to 0
  const a = Math.abs(f), s = f < 0 ? 0x8000 : 0;
  if (a < 2 ** -14) return s;
  const e = Math.floor(Math.log2(a));
  return s | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}

// Numbers for comparison (int64 as Number is fine for error magnitudes).
function toNumbers(tensor) {
  if (tensor.type === 'float16') return Array.from(tensor.data, halfToFloat);
  return Array.from(tensor.data, Number);
}

// mulberry32, seeded from the seed and the input name so that data does not
// depend on the order in which inputs are generated
function prng(seed, name) {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of Buffer.from(name)) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return () => {
    h = (h + 0x6d2b79f5) >>> 0;
    let t = Math.imul(h ^ (h >>> 15), 1 | h);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Deterministic data for an input declared as `meta` ({name, type, shape}):
// floats in [-1, 1), integers in 1..3, bools alternating. Symbolic dims take
// their size from `dimSizes` (dim name -> size), else 2.
function generate(meta, dimSizes, seed) {
  const dims = meta.shape.map((d) =>
    typeof d === 'number' && d >= 0 ? d : (dimSizes.get(d) ?? 2));
  const count = dims.reduce((a, b) => a * b, 1);
  const kind = Object.values(NPY_TYPES).find(([t]) => t === meta.type);
  if (!kind) throw new Trouble(`input '${meta.name}': cannot generate data of type ${meta.type}`);
  const data = new kind[1](count);
  const next = prng(seed, meta.name);
  for (let i = 0; i < count; i++) {
    const r = next();
    if (meta.type === 'bool') data[i] = i % 2 === 0 ? 1 : 0;
    else if (meta.type === 'float16') data[i] = floatToHalf(2 * r - 1);
    else if (meta.type.startsWith('float')) data[i] = 2 * r - 1;
    else if (meta.type.endsWith('64')) data[i] = BigInt(1 + Math.floor(3 * r));
    else data[i] = 1 + Math.floor(3 * r);
  }
  return { type: meta.type, dims, data };
}

// Records the size of each symbolic dim of `meta` found in the given value.
function learnDims(meta, value, dimSizes) {
  if (!meta || !Array.isArray(meta.shape) || meta.shape.length !== value.dims.length) return;
  meta.shape.forEach((d, i) => {
    if (typeof d === 'string' && d !== '' && !dimSizes.has(d)) dimSizes.set(d, value.dims[i]);
  });
}

// onnxruntime's messages span lines and repeat its source location; keep one line
function oneLine(e) {
  return String(e && e.message ? e.message : e).replace(/\s+/g, ' ').trim();
}

function ort() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new Trouble('onnxruntime-node is not installed: run ' +
                      `'npm install --ignore-scripts' in ${__dirname} (${e.message})`);
  }
}

// Opens a model with graph optimizations off, so the graph runs as written.
async function openSession(file) {
  if (!fs.existsSync(file)) throw new Trouble(`cannot open '${file}': no such file`);
  try {
    return await ort().InferenceSession.create(file,
      { graphOptimizationLevel: 'disabled', logSeverityLevel: 4 });
  } catch (e) {
    throw new Trouble(`cannot load '${file}': ${oneLine(e)}`);
  }
}

function metadataOf(session) {
  const meta = new Map();
  session.inputNames.forEach((name, i) => {
    const m = session.inputMetadata && session.inputMetadata[i];
    meta.set(name, { name, type: m ? m.type : 'float32', shape: m && m.shape ? m.shape : [] });
  });
  return meta;
}

function toOrtTensor(value) {
  return new (ort().Tensor)(value.type, value.data, value.dims);
}

// Splits argv into positional arguments and options. `repeat` options collect
// name=FILE pairs in a Map; `single` options keep their last value.
function parseArgs(argv, repeat, single) {
  const out = { positional: [] };
  for (const r of repeat) out[r] = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { out.positional.push(arg); continue; }
    const eq = arg.indexOf('=');                 // --key=value or --key value
    const key = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let value = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (!repeat.includes(key) && !single.includes(key)) throw new Trouble(`unknown option '${arg}'`);
    if (value === undefined) {
      if (++i >= argv.length) throw new Trouble(`option '${arg}' needs a value`);
      value = argv[i];
    }
    if (single.includes(key)) { out[key] = value; continue; }
    const at = value.indexOf('=');
    if (at <= 0) throw new Trouble(`option '--${key}' wants name=FILE.npy, not '${value}'`);
    out[key].set(value.slice(0, at), value.slice(at + 1));
  }
  return out;
}

module.exports = {
  Trouble, readNpy, writeNpy, toNumbers, generate, learnDims, openSession, metadataOf,
  toOrtTensor, parseArgs, oneLine,
};
