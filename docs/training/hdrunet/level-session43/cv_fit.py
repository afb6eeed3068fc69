"""The per-blob level rule's fit (brackets/level-session42/export_fit2.py: the MLP on session 39's features, Catmull-Rom
between the study's grid points, cosine-decayed Adam) judged by K-fold cross-validation over the training scenes:
the 8 validation scenes give noisy per-camera figures (session 43: a refit that gained on every camera of the
training views lost 0.1-0.2 dB on two cameras of the validation views), the ~50 training scenes a steadier estimate
of how a setting of the fit generalises to scenes it has not seen. Folds are by scene; each camera's figure is the
mean over the held-out folds' pictures of the clipped PSNR-mu as the study scores it, next to no level's.
python cv_fit.py TRAIN.pkl [TRAIN.pkl ...]   (HIDDEN=16 WD=0 STEPS=3000 FOLDS=5; OLD=1: session 39's fit, linear
interpolation and a fixed step of 1e-2 for 1500 steps, the last iterate; the score is Catmull-Rom's either way;
ENSEMBLE=3: the mean of the factors of that many starts, which one MLP with their hidden units side by side computes;
EXTRA=key,key: more columns, read from each blob's dict as they are: session 44's features-session44/extra_features.py)"""
import os
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "blobs-session39"))
sys.path.insert(0, str(HERE.parents[1] / "brackets" / "level-session42"))
import fit as F  # noqa: E402
from analyse import load  # noqa: E402
from study import fit_mlp, interp_cr, picture_psnr  # noqa: E402

from hdrvid.synth.camera import ALL_SETTINGS  # noqa: E402

torch.set_num_threads(1)
HIDDEN = int(os.environ.get("HIDDEN", 16))
WD = float(os.environ.get("WD", 0))
STEPS = int(os.environ.get("STEPS", 3000))
FOLDS = int(os.environ.get("FOLDS", 5))
OLD = os.environ.get("OLD") == "1"
ENSEMBLE = int(os.environ.get("ENSEMBLE", 1))
if OLD:
    STEPS = 1500
pics, blobs, grid = load(sys.argv[1:])
X = F.features(pics, blobs)
EXTRA = [k for k in os.environ.get("EXTRA", "").split(",") if k]
if EXTRA:
    X = torch.cat([X, torch.tensor([[float(b[k]) for k in EXTRA] for b in blobs], dtype=torch.float32)], 1)
scenes = sorted({p["scene"] for p in pics})
fold_of = {s: i % FOLDS for i, s in enumerate(np.random.default_rng(0).permutation(scenes))}


def subset(keep_pic):
    """The pictures kept and their blobs, renumbered; the rows of X for those blobs."""
    new = {}
    ps = []
    for i, p in enumerate(pics):
        if keep_pic(p):
            new[i] = len(ps)
            ps.append(p)
    rows = [j for j, b in enumerate(blobs) if b["pic"] in new]
    bs = [dict(blobs[j], pic=new[blobs[j]["pic"]]) for j in rows]
    return ps, bs, X[rows]


def fit(tp, tb, xt, start=0):
    mean, std = xt.mean(0), xt.std(0) + 1e-6
    psnr = picture_psnr(tp, tb, grid, F.interp if OLD else interp_cr)
    net = fit_mlp((xt - mean) / std, lambda g: -psnr(g).mean(), HIDDEN, STEPS, start, WD, decay=not OLD)
    return lambda x: net((x - mean) / std)[:, 0].detach()


on, off, cam = [], [], []
for k in range(FOLDS):
    tp, tb, xt = subset(lambda p: fold_of[p["scene"]] != k)
    vp, vb, xv = subset(lambda p: fold_of[p["scene"]] == k)
    rules = [fit(tp, tb, xt, start) for start in range(ENSEMBLE)]

    def rule(x):
        return sum(r(x) for r in rules) / len(rules)
    psnr = picture_psnr(vp, vb, grid, interp_cr)
    on.append(psnr(rule(xv)).numpy())
    off.append(psnr(torch.zeros(xv.shape[0])).numpy())
    cam += [p["setting"] for p in vp]
    print(f"  fold {k}: {len(vp)} pictures, {float(on[-1].mean() - off[-1].mean()):+.3f} dB", flush=True)
on, off, cam = np.concatenate(on), np.concatenate(off), np.array(cam)
print(f"EXTRA={','.join(EXTRA) or '-'} OLD={int(OLD)} ENSEMBLE={ENSEMBLE} HIDDEN={HIDDEN} WD={WD} STEPS={STEPS}: mean {on.mean() - off.mean():+.3f} dB over no level; per camera "
      + " / ".join(f"{on[cam == c].mean():.2f} ({on[cam == c].mean() - off[cam == c].mean():+.2f})" for c in ALL_SETTINGS))
