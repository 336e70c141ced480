#!/usr/bin/python3
"""Write PyTorch reference results for the pretext heads (tests/unit/test_pretext_head.c).

Usage: scripts/gen-pretext-fixtures.py [OUTDIR]   (default tests/fixtures/pretext)

Same file format as scripts/gen-nn-fixtures.py ("FERNNFX1", named float32
tensors). Each case holds the head's parameters, features "feat"
((B n) x D, example-major), targets "target" (as floats), the mean
cross-entropy "loss", its gradients with respect to the features and every
parameter (torch.autograd), and "cfg" = [kind, n, D, hidden, classes]
with kind 0 linear, 1 concat, 2 relational, 3 projection (its "loss" is a
cross-entropy over the embedding too: any differentiable loss checks the
backward pass).

The relational head, in PyTorch terms (lib/pretext_head.h):
    d = (f[:, p] - f[:, q]).abs()            for every pair p < q
    s = score(relu(pair(d)))                  (hidden 0: score(d))
    logit[:, p] = sum of s over the pairs that contain p
"""
import itertools
import os
import struct
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20261123)
torch.set_num_threads(1)
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "pretext")


def save(case, tensors):
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, case + ".bin"), "wb") as f:
        f.write(b"FERNNFX1")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors.items():
            t = torch.as_tensor(t, dtype=torch.float32).detach().contiguous()
            if t.dim() == 0:
                t = t.reshape(1)
            raw = name.encode("ascii")
            f.write(struct.pack("<I", len(raw)) + raw)
            f.write(struct.pack("<I", t.dim()))
            f.write(struct.pack("<%dI" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4").tobytes())


def relational(feat, n, pair, score):
    b = feat.shape[0] // n
    f = feat.reshape(b, n, -1)
    pairs = list(itertools.combinations(range(n), 2))
    d = torch.stack([(f[:, p] - f[:, q]).abs() for p, q in pairs], 1)  # b x P x D
    h = d.reshape(b * len(pairs), -1)
    if pair is not None:
        h = F.relu(pair(h))
    s = score(h).reshape(b, len(pairs))
    logits = torch.zeros(b, n)
    for k, (p, q) in enumerate(pairs):
        logits = logits.index_add(1, torch.tensor([p, q]), s[:, k:k + 1].expand(b, 2))
    return logits


def case(name, kind, n, d, hidden, classes, batch):
    feat = torch.randn(batch * n, d, requires_grad=True)
    out = {}
    if kind == 3:
        fc1, fc2 = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, classes)
        logits = fc2(F.relu(fc1(feat)))
        mods = {"head.fc1": fc1, "head.fc2": fc2}
    elif kind == 2:
        pair = torch.nn.Linear(d, hidden) if hidden else None
        score = torch.nn.Linear(hidden if hidden else d, 1, bias=False)
        logits = relational(feat, n, pair, score)
        mods = {"head.score": score}
        if pair is not None:
            mods["head.pair"] = pair
        classes = n
    else:
        fc = torch.nn.Linear(d * n, classes)
        logits = fc(feat.reshape(batch, n * d))
        mods = {"head.fc": fc}
    target = torch.randint(0, classes, (batch,))
    loss = F.cross_entropy(logits, target)
    loss.backward()
    out["cfg"] = torch.tensor([kind, n, d, hidden, classes], dtype=torch.float32)
    out["feat"] = feat
    out["dfeat"] = feat.grad
    out["target"] = target.float()
    out["loss"] = loss.reshape(1)
    out["logits"] = logits
    for stem, m in mods.items():
        out[stem + ".weight"] = m.weight
        out[stem + ".weight.grad"] = m.weight.grad
        if m.bias is not None:
            out[stem + ".bias"] = m.bias
            out[stem + ".bias.grad"] = m.bias.grad
    save(name, out)


case("rotation_linear", 0, 1, 16, 0, 4, 6)
case("concat_n3", 1, 3, 8, 0, 3, 5)
case("relational_n3", 2, 3, 8, 6, 3, 5)
case("relational_n5", 2, 5, 7, 4, 5, 4)
case("relational_linear_n5", 2, 5, 6, 0, 5, 3)
case("projection", 3, 1, 10, 7, 5, 6)
