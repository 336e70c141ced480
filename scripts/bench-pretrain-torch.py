#!/usr/bin/python3
"""PyTorch's side of scripts/bench-pretrain: rotation pretraining of cnn-s
on the crops of a fer-shuffle-seq rotation manifest, as fer-pretrain does
it: decode (cv2), augment (a square crop of 85-100% of the side, a flip,
a rotation of up to 10 degrees, brightness and contrast; torchvision), turn
by the target's quarter turns, scale to [-1, 1], batches of 32 from a
DataLoader with one worker, cross-entropy, AdamW (lr 1e-3, weight decay
1e-4). Prints the examples/s of the second epoch.

Usage: bench-pretrain-torch.py ROTATION.tsv THREADS
"""
import csv
import importlib.util
import os
import sys
import time

import cv2
import torch
import torch.nn.functional as F
import torchvision.transforms as T

manifest, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gm", os.path.join(here, "gen-model-fixtures.py"))
gm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gm)

with open(manifest, newline="") as f:
    rows = [(r["crop"], int(r["target"])) for r in csv.DictReader(f, delimiter="\t")
            if r["split"] == "train"]

augment = T.Compose([
    T.RandomResizedCrop(48, scale=(0.85 ** 2, 1.0), ratio=(1.0, 1.0), antialias=True),
    T.RandomHorizontalFlip(),
    T.RandomRotation(10),
    T.ColorJitter(brightness=0.1, contrast=0.2),
])


class Rotations(torch.utils.data.Dataset):
    def __len__(self):
        return len(rows)

    def __getitem__(self, i):
        path, turns = rows[i]
        x = torch.from_numpy(cv2.imread(path, cv2.IMREAD_GRAYSCALE)).unsqueeze(0)
        x = torch.rot90(augment(x), turns, (1, 2)).float()
        return (x / 255 - 0.5) / 0.5, turns


torch.manual_seed(1)
model = gm.make("cnn-s", 1, 4)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
loader = torch.utils.data.DataLoader(Rotations(), batch_size=32, shuffle=True, num_workers=1,
                                     drop_last=True, persistent_workers=True)
model.train()
for epoch in range(2):
    start, seen = time.perf_counter(), 0
    for x, target in loader:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), target).backward()
        opt.step()
        seen += len(target)
print(f"{seen / (time.perf_counter() - start):.1f}")
