#!/usr/bin/python3
"""PyTorch's side of scripts/bench-pretrain: pretraining of cnn-s on the
crops of a fer-shuffle-seq manifest, as fer-pretrain does it, batches of 32
examples from a DataLoader with one worker, AdamW (lr 1e-3, weight decay
1e-4). Prints the examples/s of the second epoch.

  rotation     decode (cv2), augment (a square crop of 85-100% of the side,
               a flip, a rotation of up to 10 degrees, brightness and
               contrast; torchvision), turn by the target's quarter turns,
               cross-entropy over 4 turns.
  middle       one example per window and epoch: its n frames, no
               augmentation (fer-pretrain --augment none, as
               scripts/bench-pretrain runs it), the middle frame at
               a random position and the others in a random order; the
               relational head (lib/pretext_head.h, hidden 64) on the
               backbone's features, cross-entropy over the n positions.
  contrastive  anchor, positive and hard negatives, each augmented on its
               own; projection 256-64-32; lib/contrastive.h's loss
               (temperature 0.1, RMFER's filtering with gamma 0.1).

Usage: bench-pretrain-torch.py TASK MANIFEST.tsv THREADS
"""
import csv
import importlib.util
import itertools
import math
import os
import random
import sys
import time

import cv2
import torch
import torch.nn.functional as F
import torchvision.transforms as T

task, manifest, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gm", os.path.join(here, "gen-model-fixtures.py"))
gm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gm)

with open(manifest, newline="") as f:
    rows = [r for r in csv.DictReader(f, delimiter="\t") if r["split"] == "train"]


def inputs(r):
    return [r[f"input{i + 1}"] for i in range(int(r["n"])) if r[f"input{i + 1}"]]


augment = T.Compose([
    T.RandomResizedCrop(48, scale=(0.85 ** 2, 1.0), ratio=(1.0, 1.0), antialias=True),
    T.RandomHorizontalFlip(),
    T.RandomRotation(10),
    T.ColorJitter(brightness=0.1, contrast=0.2),
])


def read(path):
    return torch.from_numpy(cv2.imread(path, cv2.IMREAD_GRAYSCALE)).unsqueeze(0)


def scale(x):
    return (x.float() / 255 - 0.5) / 0.5


if task == "middle":
    # One example per window, like fer-pretrain: the frames in time order.
    windows = {}
    for r in rows:
        if r["window"] not in windows:
            frames = inputs(r)
            mid = frames.pop(int(r["target"]))
            windows[r["window"]] = (mid, frames)
    examples = list(windows.values())
    n = len(examples[0][1]) + 1
else:
    examples = rows
    n = 1


class Examples(torch.utils.data.Dataset):
    def __len__(self):
        return len(examples)

    def __getitem__(self, i):
        if task == "rotation":
            r = examples[i]
            turns = int(r["target"])
            return scale(torch.rot90(augment(read(r["crop"])), turns, (1, 2))), turns
        if task == "middle":
            mid, others = examples[i]
            k = random.randrange(n)
            order = random.sample(others, len(others))
            order.insert(k, mid)
            return torch.stack([scale(read(p)) for p in order]), k
        frames = inputs(examples[i])
        x = torch.stack([scale(augment(read(p))) for p in frames])
        present = len(frames) - 2
        while len(frames) < int(examples[i]["n"]):  # a missing far face: a zero slot
            x = torch.cat([x, torch.zeros_like(x[:1])])
            frames.append("")
        return x, present


class Relational(torch.nn.Module):
    """lib/pretext_head.h: s_pq = score(relu(pair(|f_p - f_q|))),
    logit_p = sum over q != p of s_pq."""

    def __init__(self, d, hidden, n):
        super().__init__()
        self.pair, self.score = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, 1, bias=False)
        self.pairs = list(itertools.combinations(range(n), 2))
        inc = torch.zeros(len(self.pairs), n)
        for k, (p, q) in enumerate(self.pairs):
            inc[k, p] = inc[k, q] = 1
        self.register_buffer("incidence", inc)

    def forward(self, f):
        p, q = zip(*self.pairs)
        d = (f[:, list(p)] - f[:, list(q)]).abs()
        return self.score(F.relu(self.pair(d))).squeeze(2) @ self.incidence


def kept(gamma, m):
    return min(m, max(1, math.ceil(gamma * m - 1e-9))) if m > 0 else 0


def contrastive_loss(z, b, k, present, tau=0.1, gamma=0.1):
    """lib/contrastive.h with masks: the kept pairs' two NT-Xent terms;
    every anchor and positive is an in-batch negative, and an anchor's
    kept hard negatives join its denominator."""
    r = 2 + k
    u = F.normalize(z, dim=1)
    s = u @ u.t() / tau
    idx = torch.arange(b) * r
    with torch.no_grad():
        cpos = (u[idx] * u[idx + 1]).sum(1)
        keep_pair = torch.zeros(b, dtype=torch.bool)
        keep_pair[cpos.argsort(descending=True)[:kept(gamma, b)]] = True
        slot = torch.arange(k)
        avail = slot[None, :] < present[:, None]
        cneg = (u[idx][:, None] * u.reshape(b, r, -1)[:, 2:]).sum(2).masked_fill(~avail, math.inf)
        keep_neg = torch.zeros(b * k, dtype=torch.bool)
        keep_neg[cneg.flatten().argsort()[:kept(gamma, int(avail.sum()))]] = True
        keep_neg = keep_neg.reshape(b, k)
    pairs = torch.zeros(b * r, dtype=torch.bool)
    pairs[idx], pairs[idx + 1] = True, True
    cols = pairs[None, :].repeat(b * r, 1)
    cols.fill_diagonal_(False)
    for j in range(k):
        cols[idx, idx + 2 + j] = keep_neg[:, j]
    lse = s.masked_fill(~cols, -math.inf).logsumexp(1)
    a, p = idx[keep_pair], idx[keep_pair] + 1
    return torch.cat([lse[a] - s[a, p], lse[p] - s[p, a]]).mean()


torch.manual_seed(1)
random.seed(1)
model = gm.make("cnn-s", 1, 4)
backbone = torch.nn.Sequential(model.features, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
if task == "rotation":
    head = model.fc
elif task == "middle":
    head = Relational(256, 64, n)
else:
    head = torch.nn.Sequential(torch.nn.Linear(256, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32))
params = list(backbone.parameters()) + list(head.parameters())
opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
loader = torch.utils.data.DataLoader(Examples(), batch_size=32, shuffle=True, num_workers=1,
                                     drop_last=True, persistent_workers=True)
backbone.train()
for epoch in range(2):
    start, seen = time.perf_counter(), 0
    for x, target in loader:
        opt.zero_grad(set_to_none=True)
        b = x.shape[0]
        if task == "rotation":
            loss = F.cross_entropy(head(backbone(x)), target)
        elif task == "middle":
            f = backbone(x.reshape(b * n, *x.shape[2:])).reshape(b, n, -1)
            loss = F.cross_entropy(head(f), target)
        else:
            r = x.shape[1]
            loss = contrastive_loss(head(backbone(x.reshape(b * r, *x.shape[2:]))), b, r - 2,
                                    target)
        loss.backward()
        opt.step()
        seen += b
print(f"{seen / (time.perf_counter() - start):.1f}")
