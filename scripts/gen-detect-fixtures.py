#!/usr/bin/python3
"""Write tests/fixtures/detect/opencv.tsv: the faces that OpenCV finds.

The oracle for the detector agreement test. It decodes the real test frames
with scripts/detect-test-frames (ffmpeg -> grey PGM, the same files the
test feeds to fer-detect), runs cv2.CascadeClassifier.detectMultiScale
(Debian python3-opencv) on each with each cascade and setting below, and
writes one row per frame and setting:

    cascade  scale_factor  min_neighbors  min_size  source  frame  boxes

boxes is "x,y,w,h" per face joined by ";" (empty when OpenCV finds none).
The three stills appear twice: as ffmpeg's grey PGM (frame 0) and as
OpenCV reads them in colour and greys them with cv2.cvtColor (frame
"colour"); the test gives fer-detect the original PNG/JPEG file for those,
so they check the image module's decoding and grey conversion as well.
Run from the source tree: /usr/bin/python3 scripts/gen-detect-fixtures.py
(needs $FER_MEDIA filled by scripts/fetch-media).
"""
import os
import subprocess
import sys
import tempfile

import cv2

CASCADES = [
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
    "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml",
]
SETTINGS = [(1.1, 3, 30), (1.1, 5, 30)]  # scale factor, min neighbours, min size


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_path = os.path.join(root, "tests/fixtures/detect/opencv.tsv")
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        listing = subprocess.run([os.path.join(root, "scripts/detect-test-frames"), tmp],
                                 check=True, capture_output=True, text=True).stdout
        frames = [line.split("\t") for line in listing.splitlines()]
        media = os.environ.get("FER_MEDIA", os.path.expanduser("~/.cache/fer-tools"))
        for still in ("astronaut.png", "grace_hopper_512x512.jpg", "no_face.jpg"):
            frames.append([still, "colour", os.path.join(media, still)])
        rows = []
        for cascade in CASCADES:
            cc = cv2.CascadeClassifier(cascade)
            if cc.empty():
                sys.exit(f"gen-detect-fixtures: {cascade}: cannot load")
            for scale, neighbours, size in SETTINGS:
                for source, frame, path in frames:
                    if frame == "colour":
                        grey = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
                    else:
                        grey = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                    if grey is None or grey.ndim != 2:
                        sys.exit(f"gen-detect-fixtures: {path}: not a grey image")
                    found = cc.detectMultiScale(grey, scaleFactor=scale, minNeighbors=neighbours,
                                                minSize=(size, size))
                    boxes = ";".join("%d,%d,%d,%d" % tuple(b) for b in sorted(map(tuple, found)))
                    rows.append((os.path.basename(cascade), "%g" % scale, str(neighbours),
                                 "%dx%d" % (size, size), source, frame, boxes))
    tmp_out = out_path + ".tmp"
    with open(tmp_out, "w") as f:
        f.write("cascade\tscale_factor\tmin_neighbors\tmin_size\tsource\tframe\tboxes\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    os.replace(tmp_out, out_path)
    print(f"gen-detect-fixtures: {len(rows)} rows, {len(frames)} frames -> {out_path}")


if __name__ == "__main__":
    main()
