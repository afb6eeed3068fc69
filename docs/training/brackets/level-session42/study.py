"""What export_fit2.py and objective_of.py share: the blob study's score of a rule's factors (session 42).

A blob's error between the study's grid points: blobs-session39/fit.py interpolates linearly on the
grid of log2 scales (step 0.25); near a blob's best scale the error is close to a parabola, so linear interpolation
overstates it by up to ~5x between the points: on nearly exact pictures (clipped PSNR-mu 55-65 dB) a factor of
2^0.05 scored ~10 dB worse in the study than it does as `convert` runs it. The cubic Hermite spline with central
differences (Catmull-Rom) passes through the same points and is exact for parabolas."""
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
