#!/usr/bin/python3
"""reader_diff.py — differential test of onnxdiff's reader against python-onnx (protobuf).

    tests/oracle/reader_diff.py ONNXDIFF [--seed N] [--count K] [--keep DIR]

Generates K models (seeded, reproducible) whose tensors are written at the wire level the
ways protobuf allows but writers rarely use: singular fields given twice (the last counts),
an embedded message given twice (protobuf merges the two: repeated fields concatenate,
scalars take the later value), repeated fields split into packed and unpacked runs, fields
in any order, over-long varints, and typed fields that need ONNX's conversion rules (bool,
int8, uint16, float16, ... in int32_data, uint32 in uint64_data). Each model is read

  * by python-onnx (onnx.load + numpy_helper.to_array): the oracle, and
  * by onnxdiff: `show --json` (each initializer's hash, recomputed here from the oracle's
    values with the same definition: xxh3-64 of int32 dtype, int32 rank, int64 dims and the
    little-endian elements), `textconv` and `diff` against the model re-serialised by
    protobuf (which must read the same: same textconv, diff exit 0).

Every disagreement is a failure, printed with the seed that reproduces it. Exit 0 when all
agree, 1 on a disagreement, 2 on trouble, 77 when python-onnx is missing.
"""
import argparse
import ctypes
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:
    print("reader_diff: skipped, python-onnx missing (%s)" % e, file=sys.stderr)
    sys.exit(77)

try:
    _xxh = ctypes.CDLL("libxxhash.so.0")
    _xxh.XXH3_64bits.restype = ctypes.c_uint64
    _xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
except OSError as e:
    print("reader_diff: skipped, libxxhash missing (%s)" % e, file=sys.stderr)
    sys.exit(77)

# TensorProto field numbers and data types (onnx.proto)
T_DIMS, T_DTYPE, T_FLOAT, T_INT32, T_STRING, T_INT64, T_NAME, T_RAW, T_DOUBLE, T_UINT64 = \
    1, 2, 4, 5, 6, 7, 8, 9, 10, 11
FLOAT, UINT8, INT8, UINT16, INT16, INT32, INT64, STRING, BOOL, FLOAT16, DOUBLE, UINT32, \
    UINT64, BFLOAT16 = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 16
NP = {FLOAT: "<f4", UINT8: "u1", INT8: "i1", UINT16: "<u2", INT16: "<i2", INT32: "<i4",
      INT64: "<i8", BOOL: "?", FLOAT16: "<u2", DOUBLE: "<f8", UINT32: "<u4", UINT64: "<u8",
      BFLOAT16: "<u2"}
DTYPES = sorted(NP) + [STRING]


# ---------------------------------------------------------------- wire encoding

def varint(v, extra=0):
    """v as a varint, with `extra` redundant continuation bytes (protobuf accepts them)."""
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            break
    if extra and len(out) + extra <= 10:    # padded: continuation bits, then a zero byte
        out[-1] |= 0x80
        out += b"\x80" * (extra - 1) + b"\x00"
    return bytes(out)


def key(field, wt):
    return varint(field << 3 | wt)


def ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return key(field, 2) + varint(len(payload)) + payload


def vi(field, v, r=None):
    return key(field, 0) + varint(v, r.choice([0, 0, 0, 1, 3]) if r else 0)


# ---------------------------------------------------------------- random tensors

def rand_value(r, dtype):
    """One element: (the value as ONNX stores it in its typed field, the element's bytes)."""
    if dtype == FLOAT:
        b = struct.pack("<f", r.choice([0.0, -0.0, 1.5, -2.25, 1e30, float("inf")])) \
            if r.random() < 0.5 else struct.pack("<I", r.getrandbits(32))
        return struct.unpack("<f", b)[0], b
    if dtype == DOUBLE:
        b = struct.pack("<Q", r.getrandbits(64))
        return struct.unpack("<d", b)[0], b
    if dtype == BOOL:       # nonzero is true, however large
        v = r.choice([0, 1, 2, 256, -1, 1 << 30, 0])
        return v, bytes([v != 0])
    if dtype in (INT8, UINT8, INT16, UINT16):   # numpy's astype: the low bytes
        v = r.randint(-(1 << 31), (1 << 31) - 1) if r.random() < 0.3 else r.randint(-300, 300)
        size = 1 if dtype in (INT8, UINT8) else 2
        return v, (v & ((1 << 8 * size) - 1)).to_bytes(size, "little")
    if dtype in (FLOAT16, BFLOAT16):            # bits in 0..65535 (onnxruntime refuses others)
        v = r.getrandbits(16)
        return v, v.to_bytes(2, "little")
    if dtype == INT32:
        v = r.randint(-(1 << 31), (1 << 31) - 1)
        return v, struct.pack("<i", v)
    if dtype == INT64:
        v = r.randint(-(1 << 63), (1 << 63) - 1)
        return v, struct.pack("<q", v)
    if dtype == UINT32:     # stored in uint64_data: the low 32 bits
        v = r.getrandbits(64) if r.random() < 0.3 else r.getrandbits(32)
        return v, (v & 0xFFFFFFFF).to_bytes(4, "little")
    if dtype == UINT64:
        v = r.choice([r.getrandbits(64), (1 << 64) - 1, 1 << 63])
        return v, v.to_bytes(8, "little")
    raise AssertionError(dtype)


def typed_field(dtype):
    """(field number, wire type of one element, struct format) of the typed field."""
    if dtype == FLOAT:
        return T_FLOAT, 5, "<f"
    if dtype == DOUBLE:
        return T_DOUBLE, 1, "<d"
    if dtype == INT64:
        return T_INT64, 0, None
    if dtype in (UINT32, UINT64):
        return T_UINT64, 0, None
    return T_INT32, 0, None


def enc_elems(r, wt, fmt, vals):
    """Elements of a repeated numeric field, packed or one by one, in random runs."""
    field_out = []
    i = 0
    while i < len(vals):
        n = r.randint(1, max(1, len(vals) - i))
        run = vals[i:i + n]
        i += n
        if wt == 0:
            body = [varint(v, r.choice([0, 0, 1])) for v in run]
        else:
            body = [struct.pack(fmt, v) for v in run]
        field_out.append(("packed", b"".join(body)) if r.random() < 0.5 else ("one", body))
    return field_out


def split_repeated(r, field, wt, fmt, vals):
    """A repeated field as wire chunks (each a bytes string of whole fields)."""
    chunks = []
    for kind, body in enc_elems(r, wt, fmt, vals):
        if kind == "packed":
            chunks.append(ld(field, body))
        else:
            chunks.extend(key(field, wt) + b for b in body)
    return chunks


def rand_tensor(r, name):
    """Returns (the TensorProto's fields as a list of wire chunks, expected dtype, dims, bytes
    of its elements or list of strings)."""
    dtype = r.choice(DTYPES)
    dims = [r.randint(0, 3) for _ in range(r.randint(0, 3))]
    n = 1
    for d in dims:
        n *= d
    chunks = []
    # name and data_type: sometimes a decoy first, the last one counts (a decoy and its
    # value share a group, whose order flatten() keeps)
    decoy = [ld(T_NAME, "decoy")] if r.random() < 0.3 else []
    chunks.append(decoy + [ld(T_NAME, name)])
    decoy = [vi(T_DTYPE, r.choice(DTYPES), r)] if r.random() < 0.3 else []
    chunks.append(decoy + [vi(T_DTYPE, dtype, r)])
    chunks.append(split_repeated(r, T_DIMS, 0, None, dims))
    if dtype == STRING:
        strs = [bytes(r.getrandbits(8) for _ in range(r.randint(0, 5))) for _ in range(n)]
        chunks.append([ld(T_STRING, s) for s in strs])
        return chunks, dtype, dims, strs
    elems = [rand_value(r, dtype) for _ in range(n)]
    payload = b"".join(e[1] for e in elems)
    if r.random() < 0.4:
        # raw_data, perhaps after one or two decoys (the last occurrence wins)
        raws = [ld(T_RAW, bytes(r.getrandbits(8) for _ in range(r.randint(0, 300))))
                for _ in range(r.choice([0, 0, 1, 2]))]
        chunks.append(raws + [ld(T_RAW, payload)])
    else:
        field, wt, fmt = typed_field(dtype)
        chunks.append(split_repeated(r, field, wt, fmt, [e[0] for e in elems]))
    return chunks, dtype, dims, payload


def flatten(r, chunks):
    """The groups of chunks interleaved at random, each group keeping its own order (a
    singular field's decoy stays before its value, a repeated field's runs in order)."""
    out = []
    queues = [list(c) for c in chunks if c]
    while queues:
        q = r.choice(queues)
        out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return b"".join(out)


def split_message(r, body_chunks):
    """A TensorProto split into two messages that protobuf merges: the chunks (in order) go
    to the first or the second, so the later one of two singular fields stays later."""
    cut = r.randint(0, len(body_chunks))
    return body_chunks[:cut], body_chunks[cut:]


# ---------------------------------------------------------------- models

def w_value(name, dtype, dims):
    shape = b"".join(ld(1, vi(1, d)) for d in dims)
    tt = vi(1, dtype) + ld(2, shape)
    return ld(1, name) + ld(2, ld(1, tt))


def node(op, inputs, outputs, name, attrs=b""):
    b = b"".join(ld(1, i) for i in inputs) + b"".join(ld(2, o) for o in outputs)
    return b + ld(3, name) + ld(4, op) + attrs


def make_model(r):
    """Returns (model bytes, {name: (dtype, dims, payload)} of initializers)."""
    inits, graph, expect = [], [], {}
    outputs = []
    for k in range(r.randint(1, 10)):
        name = "w%d" % k
        chunks, dtype, dims, payload = rand_tensor(r, name)
        expect[name] = (dtype, dims, payload)
        flat = [c for group in chunks for c in group]
        if r.random() < 0.3:
            # the initializer's fields in a random order of groups; singular decoys stay
            # before the real value because each (decoy, real) pair sits in one ordered list
            inits.append(ld(5, flatten(r, chunks)))
        else:
            inits.append(ld(5, b"".join(flat)))
        graph.append(node("Identity", [name], ["y%d" % k], "id%d" % k))
        outputs.append(w_value("y%d" % k, dtype, dims))
    for k in range(r.randint(0, 5)):
        chunks, dtype, dims, payload = rand_tensor(r, "")
        flat = [c for group in chunks for c in group]
        a, b = split_message(r, flat) if r.random() < 0.6 else (flat, [])
        attr = ld(1, "value") + vi(20, 4) + ld(5, b"".join(a))
        if b or r.random() < 0.2:
            attr += ld(5, b"".join(b))     # `t` again: protobuf merges the two
        graph.append(node("Constant", [], ["c%d" % k], "const%d" % k, ld(5, attr)))
        outputs.append(w_value("c%d" % k, dtype, dims))
    body = b"".join(ld(1, n) for n in graph) + ld(2, "g") + b"".join(inits)
    body += b"".join(ld(12, o) for o in outputs)
    head = vi(1, 8) + ld(2, "reader-diff") + ld(8, ld(1, "") + vi(2, 13))
    if r.random() < 0.3:    # the graph given twice: merged, repeated fields concatenate
        cut = r.randint(0, len(inits))
        g1 = b"".join(inits[:cut]) + ld(2, "first")
        g2 = b"".join(ld(1, n) for n in graph) + ld(2, "g") + b"".join(inits[cut:])
        g2 += b"".join(ld(12, o) for o in outputs)
        return head + ld(7, g1) + ld(7, g2), expect
    return head + ld(7, body), expect


# ---------------------------------------------------------------- the oracle

def oracle_hash(t):
    """The initializer's hash as onnxdiff defines it, from python-onnx's reading."""
    dims = list(t.dims)
    head = struct.pack("<ii", t.data_type, len(dims)) + struct.pack("<%dq" % len(dims), *dims)
    if t.data_type == STRING:
        body = b"".join(struct.pack("<Q", len(s)) + s for s in t.string_data)
    else:
        a = numpy_helper.to_array(t)
        if t.data_type == BFLOAT16:     # onnx 1.12 widens bfloat16 to float32
            a = (np.asarray(a, dtype="<f4").view("<u4") >> 16).astype("<u2")
        elif t.data_type == FLOAT16:
            a = a.view("<u2")
        body = np.ascontiguousarray(a).astype(NP[t.data_type], copy=False).tobytes()
    data = head + body
    return "%016x" % _xxh.XXH3_64bits(data, len(data))


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace").strip()


def check_one(onnxdiff, path, canon):
    """Returns a list of disagreements (strings)."""
    bad = []
    with open(path, "rb") as f:
        m = onnx.load_model_from_string(f.read())
    with open(canon, "wb") as f:
        f.write(m.SerializeToString())
    rc, out, err = run([onnxdiff, "show", "--json", path])
    if rc != 0:
        return ["show --json exit %d: %s" % (rc, err)]
    got = {i["name"]: i["hash"] for i in json.loads(out)["initializers"]}
    want = {t.name: oracle_hash(t) for t in m.graph.initializer}
    if got != want:
        bad.append("initializer hashes: onnxdiff %s, python-onnx %s" % (got, want))
    rc1, t1, e1 = run([onnxdiff, "textconv", path])
    rc2, t2, e2 = run([onnxdiff, "textconv", canon])
    if rc1 or rc2 or t1 != t2:
        bad.append("textconv differs from the protobuf re-serialisation (exit %d/%d %s %s)"
                   % (rc1, rc2, e1, e2))
    rc, out, err = run([onnxdiff, path, canon])
    if rc != 0:
        bad.append("diff against the protobuf re-serialisation: exit %d %s %s"
                   % (rc, out[:300].decode(errors="replace"), err))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnxdiff")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--keep", help="folder to keep the failing models in")
    args = ap.parse_args()
    failures = 0
    onnxdiff = args.onnxdiff
    with tempfile.TemporaryDirectory() as tmp:
        path, canon = os.path.join(tmp, "m.onnx"), os.path.join(tmp, "canon.onnx")
        for i in range(args.count):
            seed = args.seed * 1000003 + i
            r = random.Random(seed)
            data, _ = make_model(r)
            with open(path, "wb") as f:
                f.write(data)
            try:
                bad = check_one(onnxdiff, path, canon)
            except Exception as e:     # the generator must only write valid models
                print("reader_diff: seed %d: python-onnx cannot read it: %s" % (seed, e),
                      file=sys.stderr)
                return 2
            if bad:
                failures += 1
                print("not ok seed %d: %s" % (seed, "; ".join(bad)))
                if args.keep:
                    os.makedirs(args.keep, exist_ok=True)
                    with open(os.path.join(args.keep, "seed-%d.onnx" % seed), "wb") as f:
                        f.write(data)
    print("reader_diff: %d models, %d disagreements (seed %d)" % (args.count, failures, args.seed))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
