"""A blob's error between the study's grid points (session 42). blobs-session39/fit.py interpolates linearly on the
grid of log2 scales (step 0.25); near a blob's best scale the error is close to a parabola, so linear interpolation
overstates it by up to ~5x between the points: on nearly exact pictures (clipped PSNR-mu 55-65 dB) a factor of
2^0.05 scored ~10 dB worse in the study than it does as `convert` runs it. The cubic Hermite spline with central
differences (Catmull-Rom) passes through the same points and is exact for parabolas."""
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
