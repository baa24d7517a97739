#!/usr/bin/python3
# make-inputs.py DIR: builds the inputs of scripts/bench.sh into DIR (a cache folder
# outside the repository). Every input is written once; an existing file is kept, so a
# second run costs nothing. Run with Debian's /usr/bin/python3 (python3-torch 1.13,
# python3-torchvision, python3-onnx); the `python3` first on PATH may lack them.
#
#   resnet50.onnx, resnet50-b.onnx   torchvision resnet50, random weights; -b has a few
#                                    weights changed (loaded and saved by python-onnx);
#   resnet50-p.onnx                  -p is a byte copy with one element changed
#   vit_b_16.onnx, vit_b_16-b.onnx   torchvision vit_b_16 (~350 MB), the same pair
#   mobilenet_v2.onnx,               torchvision's depthwise-conv nets, for `run` alone
#   mobilenet_v3_small.onnx
#   big.onnx (+ big.onnx.data)       > 2 GB of weights in external data: a MatMul/Relu
#                                    chain with a `scale` input to freeze
#   big-b.onnx (+ big-b.onnx.data)   its copy with a few weights changed
#   g20k.onnx, g20k-b.onnx           generated graphs of 20k and 200k nodes; -b renames
#   g200k.onnx, g200k-b.onnx         every tensor and node and makes a few edits
#
# Shapes that once cost the square of their size (target "shapes=N", N the count; files
# are named <shape>-N.onnx and their -b copies differ in one place):
#   outputs-N    N Add nodes whose outputs are graph outputs (freeze --set x=1 folds all)
#   opsets-N     N opset_import entries
#   ifs-N        N If nodes, each branch one node
#   locs-N       N initializers in one side file w.data, each spelling its location
#                differently ("w.data", "./w.data", ".//w.data", "././w.data", ...)
#   funcs-N      N local functions, each calling the one before
#   chain-N      a chain of N Relu/Neg nodes (diff and diff --fold); "chain=N" builds
#                only this one
#
# Everything is seeded, so the files are the same on every machine with the same torch.

import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 14


def done(path):
    return os.path.exists(path) and os.path.getsize(path) > 0


def say(msg):
    print("make-inputs: " + msg, file=sys.stderr, flush=True)


def save_atomic(model, path):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(model.SerializeToString())
    os.replace(tmp, path)


def change_weights(src, dst, count=3):
    """Copies src to dst with one element changed in `count` of its largest initializers."""
    m = onnx.load(src)
    inits = sorted(m.graph.initializer, key=lambda t: -len(t.raw_data))[:count]
    for t in inits:
        a = numpy_helper.to_array(t).copy()
        a.flat[len(a.flat) // 2] += 1.0
        t.raw_data = a.tobytes()
    save_atomic(m, dst)


def patch_copy(src, dst):
    """Copies src to dst byte for byte with one element of its largest weight changed:
    the same layout, where change_weights() lets python-onnx lay the file out again."""
    m = onnx.load(src)
    t = max(m.graph.initializer, key=lambda t: len(t.raw_data))
    raw = t.raw_data
    mid = (len(raw) // 2) & ~3
    data = bytearray(open(src, "rb").read())
    at = data.find(raw[mid:mid + 64])
    assert at >= 0 and data.find(raw[mid:mid + 64], at + 1) < 0, "cannot locate the weight"
    data[at:at + 4] = (np.frombuffer(bytes(data[at:at + 4]), np.float32) + 1).tobytes()
    with open(dst + ".tmp", "wb") as f:
        f.write(data)
    os.replace(dst + ".tmp", dst)


def export_torchvision(name, path):
    import torch
    import torchvision

    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    x = torch.randn(1, 3, 224, 224)
    tmp = path + ".tmp"
    # Not under torch.no_grad(): with gradients off, torch 1.13's MultiheadAttention takes
    # its fast path (aten::_native_multi_head_attention), which has no ONNX export.
    torch.onnx.export(model, x, tmp, opset_version=OPSET, input_names=["x"],
                      output_names=["y"], dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    os.replace(tmp, path)


def torchvision_pair(out, name):
    a, b = os.path.join(out, name + ".onnx"), os.path.join(out, name + "-b.onnx")
    if not done(a):
        say("exporting " + name)
        export_torchvision(name, a)
    if not done(b):
        say("writing " + os.path.basename(b))
        change_weights(a, b)
    p = os.path.join(out, name + "-p.onnx")
    if not done(p):
        say("writing " + os.path.basename(p))
        patch_copy(a, p)


# ---- > 2 GB with external data --------------------------------------------------------

BIG_D = 4096            # 64 MiB per float weight
BIG_LAYERS = 40         # 2.5 GiB of weights


def big_model(onnx_path, data_name, weights):
    """Writes the graph; weights is a list of (name, offset, length) in the side file."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", BIG_D])
    scale = helper.make_tensor_value_info("scale", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", BIG_D])
    inits = [numpy_helper.from_array(np.array([0.5], np.float32), "half")]
    nodes = [helper.make_node("Mul", ["scale", "half"], ["s"], name="scale_half")]
    prev = "x"
    for i, (name, off, length) in enumerate(weights):
        t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[BIG_D, BIG_D])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", data_name), ("offset", str(off)), ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
        inits.append(t)
        nodes += [helper.make_node("MatMul", [prev, name], ["mm%d" % i], name="mm%d" % i),
                  helper.make_node("Relu", ["mm%d" % i], ["relu%d" % i], name="relu%d" % i),
                  helper.make_node("Mul", ["relu%d" % i, "s"], ["h%d" % i], name="mul%d" % i)]
        prev = "h%d" % i
    nodes.append(helper.make_node("Identity", [prev], ["y"], name="out"))
    g = helper.make_graph(nodes, "big", [x, scale], [y], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="onnxdiff-bench")
    m.ir_version = 8
    save_atomic(m, onnx_path)


def big_pair(out):
    a, b = os.path.join(out, "big.onnx"), os.path.join(out, "big-b.onnx")
    da, db = a + ".data", b + ".data"
    nbytes = BIG_D * BIG_D * 4
    weights = [("w%d" % i, i * nbytes, nbytes) for i in range(BIG_LAYERS)]
    if not (done(a) and done(da)):
        say("writing big.onnx.data (%.1f GB)" % (nbytes * BIG_LAYERS / 1e9))
        rng = np.random.default_rng(1)
        with open(da + ".tmp", "wb") as f:
            for _ in range(BIG_LAYERS):
                f.write(rng.standard_normal((BIG_D, BIG_D), np.float32).tobytes())
        os.replace(da + ".tmp", da)
        big_model(a, os.path.basename(da), weights)
    if not (done(b) and done(db)):
        say("writing big-b.onnx.data")
        shutil.copyfile(da, db + ".tmp")
        with open(db + ".tmp", "r+b") as f:     # one element changed in three weights
            for i in (3, 17, 31):
                f.seek(i * nbytes + nbytes // 2)
                f.write(np.array([42.0], np.float32).tobytes())
        os.replace(db + ".tmp", db)
        big_model(b, os.path.basename(db), weights)


# ---- generated graphs of many nodes ---------------------------------------------------

def graph_pair(out, label, blocks):
    """A transformer-like stack: each block has four parallel MatMul/Add/Relu branches,
    a Concat, a projection, a residual Add and a normalisation (about 20 nodes). The -b
    copy renames every tensor and node (prefix "/m") and makes a few edits: one weight
    changed, one Relu turned into LeakyRelu, one node removed and one added."""
    a, b = os.path.join(out, label + ".onnx"), os.path.join(out, label + "-b.onnx")
    if done(a) and done(b):
        return
    say("generating %s (%d blocks)" % (label, blocks))
    W, H = 8, 4           # hidden width, branches
    for variant, path in ((0, a), (1, b)):
        rng = np.random.default_rng(7)
        p = "/m" if variant else ""
        n = lambda s: p + s
        nodes, inits = [], []
        edits = {blocks // 3, blocks // 2, (2 * blocks) // 3}

        def node(op, ins, outs, name, **attrs):
            nodes.append(helper.make_node(op, [n(i) if i else "" for i in ins],
                                          [n(o) for o in outs], name=n(name), **attrs))

        def weight(name, shape):
            arr = rng.standard_normal(shape).astype(np.float32)
            return name, arr

        inits.append(numpy_helper.from_array(np.array([-1], np.int64), n("axes")))
        inits.append(numpy_helper.from_array(np.array(1e-5, np.float32), n("eps")))
        h = "x"
        for k in range(blocks):
            branches = []
            for j in range(H):
                wn, w = weight("/b%d/h%d/W" % (k, j), (W, W))
                bn, bias = weight("/b%d/h%d/b" % (k, j), (W,))
                if variant and k == min(edits) and j == 0:
                    w = w.copy()
                    w[0, 0] += 1.0
                inits += [numpy_helper.from_array(w, n(wn)), numpy_helper.from_array(bias, n(bn))]
                pre = "/b%d/h%d/" % (k, j)
                node("MatMul", [h, wn], [pre + "mm"], pre + "MatMul")
                node("Add", [pre + "mm", bn], [pre + "add"], pre + "Add")
                if variant and k == sorted(edits)[1] and j == 1:
                    node("LeakyRelu", [pre + "add"], [pre + "act"], pre + "Relu", alpha=0.1)
                else:
                    node("Relu", [pre + "add"], [pre + "act"], pre + "Relu")
                branches.append(pre + "act")
            pre = "/b%d/" % k
            pn, pw = weight(pre + "proj/W", (H * W, W))
            inits.append(numpy_helper.from_array(pw, n(pn)))
            node("Concat", branches, [pre + "cat"], pre + "Concat", axis=-1)
            node("MatMul", [pre + "cat", pn], [pre + "proj"], pre + "Proj")
            if variant and k == max(edits):      # the residual Add removed
                res = pre + "proj"
            else:
                node("Add", [pre + "proj", h], [pre + "res"], pre + "Residual")
                res = pre + "res"
            node("ReduceMean", [res], [pre + "mean"], pre + "ReduceMean", axes=[-1])
            node("Sub", [res, pre + "mean"], [pre + "cent"], pre + "Sub")
            node("Mul", [pre + "cent", pre + "cent"], [pre + "sq"], pre + "Square")
            node("ReduceMean", [pre + "sq"], [pre + "var"], pre + "ReduceMean2", axes=[-1])
            node("Add", [pre + "var", "eps"], [pre + "vare"], pre + "AddEps")
            node("Sqrt", [pre + "vare"], [pre + "std"], pre + "Sqrt")
            node("Div", [pre + "cent", pre + "std"], [pre + "norm"], pre + "Div")
            h = pre + "norm"
            if variant and k == min(edits):      # an added node
                node("Neg", [h], [pre + "neg"], pre + "Neg")
                node("Neg", [pre + "neg"], [pre + "neg2"], pre + "Neg2")
                h = pre + "neg2"
        node("Identity", [h], ["y"], "/out")
        x = helper.make_tensor_value_info(n("x"), TensorProto.FLOAT, ["batch", W])
        y = helper.make_tensor_value_info(n("y"), TensorProto.FLOAT, ["batch", W])
        g = helper.make_graph(nodes, label, [x], [y], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="onnxdiff-bench")
        m.ir_version = 8
        save_atomic(m, path)


# ---- shapes of input that once cost the square of their size ---------------------------

def shape_model(nodes, inputs, outputs, inits=(), opsets=None, functions=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=opsets or [helper.make_opsetid("", OPSET)],
                          producer_name="onnxdiff-bench", functions=list(functions))
    m.ir_version = 8
    return m


def fvec(name):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1])


def outputs_shape(n, variant):
    """N Add nodes of x and a constant; every sum is a graph output."""
    c = numpy_helper.from_array(np.array([2.0 + variant], np.float32), "c")
    nodes = [helper.make_node("Add", ["x", "c"], ["o%d" % i], name="a%d" % i) for i in range(n)]
    return shape_model(nodes, [fvec("x")], [fvec("o%d" % i) for i in range(n)], [c])


def opsets_shape(n, variant):
    ops = [helper.make_opsetid("", OPSET)]
    ops += [helper.make_opsetid("d%d" % i, 1 + (variant and i == n // 2)) for i in range(n)]
    return shape_model([helper.make_node("Relu", ["x"], ["y"], name="r")], [fvec("x")],
                       [fvec("y")], opsets=ops)


def ifs_shape(n, variant):
    def branch(i, op):
        return helper.make_graph([helper.make_node(op, ["x"], ["b%d" % i], name="n%d" % i)],
                                 "b%d" % i, [], [fvec("b%d" % i)])
    nodes = []
    for i in range(n):
        other = "Neg" if variant and i == n // 2 else "Relu"
        nodes.append(helper.make_node("If", ["c"], ["y%d" % i], name="if%d" % i,
                                      then_branch=branch(i, "Abs"), else_branch=branch(i, other)))
    cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
    return shape_model(nodes, [fvec("x"), cond], [fvec("y%d" % i) for i in range(n)])


def spelling(i, name):
    """The i-th way to write name: one "./" or ".//" per bit of i, so spellings stay short."""
    parts = []
    while i:
        parts.append(".//" if i & 1 else "./")
        i >>= 1
    return "".join(parts) + name


def locs_shape(n, variant, data):
    """N initializers of 4 floats, all in side file `data`, each spelling its location."""
    inits, nodes = [], []
    for i in range(n):
        t = TensorProto(name="w%d" % i, data_type=TensorProto.FLOAT, dims=[4])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", spelling(i, data)), ("offset", str(16 * i)), ("length", "16")):
            e = t.external_data.add()
            e.key, e.value = k, v
        inits.append(t)
    prev = "x"
    for i in range(n):
        nodes.append(helper.make_node("Add", [prev, "w%d" % i], ["h%d" % i], name="a%d" % i))
        prev = "h%d" % i
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info(prev, TensorProto.FLOAT, [4])
    return shape_model(nodes, [x], [y], inits)


def funcs_shape(n, variant):
    """f0 is Relu; f_i calls f_(i-1); the graph calls the last one."""
    fs = []
    for i in range(n):
        op, dom = ("Relu", "") if i == 0 else ("f%d" % (i - 1), "local")
        if variant and i == n // 2:
            op, dom = "Neg", ""
        body = [helper.make_node(op, ["x"], ["y"], domain=dom, name="c")]
        fs.append(helper.make_function("local", "f%d" % i, ["x"], ["y"], body,
                                       [helper.make_opsetid("", OPSET),
                                        helper.make_opsetid("local", 1)]))
    node = helper.make_node("f%d" % (n - 1), ["x"], ["y"], domain="local", name="call")
    return shape_model([node], [fvec("x")], [fvec("y")], functions=fs,
                       opsets=[helper.make_opsetid("", OPSET), helper.make_opsetid("local", 1)])


def chain_shape(n, variant):
    nodes, prev = [], "x"
    for i in range(n):
        op = "Neg" if i % 2 else "Relu"
        if variant and i == n // 2:
            op = "Abs"
        nodes.append(helper.make_node(op, [prev], ["t%d" % i], name="n%d" % i))
        prev = "t%d" % i
    return shape_model(nodes, [fvec("x")], [fvec(prev)])


SHAPES = (("outputs", outputs_shape), ("opsets", opsets_shape), ("ifs", ifs_shape),
          ("funcs", funcs_shape), ("chain", chain_shape))


def shapes(out, n, only=None):
    for name, make in SHAPES:
        if only and name != only:
            continue
        for variant, suffix in ((0, ""), (1, "-b")):
            path = os.path.join(out, "%s-%d%s.onnx" % (name, n, suffix))
            if not done(path):
                say("generating " + os.path.basename(path))
                save_atomic(make(n, variant), path)
    if only:
        return
    path, data = os.path.join(out, "locs-%d.onnx" % n), "locs-%d.data" % n
    if not done(path):
        say("generating " + os.path.basename(path))
        with open(os.path.join(out, data), "wb") as f:
            f.write(np.arange(4 * n, dtype=np.float32).tobytes())
        save_atomic(locs_shape(n, 0, data), path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "onnxdiff-bench")
    what = sys.argv[2:] or ["graphs", "resnet50", "vit_b_16", "big"]
    os.makedirs(out, exist_ok=True)
    if "graphs" in what:
        graph_pair(out, "g20k", 910)
        graph_pair(out, "g200k", 9100)
    for w in what:
        if w.startswith("shapes="):
            shapes(out, int(w[len("shapes="):]))
        elif w.startswith("chain="):
            shapes(out, int(w[len("chain="):]), "chain")
    for name in ("resnet50", "vit_b_16"):
        if name in what:
            torchvision_pair(out, name)
    for name in ("mobilenet_v2", "mobilenet_v3_small"):     # evaluation only
        path = os.path.join(out, name + ".onnx")
        if name in what and not done(path):
            say("exporting " + name)
            export_torchvision(name, path)
    if "big" in what:
        big_pair(out)


if __name__ == "__main__":
    main()
