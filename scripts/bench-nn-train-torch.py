#!/usr/bin/python3
"""PyTorch's training and inference images/s for the models of
bench/nn-train-bench.c, same step (forward, cross-entropy, backward, SGD with
momentum 0.9 and weight decay 5e-4), same timing (median step after a
warm-up). Tries NCHW and channels_last and reports the faster of each.

Usage: bench-nn-train-torch.py ARCH IN_CHANNELS SIZE BATCH SECONDS THREADS
Prints "train<TAB>images/s<TAB>format" and "infer<TAB>images/s<TAB>format".
Run it with glibc's malloc kept from trimming (scripts/bench-nn sets
MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=... MALLOC_TOP_PAD_=...).
"""
import importlib.util
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

arch, cin, size, batch, budget, threads = sys.argv[1:7]
cin, size, batch, budget, threads = int(cin), int(size), int(batch), float(budget), int(threads)
torch.set_num_threads(threads)
here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("gm", os.path.join(here, "gen-model-fixtures.py"))
gm = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gm)


def median_step(step):
    step()
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


best = {"train": (0, ""), "infer": (0, "")}
for fmt in ("nchw", "channels_last"):
    mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
    torch.manual_seed(1)
    model = gm.make(arch, cin, 7).to(memory_format=mf)
    x = torch.randn(batch, cin, size, size).to(memory_format=mf)
    target = torch.randint(0, 7, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

    def train():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), target).backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(x)

    model.train()
    best["train"] = max(best["train"], (batch / median_step(train), fmt))
    model.eval()
    best["infer"] = max(best["infer"], (batch / median_step(infer), fmt))
for k in ("train", "infer"):
    print("%s\t%.1f\t%s" % (k, best[k][0], best[k][1]))
