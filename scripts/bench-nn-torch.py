#!/usr/bin/python3
"""PyTorch's rate on the convolution shapes of scripts/bench-nn-shapes.

Usage: bench-nn-torch.py THREADS SECONDS < shapes
Prints "name-fwd<TAB>GFLOP/s<TAB>config" and "name-bwd..." rows, the best of
NCHW and channels_last memory formats (reported in config), each timed as
the minimum over repeated calls (as nn-bench does for us). Backward computes
input and weight gradients, like ours.
"""
import sys
import time

import torch
import torch.nn.functional as F

threads, budget = int(sys.argv[1]), float(sys.argv[2])
torch.set_num_threads(threads)


def best_time(fn):
    fn()
    best, start = 1e30, time.perf_counter()
    while time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


for line in sys.stdin:
    if not line.strip():
        continue
    name, n, cin, cout, h, k, s, p = line.split()
    n, cin, cout, h, k, s, p = map(int, (n, cin, cout, h, k, s, p))
    oh = (h + 2 * p - k) // s + 1
    flops = 2.0 * n * cout * oh * oh * cin * k * k
    best = {"fwd": (0, ""), "bwd": (0, "")}
    for fmt in ("nchw", "channels_last"):
        mf = torch.channels_last if fmt == "channels_last" else torch.contiguous_format
        x = torch.randn(n, cin, h, h).to(memory_format=mf).requires_grad_()
        w = torch.randn(cout, cin, k, k).to(memory_format=mf).requires_grad_()
        with torch.no_grad():
            t = best_time(lambda: F.conv2d(x, w, None, s, p))
        best["fwd"] = max(best["fwd"], (flops / t * 1e-9, fmt))
        y = F.conv2d(x, w, None, s, p)
        dy = torch.randn_like(y)

        def backward():
            torch.autograd.grad(y, (x, w), dy, retain_graph=True)
        t = best_time(backward)
        best["bwd"] = max(best["bwd"], (2 * flops / t * 1e-9, fmt))
    for d in ("fwd", "bwd"):
        print("%s-%s\t%.2f\t%s" % (name, d, best[d][0], best[d][1]), flush=True)
