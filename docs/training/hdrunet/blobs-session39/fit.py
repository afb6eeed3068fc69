"""Can the input around a clipped blob and the model's own answer tell the blob's missing level? A per-blob log2
scale g = f(features), f linear or a small MLP fitted on the training scenes' blobs to the metric itself (mean over
pictures of the clipped pixels' log squared mu-law error, errors interpolated on the study's grid), scored on
validation. python fit.py TRAIN.pkl -- VAL.pkl [VAL.pkl ...]"""
import sys

import numpy as np
import torch
from analyse import load, psnr_table

from hdrvid.synth.camera import ALL_SETTINGS

torch.manual_seed(0)
BLOB = ["ring2", "ring6", "ring16", "ring40"]

def features(pics, blobs):
    rows = []
    for b in blobs:
        p = pics[b["pic"]]
        r = [np.log2(max(b[k], 1e-4)) if np.isfinite(b[k]) else -14.0 for k in BLOB]
        ok = [float(np.isfinite(b[k])) for k in BLOB]
        rows.append(r + ok + [np.log2(b["area"]), np.log2(b["frac"]), b["border"], b["cy"], b["pred_mean"], b["pred_max"],
                              b["lin_sat"], r[0] - r[2], r[1] - r[3], p["p"], np.log2(max(p["frac_clip"], 1e-6)),
                              np.log2(max(p["mean_lum"], 1e-4)), np.log2(b["bw"] + 1), np.log2(b["bh"] + 1)])
    return torch.tensor(np.array(rows), dtype=torch.float32)

def interp(errs, grid, g):
    """errs (B, G) at grid; g (B,) -> (B,) piecewise linear."""
    step = float(grid[1] - grid[0])
    t = ((g - float(grid[0])) / step).clamp(0, len(grid) - 1 - 1e-4)
    i = t.floor().long()
    f = t - i
    return errs.gather(1, i[:, None])[:, 0] * (1 - f) + errs.gather(1, (i + 1)[:, None])[:, 0] * f

def objective(pics, blobs, grid, g):
    errs = torch.tensor(np.array([b["errs"] for b in blobs]), dtype=torch.float64)
    pic = torch.tensor([b["pic"] for b in blobs])
    e = torch.tensor([p["err_rest"] for p in pics], dtype=torch.float64).index_add(0, pic, interp(errs, grid, g.double()))
    n = torch.tensor([3.0 * p["nclip"] for p in pics], dtype=torch.float64)
    return (10 * torch.log10(e.clamp(min=1e-30) / n)).mean()  # minus mean clipped PSNR-mu

def fit(pics, blobs, grid, hidden, steps=1500):
    X = features(pics, blobs)
    mean, std = X.mean(0), X.std(0) + 1e-6
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1)) if hidden \
        else torch.nn.Linear(X.shape[1], 1)
    torch.nn.init.zeros_(net[-1].weight if hidden else net.weight)
    torch.nn.init.zeros_(net[-1].bias if hidden else net.bias)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for s in range(steps):
        opt.zero_grad()
        loss = objective(pics, blobs, grid, net((X - mean) / std)[:, 0])
        loss.backward()
        opt.step()
    return lambda P, B: net((features(P, B) - mean) / std)[:, 0].detach()

if __name__ == "__main__":
    k = sys.argv.index("--")
    tp, tb, grid = load(sys.argv[1:k])
    vp, vb, _ = load(sys.argv[k + 1:])
    g0 = int(np.argmin(np.abs(grid)))
    def show(name, P, B, g):
        idx = np.clip(np.round((g.numpy() - grid[0]) / (grid[1] - grid[0])).astype(int), 0, len(grid) - 1)
        lookup = {id(b): int(i) for b, i in zip(B, idx)}
        t = psnr_table(P, B, grid, lambda b: lookup[id(b)])
        print(f"{name:22s}", " / ".join(f"{t[s]:.2f}" for s in ALL_SETTINGS))
    show("val shipped", vp, vb, torch.zeros(len(vb)))
    for hidden in (0, 16):
        f = fit(tp, tb, grid, hidden)
        show(f"train fit h={hidden}", tp, tb, f(tp, tb))
        for a in (0.5, 1.0):
            show(f"val h={hidden} x{a}", vp, vb, a * f(vp, vb))
