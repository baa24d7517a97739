#!/usr/bin/python3
# make-fixtures.py: writes the committed test models and values under fixtures/.
#
# Run as `/usr/bin/python3 scripts/make-fixtures.py` (Debian's python3-torch 1.13 and
# python3-onnx 1.12 live under /usr/bin/python3). The output is deterministic: every
# model is built from a fixed seed, exported to memory (no file names or times reach
# the protobuf) and written with protobuf's serializer, so running the script twice
# gives byte-identical files. fixtures/README.md says what each file is for.

import io
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

OPSET = 14
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "fixtures")
HAND_PRODUCER = ("onnxdiff-fixtures", "1")  # producer of every hand-built model


def path(*parts):
    p = os.path.join(ROOT, *parts)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    return p


def write_bytes(rel, data):
    with open(path(rel), "wb") as f:
        f.write(data)


def write_model(rel, model, check=True):
    if check:
        onnx.checker.check_model(model, full_check=True)
    write_bytes(rel, model.SerializeToString())


def write_npy(rel, array, version=None):
    with open(path(rel), "wb") as f:
        np.lib.format.write_array(f, np.asarray(array), version=version,
                                  allow_pickle=False)


def export(module, args, input_names, output_names, dynamic_axes=None):
    """torch.onnx.export into memory; returns the ModelProto."""
    buf = io.BytesIO()
    # Parameters keep requires_grad=True during export on purpose: under
    # torch.no_grad() nn.TransformerEncoderLayer takes its fused fast path
    # (aten::_transformer_encoder_layer_fwd), which torch 1.13 cannot export.
    torch.onnx.export(module, args, buf, opset_version=OPSET, do_constant_folding=True,
                      input_names=input_names, output_names=output_names,
                      dynamic_axes=dynamic_axes or {})
    return onnx.load_from_string(buf.getvalue())


def rng(seed):
    return np.random.RandomState(seed)


# ---------------------------------------------------------------- seed

class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x, mask):
        return self.linear(x) * mask


class Wrapped(nn.Module):
    """Holds the model as self.m and a frozen value as the buffer self.<name>."""

    def __init__(self, m, name, value):
        super().__init__()
        self.m = m
        self.name = name
        self.register_buffer(name, value)

    def forward(self, x):
        return self.m(x, getattr(self, self.name))


def make_seed():
    torch.manual_seed(0)
    model = MyModel().eval()
    mask = np.array([[1, 0, 1, 1]], dtype=np.float32)
    x = rng(1).uniform(-1, 1, size=(2, 4)).astype(np.float32)
    batch = {"x": {0: "batch"}, "y": {0: "batch"}}
    with_mask = export(model, (torch.from_numpy(x), torch.from_numpy(mask)),
                       ["x", "mask"], ["y"], batch)
    wrapper = export(Wrapped(model, "mask", torch.from_numpy(mask)),
                     (torch.from_numpy(x),), ["x"], ["y"], batch)
    write_model("seed/with_mask.onnx", with_mask)
    write_model("seed/wrapper.onnx", wrapper)
    write_model("seed/renamed.onnx", renamed(with_mask, keep_interface=True))
    write_model("seed/renamed-io.onnx", renamed(with_mask, keep_interface=False))
    write_npy("seed/mask.npy", mask)
    write_npy("seed/x.npy", x)
    return with_mask


# ---------------------------------------------------------------- hidden

class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 5, batch_first=True)
        self.head = nn.Linear(5, 2)

    def forward(self, x, hidden_state=None):
        # nn.GRU starts from zeros when hidden_state is None
        out, h_n = self.gru(x, hidden_state)
        return self.head(out), h_n


def make_hidden():
    torch.manual_seed(0)
    model = Recurrent().eval()
    x = rng(2).uniform(-1, 1, size=(2, 3, 4)).astype(np.float32)
    hidden = (rng(3).uniform(-1, 1, size=(1, 2, 5)) * 0.5).astype(np.float32)
    # batch is shared by x and hidden_state: freezing hidden_state fixes it everywhere
    dyn = {"x": {0: "batch"}, "hidden_state": {1: "batch"},
           "y": {0: "batch"}, "h_n": {1: "batch"}}
    with_hidden = export(model, (torch.from_numpy(x), torch.from_numpy(hidden)),
                         ["x", "hidden_state"], ["y", "h_n"], dyn)
    wrapper = export(Wrapped(model, "hidden_state", torch.from_numpy(hidden)),
                     (torch.from_numpy(x),), ["x"], ["y", "h_n"])
    write_model("hidden/with_hidden.onnx", with_hidden)
    write_model("hidden/wrapper.onnx", wrapper)
    write_npy("hidden/hidden_state.npy", hidden)
    write_npy("hidden/x.npy", x)


# ---------------------------------------------------------------- transformer

def small_encoder():
    """One post-norm encoder layer of width 16, 2 heads, batch first."""
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32,
                                       dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = small_encoder()
        self.head = nn.Linear(16, 3)

    def forward(self, x, attention_mask):
        # the Hugging Face pattern: int64 [batch, seq] of ones/zeros turned into an
        # additive float mask, plus the boolean key padding mask
        b, n = attention_mask.shape
        ext = (1.0 - attention_mask[:, None, None, :].float()) * -10000.0
        ext = ext.expand(b, 2, n, n).reshape(b * 2, n, n)
        padding = attention_mask == 0
        return self.head(self.enc(x, mask=ext, src_key_padding_mask=padding))


def make_transformer():
    torch.manual_seed(0)
    model = Encoder().eval()
    x = rng(4).uniform(-1, 1, size=(1, 8, 16)).astype(np.float32)
    mask = np.ones((1, 8), dtype=np.int64)
    with_mask = export(model, (torch.from_numpy(x), torch.from_numpy(mask)),
                       ["x", "attention_mask"], ["y"])
    wrapper = export(Wrapped(model, "attention_mask", torch.from_numpy(mask)),
                     (torch.from_numpy(x),), ["x"], ["y"])
    write_model("transformer/with_mask.onnx", with_mask)
    write_model("transformer/wrapper.onnx", wrapper)
    write_model("transformer/renamed.onnx", renamed(with_mask, keep_interface=True))
    write_npy("transformer/attention_mask.npy", mask)
    write_npy("transformer/x.npy", x)


# ---------------------------------------------------------------- encoder

class KeyPaddingEncoder(nn.Module):
    """A stock nn.TransformerEncoder called the usual way: a bool key padding mask."""

    def __init__(self):
        super().__init__()
        self.enc = small_encoder()

    def forward(self, x, mask):
        return self.enc(x, src_key_padding_mask=mask)


def make_encoder():
    torch.manual_seed(0)
    model = KeyPaddingEncoder().eval()
    x = rng(7).uniform(-1, 1, size=(1, 8, 16)).astype(np.float32)
    mask = np.array([[False] * 6 + [True] * 2])        # the last two positions are padding
    bs = {0: "batch", 1: "seq"}
    with_mask = export(model, (torch.from_numpy(x), torch.from_numpy(mask)),
                       ["x", "mask"], ["y"], {"x": bs, "mask": bs, "y": bs})
    wrapped = Wrapped(model, "mask", torch.from_numpy(mask))
    wrapper = export(wrapped, (torch.from_numpy(x),), ["x"], ["y"])
    dynamic = export(wrapped, (torch.from_numpy(x),), ["x"], ["y"], {"x": bs, "y": bs})
    write_model("encoder/with_mask.onnx", with_mask)
    write_model("encoder/wrapper.onnx", wrapper)
    write_model("encoder/wrapper-dynamic.onnx", dynamic)
    write_npy("encoder/mask.npy", mask)
    write_npy("encoder/x.npy", x)


# ---------------------------------------------------------------- bert

class BertBlock(nn.Module):
    """BERT's self-attention and output block as Hugging Face writes it: heads split with
    x.size() reshapes, the extended additive mask from an int64 attention_mask."""

    def __init__(self, hidden=16, heads=2):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.norm = nn.LayerNorm(hidden)

    def split_heads(self, t):
        shape = t.size()[:-1] + (self.heads, self.head_dim)
        return t.view(shape).permute(0, 2, 1, 3)

    def forward(self, x, attention_mask):
        ext = attention_mask[:, None, None, :].to(torch.float32)
        ext = (1.0 - ext) * torch.finfo(torch.float32).min
        q, k, v = (self.split_heads(f(x)) for f in (self.query, self.key, self.value))
        scores = torch.matmul(q, k.transpose(-1, -2)) / (self.head_dim ** 0.5) + ext
        ctx = torch.matmul(scores.softmax(dim=-1), v).permute(0, 2, 1, 3).contiguous()
        ctx = ctx.view(ctx.size()[:-2] + (self.heads * self.head_dim,))
        return self.norm(self.dense(ctx) + x)


def make_bert():
    torch.manual_seed(0)
    model = BertBlock().eval()
    x = rng(8).uniform(-1, 1, size=(1, 8, 16)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1, 1, 0, 0]], dtype=np.int64)
    bs = {0: "batch", 1: "sequence"}
    with_mask = export(model, (torch.from_numpy(x), torch.from_numpy(mask)),
                       ["x", "attention_mask"], ["y"], {"x": bs, "attention_mask": bs, "y": bs})
    wrapper = export(Wrapped(model, "attention_mask", torch.from_numpy(mask)),
                     (torch.from_numpy(x),), ["x"], ["y"])
    write_model("bert/with_mask.onnx", with_mask)
    write_model("bert/wrapper.onnx", wrapper)
    write_npy("bert/attention_mask.npy", mask)
    write_npy("bert/x.npy", x)


# ---------------------------------------------------------------- decoder

class TinyDecoder(nn.Module):
    """One decoder layer: self-attention over a key/value cache, cross-attention to the
    encoder, a vocabulary head; returns the logits and the new cache."""

    def __init__(self, vocab=20, hidden=16, heads=2):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.embed = nn.Embedding(vocab, hidden)
        self.q, self.k, self.v = (nn.Linear(hidden, hidden) for _ in range(3))
        self.cq, self.ck, self.cv = (nn.Linear(hidden, hidden) for _ in range(3))
        self.head = nn.Linear(hidden, vocab)

    def split(self, t):
        b, n, _ = t.size()
        return t.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def attend(self, q, k, v):
        a = torch.matmul(self.split(q), self.split(k).transpose(-1, -2)) / (self.head_dim ** 0.5)
        o = torch.matmul(a.softmax(-1), self.split(v)).transpose(1, 2)
        return o.reshape(o.size(0), o.size(1), -1)

    def forward(self, input_ids, encoder_hidden_states, past_key=None, past_value=None):
        h = self.embed(input_ids)
        k, v = self.k(h), self.v(h)
        if past_key is not None:
            k, v = torch.cat([past_key, k], dim=1), torch.cat([past_value, v], dim=1)
        h = h + self.attend(self.q(h), k, v)
        e = encoder_hidden_states
        h = h + self.attend(self.cq(h), self.ck(e), self.cv(e))
        return self.head(h), k, v


def merge_decoders(no_past, with_past):
    """What optimum's merge_decoders does: initializers equal across the two models are
    stored once in the merged graph (scalars and int 1-D ones stay in their branch), the
    graph inputs are the union of both plus bool[1] use_cache_branch, and one If runs the
    with-past graph when it is true, the other otherwise."""
    models = [no_past, with_past]
    kept = [[], []]                 # per branch: the small initializers it keeps
    shared, by_content, rename = [], {}, [{}, {}]
    for i, m in enumerate(models):
        for t in m.graph.initializer:
            if len(t.dims) == 0 or (len(t.dims) == 1 and t.data_type in (6, 7)):
                kept[i].append(t)
                continue
            key = (t.data_type, tuple(t.dims), numpy_helper.to_array(t).tobytes())
            if key not in by_content:
                c = TensorProto()
                c.CopyFrom(t)
                c.name = t.name + "_merged"
                by_content[key] = c.name
                shared.append(c)
            rename[i][t.name] = by_content[key]
    for i, m in enumerate(models):
        for n in m.graph.node:
            n.input[:] = [rename[i].get(s, s) for s in n.input]
    inputs, seen = [], set()
    for m in models:
        for v in m.graph.input:
            if v.name not in seen:
                seen.add(v.name)
                inputs.append(v)
    branch = lambda m, name, inits: helper.make_graph(list(m.graph.node), name, [],
                                                      list(m.graph.output), inits)
    use_cache = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    node = helper.make_node("If", ["use_cache_branch"], [o.name for o in no_past.graph.output],
                            name="optimum::if", then_branch=branch(with_past, "with_past", kept[1]),
                            else_branch=branch(no_past, "no_past", kept[0]))
    graph = helper.make_graph([node], "merged", inputs + [use_cache], list(with_past.graph.output),
                              shared)
    merged = helper.make_model(graph, producer_name="optimum-onnx",
                               opset_imports=list(no_past.opset_import))
    merged.ir_version = no_past.ir_version
    return merged


def make_decoder():
    torch.manual_seed(0)
    model = TinyDecoder().eval()
    ids = np.array([[3, 1, 4]], dtype=np.int64)
    enc = rng(9).uniform(-1, 1, size=(1, 5, 16)).astype(np.float32)
    past = [rng(10 + i).uniform(-1, 1, size=(1, 4, 16)).astype(np.float32) for i in range(2)]
    dyn = {"input_ids": {0: "batch", 1: "sequence"},
           "encoder_hidden_states": {0: "batch", 1: "encoder_sequence"},
           "past_key_values.0.key": {0: "batch", 1: "past_sequence"},
           "past_key_values.0.value": {0: "batch", 1: "past_sequence"},
           "logits": {0: "batch", 1: "sequence"},
           "present.0.key": {0: "batch", 1: "total_sequence"},
           "present.0.value": {0: "batch", 1: "total_sequence"}}
    outs = ["logits", "present.0.key", "present.0.value"]
    base = ["input_ids", "encoder_hidden_states"]
    args = (torch.from_numpy(ids), torch.from_numpy(enc))
    no_past = export(model, args, base, outs, {k: dyn[k] for k in base + outs})
    with_past = export(model, args + tuple(torch.from_numpy(p) for p in past),
                       base + ["past_key_values.0.key", "past_key_values.0.value"], outs, dyn)
    write_model("decoder/decoder_model_merged.onnx", merge_decoders(no_past, with_past))
    write_npy("decoder/use_cache_false.npy", np.array([False]))
    write_npy("decoder/use_cache_true.npy", np.array([True]))
    write_npy("decoder/input_ids.npy", ids)
    write_npy("decoder/encoder_hidden_states.npy", enc)
    write_npy("decoder/past_key.npy", past[0])
    write_npy("decoder/past_value.npy", past[1])


# ---------------------------------------------------------------- if

class Branchy(nn.Module):
    def forward(self, x, flag):
        if bool(flag > 0):
            return x * 2 + 1
        else:
            return torch.relu(x) - 3


class SrBranchy(nn.Module):
    """Silero VAD's branching in miniature: on the sample rate, on a static dim, on a
    dynamic one."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1)
        self.proj = nn.Conv1d(4, 1, 1)

    def forward(self, x, sr: int):
        if sr == 8000:
            x = x[:, :, ::2]
        y = self.conv(x)
        if y.size(1) == 1:
            y = y.repeat(1, 4, 1)
        z = self.proj(torch.relu(y))
        if z.size(-1) > 64:
            z = z[:, :, :64]
        return z


def make_if():
    model = torch.jit.script(Branchy())
    x = rng(5).uniform(-1, 1, size=(2, 3)).astype(np.float32)
    flag = np.array(1, dtype=np.int64)  # the export declares flag as int64 scalar
    exported = export(model, (torch.from_numpy(x), torch.from_numpy(flag)),
                      ["x", "flag"], ["y"], {"x": {0: "batch"}, "y": {0: "batch"}})
    ifs = [n for n in exported.graph.node if n.op_type == "If"]
    if len(ifs) != 1 or {a.name for a in ifs[0].attribute} != {"then_branch", "else_branch"}:
        sys.exit("make-fixtures: if/model.onnx has no If node with two branches")
    write_model("if/model.onnx", exported)
    write_npy("if/flag.npy", flag)
    write_npy("if/flag0.npy", np.array(0, dtype=np.int64))
    write_npy("if/x.npy", x)

    # Silero VAD's shape, scripted: an If on the sample rate, an If on a static dim (the
    # conv's 4 output channels: folds once shapes are known) and one on a dynamic dim
    model = torch.jit.script(SrBranchy())
    x = rng(6).uniform(-1, 1, size=(1, 1, 32)).astype(np.float32)
    exported = export(model, (torch.from_numpy(x), torch.tensor(16000)), ["x", "sr"], ["y"],
                      {"x": {2: "samples"}})
    if sum(n.op_type == "If" for n in exported.graph.node) != 3:
        sys.exit("make-fixtures: if/sr.onnx should have three If nodes")
    write_model("if/sr.onnx", exported)
    write_npy("if/sr.npy", np.array(16000, dtype=np.int64))
    write_npy("if/sr-x.npy", x)


# ---------------------------------------------------------------- cnn

class Block(nn.Module):
    """A resnet basic block: two 3x3 convs, batch norms, a shortcut (1x1 when it strides)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class SmallResNet(nn.Module):
    """resnet18's shape in miniature, plus a grouped and a dilated conv, a transposed
    conv and an average pool with count_include_pad, so Conv, ConvTranspose and the pools
    meet their attributes in a real export."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.grouped = nn.Conv2d(16, 16, 3, 1, 2, dilation=2, groups=4)
        self.up = nn.ConvTranspose2d(16, 8, 2, 2)
        self.avg = nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.stem(x))))
        x = self.layer2(self.layer1(x))
        x = torch.relu(self.up(torch.relu(self.grouped(x))))
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(self.avg(x), 1), 1)
        return self.fc(x)


def scaled_conv(model, name, factor):
    """A copy with the weight of Conv node `name` multiplied by factor."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    node = next(n for n in m.graph.node if n.name == name)
    init = next(t for t in m.graph.initializer if t.name == node.input[1])
    w = numpy_helper.to_array(init) * np.float32(factor)
    init.CopyFrom(numpy_helper.from_array(w.astype(np.float32), init.name))
    return m


def random_batch_norm(mod):
    """Statistics and affine terms that do something once the export folds the norm."""
    mod.running_mean.uniform_(-0.5, 0.5)
    mod.running_var.uniform_(0.5, 1.5)
    mod.weight.data.uniform_(0.5, 1.5)
    mod.bias.data.uniform_(-0.5, 0.5)


def make_cnn():
    torch.manual_seed(0)
    model = SmallResNet()
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            random_batch_norm(mod)
    model.eval()
    x = rng(6).uniform(-1, 1, size=(1, 3, 32, 32)).astype(np.float32)
    exported = export(model, (torch.from_numpy(x),), ["x"], ["logits"],
                      {"x": {0: "batch"}, "logits": {0: "batch"}})
    write_model("cnn/model.onnx", exported)
    write_model("cnn/renamed.onnx", renamed(exported, keep_interface=False))
    write_model("cnn/scaled.onnx", scaled_conv(exported, "/layer2/conv2/Conv", 1.5))
    write_npy("cnn/x.npy", x)


# ---------------------------------------------------------------- mobilenet

def make_mobilenet():
    """torchvision's mobilenet_v3_small at a quarter width with 10 classes (120k weights):
    depthwise convs (group = channels), HardSwish, squeeze-and-excitation (GlobalAveragePool,
    HardSigmoid, Mul), the Identity nodes torch leaves for dropout, folded batch norms."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small(weights=None, width_mult=0.25, num_classes=10)
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            random_batch_norm(mod)
        if isinstance(mod, nn.Linear):  # torchvision's N(0, 0.01) gives logits of 0.01
            mod.weight.data.uniform_(-0.3, 0.3)
    model.eval()
    x = rng(12).uniform(-1, 1, size=(1, 3, 64, 64)).astype(np.float32)
    exported = export(model, (torch.from_numpy(x),), ["x"], ["logits"],
                      {"x": {0: "batch"}, "logits": {0: "batch"}})
    depthwise = [n.name for n in exported.graph.node if n.op_type == "Conv" and
                 any(a.name == "group" and a.i > 1 for a in n.attribute)][-1]
    write_model("mobilenet/model.onnx", exported)
    write_model("mobilenet/renamed.onnx", renamed(exported, keep_interface=False))
    write_model("mobilenet/scaled.onnx", scaled_conv(exported, depthwise, 1.5))  # the last depthwise
    write_npy("mobilenet/x.npy", x)


# ---------------------------------------------------------------- swin

def make_swin():
    """torchvision's SwinTransformer at 8 channels (two stages of two blocks, windows of
    4x4 on a 32x32 image): shifted windows and their attention masks built from shape
    chains (Range, Mod, ScatterND, Where), relative position bias, patch merging, Erf GELUs,
    and the Dropout nodes that torchvision leaves in training mode with a ratio of 0 (it
    calls F.dropout without training=)."""
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.SwinTransformer(patch_size=[4, 4], embed_dim=8, depths=[2, 2],
                                               num_heads=[1, 2], window_size=[4, 4],
                                               num_classes=10)
    for mod in model.modules():
        if isinstance(mod, nn.LayerNorm):
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
        if hasattr(mod, "relative_position_bias_table"):  # N(0, 0.02) would add ~nothing
            mod.relative_position_bias_table.data.uniform_(-1, 1)
    model.eval()
    x = rng(13).uniform(-1, 1, size=(1, 3, 32, 32)).astype(np.float32)
    exported = export(model, (torch.from_numpy(x),), ["x"], ["logits"], None)
    conv = next(n.name for n in exported.graph.node if n.op_type == "Conv")
    write_model("swin/model.onnx", exported)
    write_model("swin/renamed.onnx", renamed(exported, keep_interface=False))
    write_model("swin/scaled.onnx", scaled_conv(exported, conv, 1.5))  # the patch embedding
    write_npy("swin/x.npy", x)


# ---------------------------------------------------------------- encoder

def make_encoder_model():
    """A stock nn.TransformerEncoder (d_model 16, two layers, GELU, a final LayerNorm)
    with dynamic batch and sequence: the oracle's transformer, no mask tricks."""
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32,
                                       dropout=0.0, activation="gelu", batch_first=True)
    model = nn.TransformerEncoder(layer, num_layers=2, norm=nn.LayerNorm(16),
                                  enable_nested_tensor=False).eval()
    with torch.no_grad():  # the layers start as copies of one: make each its own
        for p in model.parameters():
            p.add_(torch.empty_like(p).uniform_(-0.2, 0.2))
    x = rng(7).uniform(-1, 1, size=(1, 6, 16)).astype(np.float32)
    dyn = {"x": {0: "batch", 1: "seq"}, "y": {0: "batch", 1: "seq"}}
    write_model("encoder/model.onnx", export(model, (torch.from_numpy(x),), ["x"], ["y"], dyn))


# ---------------------------------------------------------------- rnn

class StatefulGRU(nn.Module):
    """Two stacked bidirectional GRU layers started from h0, a graph input."""

    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(4, 6, num_layers=2, batch_first=True, bidirectional=True)

    def forward(self, x, h0):
        return self.gru(x, h0)


class StatefulLSTM(nn.Module):
    """An LSTM started from h0 and c0, both graph inputs."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 6, batch_first=True)

    def forward(self, x, h0, c0):
        y, (h, c) = self.lstm(x, (h0, c0))
        return y, h, c


def make_rnn():
    torch.manual_seed(0)
    x = torch.from_numpy(rng(8).uniform(-1, 1, size=(1, 5, 4)).astype(np.float32))
    h0 = torch.from_numpy(rng(9).uniform(-1, 1, size=(4, 1, 6)).astype(np.float32))
    dyn = {"x": {0: "batch", 1: "seq"}, "h0": {1: "batch"}, "y": {0: "batch", 1: "seq"},
           "h_n": {1: "batch"}}
    write_model("rnn/gru.onnx", export(StatefulGRU().eval(), (x, h0), ["x", "h0"],
                                       ["y", "h_n"], dyn))
    h0, c0 = h0[:1], torch.from_numpy(rng(10).uniform(-1, 1, size=(1, 1, 6)).astype(np.float32))
    dyn.update({"c0": {1: "batch"}, "c_n": {1: "batch"}})
    write_model("rnn/lstm.onnx", export(StatefulLSTM().eval(), (x, h0, c0), ["x", "h0", "c0"],
                                        ["y", "h_n", "c_n"], dyn))


# ---------------------------------------------------------------- run

def make_run():
    """Hand-built models for `onnxdiff run`: an op no kernel has, a Loop whose body
    reads a value of the graph around it and yields a carried and a scanned value, a
    Scan with reversed and non-zero axes, a Scan-8 with a short sequence, a fill of a fed
    shape, and opset 23's Attention (which torch 1.13 cannot export) with every option at
    once."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    attn = helper.make_node("Attention", ["x"], ["y"], name="attn_0", domain="com.microsoft")
    graph = helper.make_graph([attn], "custom", [x], [y])
    model = helper.make_model(graph, producer_name=HAND_PRODUCER[0],
                              producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", OPSET),
                                             helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 7
    write_model("run/custom-op.onnx", model, check=False)

    # body(i, cond, acc) -> (cond, acc * scale + x, acc): 3 iterations
    b_in = [helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("c", TensorProto.BOOL, []),
            helper.make_tensor_value_info("acc", TensorProto.FLOAT, [2, 3])]
    b_out = [helper.make_tensor_value_info("c_out", TensorProto.BOOL, []),
             helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_value_info("scan", TensorProto.FLOAT, [2, 3])]
    body = helper.make_graph([
        helper.make_node("Identity", ["c"], ["c_out"]),
        helper.make_node("Mul", ["acc", "scale"], ["scaled"]),
        helper.make_node("Add", ["scaled", "x"], ["acc_out"]),
        helper.make_node("Identity", ["acc"], ["scan"])], "body", b_in, b_out)
    nodes = [helper.make_node("Loop", ["trips", "", "x"], ["final", "history"], name="loop",
                              body=body)]
    graph = helper.make_graph(
        nodes, "loop", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info("final", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("history", TensorProto.FLOAT, [3, 2, 3])],
        [numpy_helper.from_array(np.array(3, dtype=np.int64), "trips"),
         numpy_helper.from_array(np.float32(0.5) * np.ones((2, 3), np.float32), "scale")])
    model = helper.make_model(graph, producer_name=HAND_PRODUCER[0],
                              producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    write_model("run/loop.onnx", model)

    # Attention-23: rank-3 Q, K, V split into 4 query and 2 key/value heads (grouped-query),
    # a KV cache of 4 past positions, a float mask broadcast over batch and heads, causal,
    # and qk_matmul_output as the probabilities (mode 3). No softcap: with a mask, onnxruntime
    # 1.24 applies it after the mask, ONNX's reference and node tests before.
    f = TensorProto.FLOAT
    ins = [helper.make_tensor_value_info("q", f, [2, 3, 32]),
           helper.make_tensor_value_info("k", f, [2, 3, 16]),
           helper.make_tensor_value_info("v", f, [2, 3, 16]),
           helper.make_tensor_value_info("mask", f, [3, 7]),
           helper.make_tensor_value_info("past_key", f, [2, 2, 4, 8]),
           helper.make_tensor_value_info("past_value", f, [2, 2, 4, 8])]
    outs = [helper.make_tensor_value_info("y", f, [2, 3, 32]),
            helper.make_tensor_value_info("present_key", f, [2, 2, 7, 8]),
            helper.make_tensor_value_info("present_value", f, [2, 2, 7, 8]),
            helper.make_tensor_value_info("qk", f, [2, 4, 3, 7])]
    attn = helper.make_node("Attention", [i.name for i in ins], [o.name for o in outs],
                            name="attention", q_num_heads=4, kv_num_heads=2, is_causal=1,
                            qk_matmul_output_mode=3)
    model = helper.make_model(helper.make_graph([attn], "attention", ins, outs),
                              producer_name=HAND_PRODUCER[0], producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", 23)])
    model.ir_version = 10
    write_model("run/attention.onnx", model, check=False)  # onnx 1.12 knows no opset 23

    # a spectrogram and back (torch 1.13 cannot export torch.stft): STFT of 64-sample Hann
    # windows every 16 samples, two-sided, then the inverse DFT of each frame (opset 20):
    # the windowed frames again (onnxruntime refuses an inverse one-sided DFT)
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, dtype=np.int64), name)
    nodes = [helper.make_node("HannWindow", ["n_fft"], ["window"], periodic=1),
             helper.make_node("STFT", ["wav", "hop", "window"], ["spec"], onesided=0),
             helper.make_node("DFT", ["spec", "", "axis"], ["frames"], inverse=1)]
    graph = helper.make_graph(
        nodes, "spectrogram", [helper.make_tensor_value_info("wav", f, [2, 400, 1])],
        [helper.make_tensor_value_info("spec", f, [2, 22, 64, 2]),
         helper.make_tensor_value_info("frames", f, [2, 22, 64, 2])],
        [i64("n_fft", 64), i64("hop", 16), i64("axis", 2)])
    model = helper.make_model(graph, producer_name=HAND_PRODUCER[0],
                              producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    write_model("run/stft.onnx", model, check=False)

    # ConstantOfShape of a fed shape, summed: a model whose memory is the caller's choice
    fill = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["shape"], ["ones"],
                          value=helper.make_tensor("one", TensorProto.FLOAT, [1], [1.0])),
         helper.make_node("ReduceSum", ["ones"], ["total"], keepdims=0)],
        "fill", [helper.make_tensor_value_info("shape", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("total", TensorProto.FLOAT, [])])
    model = helper.make_model(fill, producer_name=HAND_PRODUCER[0],
                              producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    write_model("run/fill.onnx", model)

    # Scan, as tf2onnx writes a reversed recurrence: a state h over x read backwards along
    # axis 1 and g forwards along axis 0, h = tanh(h * w + x_t) * g_t with w from the
    # graph around the body; the per-step values stacked along axis 1, last step first
    f = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    body = helper.make_graph([
        helper.make_node("Mul", ["h", "w"], ["hw"]),
        helper.make_node("Add", ["hw", "xt"], ["pre"]),
        helper.make_node("Tanh", ["pre"], ["th"]),
        helper.make_node("Mul", ["th", "gt"], ["h_out"]),
        helper.make_node("Add", ["h_out", "xt"], ["y"])], "body",
        [vi("h", f, [2]), vi("xt", f, [2]), vi("gt", f, [2])], [vi("h_out", f, [2]), vi("y", f, [2])])
    nodes = [helper.make_node("Scan", ["h0", "x", "g"], ["h_final", "ys"], name="scan", body=body,
                              num_scan_inputs=2, scan_input_axes=[1, 0], scan_input_directions=[1, 0],
                              scan_output_axes=[-1], scan_output_directions=[1])]
    graph = helper.make_graph(
        nodes, "scan", [vi("h0", f, [2]), vi("x", f, [2, 4]), vi("g", f, [4, 2])],
        [vi("h_final", f, [2]), vi("ys", f, [2, 4])],
        [numpy_helper.from_array(np.array([0.9, -0.7], np.float32), "w")])
    model = helper.make_model(graph, producer_name=HAND_PRODUCER[0],
                              producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    write_model("run/scan.onnx", model)

    # Scan-8 (opset 8): a batch axis first, sequence_lens [3, 2] (the second sequence is
    # cut short: its outputs past it are zeros), read backwards
    body = helper.make_graph([
        helper.make_node("Add", ["s", "x"], ["s2"]),
        helper.make_node("Mul", ["s2", "x"], ["y"])], "body",
        [vi("s", f, [2]), vi("x", f, [2])], [vi("s2", f, [2]), vi("y", f, [2])])
    nodes = [helper.make_node("Scan", ["lens", "s0", "xs"], ["s_final", "ys"], name="scan8",
                              num_scan_inputs=1, directions=[1], body=body)]
    graph = helper.make_graph(
        nodes, "scan8", [vi("s0", f, [2, 2]), vi("xs", f, [2, 3, 2])],
        [vi("s_final", f, [2, 2]), vi("ys", f, [2, 3, 2])],
        [numpy_helper.from_array(np.array([3, 2], np.int64), "lens")])
    model = helper.make_model(graph, producer_name=HAND_PRODUCER[0],
                              producer_version=HAND_PRODUCER[1],
                              opset_imports=[helper.make_opsetid("", 8)])
    model.ir_version = 7
    write_model("run/scan8.onnx", model)


# ---------------------------------------------------------------- renaming

def renamed(model, keep_interface):
    """A copy with every tensor and node renamed and the nodes in another valid
    topological order (Kahn's algorithm, always taking the ready node that came
    last in the original list). Graph inputs and outputs keep their names when
    keep_interface is set. Initializers are listed in reverse order."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    interface = {v.name for v in list(g.input) + list(g.output)} if keep_interface else set()
    names = {}

    def nm(old):
        if old == "" or old in interface:
            return old
        if old not in names:
            names[old] = "t%d" % len(names)
        return names[old]

    for v in g.input:
        v.name = nm(v.name)
    for t in g.initializer:
        t.name = nm(t.name)
    order = topo_reversed(g)
    for i, node in enumerate(order):
        node.name = "node%d" % i
        node.input[:] = [nm(s) for s in node.input]
        node.output[:] = [nm(s) for s in node.output]
    for v in list(g.output) + list(g.value_info):
        v.name = nm(v.name)
    inits = list(reversed(g.initializer))
    del g.node[:]
    g.node.extend(order)
    del g.initializer[:]
    g.initializer.extend(inits)
    onnx.checker.check_model(m, full_check=True)
    return m


def topo_reversed(g):
    nodes = [onnx.NodeProto() for _ in g.node]
    for copy, node in zip(nodes, g.node):
        copy.CopyFrom(node)
    producer = {out: i for i, n in enumerate(nodes) for out in n.output}
    deps = [{producer[s] for s in n.input if s in producer} for n in nodes]
    done, order = set(), []
    while len(order) < len(nodes):
        ready = [i for i in range(len(nodes)) if i not in done and deps[i] <= done]
        pick = max(ready)
        done.add(pick)
        order.append(nodes[pick])
    return order


# ---------------------------------------------------------------- bad

def hand_model(nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "bad", inputs, outputs, list(initializers))
    model = helper.make_model(graph, producer_name=HAND_PRODUCER[0],
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.producer_version = HAND_PRODUCER[1]
    model.ir_version = 7
    return model


def vi(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def make_bad(with_mask):
    write_bytes("bad/empty.onnx", b"")
    write_bytes("bad/random.onnx", rng(6).bytes(256))
    data = with_mask.SerializeToString()
    write_bytes("bad/truncated.onnx", data[:len(data) // 2])
    tensor = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "t")
    write_bytes("bad/not-a-model.onnx", tensor.SerializeToString())
    no_graph = onnx.ModelProto(ir_version=7, producer_name=HAND_PRODUCER[0],
                               producer_version=HAND_PRODUCER[1])
    no_graph.opset_import.extend([helper.make_opsetid("", OPSET)])
    write_bytes("bad/no-graph.onnx", no_graph.SerializeToString())

    dangling = hand_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")],
                          [vi("x", [2])], [vi("y", [2])])
    write_model("bad/dangling.onnx", dangling, check=False)
    cycle = hand_model([helper.make_node("Add", ["x", "b"], ["a"], name="add"),
                        helper.make_node("Relu", ["a"], ["b"], name="relu")],
                       [vi("x", [2])], [vi("b", [2])])
    write_model("bad/cycle.onnx", cycle, check=False)
    duplicate = hand_model([helper.make_node("Relu", ["x"], ["y"], name="relu"),
                            helper.make_node("Neg", ["x"], ["y"], name="neg")],
                           [vi("x", [2])], [vi("y", [2])])
    write_model("bad/duplicate.onnx", duplicate, check=False)
    # helper.make_tensor refuses a size mismatch, so build the TensorProto by hand
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 3],
                    raw_data=np.array([1, 2], dtype="<f4").tobytes())
    bad_dims = hand_model([helper.make_node("Add", ["x", "w"], ["y"], name="add")],
                          [vi("x", [2, 3])], [vi("y", [2, 3])], [w])
    write_model("bad/bad-dims.onnx", bad_dims, check=False)

    with open(path("bad/lying.npy"), "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (100, 4)})
        f.write(np.ones(4, dtype="<f4").tobytes())
    write_npy("bad/mask-int.npy", np.array([[1, 0, 1, 1]], dtype=np.int32))


# ---------------------------------------------------------------- npy variants

def make_npy():
    mask = np.array([[1, 0, 1, 1]], dtype=np.float32)
    write_npy("npy/mask-v1.npy", mask, version=(1, 0))
    write_npy("npy/mask-v2.npy", mask, version=(2, 0))
    write_npy("npy/mask-v3.npy", mask, version=(3, 0))
    write_npy("npy/mask-f64.npy", mask.astype(np.float64))
    write_npy("npy/mask-bool.npy", mask.astype(np.bool_))
    write_npy("npy/mask-be.npy", mask.astype(">f4"))
    write_npy("npy/scalar-i64.npy", np.array(3, dtype=np.int64))
    write_npy("npy/fortran-2x3.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    write_npy("npy/empty-0x4.npy", np.zeros((0, 4), dtype=np.float32))


SUBDIRS = ("seed", "hidden", "transformer", "if", "cnn", "encoder", "bert", "decoder", "rnn",
           "run", "bad", "npy", "mobilenet", "swin")


def main():
    for sub in SUBDIRS:  # start clean so no stale file survives a rename
        shutil.rmtree(os.path.join(ROOT, sub), ignore_errors=True)
    np.random.seed(0)
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)
    with_mask = make_seed()
    make_hidden()
    make_transformer()
    make_if()
    make_cnn()
    make_encoder_model()
    make_rnn()
    make_run()
    make_bad(with_mask)
    make_npy()
    make_encoder()
    make_bert()
    make_decoder()
    make_mobilenet()
    make_swin()


if __name__ == "__main__":
    main()
