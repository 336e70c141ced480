#!/usr/bin/python3
"""Generate the image test fixtures and fuzz seeds from OpenCV and PIL.

The oracles are OpenCV 4.x (cv2.imread, cv2.cvtColor, cv2.resize) and PIL;
none of this code is used by libfer itself. Writes:

  tests/fixtures/image/stills.txt      FNV-1a hashes and sampled pixels of the
                                       real stills as cv2 decodes them
  tests/fixtures/image/colours*.png    random + hard colours and their
                                       cv2.cvtColor RGB2GRAY
  tests/fixtures/image/resize-*.png    cv2.resize results (INTER_AREA shrink,
                                       INTER_LINEAR enlarge) of astronaut.png
  tests/fixtures/image/types/*         PNG/JPEG variants (palette, 16-bit,
                                       alpha, interlaced, CMYK, progressive)
                                       with *.expect.png = cv2's RGB decode
  tests/fixtures/{png,jpeg,manifest}-seeds/  small fuzzing seeds

Usage: /usr/bin/python3 scripts/gen-image-fixtures.py [MEDIA_DIR]
MEDIA_DIR defaults to $FER_MEDIA or ~/.cache/fer-tools (scripts/fetch-media).
The output is deterministic (fixed seeds), so re-running it changes nothing.
"""
import os
import struct
import sys
import zlib

import cv2
import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEDIA = sys.argv[1] if len(sys.argv) > 1 else os.environ.get(
    "FER_MEDIA", os.path.expanduser("~/.cache/fer-tools"))
OUT = os.path.join(ROOT, "tests", "fixtures", "image")
TYPES = os.path.join(OUT, "types")
SEEDS = os.path.join(ROOT, "tests", "fixtures")


def rgb_read(path):
    """What cv2 decodes, as RGB."""
    im = cv2.imread(path, cv2.IMREAD_COLOR)
    if im is None:
        raise SystemExit(f"cv2 cannot read {path}")
    return np.ascontiguousarray(im[:, :, ::-1])


def rgb_write(path, rgb):
    """Lossless PNG of an RGB or grey array (cv2 wants BGR)."""
    arr = rgb[:, :, ::-1] if rgb.ndim == 3 else rgb
    if not cv2.imwrite(path, np.ascontiguousarray(arr)):
        raise SystemExit(f"cannot write {path}")


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h


def stills():
    lines = ["# name width height channels fnv1a64-of-all-bytes, then x,y=r,g,b samples",
             "# pixels as decoded by cv2.imread (OpenCV %s), RGB order" % cv2.__version__]
    rng = np.random.default_rng(1)
    for name in ("astronaut.png", "grace_hopper_512x512.jpg"):
        rgb = rgb_read(os.path.join(MEDIA, name))
        h, w, c = rgb.shape
        samples = [(0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1)]
        samples += [tuple(int(v) for v in p) for p in zip(rng.integers(0, w, 28),
                                                          rng.integers(0, h, 28))]
        text = " ".join(f"{x},{y}={rgb[y, x, 0]},{rgb[y, x, 1]},{rgb[y, x, 2]}"
                        for x, y in samples)
        lines.append(f"{name} {w} {h} {c} {fnv1a64(rgb.tobytes()):016x} {text}")
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        lines.append(f"{name}:grey {w} {h} 1 {fnv1a64(grey.tobytes()):016x} -")
    with open(os.path.join(OUT, "stills.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def grey_weights_check():
    """Our integer formula must equal cv2.cvtColor on every 24-bit colour."""
    allc = np.arange(1 << 24, dtype=np.uint32)
    rgb = np.stack([(allc >> 16) & 255, (allc >> 8) & 255, allc & 255], axis=1)
    ref = cv2.cvtColor(rgb.astype(np.uint8).reshape(4096, 4096, 3), cv2.COLOR_RGB2GRAY)
    ours = (rgb[:, 0] * 9798 + rgb[:, 1] * 19235 + rgb[:, 2] * 3735 + 16384) >> 15
    bad = int((ours.reshape(4096, 4096) != ref).sum())
    if bad:
        raise SystemExit(f"grey weights disagree with cv2 on {bad} colours")
    old = (rgb[:, 0] * 4899 + rgb[:, 1] * 9617 + rgb[:, 2] * 1868 + 8192) >> 14
    return rgb[old.reshape(-1) != ref.reshape(-1)]


def colours():
    # Random colours, the extremes, and colours where OpenCV 3's 14-bit
    # weights round differently: a test using those weights must fail.
    hard = grey_weights_check()
    rng = np.random.default_rng(2)
    pick = hard[rng.choice(len(hard), 1024, replace=False)]
    rand = rng.integers(0, 256, (64 * 64 - 1024 - 8, 3))
    corners = np.array([[r, g, b] for r in (0, 255) for g in (0, 255) for b in (0, 255)])
    rgb = np.concatenate([corners, pick, rand]).astype(np.uint8).reshape(64, 64, 3)
    rgb_write(os.path.join(OUT, "colours.png"), rgb)
    rgb_write(os.path.join(OUT, "colours-grey.png"), cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


def resizes():
    astro = rgb_read(os.path.join(MEDIA, "astronaut.png"))
    for w, h in ((64, 64), (37, 29), (200, 100)):
        rgb_write(os.path.join(OUT, f"resize-area-{w}x{h}.png"),
                  cv2.resize(astro, (w, h), interpolation=cv2.INTER_AREA))
    crop = astro[180:196, 220:236].copy()
    rgb_write(os.path.join(OUT, "resize-crop16.png"), crop)
    rgb_write(os.path.join(OUT, "resize-linear-40x33.png"),
              cv2.resize(crop, (40, 33), interpolation=cv2.INTER_LINEAR))


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))


def interlaced_png(path, rgb):
    """Adam7 RGB PNG by hand: neither PIL nor cv2 can write one."""
    h, w, _ = rgb.shape
    passes = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
              (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = rgb[y0::dy, x0::dx]
        if sub.size:
            for row in sub:
                raw += b"\0" + row.tobytes()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 1)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
                + png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b""))


def types(size, outdir):
    """PNG/JPEG variants of astronaut.png shrunk to size x size, in outdir.
    Returns {name: path}."""
    # Through numpy, so that PIL does not carry the ICC profile along.
    astro = Image.fromarray(rgb_read(os.path.join(MEDIA, "astronaut.png")))
    base = astro.resize((size, size), Image.BILINEAR)
    grey = base.convert("L")
    arr = np.asarray(base)
    paths = {}

    def save(name, im, **kw):
        p = os.path.join(outdir, name)
        im.save(p, **kw)
        paths[name] = p

    save("palette-trns.png", base.quantize(16), transparency=3)
    save("rgba.png", Image.merge("RGBA", (*base.split(), grey)))
    save("grey-alpha.png", Image.merge("LA", (grey, grey.point(lambda v: 255 - v))))
    save("grey1bit.png", grey.convert("1"))
    g16 = (np.asarray(grey).astype(np.uint16) * 257 + 77)
    save("grey16.png", Image.fromarray(g16.astype(np.uint16), "I;16"))
    p = os.path.join(outdir, "rgb16.png")
    cv2.imwrite(p, (arr[:, :, ::-1].astype(np.uint16) * 256 + 200))
    paths["rgb16.png"] = p
    p = os.path.join(outdir, "interlaced.png")
    interlaced_png(p, arr)
    paths["interlaced.png"] = p
    save("baseline.jpg", base, quality=85)
    save("grey.jpg", grey, quality=85)
    save("progressive.jpg", base, quality=80, progressive=True)
    save("optimized444.jpg", base, quality=95, optimize=True, subsampling=0)
    save("cmyk.jpg", base.convert("CMYK"), quality=90)
    return paths


def expects(paths):
    for name, p in paths.items():
        rgb_write(os.path.join(TYPES, name + ".expect.png"), rgb_read(p))


def seeds():
    png = os.path.join(SEEDS, "png-seeds")
    jpeg = os.path.join(SEEDS, "jpeg-seeds")
    man = os.path.join(SEEDS, "manifest-seeds")
    for d in (png, jpeg, man):
        os.makedirs(d, exist_ok=True)
    for name, p in types(12, png).items():
        # fuzz_png reads both codecs: it keeps one JPEG seed
        if name.endswith(".jpg"):
            with open(p, "rb") as f:
                data = f.read()
            with open(os.path.join(jpeg, name), "wb") as f:
                f.write(data)
            if name != "progressive.jpg":
                os.remove(p)
    texts = {
        "frames.tsv": "clip\tframe\tpts\tpath\tlabel\nc1\t0\t0.000\tframes/c1/00001.png\t\n"
                      "c1\t1\t0.100\t/abs/00002.png\thappiness\n",
        "crlf.tsv": "a\tb\r\n1\t2\r\n\t\r\n",
        "one.tsv": "path\nx.png\n\n",
        "faces.tsv": "clip\tframe\ttrack\tx\ty\tw\th\tscore\tcrop\n"
                     "v\t3\t0\t10\t20\t64\t64\t0.98\tcrops/v/3-0.png\n",
    }
    for name, text in texts.items():
        with open(os.path.join(man, name), "w") as f:
            f.write(text)


def main():
    os.makedirs(TYPES, exist_ok=True)
    stills()
    colours()
    resizes()
    expects(types(24, TYPES))
    seeds()


if __name__ == "__main__":
    main()
