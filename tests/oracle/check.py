#!/usr/bin/python3
# check.py: the ONNX checker as an oracle no one here wrote.
#
#   tests/oracle/check.py [--strict] MODEL...
#
# Runs onnx.checker.check_model(path, full_check=True) on each MODEL (Debian
# python3-onnx, hence /usr/bin/python3), leaving MODEL as it was (see full_check). Exit 0 when every model passes, 1 with one
# line per failing model on stderr, 2 on a usage error.
#
# full_check adds strict shape inference. The checker proper (structure, SSA,
# topological order, operator schemas) is what we test; shape inference can fail on
# a model that is valid, because ONNX 1.12's inference does not know every case
# torch produces (e.g. a value_info that torch wrote from its own, different,
# inference). So when full_check fails with an InferenceError, the model is checked
# again without full_check: if that passes, the model passes with a note on stderr
# naming the inference error. --strict turns that note into a failure.

import os
import sys
import tempfile

import onnx
import onnx.checker
import onnx.shape_inference


def first_line(err):
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def full_check(path):
    """onnx.checker.check_model(path, full_check=True) without its side effect: ONNX 1.12
    runs infer_shapes_path(path) with no output path, which writes the inferred model
    over the checked file (value_info added). The inferred model goes to a scratch file."""
    onnx.checker.check_model(path)
    with tempfile.TemporaryDirectory() as scratch:
        onnx.shape_inference.infer_shapes_path(path, os.path.join(scratch, "inferred.onnx"),
                                               check_type=True, strict_mode=True)


def check(path, strict):
    """Returns None when the model passes, else a one-line reason."""
    try:
        full_check(path)
        return None
    except onnx.shape_inference.InferenceError as err:
        if strict:
            return "shape inference: " + first_line(err)
        inference = first_line(err)
    except Exception as err:  # ValidationError, protobuf DecodeError, OSError
        return first_line(err)
    try:
        onnx.checker.check_model(path)
    except Exception as err:
        return first_line(err)
    print("check.py: note: '%s' passes only without full_check: %s" % (path, inference),
          file=sys.stderr)
    return None


def main(argv):
    strict = "--strict" in argv
    paths = [a for a in argv if a != "--strict"]
    if not paths or any(p.startswith("-") for p in paths):
        print("usage: check.py [--strict] MODEL...", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        reason = check(path, strict)
        if reason is not None:
            print("%s: %s" % (path, reason), file=sys.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
