#!/usr/bin/python3
# make-bad.py: writes the catalogue of hostile and broken inputs in tests/bad/ and
# tests/bad/expected.txt, the one-line message each must give.
#
# Run as `/usr/bin/python3 tests/bad/make-bad.py` (Debian's python3-onnx 1.12 and numpy
# live under /usr/bin/python3). Deterministic: no times, no randomness without a seed, so
# two runs give byte-identical files. tests/cli/bad.sh runs `onnxdiff show` (and diff,
# freeze once they exist) on each file: exit 2, exactly one line on stderr matching the
# pattern, nothing on stdout, no file written, the input untouched.
#
# Wire-level cases are encoded by hand (enc_* below) so every byte is known; semantic
# cases go through onnx.helper, which is happy to build invalid graphs.
#
# expected.txt: "<file> <status> <ERE>" per line. For status 2 the stderr line must be
# "error: cannot load '<path>': <ERE>" (models) or mention the file (npy); status 0 files
# (ok-*) must load. Files that need a setup at run time (a symlink, a fifo, a folder) are
# listed with it in bad.sh, not here.

import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 14
MAX_DEPTH = 64          # OD_MAX_DEPTH_DEFAULT in src/internal.h
MAX_RANK = 64           # OD_MAX_RANK
MAX_NESTING = 512       # MAX_NESTING in src/wire.c

CASES = []              # (file, status, pattern)


def emit(name, data, pattern, status=2):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    CASES.append((name, status, pattern))


def emit_model(name, model, pattern, status=2):
    emit(name, model.SerializeToString(), pattern, status)


# ---------------------------------------------------------------- wire encoding

def enc_varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def enc_key(field, wt):
    return enc_varint(field << 3 | wt)


def enc_vi(field, v):
    return enc_key(field, 0) + enc_varint(v)


def enc_ld(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return enc_key(field, 2) + enc_varint(len(payload)) + payload


def enc_f32(field, v):
    return enc_key(field, 5) + struct.pack("<f", v)


# Field numbers of onnx.proto used below.
M_IR, M_OPSET, M_PRODUCER, M_GRAPH = 1, 8, 2, 7
G_NODE, G_NAME, G_INIT, G_INPUT, G_OUTPUT = 1, 2, 5, 11, 12
N_INPUT, N_OUTPUT, N_NAME, N_OP, N_ATTR = 1, 2, 3, 4, 5
A_NAME, A_F, A_I, A_TYPE = 1, 2, 3, 20
T_DIMS, T_DTYPE, T_NAME, T_RAW = 1, 2, 8, 9
V_NAME, V_TYPE = 1, 2
TY_TENSOR, TY_SEQ = 1, 4
TT_ELEM, TT_SHAPE = 1, 2


def w_opset():
    return enc_ld(M_OPSET, enc_ld(1, "") + enc_vi(2, OPSET))


def w_value(name):
    tensor = enc_vi(TT_ELEM, TensorProto.FLOAT) + enc_ld(TT_SHAPE, enc_ld(1, enc_vi(1, 2)))
    return enc_ld(V_NAME, name) + enc_ld(V_TYPE, enc_ld(TY_TENSOR, tensor))


def w_node(op="Relu", inputs=("x",), outputs=("y",), name="relu", extra=b""):
    body = b"".join(enc_ld(N_INPUT, i) for i in inputs)
    body += b"".join(enc_ld(N_OUTPUT, o) for o in outputs)
    return body + enc_ld(N_NAME, name) + enc_ld(N_OP, op) + extra


def w_graph(nodes=None, extra=b""):
    nodes = [w_node()] if nodes is None else nodes
    body = b"".join(enc_ld(G_NODE, n) for n in nodes) + enc_ld(G_NAME, "bad")
    return body + enc_ld(G_INPUT, w_value("x")) + enc_ld(G_OUTPUT, w_value("y")) + extra


def w_model(graph=None, head=None):
    head = enc_vi(M_IR, 7) + enc_ld(M_PRODUCER, "onnxdiff-bad") + w_opset() if head is None else head
    return head + enc_ld(M_GRAPH, w_graph() if graph is None else graph)


def model_head():
    return enc_vi(M_IR, 7) + enc_ld(M_PRODUCER, "onnxdiff-bad") + w_opset()


def make_wire():
    head = model_head()
    emit("ok-wire-base.onnx", w_model(), "-", status=0)

    # wrong wire types for known fields
    emit("wire-graph-varint.onnx", head + enc_vi(M_GRAPH, 5),
         "wrong wire type 0 for field 'graph' \\(7\\) of onnx\\.ModelProto at byte %d" % len(head))
    emit("wire-irversion-bytes.onnx", enc_ld(M_IR, b"\x07") + w_opset() + enc_ld(M_GRAPH, w_graph()),
         "wrong wire type 2 for field 'ir_version' \\(1\\) of onnx\\.ModelProto at byte 0")
    node = enc_ld(N_INPUT, "x") + enc_ld(N_OUTPUT, "y") + enc_vi(N_OP, 3)
    graph = enc_ld(G_NODE, node) + enc_ld(G_INPUT, w_value("x")) + enc_ld(G_OUTPUT, w_value("y"))
    at = len(head) + 2 + 2 + 3 + 3
    emit("wire-optype-varint.onnx", head + enc_ld(M_GRAPH, graph),
         "wrong wire type 0 for field 'op_type' \\(4\\) of onnx\\.NodeProto at byte %d" % at)
    tensor = enc_key(T_DIMS, 5) + struct.pack("<I", 2) + enc_vi(T_DTYPE, 1) + enc_ld(T_NAME, "w")
    graph = enc_ld(G_INIT, tensor) + w_graph()
    emit("wire-dims-fixed32.onnx", head + enc_ld(M_GRAPH, graph),
         "wrong wire type 5 for field 'dims' \\(1\\) of onnx\\.TensorProto at byte %d" % (len(head) + 2 + 2))
    attr = enc_ld(A_NAME, "alpha") + enc_vi(A_F, 1) + enc_vi(A_TYPE, 1)
    graph = w_graph([w_node("LeakyRelu", name="lrelu", extra=enc_ld(N_ATTR, attr))])
    data = head + enc_ld(M_GRAPH, graph)
    emit("wire-float-varint.onnx", data,
         "wrong wire type 0 for field 'f' \\(2\\) of onnx\\.AttributeProto at byte %d" % (data.index(b"alpha" + enc_key(A_F, 0)) + 5))
    # wire types protobuf-c cannot skip: groups (3, 4) and the undefined 6, 7
    emit("wire-group.onnx", head + enc_key(15, 3) + enc_key(15, 4) + enc_ld(M_GRAPH, w_graph()),
         "unsupported wire type 3 at byte %d" % len(head))
    emit("wire-type-7.onnx", head + enc_key(15, 7) + b"\0" * 8,
         "unsupported wire type 7 at byte %d" % len(head))
    emit("field-zero.onnx", head + enc_key(0, 0) + b"\x01",
         "invalid field number at byte %d" % len(head))
    emit("field-too-large.onnx", head + enc_varint(1 << 35) + b"\x01",
         "invalid field number at byte %d" % len(head))
    # the highest field number is an unknown field like any other (protobuf skips it)
    emit("ok-field-highest.onnx", head + enc_vi(536870911, 0) + enc_ld(M_GRAPH, w_graph()),
         "-", status=0)

    # lengths past the end
    g = w_graph()
    emit("length-past-end.onnx", head + enc_key(M_GRAPH, 2) + enc_varint(len(g) + 100) + g,
         "truncated or malformed protobuf at byte %d" % len(head))
    node = w_node()
    bad_node = enc_key(G_NODE, 2) + enc_varint(len(node) + 40) + node
    inner = bad_node + enc_ld(G_NAME, "bad") + enc_ld(G_INPUT, w_value("x")) + enc_ld(G_OUTPUT, w_value("y"))
    data = head + enc_ld(M_GRAPH, inner) + enc_ld(M_PRODUCER, "p" * 60)
    emit("length-past-parent.onnx", data,
         "truncated or malformed protobuf at byte %d" % (len(head) + 2))
    emit("length-huge.onnx", head + enc_key(M_GRAPH, 2) + enc_varint((1 << 63) + 5) + g,
         "truncated or malformed protobuf at byte %d" % len(head))
    # varints: 11 bytes, unterminated at the end of the file
    emit("varint-too-long.onnx", head + enc_key(M_IR, 0) + b"\xff" * 10 + b"\x01" + enc_ld(M_GRAPH, g),
         "truncated or malformed protobuf at byte %d" % len(head))
    emit("varint-unterminated.onnx", w_model() + enc_key(M_IR, 0) + b"\x80\x80",
         "truncated or malformed protobuf at byte %d" % len(w_model()))
    emit("key-unterminated.onnx", w_model() + b"\x88",
         "truncated or malformed protobuf at byte %d" % len(w_model()))
    emit("fixed64-truncated.onnx", w_model() + enc_key(15, 1) + b"\0\0\0",
         "truncated or malformed protobuf at byte %d" % len(w_model()))
    # a packed repeated field whose payload ends inside a varint / is not whole fixed32s
    packed = enc_key(T_DIMS, 2) + enc_varint(3) + b"\x02\x83\x80"
    tensor = packed + enc_vi(T_DTYPE, 1) + enc_ld(T_NAME, "w")
    emit("packed-varint-cut.onnx", head + enc_ld(M_GRAPH, enc_ld(G_INIT, tensor) + w_graph()),
         "truncated or malformed protobuf at byte %d" % (len(head) + 2 + 2))
    floats = enc_key(4, 2) + enc_varint(6) + b"\0" * 6
    tensor = enc_vi(T_DTYPE, 1) + floats + enc_ld(T_NAME, "w")
    emit("packed-fixed32-ragged.onnx", head + enc_ld(M_GRAPH, enc_ld(G_INIT, tensor) + w_graph()),
         "truncated or malformed protobuf at byte %d" % (len(head) + 2 + 2 + 2))

    # protobuf nesting: TypeProto.sequence_type.elem_type... deeper than the walker allows
    levels = MAX_NESTING // 2 + 8
    ty = enc_ld(TY_TENSOR, enc_vi(TT_ELEM, 1))
    for _ in range(levels):
        ty = enc_ld(TY_SEQ, enc_ld(1, ty))
    value = enc_ld(V_NAME, "x") + enc_ld(V_TYPE, ty)
    graph = w_graph() + enc_ld(13, value)
    emit("nesting-too-deep.onnx", head + enc_ld(M_GRAPH, graph),
         "protobuf nested deeper than %d at byte [0-9]+" % MAX_NESTING)

    # a singular message field repeated: protobuf-c merges them, copying the repeated fields
    # each time (20000 copies of a one-node graph, 1.2 MB, took 5.6 GB before the limit)
    one = enc_ld(M_GRAPH, w_graph())
    emit("graph-repeated.onnx", head + one * 100,
         "field 'graph' \\(7\\) of onnx\\.ModelProto repeated more than [0-9]+ times at byte [0-9]+")
    emit("ok-graph-twice.onnx", head + enc_ld(M_GRAPH, w_graph()) + enc_ld(M_GRAPH, enc_ld(G_NAME, "merged")),
         "-", status=0)


# ---------------------------------------------------------------- semantic cases

def hand_model(nodes, inputs, outputs, initializers=(), functions=()):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, list(initializers))
    model = helper.make_model(graph, producer_name="onnxdiff-bad",
                              opset_imports=[helper.make_opsetid("", OPSET),
                                             helper.make_opsetid("local", 1)])
    model.ir_version = 8
    model.functions.extend(functions)
    return model


def vi(name, dims, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, dims)


def add_model(w, shape=(2, 3)):
    return hand_model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                      [vi("x", list(shape))], [vi("y", list(shape))], [w])


def raw_tensor(name, dtype, dims, raw):
    return TensorProto(name=name, data_type=dtype, dims=dims, raw_data=raw)


def make_tensors():
    f4 = lambda n: np.arange(n, dtype="<f4").tobytes()
    emit_model("dims-overflow.onnx", add_model(raw_tensor("w", 1, [1 << 32, 1 << 32, 16], f4(6))),
               "initializer 'w': element count overflows")
    emit_model("dims-int64-max.onnx", add_model(raw_tensor("w", 1, [2, (1 << 63) - 1], f4(6))),
               "initializer 'w': element count overflows")
    emit_model("dims-numel-limit.onnx", add_model(raw_tensor("w", 1, [1 << 20, 1 << 21], f4(6))),
               "initializer 'w': element count overflows")
    emit_model("dims-negative.onnx", add_model(raw_tensor("w", 1, [-1, 3], f4(6))),
               "initializer 'w': negative dimension -1")
    emit_model("dims-negative-min.onnx", add_model(raw_tensor("w", 1, [2, -(1 << 63)], f4(6))),
               "initializer 'w': negative dimension -9223372036854775808")
    emit_model("raw-too-short.onnx", add_model(raw_tensor("w", 1, [2, 3], f4(2))),
               "initializer 'w': 8 bytes of data for shape \\[2,3\\] float \\(24 bytes\\)")
    emit_model("raw-too-long-view.onnx", add_model(raw_tensor("w", 1, [2, 3], f4(100))),
               "initializer 'w': 400 bytes of data for shape \\[2,3\\] float \\(24 bytes\\)")
    emit_model("raw-zero-dim.onnx", add_model(raw_tensor("w", 1, [0, 3], f4(1))),
               "initializer 'w': 4 bytes of data for shape \\[0,3\\] float \\(0 bytes\\)")
    emit_model("raw-int4-lies.onnx", add_model(raw_tensor("w", 22, [1 << 30], b"\x11")),
               "initializer 'w': 1 bytes of data for shape \\[1073741824\\] int4 \\(536870912 bytes\\)")
    emit_model("raw-string.onnx", add_model(raw_tensor("w", 8, [1 << 30], b"abc")),
               "initializer 'w': string tensor stored as raw bytes")
    w = TensorProto(name="w", data_type=1, dims=[2, 3], float_data=[1, 2, 3, 4, 5])
    emit_model("typed-float-count.onnx", add_model(w),
               "initializer 'w': 20 bytes of data for shape \\[2,3\\] float \\(24 bytes\\)")
    w = TensorProto(name="w", data_type=7, dims=[4], int64_data=[1, 2, 3, 4, 5, 6, 7])
    emit_model("typed-int64-count.onnx", add_model(w, (4,)),
               "initializer 'w': 56 bytes of data for shape \\[4\\] int64 \\(32 bytes\\)")
    w = TensorProto(name="w", data_type=10, dims=[1 << 35], int32_data=[1])
    emit_model("typed-fp16-count.onnx", add_model(w, (4,)),
               "initializer 'w': 2 bytes of data for shape \\[34359738368\\] float16 \\(68719476736 bytes\\)")
    for v in (70000, -1):   # onnxruntime: "data overflow"; numpy would wrap
        w = TensorProto(name="w", data_type=10, dims=[1], int32_data=[v])
        emit_model("typed-fp16-range%s.onnx" % ("-negative" if v < 0 else ""), add_model(w, (1,)),
                   "tensor 'w': float16 value %d in int32_data is out of range" % v)
    w = TensorProto(name="w", data_type=8, dims=[3], string_data=[b"a"])
    emit_model("typed-string-count.onnx", add_model(w, (3,)),
               "tensor 'w': 1 strings for 3 elements")
    w = TensorProto(name="w", data_type=1, dims=[1] * (MAX_RANK + 1), raw_data=f4(1))
    emit_model("rank-above-limit.onnx", add_model(w, [1] * (MAX_RANK + 1)),
               "initializer 'w': rank %d exceeds the limit of %d" % (MAX_RANK + 1, MAX_RANK))
    w = TensorProto(name="w", data_type=1, dims=[1] * MAX_RANK, raw_data=f4(1))
    emit_model("ok-rank-at-limit.onnx", add_model(w, [1] * MAX_RANK), "-", status=0)
    w = raw_tensor("w", 1, [1], f4(1))
    m = hand_model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                   [vi("x", [1] * (MAX_RANK + 1))], [vi("y", [1])], [w])
    emit_model("rank-above-limit-input.onnx", m,
               "value 'x': rank %d exceeds the limit of %d" % (MAX_RANK + 1, MAX_RANK))
    emit_model("dtype-unknown.onnx", add_model(raw_tensor("w", 99, [2, 3], f4(6))),
               "initializer 'w': unknown data type 99")
    emit_model("dtype-undefined.onnx", add_model(raw_tensor("w", 0, [2, 3], f4(6))),
               "initializer 'w': unknown data type 0")
    emit_model("dtype-negative.onnx", add_model(raw_tensor("w", -7, [2, 3], f4(6))),
               "initializer 'w': unknown data type -7")
    c = helper.make_node("Constant", [], ["c"], name="const",
                         value=raw_tensor("", 1, [4], f4(3)))
    m = hand_model([c, helper.make_node("Add", ["x", "c"], ["y"], name="add")],
                   [vi("x", [4])], [vi("y", [4])])
    emit_model("attr-tensor-size.onnx", m,
               "attribute tensor '': 12 bytes of data for shape \\[4\\] float \\(16 bytes\\)")


def make_graphs():
    x, y = vi("x", [2]), vi("y", [2])
    relu = lambda i, o, n="relu": helper.make_node("Relu", [i], [o], name=n)
    m = hand_model([helper.make_node("Add", ["x", "b"], ["a"], name="add"), relu("a", "b")], [x], [vi("b", [2])])
    emit_model("cycle.onnx", m, "graph has a cycle through node 'add' \\(Add\\)")
    m = hand_model([relu("x", "a", "first"), helper.make_node("Add", ["a", "y"], ["y"], name="self")], [x], [y])
    emit_model("cycle-self.onnx", m, "graph has a cycle through node 'self' \\(Add\\)")
    m = hand_model([relu("x", "y"), helper.make_node("Neg", ["x"], ["y"], name="neg")], [x], [y])
    emit_model("duplicate-output.onnx", m, "duplicate value name 'y' \\(node output\\)")
    m = hand_model([relu("x", "y")], [x, vi("x", [3])], [y])
    emit_model("duplicate-input.onnx", m, "duplicate value name 'x' \\(graph input\\)")
    m = hand_model([relu("x", "x", "overwrite"), relu("x", "y")], [x], [y])
    emit_model("duplicate-input-output.onnx", m, "duplicate value name 'x' \\(node output\\)")
    w = raw_tensor("w", 1, [2], np.zeros(2, "<f4").tobytes())
    m = hand_model([relu("x", "w", "shadow"), relu("w", "y")], [x], [y], [w])
    emit_model("duplicate-init-output.onnx", m, "duplicate value name 'w' \\(node output\\)")
    m = hand_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")], [x], [y])
    emit_model("undefined-input.onnx", m, "node 'add' \\(Add\\) reads undefined value 'ghost'")
    m = hand_model([relu("x", "y")], [x], [y, vi("z", [2])])
    emit_model("undefined-output.onnx", m, "graph output 'z' is not defined")
    m = hand_model([helper.make_node("Relu", ["x"], ["y"], name="")], [x], [y])
    m.graph.node[0].op_type = ""
    m.graph.node[0].name = "noop"
    emit_model("no-op-type.onnx", m, "node 'noop' has no op_type")

    # subgraphs: an If per level, the then_branch holding the next level
    def nested(depth, leaf_reads="x"):
        body = helper.make_graph([helper.make_node("Identity", [leaf_reads], ["o%d" % depth], name="leaf")],
                                 "g%d" % depth, [], [vi("o%d" % depth, [2])])
        for d in range(depth - 1, -1, -1):
            els = helper.make_graph([helper.make_node("Identity", ["x"], ["e%d" % d], name="e%d" % d)],
                                    "e%d" % d, [], [vi("e%d" % d, [2])])
            node = helper.make_node("If", ["c"], ["o%d" % d], name="if%d" % d,
                                    then_branch=body, else_branch=els)
            if d == 0:
                return hand_model([node], [x, vi("c", [], TensorProto.BOOL)], [vi("o0", [2])])
            body = helper.make_graph([node], "g%d" % d, [], [vi("o%d" % d, [2])])
    emit_model("ok-subgraphs-at-limit.onnx", nested(MAX_DEPTH), "-", status=0)
    emit_model("subgraphs-too-deep.onnx", nested(MAX_DEPTH + 1),
               "subgraphs nested deeper than %d" % MAX_DEPTH)
    emit_model("subgraph-undefined.onnx", nested(3, "ghost"),
               "node 'leaf' \\(Identity\\) reads undefined value 'ghost'")
    m = hand_model([helper.make_node("If", ["c"], ["y"], name="if")], [x, vi("c", [], TensorProto.BOOL)], [y])
    m.graph.node[0].attribute.extend([onnx.AttributeProto(name="then_branch", type=onnx.AttributeProto.GRAPH)])
    emit_model("attr-graph-missing.onnx", m, "attribute 'then_branch' of node 'if' has no graph")
    m = hand_model([helper.make_node("Constant", [], ["y"], name="const")], [], [y])
    m.graph.node[0].attribute.extend([onnx.AttributeProto(name="value", type=onnx.AttributeProto.TENSOR)])
    emit_model("attr-tensor-missing.onnx", m, "attribute 'value' of node 'const' has no tensor")

    # local functions are validated like graphs
    f = helper.make_function("local", "Loop2", ["a"], ["b"],
                             [helper.make_node("Add", ["a", "d"], ["c"], name="fadd"),
                              helper.make_node("Relu", ["c"], ["d"], name="frelu"),
                              helper.make_node("Identity", ["d"], ["b"], name="fid")],
                             [helper.make_opsetid("", OPSET)])
    m = hand_model([helper.make_node("Loop2", ["x"], ["y"], name="call", domain="local")], [x], [y], functions=[f])
    emit_model("function-cycle.onnx", m, "graph has a cycle through node 'fadd' \\(Add\\)")
    f = helper.make_function("local", "Ghost", ["a"], ["b"],
                             [helper.make_node("Add", ["a", "ghost"], ["b"], name="fadd")],
                             [helper.make_opsetid("", OPSET)])
    m = hand_model([helper.make_node("Ghost", ["x"], ["y"], name="call", domain="local")], [x], [y], functions=[f])
    emit_model("function-undefined.onnx", m, "node 'fadd' \\(Add\\) reads undefined value 'ghost'")

    m = hand_model([relu("x", "y")], [x], [y])
    m.ClearField("ir_version")
    emit_model("no-ir-version.onnx", m, "not an ONNX model: no ir_version")
    m = hand_model([relu("x", "y")], [x], [y])
    del m.opset_import[:]
    emit_model("no-opset-import.onnx", m, "not an ONNX model: no opset_import")


# ---------------------------------------------------------------- external data

EXT_DATA = "ext-data.bin"   # 64 bytes beside the models


def ext_model(location=None, offset=None, length=None, dims=(4,), extra=()):
    t = TensorProto(name="w", data_type=1, dims=list(dims), data_location=TensorProto.EXTERNAL)
    for k, v in (("location", location), ("offset", offset), ("length", length)) + tuple(extra):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return add_model(t, dims)


def make_external():
    with open(os.path.join(HERE, EXT_DATA), "wb") as f:
        f.write(np.arange(16, dtype="<f4").tobytes())
    emit_model("ok-ext.onnx", ext_model(EXT_DATA, 16, 16), "-", status=0)
    emit_model("ok-ext-no-length.onnx", ext_model(EXT_DATA, 0, None, (16,)), "-", status=0)
    emit_model("ext-absolute.onnx", ext_model("/etc/passwd"),
               "external data location '/etc/passwd' is absolute")
    emit_model("ext-dotdot.onnx", ext_model("../bad/" + EXT_DATA),
               "external data location '\\.\\./bad/ext-data\\.bin' leaves the model's folder")
    emit_model("ext-dotdot-middle.onnx", ext_model("sub/../../" + EXT_DATA),
               "external data location 'sub/\\.\\./\\.\\./ext-data\\.bin' leaves the model's folder")
    emit_model("ext-backslash.onnx", ext_model("..\\" + EXT_DATA),
               "external data location '\\.\\.\\\\ext-data\\.bin' leaves the model's folder")
    emit_model("ext-dot.onnx", ext_model("."),  # the folder itself
               "cannot open external data '\\.': not a regular file")
    emit_model("ext-empty-location.onnx", ext_model(""), "external data location is empty")
    emit_model("ext-no-location.onnx", ext_model(None, 0, 16),
               "tensor 'w': external data without a location")
    emit_model("ext-missing.onnx", ext_model("missing.bin"),
               "cannot open external data 'missing\\.bin': No such file or directory")
    emit_model("ext-offset-past-end.onnx", ext_model(EXT_DATA, 128, 16),
               "tensor 'w': external data at 128\\+16 is past the end of 'ext-data\\.bin' \\(64 bytes\\)")
    emit_model("ext-length-past-end.onnx", ext_model(EXT_DATA, 32, 64),
               "tensor 'w': external data at 32\\+64 is past the end of 'ext-data\\.bin' \\(64 bytes\\)")
    emit_model("ext-offset-int64-max.onnx", ext_model(EXT_DATA, (1 << 63) - 1, 1),
               "tensor 'w': external data at 9223372036854775807\\+1 is past the end of 'ext-data\\.bin' \\(64 bytes\\)")
    emit_model("ext-length-int64-max.onnx", ext_model(EXT_DATA, 8, (1 << 63) - 1),
               "tensor 'w': external data at 8\\+9223372036854775807 is past the end of 'ext-data\\.bin' \\(64 bytes\\)")
    emit_model("ext-offset-negative.onnx", ext_model(EXT_DATA, -8, 16),
               "tensor 'w': bad external data offset '-8'")
    emit_model("ext-offset-garbage.onnx", ext_model(EXT_DATA, "12abc", 16),
               "tensor 'w': bad external data offset '12abc'")
    emit_model("ext-offset-overflow.onnx", ext_model(EXT_DATA, "99999999999999999999", 16),
               "tensor 'w': bad external data offset '99999999999999999999'")
    # plain decimals only: strtoll would take a sign and leading blanks
    for name, off in (("space", " 0"), ("plus", "+0"), ("minus-zero", "-0")):
        emit_model("ext-offset-%s.onnx" % name, ext_model(EXT_DATA, off, 16),
                   "tensor 'w': bad external data offset '%s'" % off.replace("+", "\\+"))
    emit_model("ext-length-negative.onnx", ext_model(EXT_DATA, 0, -1),
               "tensor 'w': bad external data length '-1'")
    emit_model("ext-size-mismatch.onnx", ext_model(EXT_DATA, 0, 8),
               "initializer 'w': 8 bytes of data for shape \\[4\\] float \\(16 bytes\\)")
    c = helper.make_node("Constant", [], ["c"], name="const",
                         value=TensorProto(name="c", data_type=1, dims=[4],
                                           data_location=TensorProto.EXTERNAL,
                                           external_data=[onnx.StringStringEntryProto(key="location", value="../../etc/passwd")]))
    m = hand_model([c, helper.make_node("Add", ["x", "c"], ["y"], name="add")], [vi("x", [4])], [vi("y", [4])])
    emit_model("ext-attr-dotdot.onnx", m,
               "external data location '\\.\\./\\.\\./etc/passwd' leaves the model's folder")
    # locations bad.sh turns into a symlink out, a symlink to /etc, a fifo and a folder
    emit_model("ext-symlink.onnx", ext_model("link.bin"),
               "external data location 'link\\.bin' leads out of the model's folder")
    emit_model("ext-symlink-abs.onnx", ext_model("abslink.bin"),
               "external data location 'abslink\\.bin' leads out of the model's folder")
    emit_model("ext-fifo.onnx", ext_model("fifo.bin"),
               "cannot open external data 'fifo\\.bin': not a regular file")
    emit_model("ext-folder.onnx", ext_model("folder.bin"),
               "cannot open external data 'folder\\.bin': not a regular file")


def sparse_model(values=(1.0, 2.0), indices=(0, 3), dims=(2, 2), location=None, vdims=None,
                 idtype=TensorProto.INT64, idims=None):
    v = TensorProto(name="w", data_type=1, dims=[len(values)] if vdims is None else list(vdims),
                    float_data=list(values))
    if location is not None:
        v.ClearField("float_data")
        v.data_location = TensorProto.EXTERNAL
        v.external_data.add(key="location", value=location)
    ix = TensorProto(data_type=idtype, dims=[len(indices)] if idims is None else list(idims))
    if idtype == TensorProto.INT64:
        ix.int64_data.extend(indices)
    else:
        ix.int32_data.extend(indices)
    m = hand_model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", list(dims))],
                   [vi("y", list(dims))])
    m.graph.sparse_initializer.append(helper.make_sparse_tensor(v, ix, list(dims)))
    return m


def make_sparse():
    """Sparse initializers are checked as onnx.checker checks them, and their external data
    is confined like any tensor's."""
    emit_model("ok-sparse.onnx", sparse_model(), "-", status=0)
    emit_model("ok-sparse-coo.onnx", sparse_model(indices=(0, 0, 1, 1), idims=(2, 2)), "-", status=0)
    emit_model("sparse-ext-dotdot.onnx", sparse_model(location="../../etc/passwd"),
               "external data location '\\.\\./\\.\\./etc/passwd' leaves the model's folder")
    emit_model("sparse-ext-absolute.onnx", sparse_model(location="/etc/passwd"),
               "external data location '/etc/passwd' is absolute")
    emit_model("sparse-index-range.onnx", sparse_model(indices=(0, 4)),
               "sparse initializer 'w': index 1 out of range for shape \\[2,2\\]")
    emit_model("sparse-index-negative.onnx", sparse_model(indices=(-1, 2)),
               "sparse initializer 'w': index 0 out of range for shape \\[2,2\\]")
    emit_model("sparse-index-order.onnx", sparse_model(indices=(3, 0)),
               "sparse initializer 'w': index 1 not in increasing order")
    emit_model("sparse-index-repeated.onnx", sparse_model(indices=(1, 1)),
               "sparse initializer 'w': index 1 not in increasing order")
    emit_model("sparse-coo-range.onnx", sparse_model(indices=(0, 0, 1, 2), idims=(2, 2)),
               "sparse initializer 'w': index 1 out of range for shape \\[2,2\\]")
    emit_model("sparse-index-count.onnx", sparse_model(indices=(0, 1, 2)),
               "sparse initializer 'w': indices of shape \\[3\\] for 2 values of rank 2")
    emit_model("sparse-index-int32.onnx", sparse_model(idtype=TensorProto.INT32),
               "sparse initializer 'w': indices must be int64, not int32")
    emit_model("sparse-values-rank.onnx", sparse_model(vdims=(1, 2)),
               "sparse initializer 'w': values must have rank 1, not 2")
    emit_model("sparse-no-dims.onnx", sparse_model(values=(), indices=(), dims=()),
               "sparse initializer 'w': no dims")
    emit_model("sparse-dim-zero.onnx", sparse_model(values=(), indices=(), dims=(2, 0)),
               "sparse initializer 'w': dimension 1 is 0")
    m = sparse_model()
    m.graph.sparse_initializer[0].ClearField("indices")
    emit_model("sparse-no-indices.onnx", m, "sparse initializer 'w': 2 values without indices")
    m = sparse_model()
    m.graph.initializer.append(TensorProto(name="w", data_type=1, dims=[1], float_data=[1]))
    emit_model("sparse-duplicate.onnx", m, "duplicate value name 'w' \\(sparse initializer\\)")
    c = helper.make_node("Constant", [], ["w"], name="c",
                         sparse_value=sparse_model(location="/etc/passwd").graph.sparse_initializer[0])
    m = hand_model([c, helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", [2, 2])],
                   [vi("y", [2, 2])])
    emit_model("sparse-attr-absolute.onnx", m, "external data location '/etc/passwd' is absolute")


def make_fill():
    # tiny models declaring a huge static input: `freeze --set x=1` must not fill it
    # (and a 64 MiB one that write.sh interrupts while it is written)
    for name, dims in (("ok-fill-1g.onnx", [268435456]), ("ok-fill-16g.onnx", [65536, 65536]),
                       ("ok-fill-64m.onnx", [16777216])):
        m = hand_model([helper.make_node("Identity", ["x"], ["y"], name="id")],
                       [vi("x", dims)], [vi("y", dims)])
        emit_model(name, m, "-", status=0)
    # two inputs frozen together by concurrent writers: x (4 KiB, external) and s (inline)
    m = hand_model([helper.make_node("Add", ["x", "s"], ["y"], name="add")],
                   [vi("x", [1024]), vi("s", [1])], [vi("y", [1024])])
    emit_model("ok-two-inputs.onnx", m, "-", status=0)


# ---------------------------------------------------------------- .npy with lying headers
# For `onnxdiff freeze --set mask=@FILE fixtures/seed/with_mask.onnx` (mask is float [1,4]).
# The pattern only asks that the message names the file: the reader's wording is its own.

def npy_header(d, version=1, pad_to=64):
    text = repr(d).encode("latin1")
    hlen = len(text) + 1
    magic = b"\x93NUMPY" + bytes([version, 0])
    lenfmt = "<H" if version == 1 else "<I"
    total = len(magic) + struct.calcsize(lenfmt) + hlen
    pad = (-total) % pad_to
    text += b" " * pad + b"\n"
    return magic + struct.pack(lenfmt, len(text)) + text


def hdr(descr="<f4", fortran=False, shape=(1, 4)):
    return {"descr": descr, "fortran_order": fortran, "shape": shape}


def make_npy():
    ones = np.ones(4, "<f4").tobytes()
    npy = lambda name, data: emit(name, data, "'[^']*%s'" % name.replace(".", "\\."))
    npy("npy-bad-magic.npy", b"\x93NUMPX\x01\x00" + npy_header(hdr())[8:] + ones)
    npy("npy-short.npy", b"\x93NUMPY\x01")
    npy("npy-header-cut.npy", npy_header(hdr())[:30])
    npy("npy-header-len-past-end.npy", b"\x93NUMPY\x01\x00\xff\xff" + b"{" * 40)
    npy("npy-v2-header-len-huge.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\xff" + npy_header(hdr())[12:] + ones)
    npy("npy-version-9.npy", b"\x93NUMPY\x09\x00" + npy_header(hdr())[8:] + ones)
    npy("npy-shape-lies-big.npy", npy_header(hdr(shape=(1000000, 4))) + ones)
    npy("npy-shape-lies-small.npy", npy_header(hdr(shape=(1, 2))) + ones)
    npy("npy-shape-overflow.npy", npy_header(hdr(shape=(1 << 40, 1 << 40, 1 << 40))) + ones)
    npy("npy-shape-negative.npy", npy_header(hdr(shape=(-1, 4))) + ones)
    npy("npy-shape-rank-65.npy", npy_header(hdr(shape=(1,) * 65)) + ones[:4])
    npy("npy-shape-garbage.npy", npy_header({"descr": "<f4", "fortran_order": False, "shape": "(1, 4)"}) + ones)
    npy("npy-descr-unknown.npy", npy_header(hdr(descr="<q7")) + ones)
    npy("npy-descr-object.npy", npy_header(hdr(descr="|O")) + ones)
    npy("npy-descr-structured.npy", npy_header(hdr(descr=[("a", "<f4")])) + ones)
    npy("npy-fortran-maybe.npy", npy_header({"descr": "<f4", "fortran_order": "maybe", "shape": (1, 4)}) + ones)
    npy("npy-missing-shape.npy", npy_header({"descr": "<f4", "fortran_order": False}) + ones)
    npy("npy-not-a-dict.npy", npy_header(["descr", "<f4"]) + ones)
    # numpy itself loads these two: they must freeze
    emit("npy-ok-no-newline.npy", npy_header(hdr())[:-1] + b" " + ones, "-", status=0)
    emit("npy-ok-v3.npy", npy_header(hdr(), version=3) + ones, "-", status=0)
    npy("npy-header-nul.npy", npy_header(hdr()).replace(b"'descr'", b"'de\0cr'") + ones)


# ---------------------------------------------------------------- TensorProto files
# For `freeze --set mask=@FILE.pb` (od_tensor_load_pb): the same checks as initializers,
# and external data is never followed from a lone tensor.

def make_pb():
    f4 = lambda n: np.arange(n, dtype="<f4").tobytes()
    pb = lambda name, t, status=2: emit(name, t if isinstance(t, bytes) else t.SerializeToString(),
                                        "'[^']*%s'" % name.replace(".", "\\."), status)
    pb("pb-ok.pb", raw_tensor("mask", 1, [1, 4], f4(4)), status=0)
    pb("pb-dims-lie.pb", raw_tensor("mask", 1, [1000000, 4], f4(4)))
    pb("pb-dims-overflow.pb", raw_tensor("mask", 1, [1 << 40, 1 << 40], f4(4)))
    pb("pb-dims-negative.pb", raw_tensor("mask", 1, [-1, 4], f4(4)))
    pb("pb-string-raw.pb", raw_tensor("mask", 8, [1 << 40], b"abcd"))
    pb("pb-dtype-unknown.pb", raw_tensor("mask", 77, [1, 4], f4(4)))
    t = TensorProto(name="mask", data_type=1, dims=[1, 4], data_location=TensorProto.EXTERNAL)
    e = t.external_data.add()
    e.key, e.value = "location", "/etc/passwd"
    pb("pb-external.pb", t)
    pb("pb-garbage.pb", b"\xff" * 32)
    pb("pb-truncated.pb", raw_tensor("mask", 1, [1, 4], f4(4)).SerializeToString()[:-3])


def main():
    for name in os.listdir(HERE):
        if name.endswith((".onnx", ".npy", ".bin", ".pb")):
            os.unlink(os.path.join(HERE, name))
    make_wire()
    make_tensors()
    make_graphs()
    make_external()
    make_sparse()
    make_fill()
    make_npy()
    make_pb()
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case name"
    with open(os.path.join(HERE, "expected.txt"), "w") as f:
        f.write("# Written by make-bad.py; do not edit. <file> <exit status> <ERE for the message>\n")
        for name, status, pattern in CASES:
            f.write("%s %d %s\n" % (name, status, pattern))
    print("%d files" % len(CASES), file=sys.stderr)


if __name__ == "__main__":
    main()
