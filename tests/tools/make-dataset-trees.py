#!/usr/bin/python3
"""Miniature dataset trees laid out exactly like CK+, AFEW, RAF-DB, an
ImageFolder export and FER2013, made of real (tiny) images, for the
fer-extract --dataset tests.  Usage: make-dataset-trees.py DIR

Every image is distinct (its pixels encode the clip and frame), so a test
can tell frames apart. AFEW videos are made with ffmpeg's testsrc."""
import os
import subprocess
import sys
import zlib

import cv2
import numpy as np


def image(path, seed, size=(24, 32), grey=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = size if grey else size + (3,)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    if not cv2.imwrite(path, pixels):
        sys.exit(f"cannot write {path}")


def text(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)


def ckplus(root):
    seqs = {("S005", "001"): (3, 3), ("S010", "002"): (2, None), ("S010", "006"): (4, 5)}
    for (subject, seq), (frames, code) in seqs.items():
        for i in range(1, frames + 1):
            name = f"{subject}_{seq}_{i:08d}.png"
            image(f"{root}/cohn-kanade-images/{subject}/{seq}/{name}", zlib.crc32(name.encode()), grey=True)
        if code is not None:
            text(f"{root}/Emotion/{subject}/{seq}/{subject}_{seq}_{frames:08d}_emotion.txt",
                 f"   {code:.7e}\n")
        else:
            os.makedirs(f"{root}/Emotion/{subject}/{seq}", exist_ok=True)
    text(f"{root}/cohn-kanade-images/S005/001/.DS_Store", "junk")
    text(f"{root}/Landmarks/S005/001/S005_001_00000001_landmarks.txt", "1.0 2.0\n")


def afew(root):
    for split, emotion, name in [("Train", "Angry", "000046280"), ("Train", "Happy", "002326280"),
                                 ("Val", "Sad", "000406560"), ("Train", "Bored", "011603980")]:
        os.makedirs(f"{root}/{split}/{emotion}", exist_ok=True)
        subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                        "testsrc=size=32x24:rate=5", "-t", "1", "-c:v", "mpeg4", "-y",
                        f"{root}/{split}/{emotion}/{name}.avi"], check=True)
    os.makedirs(f"{root}/Val/Fear", exist_ok=True)


def rafdb(root):
    entries = [("train_00001.jpg", 5), ("train_00002.jpg", 1), ("test_0001.jpg", 4)]
    text(f"{root}/basic/EmoLabel/list_patition_label.txt",
         "".join(f"{name} {code}\n" for name, code in entries))
    for i, (name, _) in enumerate(entries):
        stem = name[:-4]
        image(f"{root}/basic/Image/aligned/{stem}_aligned.jpg", i, size=(100, 100))
        image(f"{root}/basic/Image/original/{name}", 100 + i, size=(60, 80))


def folder(root):
    image(f"{root}/happy/S010_004_00000019.png", 1)
    image(f"{root}/happy/S011_001_00000016.JPG", 2)
    image(f"{root}/Sad/S005_001_00000011.jpeg", 3)
    image(f"{root}/boredom/S012_001_00000001.png", 4)
    os.makedirs(f"{root}/fear", exist_ok=True)


def folder_split(root):
    image(f"{root}/train/angry/a1.png", 5)
    image(f"{root}/test/neutral/n1.png", 6)
    image(f"{root}/val/surprise/s1.jpg", 7)


def fer2013(path):
    rows = [(0, "Training"), (3, "PublicTest"), (6, "PrivateTest")]
    with open(path, "w") as f:
        f.write("emotion,pixels,Usage\n")
        for r, (code, usage) in enumerate(rows):
            pixels = " ".join(str((r * 50 + i) % 256) for i in range(48 * 48))
            f.write(f"{code},{pixels},{usage}\n")


def main():
    out = sys.argv[1]
    ckplus(f"{out}/ckplus")
    afew(f"{out}/afew")
    rafdb(f"{out}/rafdb")
    folder(f"{out}/folder")
    folder_split(f"{out}/folder-split")
    os.makedirs(f"{out}/fer2013", exist_ok=True)
    fer2013(f"{out}/fer2013/fer2013.csv")


main()
