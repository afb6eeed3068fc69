"""What export_fit2.py and objective_of.py share: the blob study's score of a rule's factors (session 42).

A blob's error between the study's grid points: blobs-session39/fit.py interpolates linearly on the
grid of log2 scales (step 0.25); near a blob's best scale the error is close to a parabola, so linear interpolation
overstates it by up to ~5x between the points: on nearly exact pictures (clipped PSNR-mu 55-65 dB) a factor of
2^0.05 scored ~10 dB worse in the study than it does as `convert` runs it. The cubic Hermite spline with central
differences (Catmull-Rom) passes through the same points and is exact for parabolas."""
import json
import math
import os

import numpy as np
import torch


def interp_cr(errs: torch.Tensor, grid, g: torch.Tensor) -> torch.Tensor:
    """errs (B, G) at grid (evenly spaced), g (B,) -> (B,): Catmull-Rom between the points, the end intervals with
    one-sided differences; g held within the grid; never below 0."""
    n = errs.shape[1]
    step = float(grid[1] - grid[0])
    t = ((g - float(grid[0])) / step).clamp(0, n - 1 - 1e-6)
    i = t.floor().long()
    f = (t - i)[:, None]

    def at(k):
        return errs.gather(1, k.clamp(0, n - 1)[:, None])

    p0, p1, p2, p3 = at(i - 1), at(i), at(i + 1), at(i + 2)
    m1 = torch.where((i == 0)[:, None], p2 - p1, 0.5 * (p2 - p0))
    m2 = torch.where((i + 1 >= n - 1)[:, None], p2 - p1, 0.5 * (p3 - p1))
    f2, f3 = f * f, f * f * f
    v = (2 * f3 - 3 * f2 + 1) * p1 + (f3 - 2 * f2 + f) * m1 + (-2 * f3 + 3 * f2) * p2 + (f3 - f2) * m2
    return v[:, 0].clamp(min=0)


def picture_psnr(pics, blobs, grid, interp=interp_cr, align=False):
    """g (B,) log2 factors of the blobs -> (P,) each picture's clipped PSNR-mu with its blobs scaled by them: the
    study's errors between grid points through ``interp``, the rest of the clipped pixels as they were
    (blobs-session39/fit.py's objective is minus the mean of this, with linear interpolation). The tensors are made
    once (fit.objective rebuilds them at every call: ~0.5 s on 70,000 blobs). ``align``: the metric's k moves with
    the levelled blobs (PSNR-mu scores k * output with k the geometric mean of the truth's luminance over the
    output's, every pixel: scaling a blob that covers a share a of the picture by 2^g moves k by 2^(-a g), so every
    blob of the picture stands at its g plus the picture's s = -sum(a g)); the study holds k at the model's own."""
    errs = torch.tensor(np.array([b["errs"] for b in blobs]), dtype=torch.float64)
    pic = torch.tensor([b["pic"] for b in blobs])
    rest = torch.tensor([p["err_rest"] for p in pics], dtype=torch.float64)
    n = torch.tensor([3.0 * p["nclip"] for p in pics], dtype=torch.float64)
    frac = torch.tensor([b["frac"] for b in blobs], dtype=torch.float64)

    def psnr(g: torch.Tensor) -> torch.Tensor:
        g = g.double()
        if align:
            g = g + torch.zeros(len(pics), dtype=torch.float64).index_add(0, pic, -frac * g)[pic]
        return -10 * torch.log10(rest.index_add(0, pic, interp(errs, grid, g)).clamp(min=1e-30) / n)
    return psnr


def fit_mlp(z: torch.Tensor, objective, hidden: int = 16, steps: int = 3000, start: int = 0, wd: float = 0.0,
            decay: bool = True, log=None) -> torch.nn.Sequential:
    """The per-blob level MLP (z (B, F) normalised features -> (B, 1) log2 factors; tanh, ``hidden`` units, the output
    layer starting at zero, so the fit starts from no level) fitted by full-batch Adam (AdamW with ``wd``) to minimise
    ``objective(g)``: the step from 1e-2 decays on a cosine to 1e-4 over ``steps`` (``decay=False``: session 39's
    fixed 1e-2, the last iterate kept). ``start`` seeds the first layer; ``log(step, loss)`` every 500 steps."""
    torch.manual_seed(start)
    net = torch.nn.Sequential(torch.nn.Linear(z.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))
    torch.nn.init.zeros_(net[-1].weight)
    torch.nn.init.zeros_(net[-1].bias)
    opt = torch.optim.AdamW(net.parameters(), 1e-2, weight_decay=wd) if wd else torch.optim.Adam(net.parameters(), 1e-2)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * s / steps)) if decay else 1.0)
    for s in range(steps):
        opt.zero_grad()
        loss = objective(net(z)[:, 0])
        loss.backward()
        opt.step()
        sched.step()
        if log is not None and s % 500 == 0:
            log(s, float(loss.detach()))
    return net


def mean_of(nets: list[torch.nn.Sequential]) -> torch.nn.Sequential:
    """One MLP whose factor is the mean of ``nets``' (fit_mlp's, same inputs): their hidden units side by side, the
    output layer divided by their number; ``models.blob_level.BlobLevel`` reads it as it reads one."""
    n, hidden = len(nets), sum(m[0].out_features for m in nets)
    both = torch.nn.Sequential(torch.nn.Linear(nets[0][0].in_features, hidden), torch.nn.Tanh(),
                               torch.nn.Linear(hidden, 1))
    with torch.no_grad():
        both[0].weight.copy_(torch.cat([m[0].weight for m in nets]))
        both[0].bias.copy_(torch.cat([m[0].bias for m in nets]))
        both[2].weight.copy_(torch.cat([m[2].weight for m in nets], 1) / n)
        both[2].bias.copy_(sum(m[2].bias for m in nets) / n)
    return both


def write_rule(path: str, what: str, start, val: float, names: list[str], mean: torch.Tensor, std: torch.Tensor,
               net: torch.nn.Sequential) -> None:
    """The rule file ``models.blob_level.BlobLevel`` reads (plain numbers), written to a temporary name and renamed."""
    doc = {"what": what, "start": start, "validation_objective": val, "features": names,
           "mean": mean.tolist(), "std": std.tolist(),
           "w1": net[0].weight.detach().tolist(), "b1": net[0].bias.detach().tolist(),
           "w2": net[2].weight.detach()[0].tolist(), "b2": float(net[2].bias.detach()[0])}
    with open(path + ".part", "w") as fh:
        json.dump(doc, fh, indent=1)
    os.replace(path + ".part", path)
