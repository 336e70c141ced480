#!/usr/bin/python3
"""Write tests/fixtures/metrics/sklearn.tsv: random label vectors and the
figures scikit-learn computes for them, the oracle of tests/unit/test_metrics.c.

One row per case, TAB-separated:
  case  n_classes  true  pred  overall  average  precision  recall  f1  support
where true/pred/precision/recall/f1/support are comma-separated lists
(per-class lists over classes 0..n_classes-1). Cases include classes with no
true samples and classes never predicted, the corners where definitions
differ. Run: /usr/bin/python3 scripts/gen-metrics-fixtures.py
"""
import os
import warnings

import numpy as np
from sklearn.metrics import (accuracy_score, balanced_accuracy_score,
                             precision_recall_fscore_support)

warnings.filterwarnings("ignore")  # zero-division and missing-class warnings
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = os.path.join(root, "tests", "fixtures", "metrics", "sklearn.tsv")
rng = np.random.default_rng(20261123)
rows = []
for case in range(12):
    k = int(rng.integers(2, 9))
    n = int(rng.integers(1, 60))
    # Some classes absent from the truth, some never predicted.
    present = rng.permutation(k)[: max(1, k - int(rng.integers(0, 3)))]
    y_true = rng.choice(present, n)
    noisy = rng.random(n) < 0.4
    y_pred = np.where(noisy, rng.integers(0, k, n), y_true)
    labels = list(range(k))
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0)
    rows.append("\t".join([
        str(case), str(k),
        ",".join(map(str, y_true)), ",".join(map(str, y_pred)),
        "%.12f" % accuracy_score(y_true, y_pred),
        # balanced_accuracy_score over the classes seen in y_true or
        # y_pred; a predicted-only class has NaN recall, dropped by nanmean.
        "%.12f" % balanced_accuracy_score(y_true, y_pred),
        ",".join("%.12f" % v for v in p), ",".join("%.12f" % v for v in r),
        ",".join("%.12f" % v for v in f), ",".join(map(str, s))]))
with open(out, "w") as fp:
    fp.write("\n".join(rows) + "\n")
