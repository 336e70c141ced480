#!/usr/bin/python3
"""Write PyTorch reference results for the layer tests (tests/unit/test_nn_*.c).

Usage: scripts/gen-nn-fixtures.py [OUTDIR]   (default tests/fixtures/nn)

Run with Debian's /usr/bin/python3 and python3-torch (1.13). Each case is one
file OUTDIR/<case>.bin of named float32 tensors (scripts/fixture_file.py).

Hyper-parameters travel in a tensor named "cfg" (small integers and
floats are exact in float32), so this script is the one place that defines
each case. Inputs are standard normal; the upstream gradient "dy" is
standard normal too, so every gradient is O(1) and a relative error is
meaningful. Gradients come from torch.autograd: y.backward(dy).
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_file  # noqa: E402
import torch.nn.functional as F

torch.manual_seed(20261123)
torch.set_num_threads(1)
OUT = fixture_file.output_dir("nn")


def save(case, tensors):
    fixture_file.save(OUT, case, tensors)


def leaf(*shape):
    return torch.randn(*shape, requires_grad=True)


def conv(case, n, cin, cout, hw, k, s=1, p=0, d=1, g=1, bias=True):
    x = leaf(n, cin, hw, hw)
    conv = torch.nn.Conv2d(cin, cout, k, stride=s, padding=p, dilation=d,
                           groups=g, bias=bias)
    y = conv(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    t = {"cfg": [cin, cout, k, k, s, s, p, p, d, d, g, int(bias)],
         "x": x, "weight": conv.weight, "dy": dy, "y": y, "dx": x.grad,
         "dweight": conv.weight.grad}
    if bias:
        t["bias"] = conv.bias
        t["dbias"] = conv.bias.grad
    save(case, t)


def batchnorm(case, shape, train, momentum=0.1, eps=1e-5):
    c = shape[1]
    bn = (torch.nn.BatchNorm2d if len(shape) == 4 else torch.nn.BatchNorm1d)(
        c, eps=eps, momentum=momentum)
    with torch.no_grad():
        bn.weight.copy_(1 + 0.5 * torch.randn(c))
        bn.bias.copy_(torch.randn(c))
        bn.running_mean.copy_(torch.randn(c))
        bn.running_var.copy_(0.5 + torch.rand(c))
    mean0, var0 = bn.running_mean.clone(), bn.running_var.clone()
    bn.train(train)
    x = leaf(*shape)
    with torch.no_grad():  # shift and scale so the statistics matter
        x.mul_(2).add_(torch.randn(c).reshape((1, c) + (1,) * (len(shape) - 2)))
    y = bn(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    save(case, {"cfg": [c, eps, momentum, int(train)], "x": x,
                "weight": bn.weight, "bias": bn.bias, "running_mean": mean0,
                "running_var": var0, "dy": dy, "y": y, "dx": x.grad,
                "dweight": bn.weight.grad, "dbias": bn.bias.grad,
                "running_mean_out": bn.running_mean,
                "running_var_out": bn.running_var})


def unary(case, fn, x, cfg=(0,)):
    y = fn(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    save(case, {"cfg": list(cfg), "x": x, "dy": dy, "y": y, "dx": x.grad})


def linear(case, n, fin, fout, bias=True):
    x = leaf(n, fin)
    lin = torch.nn.Linear(fin, fout, bias=bias)
    y = lin(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    t = {"cfg": [fin, fout, int(bias)], "x": x, "weight": lin.weight, "dy": dy,
         "y": y, "dx": x.grad, "dweight": lin.weight.grad}
    if bias:
        t["bias"] = lin.bias
        t["dbias"] = lin.bias.grad
    save(case, t)


def cross_entropy(case, n, k, smoothing=0.0, weighted=False):
    logits = leaf(n, k)
    with torch.no_grad():
        logits.mul_(2)
    target = torch.randint(0, k, (n,))
    weight = 0.2 + torch.rand(k) if weighted else None
    loss = F.cross_entropy(logits, target, weight=weight,
                           label_smoothing=smoothing)
    loss.backward()
    t = {"cfg": [k, smoothing, int(weighted)], "logits": logits,
         "target": target.float(), "loss": loss, "dlogits": logits.grad}
    if weighted:
        t["weight"] = weight
    save(case, t)


def nt_xent(case, n, d, tau):
    """Our definition, written with PyTorch ops and differentiated by
    autograd: s_ij = cos(z_i, z_j) / tau, the diagonal masked out, and the
    loss is the mean over rows of cross-entropy towards pos[i]."""
    z = leaf(n, d)
    half = n // 2
    pos = torch.tensor([(i + half) % n for i in range(n)])
    zn = F.normalize(z, dim=1)
    s = zn @ zn.t() / tau
    s = s.masked_fill(torch.eye(n, dtype=torch.bool), float("-inf"))
    loss = F.cross_entropy(s, pos)
    loss.backward()
    save(case, {"cfg": [tau], "z": z, "pos": pos.float(), "loss": loss,
                "dz": z.grad})


def optimizer(case, kind, lr, momentum=0.0, dampening=0.0, nesterov=False,
              wd=0.0, betas=(0.9, 0.999), eps=1e-8, steps=5):
    """Parameter p0 decays, p1 (a bias) is in a group without weight decay."""
    p0 = torch.randn(3, 4, requires_grad=True)
    p1 = torch.randn(5, requires_grad=True)
    t = {"cfg": [int(kind == "adamw"), lr, momentum, dampening, int(nesterov), wd,
                 betas[0], betas[1], eps, steps],
         "p0": p0.detach().clone(), "p1": p1.detach().clone()}
    groups = [{"params": [p0]}, {"params": [p1], "weight_decay": 0.0}]
    if kind == "sgd":
        opt = torch.optim.SGD(groups, lr=lr, momentum=momentum, dampening=dampening,
                              nesterov=nesterov, weight_decay=wd)
    else:
        opt = torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps,
                                weight_decay=wd)
    for step in range(steps):
        for i, p in enumerate((p0, p1)):
            p.grad = torch.randn_like(p)
            t["g%d_%d" % (step, i)] = p.grad.clone()
        opt.step()
    t["p0_out"], t["p1_out"] = p0, p1
    save(case, t)


def schedule(case, cfg, make, epochs, base=0.1):
    """Learning rate per epoch from a PyTorch scheduler stepped once per
    epoch; cfg as fer_lr_schedule: kind, base, step_size, gamma, total, min,
    warmup, warmup_start."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    save(case, {"cfg": cfg, "lr": torch.tensor(lrs, dtype=torch.float64)})


def clip(case, max_norm):
    a, b = torch.randn(4, 3), torch.randn(6)
    pa, pb = a.clone().requires_grad_(), b.clone().requires_grad_()
    pa.grad, pb.grad = a.clone(), b.clone()
    norm = torch.nn.utils.clip_grad_norm_([pa, pb], max_norm)
    save(case, {"cfg": [max_norm], "g0": a, "g1": b, "norm": norm,
                "g0_out": pa.grad, "g1_out": pb.grad})


def main():
    # Convolutions: the shapes of cnn-s and ResNet-18, small.
    conv("conv_3x3_s1_p1", 2, 4, 6, 8, 3, s=1, p=1)
    conv("conv_3x3_s2_p1", 2, 4, 6, 9, 3, s=2, p=1)
    conv("conv_1x1_s1", 2, 8, 6, 7, 1, bias=False)
    conv("conv_1x1_s2", 2, 8, 6, 7, 1, s=2, bias=False)
    conv("conv_5x5_p2", 2, 3, 4, 10, 5, p=2)
    conv("conv_7x7_s2_p3", 2, 3, 8, 16, 7, s=2, p=3, bias=False)
    conv("conv_depthwise", 2, 6, 6, 8, 3, p=1, g=6)
    conv("conv_groups2", 2, 4, 6, 8, 3, p=1, g=2)
    conv("conv_dilation2", 2, 3, 4, 9, 3, p=2, d=2)
    conv("conv_3x3_32px_n5", 5, 2, 3, 32, 3, p=1)   # one image per GEMM
    conv("conv_3x3_64px", 2, 2, 2, 64, 3, p=1)      # one image per GEMM
    # Batch norm, 2-D and 1-D (feature heads), both modes.
    batchnorm("bn_train", (4, 3, 5, 5), True)
    batchnorm("bn_eval", (4, 3, 5, 5), False)
    batchnorm("bn1d_train", (8, 5), True, momentum=0.3)
    # Activations.
    unary("relu", torch.relu, leaf(2, 3, 4, 5))
    unary("sigmoid", torch.sigmoid, leaf(2, 3, 4, 5))
    # Pools (ceil_mode=False, count_include_pad=True: PyTorch's defaults).
    unary("maxpool_3x3_s2_p1_9px", lambda x: F.max_pool2d(x, 3, 2, 1),
          leaf(2, 3, 9, 9), (3, 2, 1))
    unary("maxpool_3x3_s2_p1_8px", lambda x: F.max_pool2d(x, 3, 2, 1),
          leaf(2, 3, 8, 8), (3, 2, 1))
    unary("maxpool_2x2_s2_7px", lambda x: F.max_pool2d(x, 2, 2),
          leaf(2, 3, 7, 7), (2, 2, 0))
    unary("avgpool_2x2_s2_7px", lambda x: F.avg_pool2d(x, 2, 2),
          leaf(2, 3, 7, 7), (2, 2, 0, 1))
    unary("avgpool_3x3_s1_p1", lambda x: F.avg_pool2d(x, 3, 1, 1),
          leaf(2, 3, 6, 6), (3, 1, 1, 1))
    unary("avgpool_3x3_s2_p1_nopad",
          lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
          leaf(2, 3, 7, 7), (3, 2, 1, 0))
    unary("global_avgpool", lambda x: F.adaptive_avg_pool2d(x, 1).flatten(1),
          leaf(3, 4, 5, 6))
    # Linear.
    linear("linear", 4, 7, 5)
    linear("linear_nobias", 3, 6, 4, bias=False)
    # Misc: residual add, concatenation, L2 normalisation.
    a, b = leaf(2, 3, 4, 4), leaf(2, 3, 4, 4)
    y = a + b
    dy = torch.randn_like(y)
    y.backward(dy)
    save("add", {"cfg": [0], "a": a, "b": b, "dy": dy, "y": y,
                 "da": a.grad, "db": b.grad})
    a, b = leaf(2, 3, 4, 4), leaf(2, 2, 4, 4)
    y = torch.cat([a, b], 1)
    dy = torch.randn_like(y)
    y.backward(dy)
    save("concat", {"cfg": [0], "a": a, "b": b, "dy": dy, "y": y,
                    "da": a.grad, "db": b.grad})
    unary("l2norm", lambda x: F.normalize(x, dim=1), leaf(4, 6))
    # Losses.
    cross_entropy("ce", 6, 5)
    cross_entropy("ce_smooth", 6, 5, smoothing=0.1)
    cross_entropy("ce_weight", 6, 5, weighted=True)
    cross_entropy("ce_smooth_weight", 7, 4, smoothing=0.2, weighted=True)
    nt_xent("ntxent", 6, 4, 0.5)
    nt_xent("ntxent_t01", 8, 5, 0.1)
    # Optimizers, schedules, clipping.
    optimizer("sgd_plain", "sgd", 0.1)
    optimizer("sgd_momentum_wd", "sgd", 0.05, momentum=0.9, dampening=0.1, wd=1e-2)
    optimizer("sgd_nesterov", "sgd", 0.05, momentum=0.9, nesterov=True, wd=5e-4)
    optimizer("adamw", "adamw", 1e-2, betas=(0.9, 0.999), eps=1e-8, wd=0.05)
    optimizer("adamw_betas", "adamw", 3e-3, betas=(0.8, 0.99), eps=1e-6, wd=0.0)
    S = torch.optim.lr_scheduler
    schedule("lr_step", [1, 0.1, 3, 0.5, 0, 0, 0, 1],
             lambda o: S.StepLR(o, step_size=3, gamma=0.5), 10)
    schedule("lr_cosine", [2, 0.1, 0, 0, 8, 0.001, 0, 1],
             lambda o: S.CosineAnnealingLR(o, T_max=8, eta_min=0.001), 9)
    schedule("lr_warmup_cosine", [2, 0.1, 0, 0, 6, 0.0, 4, 0.1],
             lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=4),
                                          S.CosineAnnealingLR(o, T_max=6)],
                                      milestones=[4]), 11)
    clip("clip_norm", 1.0)
    clip("clip_norm_none", 100.0)
    # Added last so that the random draws of the cases above do not move.
    # 2x2 pooling wide enough for the 4-output vector path plus a scalar
    # tail (21 px: 10 outputs and an odd column), values rounded to halves
    # so that windows hold ties.
    with torch.no_grad():
        xt = (torch.randn(2, 3, 10, 21) * 2).round() / 2
    unary("maxpool_2x2_s2_21px_ties", lambda x: F.max_pool2d(x, 2, 2),
          xt.requires_grad_(), (2, 2, 0))
    # Several images per GEMM with a partial last group (lib/nn_conv.c
    # batches outputs below 512 pixels: 12 px gives 3 + 2 images), and a
    # stride-1 convolution without padding (narrower output: the general
    # im2col; its input gradient pads dy and takes the width-keeping one).
    conv("conv_3x3_12px_n5", 5, 3, 4, 12, 3, p=1)
    conv("conv_3x3_p0_n3", 3, 2, 3, 10, 3, p=0)


if __name__ == "__main__":
    main()
