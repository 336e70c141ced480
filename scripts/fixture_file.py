"""The reference-fixture file written by scripts/gen-*-fixtures.py and read
by the unit tests (tests/unit/check_helpers.h): named float32 tensors, all
little-endian:

    8 bytes   magic "FERNNFX1"
    u32       number of tensors
    per tensor:
      u32     name length L, then L bytes of ASCII name (no NUL)
      u32     number of dimensions D (1..4), then D u32 dimensions
      f32     prod(dimensions) values, row-major (C order)
"""
import os
import struct
import sys

import torch


def output_dir(subdir):
    """The directory named on the command line, else tests/fixtures/SUBDIR."""
    if len(sys.argv) > 1:
        return sys.argv[1]
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                        subdir)


def save(out, case, tensors):
    """Write the dict name -> tensor as OUT/CASE.bin (a 0-d tensor as 1-d)."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, case + ".bin"), "wb") as f:
        f.write(b"FERNNFX1")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors.items():
            t = torch.as_tensor(t, dtype=torch.float32).detach().contiguous()
            if t.dim() == 0:
                t = t.reshape(1)
            assert 1 <= t.dim() <= 4, (case, name)
            raw = name.encode("ascii")
            f.write(struct.pack("<I", len(raw)) + raw)
            f.write(struct.pack("<I", t.dim()))
            f.write(struct.pack("<%dI" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4").tobytes())
