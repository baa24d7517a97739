#!/usr/bin/python3
"""export.py DIR [NAME...] — exports the zoo of scripts/zoo.sh into DIR/NAME.onnx: torchvision
classifiers, video, segmentation and detection nets, and torch.nn models of the shapes
people export (an encoder-decoder Transformer with masks, a bidirectional LSTM with h0 and
c0, a Conv1d/GRU audio net, a GPT-style block at opset 17), all with random weights at
small input sizes. Run with Debian's python3-torch 1.13 and python3-torchvision."""
import os
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")
nn = torch.nn
M = torchvision.models


class Seq2Seq(nn.Module):
    def __init__(s):
        super().__init__()
        s.t = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                             dim_feedforward=64, batch_first=True)

    def forward(s, src, tgt, src_pad):
        causal = s.t.generate_square_subsequent_mask(tgt.shape[1])
        return s.t(src, tgt, tgt_mask=causal, src_key_padding_mask=src_pad,
                   memory_key_padding_mask=src_pad)


class BiLSTM(nn.Module):
    def __init__(s):
        super().__init__()
        s.e = nn.Embedding(50, 16)
        s.l = nn.LSTM(16, 24, num_layers=2, bidirectional=True, batch_first=True)
        s.o = nn.Linear(48, 5)

    def forward(s, ids, h0, c0):
        y, (h, c) = s.l(s.e(ids), (h0, c0))
        return s.o(y), h, c


class Audio(nn.Module):
    def __init__(s):
        super().__init__()
        s.c = nn.Sequential(nn.Conv1d(1, 8, 9, stride=4, padding=4), nn.GELU(), nn.GroupNorm(2, 8),
                            nn.Conv1d(8, 16, 5, stride=2, padding=2), nn.GELU())
        s.g = nn.GRU(16, 16, batch_first=True, bidirectional=True)
        s.u = nn.ConvTranspose1d(32, 4, 4, stride=2, padding=1)

    def forward(s, wav):
        y, _ = s.g(s.c(wav).transpose(1, 2))
        return s.u(y.transpose(1, 2))


class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.e, s.p = nn.Embedding(100, 32), nn.Embedding(16, 32)
        s.l = nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, norm_first=True,
                                         activation="gelu")
        s.n, s.o = nn.LayerNorm(32), nn.Linear(32, 100, bias=False)

    def forward(s, ids, attn):
        t = ids.shape[1]
        causal = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        h = s.e(ids) + s.p(torch.arange(t).unsqueeze(0))
        return s.o(s.n(s.l(h, src_mask=causal, src_key_padding_mask=attn == 0)))


class First(nn.Module):
    """The first output of a model that returns a dict, a list or detections."""
    def __init__(s, m):
        super().__init__()
        s.m = m

    def forward(s, *a):
        y = s.m(*a)
        if isinstance(y, dict):
            return y["out"]
        if isinstance(y, list) and y and isinstance(y[0], dict):
            return y[0]["boxes"], y[0]["scores"], y[0]["labels"]
        return y


def image(*shape):
    return (torch.randn(*shape),)


seg = dict(weights=None, weights_backbone=None)
# name: (model, inputs, input names, opset, dynamic axes)
ZOO = {
    "resnet18": (lambda: M.resnet18(), lambda: image(1, 3, 64, 64)),
    "squeezenet": (lambda: M.squeezenet1_1(), lambda: image(1, 3, 64, 64)),
    "shufflenet": (lambda: M.shufflenet_v2_x0_5(), lambda: image(1, 3, 64, 64)),
    "densenet121": (lambda: M.densenet121(), lambda: image(1, 3, 64, 64)),
    "googlenet": (lambda: M.googlenet(aux_logits=False, init_weights=True), lambda: image(1, 3, 64, 64)),
    "inception_v3": (lambda: M.inception_v3(aux_logits=False, init_weights=True), lambda: image(1, 3, 96, 96)),
    "efficientnet_b0": (lambda: M.efficientnet_b0(), lambda: image(1, 3, 64, 64)),
    "mnasnet": (lambda: M.mnasnet0_5(), lambda: image(1, 3, 64, 64)),
    "regnet": (lambda: M.regnet_y_400mf(), lambda: image(1, 3, 64, 64)),
    "mobilenet_v3_large": (lambda: M.mobilenet_v3_large(), lambda: image(1, 3, 64, 64)),
    "convnext_tiny": (lambda: M.convnext_tiny(), lambda: image(1, 3, 64, 64)),
    "convnext_tiny17": (lambda: M.convnext_tiny(), lambda: image(1, 3, 64, 64), None, 17),
    "swin_t": (lambda: M.swin_t(), lambda: image(1, 3, 64, 64)),
    "maxvit_t": (lambda: M.maxvit_t(), lambda: image(1, 3, 224, 224)),
    "r3d_18": (lambda: M.video.r3d_18(), lambda: image(1, 3, 4, 32, 32)),
    "deeplabv3": (lambda: M.segmentation.deeplabv3_mobilenet_v3_large(aux_loss=False, **seg), lambda: image(1, 3, 64, 64)),
    "fcn": (lambda: M.segmentation.fcn_resnet50(aux_loss=False, **seg), lambda: image(1, 3, 64, 64)),
    "lraspp": (lambda: M.segmentation.lraspp_mobilenet_v3_large(**seg), lambda: image(1, 3, 64, 64)),
    "fasterrcnn": (lambda: M.detection.fasterrcnn_mobilenet_v3_large_320_fpn(num_classes=5, box_score_thresh=0.0, **seg),
                   lambda: ([torch.rand(3, 128, 128)],), ["image"], 11),
    "ssdlite": (lambda: M.detection.ssdlite320_mobilenet_v3_large(num_classes=5, score_thresh=0.0, **seg),
                lambda: ([torch.rand(3, 160, 160)],), ["image"], 11),
    "seq2seq": (Seq2Seq, lambda: (torch.randn(2, 7, 32), torch.randn(2, 5, 32),
                                  torch.tensor([[False] * 7, [False] * 5 + [True] * 2])), ["src", "tgt", "src_pad"]),
    "bilstm": (BiLSTM, lambda: (torch.randint(0, 50, (2, 6)), torch.randn(4, 2, 24), torch.randn(4, 2, 24)),
               ["ids", "h0", "c0"]),
    "audio": (Audio, lambda: (torch.randn(1, 1, 400),), ["wav"]),
    "gpt17": (GPT, lambda: (torch.randint(0, 100, (2, 6)), torch.tensor([[1] * 6, [1] * 4 + [0] * 2])),
              ["ids", "attn"], 17, {"ids": {0: "b", 1: "t"}, "attn": {0: "b", 1: "t"}}),
}


def main():
    out, names = sys.argv[1], sys.argv[2:] or list(ZOO)
    failed = 0
    for name in names:
        spec = ZOO[name] + (None,) * 3
        make, inputs, input_names, opset, dynamic = spec[:5]
        torch.manual_seed(0)
        try:
            model = First(make().eval())
            for p in model.parameters():  # keeps nn.TransformerEncoderLayer off its fused path
                p.requires_grad_(True)
            torch.onnx.export(model, inputs(), os.path.join(out, name + ".onnx"),
                              opset_version=opset or 14, input_names=input_names or ["x"],
                              dynamic_axes=dynamic or {})
            print("exported", name, flush=True)
        except Exception as e:  # noqa: BLE001 (a zoo entry that torch cannot export is reported)
            print("cannot export", name, type(e).__name__, str(e)[:200], flush=True)
            failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
