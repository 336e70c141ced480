#!/usr/bin/python3
"""Reference training steps of the fer-tools models in PyTorch, for
tests/unit/test_nn_model.c (run at test time: ResNet-18's weights are too big
to commit).

Usage: scripts/gen-model-fixtures.py OUTDIR

Writes OUTDIR/<case>.bin in the format of scripts/gen-nn-fixtures.py, one
file per case, holding:
  cfg            in_channels, classes, batch, size, lr, momentum, weight_decay
  sd.<name>      every float tensor of the initial state_dict, in order
  x, target      the batch (target as float)
  logits, loss   training-mode forward and mean cross-entropy
  grad.<name>    every parameter's gradient
  new.<name>     the state_dict after one torch.optim.SGD step (weight decay
                 only on conv/linear weights: biases and batch-norm
                 parameters in a group without it, as our models mark them)
  logits_eval    evaluation-mode logits of the same batch after the step
Models: torchvision.models.resnet18 (conv1 swapped for a 1-channel one
when needed) and cnn-s as defined in lib/model.h.
"""
import importlib.util
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "gen_nn_fixtures", os.path.join(here, "gen-nn-fixtures.py"))
fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixtures)


class CnnS(nn.Module):
    """cnn-s: see lib/model.h."""

    def __init__(self, in_channels, classes):
        super().__init__()
        layers, cin = [], in_channels
        for i, w in enumerate((32, 64, 128, 256)):
            layers += [nn.Conv2d(cin, w, 3, padding=1, bias=False),
                       nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if i < 3:
                layers.append(nn.MaxPool2d(2))
            cin = w
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(256, classes)

    def forward(self, x):
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(self.features(x), 1), 1))


def make(arch, in_channels, classes):
    if arch == "cnn-s":
        return CnnS(in_channels, classes)
    m = torchvision.models.resnet18(num_classes=classes)
    if in_channels != 3:
        m.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        nn.init.kaiming_normal_(m.conv1.weight, mode="fan_out", nonlinearity="relu")
    return m


KINK = 3e-6


def kink_margin(model, x):
    """Smallest distance of any ReLU input from 0 and of any max-pool window
    maximum from its runner-up. Float32 rounding (ours vs PyTorch's, ~1e-6
    of the activations' scale) may flip a ReLU or a max-pool choice closer
    than that, which changes the gradient of one element by O(1): such a
    batch tests rounding luck, not our layers, so we draw another. Our
    activations differ from PyTorch's by ~3e-7 (1e-7 of their scale), so
    KINK = 3e-6 leaves a 10x margin; larger margins would need thousands of
    draws for ResNet-18's ~10^5 ReLU inputs."""
    found = []

    def relu_hook(mod, inp):
        found.append(float(inp[0].abs().min()))

    def pool_hook(mod, inp):
        v = inp[0]
        cols = F.unfold(v, mod.kernel_size, padding=mod.padding, stride=mod.stride)
        cols = cols.reshape(v.shape[0], v.shape[1], -1, cols.shape[-1])
        top = cols.topk(2, dim=2).values
        gap = top[:, :, 0] - top[:, :, 1]
        # exact ties (zeros from ReLU, padding) resolve the same way in both
        gap = gap[(top[:, :, 0] > 0) & (gap > 0)]
        found.append(float(gap.min()) if gap.numel() else 1.0)

    hooks = [m.register_forward_pre_hook(relu_hook if isinstance(m, nn.ReLU) else pool_hook)
             for m in model.modules() if isinstance(m, (nn.ReLU, nn.MaxPool2d))]
    model.train()
    with torch.no_grad():
        saved = {k: v.clone() for k, v in model.state_dict().items()}
        model(x)
        model.load_state_dict(saved)  # undo the running-statistics update
    for h in hooks:
        h.remove()
    return min(found)


def step_case(case, arch, in_channels, classes, batch, size, lr=0.1, momentum=0.9,
              wd=5e-4):
    torch.manual_seed(1)
    model = make(arch, in_channels, classes)
    with torch.no_grad():  # non-trivial batch-norm parameters and statistics
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.2)
                mod.running_mean.normal_(0, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
    t = {"cfg": [in_channels, classes, batch, size, lr, momentum, wd]}
    for k, v in model.state_dict().items():
        if v.dtype == torch.float32:
            t["sd." + k] = v.clone()
    x = torch.randn(batch, in_channels, size, size)
    while kink_margin(model, x) < KINK:
        x = torch.randn(batch, in_channels, size, size)
    target = torch.randint(0, classes, (batch,))
    t["x"], t["target"] = x, target.float()
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, target)
    loss.backward()
    t["logits"], t["loss"] = logits, loss
    decay = [p for n, p in model.named_parameters() if p.dim() > 1]
    no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
    for n, p in model.named_parameters():
        t["grad." + n] = p.grad
    opt = torch.optim.SGD([{"params": decay}, {"params": no_decay, "weight_decay": 0}],
                          lr=lr, momentum=momentum, weight_decay=wd)
    opt.step()
    for k, v in model.state_dict().items():
        if v.dtype == torch.float32:
            t["new." + k] = v.clone()
    model.eval()
    with torch.no_grad():
        t["logits_eval"] = model(x)
    fixtures.OUT = sys.argv[1]
    fixtures.save(case, t)


if __name__ == "__main__":
    torch.set_num_threads(1)
    step_case("cnn-s", "cnn-s", 1, 7, 4, 48)
    step_case("resnet18", "resnet18", 3, 5, 2, 40)
    step_case("resnet18-grey", "resnet18", 1, 4, 2, 40)
