#!/usr/bin/python3
"""Check fer-tools' safetensors files against PyTorch, in both directions.

Usage: scripts/check-weights-torch.py FER_WEIGHTS_BINARY WORK_DIR

Python's `safetensors` package is not available on Debian 12, so this script
carries its own small implementation of the format, written from the public
specification and the reference implementation's rules (header length,
100 MB limit, '{' first, offsets that tile the data exactly, dtype sizes),
and checks:

 a) PyTorch -> fer-tools: a ResNet-18 with torchvision's parameter names and
    random weights and batch-norm statistics is saved the way
    safetensors.torch.save_file saves it (tensors sorted by dtype alignment,
    then name; num_batches_tracked as I64); `fer-weights copy` reads and
    rewrites it; the rewritten file loads into a fresh model with
    load_state_dict(strict=True), every tensor bit-identical and the model's
    output identical. The same with an F16 and a BF16 state dict, which
    fer-tools widens to float32 exactly.
 b) fer-tools -> PyTorch: for a float32 state dict, the bytes `fer-weights
    copy` writes are exactly the bytes the reference writer produces; and
    the __metadata__ written by fer-weights --meta reads back.
 c) `fer-weights list` names, dtypes and shapes agree with the state dict.
Exit status 0 if all hold, 1 otherwise.
"""
import json
import struct
import subprocess
import sys

import numpy as np
import torch
from torch import nn

MAX_HEADER = 100_000_000
# dtype name -> (numpy dtype, torch dtype, size, alignment rank in the
# reference's Dtype enum order, used to sort tensors when writing)
DTYPES = {
    "F16": ("<f2", torch.float16, 2, 7),
    "BF16": (None, torch.bfloat16, 2, 8),
    "I32": ("<i4", torch.int32, 4, 9),
    "F32": ("<f4", torch.float32, 4, 11),
    "I64": ("<i8", torch.int64, 8, 13),
}
BY_TORCH = {v[1]: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    name = BY_TORCH[t.dtype]
    t = t.detach().contiguous().cpu()
    if name == "BF16":  # numpy has no bfloat16: take the raw 16-bit patterns
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    return t.numpy().astype(DTYPES[name][0]).tobytes()


def save(tensors, metadata=None):
    """Serialize like the reference writer: descending dtype alignment, then
    name; compact JSON with __metadata__ first; header padded with spaces to a
    multiple of 8."""
    order = sorted(tensors, key=lambda n: (-DTYPES[BY_TORCH[tensors[n].dtype]][3], n))
    header, data, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in order:
        t = tensors[name]
        b = tensor_bytes(t)
        header[name] = {"dtype": BY_TORCH[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(b)]}
        data.append(b)
        offset += len(b)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(data)


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in header")
    return dict(pairs)


def load(buf):
    """Read and validate like the reference reader. Returns (tensors, meta)."""
    if len(buf) < 8:
        raise ValueError("header too small")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > MAX_HEADER:
        raise ValueError("header too large")
    if 8 + n > len(buf):
        raise ValueError("invalid header length")
    text = buf[8:8 + n].decode("utf-8")
    if not text.startswith("{"):
        raise ValueError("header does not start with {")
    header = json.loads(text, object_pairs_hook=no_duplicates)
    meta = header.pop("__metadata__", None)
    if meta is not None and not all(isinstance(v, str) for v in meta.values()):
        raise ValueError("metadata values must be strings")
    data = buf[8 + n:]
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    start, out = 0, {}
    for name, info in entries:
        b, e = info["data_offsets"]
        if b != start or e < b:
            raise ValueError(f"invalid offset for {name}")
        start = e
        np_dtype, torch_dtype, size, _ = DTYPES[info["dtype"]]
        count = int(np.prod(info["shape"], dtype=np.int64))
        if e - b != count * size:
            raise ValueError(f"{name}: offsets do not match shape")
        raw = data[b:e]
        if info["dtype"] == "BF16":
            t = torch.from_numpy(np.frombuffer(raw, "<i2").copy()).view(torch.bfloat16)
        else:
            t = torch.from_numpy(np.frombuffer(raw, np_dtype).astype(np_dtype[1:]).copy())
        out[name] = t.reshape(info["shape"])
    if start != len(data):
        raise ValueError("metadata incomplete buffer")
    return out, meta or {}


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock, same attribute names."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18 names and shapes, without torchvision."""

    def __init__(self, in_channels=3, classes=8):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = 64
        for i, cout in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}",
                    nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def random_model(seed):
    torch.manual_seed(seed)
    m = ResNet18()
    with torch.no_grad():  # non-trivial statistics, so a mix-up would show
        for name, buf in m.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
            elif name.endswith("num_batches_tracked"):
                buf.fill_(1234)
    return m.eval()


failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(binary, *args):
    return subprocess.run([binary, *args], check=True, capture_output=True, text=True).stdout


def same_tensors(a, b):
    if a.keys() != b.keys():
        return False
    return all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and
               torch.equal(a[k].view(torch.int16) if a[k].dtype == torch.bfloat16 else a[k],
                           b[k].view(torch.int16) if b[k].dtype == torch.bfloat16 else b[k])
               for k in a)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary, work = sys.argv[1], sys.argv[2]
    model = random_model(1)
    state = model.state_dict()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(x)

    # a) PyTorch -> fer-tools -> PyTorch, with I64 num_batches_tracked
    src, back = f"{work}/torch.safetensors", f"{work}/back.safetensors"
    with open(src, "wb") as f:
        f.write(save(state, {"format": "pt"}))
    run(binary, "copy", "-o", back, "--meta", "tool=check-weights-torch", src)
    with open(back, "rb") as f:
        loaded, meta = load(f.read())
    check(same_tensors(loaded, dict(state)), "resnet18 state dict: every tensor bit-identical "
          "after fer-weights copy (I64 num_batches_tracked kept)")
    check(meta == {"format": "pt", "tool": "check-weights-torch"},
          f"metadata read back: {meta}")
    fresh = ResNet18().eval()
    fresh.load_state_dict(loaded, strict=True)
    with torch.no_grad():
        got = fresh(x)
    check(torch.equal(got, expected), "model loaded from our file gives identical outputs")

    # F16 and BF16 files are widened to float32 exactly
    for dtype in (torch.float16, torch.bfloat16):
        half = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in state.items()}
        with open(src, "wb") as f:
            f.write(save(half))
        run(binary, "copy", "-o", back, src)
        with open(back, "rb") as f:
            loaded, _ = load(f.read())
        widened = {k: (v.float() if v.is_floating_point() else v) for k, v in half.items()}
        check(same_tensors(loaded, widened), f"{BY_TORCH[dtype]} state dict widened to F32 "
              "exactly")

    # b) our writer's bytes are the reference writer's bytes (one dtype, so
    # the reference's order is by name, like ours)
    floats = {k: v for k, v in state.items() if v.is_floating_point()}
    reference = save(floats, {"arch": "resnet18"})
    with open(src, "wb") as f:
        f.write(reference)
    run(binary, "copy", "-o", back, src)
    with open(back, "rb") as f:
        ours = f.read()
    check(ours == reference, f"float32 resnet18: our bytes equal the reference writer's "
          f"({len(ours)} bytes)")

    # c) fer-weights list agrees with the state dict
    rows = [line.split("\t") for line in run(binary, "list", back).splitlines()[1:]]
    listed = {r[0]: (r[1], r[2]) for r in rows}
    want = {k: ("F32", ",".join(str(d) for d in v.shape)) for k, v in floats.items()}
    check(listed == want, f"fer-weights list: {len(listed)} tensors, names/dtypes/shapes match")
    check(list(listed) == sorted(listed), "fer-weights list: data order is by name")

    # bad files generated by this writer's rules are refused by ours
    bad = bytearray(reference)
    bad[8:8 + 1] = b"["
    with open(src, "wb") as f:
        f.write(bytes(bad))
    r = subprocess.run([binary, "check", src], capture_output=True, text=True)
    check(r.returncode == 1 and "does not start with '{'" in r.stderr,
          f"corrupted header refused: {r.stderr.strip()}")

    if failures:
        print(f"{len(failures)} check(s) failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
