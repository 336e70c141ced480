#!/usr/bin/python3
"""Write PyTorch reference results for the frame attention head
(lib/nn_fan.h, tests/unit/test_nn_fan.c), in the fixture format of
scripts/gen-nn-fixtures.py (FERNNFX1), into tests/fixtures/nn/fan_*.bin.

The module below is Meng et al. 2019's aggregation written from the paper's
equations; autograd gives the gradients we check ours against.
Usage: scripts/gen-fan-fixtures.py [OUTDIR]   (run with /usr/bin/python3)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_file  # noqa: E402

torch.manual_seed(20261123)
torch.set_num_threads(1)
OUT = fixture_file.output_dir("nn")


def save(case, tensors):
    fixture_file.save(OUT, case, tensors)


class FrameAttention(torch.nn.Module):
    def __init__(self, features):
        super().__init__()
        self.alpha = torch.nn.Linear(features, 1)
        self.beta = torch.nn.Linear(2 * features, 1)

    def forward(self, f):  # f: N x T x F
        a = torch.sigmoid(self.alpha(f))                    # N x T x 1
        fp = (a * f).sum(1) / a.sum(1)                      # N x F
        g = torch.cat([f, fp.unsqueeze(1).expand_as(f)], 2)  # N x T x 2F
        b = torch.sigmoid(self.beta(g))                     # N x T x 1
        w = a * b
        return (w * g).sum(1) / w.sum(1)                    # N x 2F


def case(name, n, t, feat):
    m = FrameAttention(feat)
    f = torch.randn(n, t, feat, requires_grad=True)
    y = m(f)
    dy = torch.randn_like(y)
    y.backward(dy)
    save(name, {
        "cfg": torch.tensor([n, t, feat]),
        "x": f.reshape(n * t, feat),
        "alpha.weight": m.alpha.weight, "alpha.bias": m.alpha.bias,
        "beta.weight": m.beta.weight, "beta.bias": m.beta.bias,
        "y": y, "dy": dy,
        "dx": f.grad.reshape(n * t, feat),
        "alpha.weight.grad": m.alpha.weight.grad, "alpha.bias.grad": m.alpha.bias.grad,
        "beta.weight.grad": m.beta.weight.grad, "beta.bias.grad": m.beta.bias.grad,
    })


case("fan_3x4x6", 3, 4, 6)
case("fan_2x3x32", 2, 3, 32)
case("fan_2x1x5", 2, 1, 5)
