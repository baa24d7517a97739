#!/usr/bin/python3
"""shapes.py — onnxdiff's inferred shapes against onnx.shape_inference (python3-onnx 1.12)
and against the shapes of the node tests' expected outputs.

    tests/oracle/shapes.py [--sample N] [--verbose] ONNXDIFF MODEL_OR_DIR...

For every model (directories are searched for *.onnx), runs `ONNXDIFF show --values --json`
and onnx.shape_inference.infer_shapes(data_prop=True), and compares every value of the main
graph onnx gives a shape to: where onnx infers a static dim, onnxdiff must infer the same
(a different size, rank or dtype is a disagreement); where onnx knows less, onnxdiff may
know more. For a node test (model.onnx beside test_data_set_0/), the expected outputs'
shapes must match onnxdiff's graph outputs wherever onnxdiff has a static dim.

Prints the counts; exits 1 when a disagreement is not listed in LIMITS (documented
limitations of onnx 1.12's inference), 2 on usage errors.
"""
import glob
import json
import os
import random
import subprocess
import sys

import onnx
from onnx import shape_inference

# (test folder or model file name, value name) -> why onnx 1.12 is wrong there
LIMITS = {
}


def models(paths):
    for p in paths:
        if os.path.isdir(p):
            for f in sorted(glob.glob(os.path.join(p, "**", "*.onnx"), recursive=True)):
                yield f
        else:
            yield p


def onnx_types(path):
    m = onnx.load(path)
    try:
        m = shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    except Exception:
        return None, m
    out = {}
    for vi in list(m.graph.value_info) + list(m.graph.output):
        t = vi.type
        if t.WhichOneof("value") != "tensor_type" or not t.tensor_type.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.tensor_type.shape.dim]
        try:
            dt = onnx.TensorProto.DataType.Name(t.tensor_type.elem_type).lower()
        except ValueError:
            dt = "undefined"    # a type newer than onnx 1.12
        out[vi.name] = (dt, dims)
    return out, m


DTYPES = {"float": "float", "double": "double", "float16": "float16", "bfloat16": "bfloat16"}


def ours(onnxdiff, path):
    r = subprocess.run([onnxdiff, "show", "--values", "--json", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    j = json.loads(r.stdout)
    return {v["name"]: v for v in j["values"]}, j.get("warnings", [])


def expected_outputs(path, model):
    ds = os.path.join(os.path.dirname(path), "test_data_set_0")
    res = {}
    for i, o in enumerate(model.graph.output):
        f = os.path.join(ds, "output_%d.pb" % i)
        if not os.path.exists(f) or o.type.WhichOneof("value") != "tensor_type":
            continue
        t = onnx.TensorProto()
        try:
            t.ParseFromString(open(f, "rb").read())
        except Exception:
            continue
        res[o.name] = list(t.dims)
    return res


def key_of(path):
    d = os.path.basename(os.path.dirname(path))
    return d if os.path.basename(path) == "model.onnx" else os.path.basename(path)


def main(argv):
    sample, verbose, args = None, False, []
    it = iter(argv)
    for a in it:
        if a == "--sample":
            sample = int(next(it))
        elif a == "--verbose":
            verbose = True
        else:
            args.append(a)
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    onnxdiff, paths = args[0], list(models(args[1:]))
    if sample and sample < len(paths):
        paths = sorted(random.Random(11).sample(paths, sample))
    n = dict(models=0, compared=0, agree=0, ours_more=0, onnx_more=0, disagree=0, limits=0,
             outputs=0, outputs_bad=0, failed=0, warned=0)
    bad = []
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda p: ours(onnxdiff, p), paths))
    for path, (mine, warn) in zip(paths, runs):
        k = key_of(path)
        if mine is None:
            n["failed"] += 1
            bad.append("%s: onnxdiff failed: %s" % (k, warn))
            continue
        n["models"] += 1
        if warn:
            n["warned"] += 1
            if verbose:
                for w in warn:
                    print("%s: warning: %s" % (k, w))
        theirs, model = onnx_types(path)
        for name, (dt, dims) in (theirs or {}).items():
            v = mine.get(name)
            if v is None:
                continue
            n["compared"] += 1
            mdims, mdt = v["shape"], v["dtype"]
            why = None
            if mdt and dt != "undefined" and mdt != dt and "(" not in mdt:
                why = "dtype %s, onnx %s" % (mdt, dt)
            elif mdims is not None and len(mdims) != len(dims):
                why = "shape %s, onnx %s" % (mdims, dims)
            more = less = False
            if not why and mdims is None:
                less = any(d is not None for d in dims)
            elif not why:
                for a, b in zip(mdims, dims):
                    if b is not None and isinstance(a, int) and a != b:
                        why = "shape %s, onnx %s" % (mdims, dims)
                    less |= b is not None and not isinstance(a, int)
                    more |= b is None and isinstance(a, int)
            if why:
                if (k, name) in LIMITS:
                    n["limits"] += 1
                    continue
                n["disagree"] += 1
                bad.append("%s: %s: %s" % (k, name, why))
                continue
            n["ours_more"] += more
            n["onnx_more"] += less
            n["agree"] += not more and not less
            if less and verbose:
                print("%s: %s: onnx knows more: %s vs %s" % (k, name, mdims, dims))
        if os.path.basename(path) == "model.onnx":
            for name, dims in expected_outputs(path, model).items():
                v = mine.get(name)
                n["outputs"] += 1
                if v is None or v["shape"] is None:
                    continue
                if len(v["shape"]) != len(dims) or any(isinstance(a, int) and a != b for a, b in zip(v["shape"], dims)):
                    n["outputs_bad"] += 1
                    bad.append("%s: output %s: inferred %s, expected output has %s" % (k, name, v["shape"], dims))
    print("models %(models)d, values compared %(compared)d, agreements %(agree)d, onnxdiff knows more "
          "%(ours_more)d, onnx knows more %(onnx_more)d, disagreements %(disagree)d (+%(limits)d "
          "documented onnx-1.12 limitations); expected outputs %(outputs)d, mismatched %(outputs_bad)d; "
          "models with warnings %(warned)d, failed %(failed)d" % n)
    for b in bad:
        print("FAIL " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
