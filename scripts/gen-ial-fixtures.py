#!/usr/bin/python3
"""Write PyTorch reference results for the inter-sample attention branch
(lib/nn_ial.h, lib/nn_cosattn.h, tests/unit/test_nn_ial.c), in the fixture
format of scripts/gen-nn-fixtures.py (FERNNFX1), into
tests/fixtures/nn/ial_*.bin.

The module below follows RMFER's description of IAL: projection head
(Linear, ReLU, Linear), cosine-similarity matrix divided by the
temperature, diagonal overwritten with -1e7 before a row softmax, attended
features A f, auxiliary linear classifier. Autograd gives the gradients we
check ours against.
Usage: scripts/gen-ial-fixtures.py [OUTDIR]   (run with /usr/bin/python3)
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_file  # noqa: E402

torch.manual_seed(20261124)
torch.set_num_threads(1)
OUT = fixture_file.output_dir("nn")


def save(case, tensors):
    fixture_file.save(OUT, case, tensors)


class InterSampleAttention(torch.nn.Module):
    def __init__(self, features, classes, temperature):
        super().__init__()
        self.proj = torch.nn.Sequential(torch.nn.Linear(features, features), torch.nn.ReLU(),
                                        torch.nn.Linear(features, features))
        self.fc = torch.nn.Linear(features, classes)
        self.temperature = temperature

    def forward(self, f):  # f: N x F
        z = self.proj(f)
        norms = z.norm(dim=1, keepdim=True)
        s = (z @ z.T) / (norms @ norms.T) / self.temperature
        eye = torch.eye(len(f), dtype=torch.bool)
        a = torch.softmax(s.masked_fill(eye, -1e7), dim=1)
        v = a @ f
        return self.fc(v), a, v


def case(name, n, feat, classes, temperature):
    m = InterSampleAttention(feat, classes, temperature)
    f = torch.randn(n, feat, requires_grad=True)
    y, a, v = m(f)
    dy = torch.randn_like(y)
    y.backward(dy)
    p = dict(m.named_parameters())
    out = {"cfg": torch.tensor([n, feat, classes, temperature]), "x": f,
           "attn": a, "v": v, "y": y, "dy": dy, "dx": f.grad}
    for k, t in p.items():
        out["ial." + k] = t
        out["ial." + k + ".grad"] = t.grad
    save(name, out)


case("ial_6x8x3", 6, 8, 3, 0.25)
case("ial_16x32x7", 16, 32, 7, 0.1)
case("ial_2x5x2", 2, 5, 2, 1.0)
