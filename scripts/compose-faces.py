#!/usr/bin/python3
"""Compose a video-like frame sequence with known face identities.

Real face photos (the Debian stills of scripts/fetch-media) are cut out and
pasted onto a plain background, moving along known paths: one face crosses
another, one enters late and leaves early, one vanishes for a few frames.
Writes DIR/frames/NNNNNN.png, DIR/frames.tsv (a fer-extract style frames
manifest) and DIR/truth.tsv (frame, identity, x, y, w, h of every visible
face). Used by tests/tools/test-facetrack-tracking.sh.

Usage: compose-faces.py MEDIA_DIR OUT_DIR
"""
import os
import sys

import cv2
import numpy as np

W, H, FRAMES, SIDE = 640, 360, 90, 110


def face_patch(path, cascade):
    """The photo's largest OpenCV face, with some margin, SIDE x SIDE."""
    image = cv2.imread(path)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    faces = cascade.detectMultiScale(grey, 1.1, 5, minSize=(60, 60))
    x, y, w, h = max(faces, key=lambda f: f[2] * f[3])
    m = w // 4
    patch = image[max(0, y - m):y + h + m, max(0, x - m):x + w + m]
    return cv2.resize(patch, (SIDE, SIDE), interpolation=cv2.INTER_AREA)


def paths():
    """identity -> {frame: (x, y)} top-left corner of the pasted patch."""
    a = {f: (10 + 7 * f, 40) for f in range(FRAMES)}                # left to right
    b = {f: (520 - 7 * (f - 10), 110) for f in range(10, 80)}       # enters, passes over a, leaves
    c = {f: (260, 240) for f in range(30, 70) if not 48 <= f < 52}  # vanishes 4 frames
    return {0: a, 1: b, 2: c}


def main():
    media, out = sys.argv[1], sys.argv[2]
    cascade = cv2.CascadeClassifier(
        "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml")
    patches = [face_patch(os.path.join(media, "astronaut.png"), cascade),
               face_patch(os.path.join(media, "grace_hopper_512x512.jpg"), cascade),
               cv2.flip(face_patch(os.path.join(media, "astronaut.png"), cascade), 1)]
    os.makedirs(os.path.join(out, "frames"), exist_ok=True)
    where = paths()
    with open(os.path.join(out, "frames.tsv"), "w") as frames, \
            open(os.path.join(out, "truth.tsv"), "w") as truth:
        frames.write("clip\tframe\tpts\tpath\n")
        truth.write("frame\tidentity\tx\ty\tw\th\n")
        for f in range(FRAMES):
            canvas = np.full((H, W, 3), 90, np.uint8)
            owner = np.full((H, W), -1, np.int32)  # who is on top at each pixel
            shown = [(who, track[f]) for who, track in where.items() if f in track]
            for who, (x, y) in shown:
                x0, x1 = max(0, x), min(W, x + SIDE)
                canvas[y:y + SIDE, x0:x1] = patches[who][:, x0 - x:x1 - x]
                owner[y:y + SIDE, x0:x1] = who
            for who, (x, y) in shown:
                # Visible: wholly inside the frame and at most 10% covered.
                seen = np.count_nonzero(owner[y:y + SIDE, max(0, x):x + SIDE] == who)
                if x >= 0 and x + SIDE <= W and seen >= 0.9 * SIDE * SIDE:
                    truth.write(f"{f + 1}\t{who}\t{x}\t{y}\t{SIDE}\t{SIDE}\n")
            name = os.path.join("frames", f"{f + 1:06d}.png")
            cv2.imwrite(os.path.join(out, name), canvas)
            frames.write(f"composed\t{f + 1}\t{f / 25:.6f}\t{name}\n")


if __name__ == "__main__":
    main()
