#!/usr/bin/python3
"""Write PyTorch reference results for the pretext heads (tests/unit/test_pretext_head.c)
and the contrastive loss (tests/unit/test_contrastive.c).

Usage: scripts/gen-pretext-fixtures.py [OUTDIR]   (default tests/fixtures/pretext)

Same file format as scripts/gen-nn-fixtures.py ("FERNNFX1", named float32
tensors). Each case holds the head's parameters, features "feat"
((B n) x D, example-major), targets "target" (as floats), the mean
cross-entropy "loss", its gradients with respect to the features and every
parameter (torch.autograd), and "cfg" = [kind, n, D, hidden, classes,
pairs] with kind 0 linear, 1 concat, 2 relational, 3 projection (its
"loss" is a cross-entropy over the embedding too: any differentiable loss
checks the backward pass) and pairs the relational head's pair features
(enum fer_pair_features: 0 |d|, 1 |d| and d^2, 2 |d| and f_p * f_q, 3 |d|
over the example's mean |d|).

The relational head, in PyTorch terms (lib/pretext_head.h):
    d = (f[:, p] - f[:, q]).abs()            for every pair p < q
        (pairs 1: cat(d, (f[:, p] - f[:, q])**2); pairs 2: cat(d, f[:, p] * f[:, q]);
         pairs 3: d / (mean of d over the example's pairs and features + 1e-4))
    s = score(relu(pair(d)))                  (hidden 0: score(d))
    logit[:, p] = sum of s over the pairs that contain p

The contrastive cases (contrastive_*) hold cfg = [B, K, temperature, gamma],
the embeddings, which hard-negative slots are present, the loss, its
gradient, and which pairs and hard negatives the filtering kept; see
contrastive_loss() below and lib/contrastive.h.
"""
import itertools
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_file  # noqa: E402
import torch.nn.functional as F

torch.manual_seed(20261123)
torch.set_num_threads(1)
OUT = fixture_file.output_dir("pretext")


def save(case, tensors):
    fixture_file.save(OUT, case, tensors)


def pair_input(fp, fq, kind):
    d = (fp - fq).abs()
    if kind == 1:
        return torch.cat([d, (fp - fq) ** 2], 1)
    if kind == 2:
        return torch.cat([d, fp * fq], 1)
    return d


def relational(feat, n, pair, score, kind=0):
    b = feat.shape[0] // n
    f = feat.reshape(b, n, -1)
    pairs = list(itertools.combinations(range(n), 2))
    d = torch.stack([pair_input(f[:, p], f[:, q], kind) for p, q in pairs], 1)  # b x P x W
    if kind == 3:
        d = d / (d.mean(dim=(1, 2), keepdim=True) + 1e-4)
    h = d.reshape(b * len(pairs), -1)
    if pair is not None:
        h = F.relu(pair(h))
    s = score(h).reshape(b, len(pairs))
    logits = torch.zeros(b, n)
    for k, (p, q) in enumerate(pairs):
        logits = logits.index_add(1, torch.tensor([p, q]), s[:, k:k + 1].expand(b, 2))
    return logits


def case(name, kind, n, d, hidden, classes, batch, pairs=0):
    feat = torch.randn(batch * n, d, requires_grad=True)
    out = {}
    if kind == 3:
        fc1, fc2 = torch.nn.Linear(d, hidden), torch.nn.Linear(hidden, classes)
        logits = fc2(F.relu(fc1(feat)))
        mods = {"head.fc1": fc1, "head.fc2": fc2}
    elif kind == 2:
        w = d if pairs in (0, 3) else 2 * d
        pair = torch.nn.Linear(w, hidden) if hidden else None
        score = torch.nn.Linear(hidden if hidden else w, 1, bias=False)
        logits = relational(feat, n, pair, score, pairs)
        mods = {"head.score": score}
        if pair is not None:
            mods["head.pair"] = pair
        classes = n
    else:
        fc = torch.nn.Linear(d * n, classes)
        logits = fc(feat.reshape(batch, n * d))
        mods = {"head.fc": fc}
    target = torch.randint(0, classes, (batch,))
    loss = F.cross_entropy(logits, target)
    loss.backward()
    out["cfg"] = torch.tensor([kind, n, d, hidden, classes, pairs], dtype=torch.float32)
    out["feat"] = feat
    out["dfeat"] = feat.grad
    out["target"] = target.float()
    out["loss"] = loss.reshape(1)
    out["logits"] = logits
    for stem, m in mods.items():
        out[stem + ".weight"] = m.weight
        out[stem + ".weight.grad"] = m.weight.grad
        if m.bias is not None:
            out[stem + ".bias"] = m.bias
            out[stem + ".bias.grad"] = m.bias.grad
    save(name, out)


case("rotation_linear", 0, 1, 16, 0, 4, 6)
case("concat_n3", 1, 3, 8, 0, 3, 5)
case("relational_n3", 2, 3, 8, 6, 3, 5)
case("relational_n5", 2, 5, 7, 4, 5, 4)
case("relational_linear_n5", 2, 5, 6, 0, 5, 3)
case("projection", 3, 1, 10, 7, 5, 6)


# ---- the contrastive loss (lib/contrastive.h) ----

def kept_count(gamma, m):
    """ceil(gamma m), at least 1, with a little slack so that 0.1 * 30 keeps
    3, not 4."""
    return min(m, max(1, int(math.ceil(gamma * m - 1e-9)))) if m else 0


def contrastive_loss(z, b, k, present, tau, gamma):
    """Our definition (lib/contrastive.h), written with PyTorch ops.

    Rows are example-major: anchor, positive, k hard-negative slots.
    The selection (RMFER's filtering) is made on the detached cosines and
    is a constant for autograd; the loss is the mean over the kept pairs of
    the two NT-Xent terms (anchor and positive rows), where every anchor
    and positive row of the batch is an in-batch negative and the anchor's
    kept hard negatives join its denominator."""
    r = 2 + k
    u = F.normalize(z, dim=1)
    with torch.no_grad():
        un = u.reshape(b, r, -1)
        cpos = (un[:, 0] * un[:, 1]).sum(1)
        order = sorted(range(b), key=lambda i: (-cpos[i].item(), i))
        keep_pair = torch.zeros(b, dtype=torch.bool)
        keep_pair[order[:kept_count(gamma, b)]] = True
        keep_neg = torch.zeros(b, k, dtype=torch.bool)
        if k:
            cneg = (un[:, :1] * un[:, 2:]).sum(2)
            cands = [(cneg[i, j].item(), i * k + j) for i in range(b) for j in range(k)
                     if present[i, j]]
            cands.sort()
            for _, idx in cands[:kept_count(gamma, len(cands))]:
                keep_neg[idx // k, idx % k] = True
            # The generator keeps clear of ties, so float rounding in C
            # cannot pick another set.
            vals = sorted(c for c, _ in cands)
            m = kept_count(gamma, len(cands))
            assert m == len(vals) or vals[m] - vals[m - 1] > 1e-3, "near tie"
        pv = sorted(cpos.tolist(), reverse=True)
        m = kept_count(gamma, b)
        assert m == b or pv[m - 1] - pv[m] > 1e-3, "near tie"
    s = u @ u.t() / tau
    rows = [i * r + j for i in range(b) for j in (0, 1)]
    terms = []
    for i in range(b):
        if not keep_pair[i]:
            continue
        a, p = i * r, i * r + 1
        cols = [j for j in rows if j != a] + [a + 2 + j for j in range(k) if keep_neg[i, j]]
        terms.append(torch.logsumexp(s[a, cols], 0) - s[a, p])
        cols = [j for j in rows if j != p]
        terms.append(torch.logsumexp(s[p, cols], 0) - s[p, a])
    return torch.stack(terms).mean(), keep_pair, keep_neg


def contrastive_case(name, b, k, d, tau, gamma, missing=0):
    """cfg = [B, K, temperature, gamma]; z ((B (2+K)) x d), present (B x K,
    1 = the slot holds a crop), loss, dz, kept_pairs (B), kept_negatives
    (B x K)."""
    for _ in range(100):
        z = torch.randn(b * (2 + k), d, requires_grad=True)
        present = torch.ones(b, k)
        if missing:
            present.view(-1)[torch.randperm(b * k)[:missing]] = 0
        try:
            loss, keep_pair, keep_neg = contrastive_loss(z, b, k, present, tau, gamma)
            break
        except AssertionError:
            continue
    loss.backward()
    save(name, {"cfg": torch.tensor([b, k, tau, gamma]), "z": z, "present": present,
                "loss": loss.reshape(1), "dz": z.grad, "kept_pairs": keep_pair.float(),
                "kept_negatives": keep_neg.float()})


contrastive_case("contrastive_default", 12, 2, 8, 0.1, 0.1)
contrastive_case("contrastive_missing", 7, 3, 6, 0.2, 0.35, missing=5)
contrastive_case("contrastive_all", 5, 2, 5, 0.5, 1.0, missing=2)
contrastive_case("contrastive_no_negatives", 6, 0, 7, 0.3, 0.5)

# Appended last, so that the cases above keep their random numbers.
case("relational_square_n3", 2, 3, 8, 6, 3, 5, pairs=1)
case("relational_product_n5", 2, 5, 7, 4, 5, 4, pairs=2)
case("relational_linear_square_n3", 2, 3, 6, 0, 3, 4, pairs=1)
case("relational_relative_n3", 2, 3, 8, 6, 3, 5, pairs=3)
case("relational_relative_n5", 2, 5, 7, 4, 5, 4, pairs=3)
case("relational_linear_relative_n3", 2, 3, 6, 0, 3, 4, pairs=3)
