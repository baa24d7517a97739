#!/usr/bin/python3
"""make-proto.py — writes the models tests/cli/proto.sh reads: files whose meaning depends
on protobuf's rules (a field given twice, messages that merge, packed and unpacked runs),
ONNX's typed-field conversions, sparse tensors and the rarer attribute kinds. Each odd file
has a plain twin that means the same to protobuf and onnxruntime. Deterministic; rerun with

    /usr/bin/python3 tests/cli/proto/make-proto.py
"""
import os
import struct

import numpy as np
import onnx
from onnx import TensorProto as T, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b, v = v & 0x7F, v >> 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def ld(field, payload):
    payload = payload.encode() if isinstance(payload, str) else payload
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def vi(field, v):
    return varint(field << 3) + varint(v)


def f4(*v):
    return struct.pack("<%df" % len(v), *v)


# TensorProto fields
DIMS, DTYPE, FLOATS, INT32S, INT64S, NAME, RAW = 1, 2, 4, 5, 7, 8, 9


def value_info(name, dtype, dims):
    shape = b"".join(ld(1, vi(1, d)) for d in dims)
    return ld(1, name) + ld(2, ld(1, vi(1, dtype) + ld(2, shape)))


def model(nodes, inits, outputs):
    """A model from wire-level nodes, initializers (TensorProto bodies) and outputs."""
    g = b"".join(ld(1, n) for n in nodes) + ld(2, "g") + b"".join(ld(5, t) for t in inits)
    g += b"".join(ld(12, value_info(*o)) for o in outputs)
    return vi(1, 8) + ld(2, "make-proto") + ld(8, ld(1, "") + vi(2, OPSET)) + ld(7, g)


def node(op, inputs, outputs, attrs=b""):
    b = b"".join(ld(1, i) for i in inputs) + b"".join(ld(2, o) for o in outputs)
    return b + ld(4, op) + attrs


def identity_of(tensor_body, dtype, dims):
    return model([node("Identity", ["w"], ["y"])], [tensor_body], [("y", dtype, dims)])


def constant(tensors, dtype, dims):
    """A Constant whose attribute `value` carries the tensor bodies given, in order (more
    than one: protobuf merges them)."""
    attr = ld(1, "value") + vi(20, 4) + b"".join(ld(5, t) for t in tensors)
    return model([node("Constant", [], ["y"], ld(5, attr))], [], [("y", dtype, dims)])


def write(name, data):
    if not isinstance(data, bytes):
        data = data.SerializeToString()
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def reader_cases():
    w = ld(NAME, "w") + vi(DTYPE, T.FLOAT) + vi(DIMS, 1)
    write("raw-twice.onnx", identity_of(w + ld(RAW, f4(1.0)) + ld(RAW, f4(1000.0)), T.FLOAT, [1]))
    write("raw-1000.onnx", identity_of(w + ld(RAW, f4(1000.0)), T.FLOAT, [1]))
    write("raw-1.onnx", identity_of(w + ld(RAW, f4(1.0)), T.FLOAT, [1]))
    head = vi(DTYPE, T.FLOAT) + vi(DIMS, 2)
    write("const-twice.onnx", constant([head + ld(RAW, f4(1, 1)), ld(RAW, f4(1000, 1000))], T.FLOAT, [2]))
    write("const-1000.onnx", constant([head + ld(RAW, f4(1000, 1000))], T.FLOAT, [2]))
    write("const-1.onnx", constant([head + ld(RAW, f4(1, 1))], T.FLOAT, [2]))
    # repeated fields of the two merged messages concatenate: float_data [1] + [2]
    write("const-split.onnx", constant([head + varint(FLOATS << 3 | 5) + f4(1),
                                        varint(FLOATS << 3 | 5) + f4(2)], T.FLOAT, [2]))
    write("const-12.onnx", constant([head + ld(FLOATS, f4(1, 2))], T.FLOAT, [2]))
    # int64_data one element per key, and packed
    w = ld(NAME, "w") + vi(DTYPE, T.INT64) + vi(DIMS, 3)
    write("int64-unpacked.onnx", identity_of(w + vi(INT64S, 5) + vi(INT64S, (1 << 64) - 7) + vi(INT64S, 9),
                                             T.INT64, [3]))
    write("int64-packed.onnx", identity_of(w + ld(INT64S, varint(5) + varint(-7) + varint(9)), T.INT64, [3]))
    # bool in int32_data: nonzero is true (onnxruntime and numpy agree)
    w = ld(NAME, "w") + vi(DTYPE, T.BOOL) + vi(DIMS, 3)
    write("bool-256.onnx", identity_of(w + ld(INT32S, varint(256) + varint(0) + varint(-1)), T.BOOL, [3]))
    write("bool-101.onnx", identity_of(w + ld(INT32S, varint(1) + varint(0) + varint(1)), T.BOOL, [3]))
    write("bool-001.onnx", identity_of(w + ld(INT32S, varint(0) + varint(0) + varint(1)), T.BOOL, [3]))


def hand(nodes, inputs, outputs, sparse=(), domains=()):
    g = helper.make_graph(nodes, "g", inputs, outputs)
    g.sparse_initializer.extend(sparse)
    m = helper.make_model(g, producer_name="make-proto",
                          opset_imports=[helper.make_opsetid("", OPSET)] +
                          [helper.make_opsetid(d, 1) for d in domains])
    m.ir_version = 8
    return m


def sparse(name, values, indices, dims, location=None):
    v = helper.make_tensor(name, T.FLOAT, [len(values)], values)
    if location:
        v.ClearField("float_data")
        v.data_location = T.EXTERNAL
        v.external_data.add(key="location", value=location)
    return helper.make_sparse_tensor(v, helper.make_tensor("", T.INT64, [len(indices)], indices), dims)


def sparse_cases():
    x = helper.make_tensor_value_info("x", T.FLOAT, [2, 2])
    y = helper.make_tensor_value_info("y", T.FLOAT, [2, 2])
    add = helper.make_node("Add", ["x", "w"], ["y"], name="add")
    for v in (1, 1000):
        write("sparse-%d.onnx" % v, hand([add], [x], [y], [sparse("w", [v, v], [0, 3], [2, 2])]))
        c = helper.make_node("Constant", [], ["w"], name="c",
                             sparse_value=sparse("", [v, v], [0, 3], [2, 2]))
        write("sparse-const-%d.onnx" % v, hand([c, add], [x], [y]))
    # the dense twin and the same content written with an explicit zero
    dense = helper.make_graph([add], "g", [x], [y], [helper.make_tensor("w", T.FLOAT, [2, 2], [1, 0, 0, 1])])
    write("dense-1.onnx", helper.make_model(dense, producer_name="make-proto", ir_version=8,
                                            opset_imports=[helper.make_opsetid("", OPSET)]))
    write("sparse-1-zero.onnx", hand([add], [x], [y], [sparse("w", [1, 0, 1], [0, 1, 3], [2, 2])]))
    # for freeze: an input to bind, the sparse weight in a side file
    m = helper.make_tensor_value_info("m", T.FLOAT, [2, 2])
    mul = helper.make_node("Mul", ["y0", "m"], ["y"], name="mul")
    add0 = helper.make_node("Add", ["x", "w"], ["y0"], name="add")
    with open(os.path.join(HERE, "sparse-ext.bin"), "wb") as f:
        f.write(f4(3, 4))
    write("sparse-ext.onnx", hand([add0, mul], [x, m], [y], [sparse("w", [3, 4], [1, 2], [2, 2], "sparse-ext.bin")]))


def attr_cases():
    """A node of a custom domain with one attribute of each rarer kind, in pairs that differ
    only in that attribute's value."""
    t = lambda v: helper.make_tensor("t", T.FLOAT, [2], [v, 2])
    s = lambda v: sparse("s", [v], [1], [4])
    ty = lambda d: helper.make_tensor_type_proto(d, [2])
    kinds = {
        "tensors": lambda v: [t(1), t(v)],
        "sparse_tensor": lambda v: s(v),
        "sparse_tensors": lambda v: [s(1), s(v)],
        "type_proto": lambda v: ty(T.FLOAT if v == 1 else T.INT64),
        "type_protos": lambda v: [ty(T.FLOAT), ty(T.FLOAT if v == 1 else T.DOUBLE)],
    }
    x = helper.make_tensor_value_info("x", T.FLOAT, [2])
    y = helper.make_tensor_value_info("y", T.FLOAT, [2])
    for kind, make in sorted(kinds.items()):
        for v in (1, 1000):
            n = helper.make_node("Custom", ["x"], ["y"], name="n", domain="test.attrs", **{kind: make(v)})
            write("attr-%s-%d.onnx" % (kind.replace("_", "-"), v), hand([n], [x], [y], domains=["test.attrs"]))


def main():
    for name in os.listdir(HERE):
        if name.endswith((".onnx", ".bin")):
            os.unlink(os.path.join(HERE, name))
    reader_cases()
    sparse_cases()
    attr_cases()
    for name in sorted(os.listdir(HERE)):     # python-onnx reads every file
        if name.endswith(".onnx"):
            onnx.load(os.path.join(HERE, name))


if __name__ == "__main__":
    main()
