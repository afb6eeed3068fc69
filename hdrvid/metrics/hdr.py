"""HDR image quality: PSNR-mu, PSNR-L, PU21-PSNR and PU21-SSIM, over all, clipped or unclipped pixels.

Conventions (stated so numbers can be compared):
- Inverse tone mapping has no absolute scale, so the prediction is first multiplied by the single factor
  that best matches the reference in log luminance (least squares: exp(mean(log Y_ref - log Y_pred))).
- PSNR-mu: both images divided by the reference maximum, mu-law with mu = 5000, peak 1.
- PSNR-L: log10 luminance (floored at 1e-5 of the reference maximum), peak = the reference's log range.
- PU21 (Mantiuk & Azimi 2021, banding+glare): the reference maximum is placed at 4000 cd/m^2 (a bright
  HDR display, as in the SI-HDR literature), luminance clamped to [0.005, 10000], PSNR with peak 256 and
  SSIM (Gaussian window, sigma 1.5) with dynamic range 256, as gfxdisp/pu21's pu21_metric.
- Masked variants average the squared error (or the SSIM map) over the pixels of the mask only.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

MU = 5000.0
PU21_PARAMS = (0.353487901, 0.3734658629, 8.277049286e-05, 0.9062562627, 0.09150303166, 0.9099517204, 596.3148142)
PU21_PEAK = 256.0
DISPLAY_PEAK = 4000.0
WEIGHTS = np.array([0.2126, 0.7152, 0.0722], np.float64)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, np.float64) @ WEIGHTS


def align_scale(pred: np.ndarray, ref: np.ndarray) -> float:
    """The factor k minimising the squared log-luminance error of k * pred against ref."""
    yp, yr = luminance(pred), luminance(ref)
    ok = (yp > 1e-8) & (yr > 1e-8)
    if not ok.any():
        return 1.0
    return float(np.exp(np.mean(np.log(yr[ok]) - np.log(yp[ok]))))


def pu21_encode(nits: np.ndarray) -> np.ndarray:
    p = PU21_PARAMS
    y = np.clip(nits, 0.005, 10000.0) ** p[3]
    return p[6] * (((p[0] + p[1] * y) / (1 + p[2] * y)) ** p[4] - p[5])


def _psnr(mse: float, peak: float) -> float:
    return float("inf") if mse <= 0 else 10 * math.log10(peak * peak / mse)


def _masked_mean(err: np.ndarray, mask: np.ndarray | None) -> float:
    if mask is None:
        return float(err.mean())
    m = mask if err.ndim == mask.ndim else np.broadcast_to(mask[..., None], err.shape)
    return float(err[m].mean()) if m.any() else float("nan")


def ssim_map(a: np.ndarray, b: np.ndarray, dynamic_range: float) -> np.ndarray:
    """Single-scale SSIM map (Wang et al. 2004, Gaussian window sigma 1.5) of two (H, W) images."""
    x = torch.from_numpy(np.ascontiguousarray(a, np.float64))[None, None]
    y = torch.from_numpy(np.ascontiguousarray(b, np.float64))[None, None]
    r = 5
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float64) / 1.5) ** 2)
    k = (k / k.sum())
    w = (k[:, None] * k[None, :])[None, None]
    blur = lambda t: F.conv2d(F.pad(t, (r, r, r, r), mode="replicate"), w)
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * dynamic_range) ** 2, (0.03 * dynamic_range) ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return s[0, 0].numpy()


def hdr_metrics(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, align: bool = True) -> dict[str, float]:
    """Metrics of ``pred`` against ``ref`` (both (H, W, 3) linear, any scale), over ``mask`` if given."""
    pred = np.clip(np.asarray(pred, np.float64), 0, None)
    ref = np.clip(np.asarray(ref, np.float64), 0, None)
    if align:
        pred = pred * align_scale(pred, ref)
    top = max(float(ref.max()), 1e-12)
    mu = lambda v: np.log1p(MU * v / top) / math.log1p(MU)
    out = {"psnr_mu": _psnr(_masked_mean((mu(pred) - mu(ref)) ** 2, mask), 1.0)}
    yr, yp = luminance(ref), luminance(pred)
    floor = 1e-5 * top
    lr, lp = np.log10(np.maximum(yr, floor)), np.log10(np.maximum(yp, floor))
    out["psnr_l"] = _psnr(_masked_mean((lp - lr) ** 2, mask), float(lr.max() - lr.min()) or 1.0)
    scale = DISPLAY_PEAK / top
    pr, pp = pu21_encode(yr * scale), pu21_encode(yp * scale)
    out["pu21_psnr"] = _psnr(_masked_mean((pp - pr) ** 2, mask), PU21_PEAK)
    out["pu21_ssim"] = _masked_mean(ssim_map(pp, pr, PU21_PEAK), mask)
    return out
