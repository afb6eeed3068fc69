"""HDR image quality: PSNR-mu, PSNR-L, PU21-PSNR and PU21-SSIM, over all, clipped or unclipped pixels.

Conventions (stated so numbers can be compared):
- Inverse tone mapping has no absolute scale, so the prediction is first multiplied by the single factor
  that best matches the reference in log luminance (least squares: exp(mean(log Y_ref - log Y_pred))).
- PSNR-mu: both images divided by the reference maximum, mu-law with mu = 5000, peak 1.
- PSNR-L: log10 luminance (floored at 1e-5 of the reference maximum), peak = the reference's log range.
- PU21 (Mantiuk & Azimi 2021, banding+glare): the reference maximum is placed at 4000 cd/m^2 (a bright
  HDR display, as in the SI-HDR literature), luminance clamped to [0.005, 10000], PSNR with peak 256 and
  SSIM (Gaussian window, sigma 1.5) with dynamic range 256, as gfxdisp/pu21's pu21_metric.
- PQ-PSNR and deltaE_ITP (ITU-R BT.2124) compare absolute light, so they use the same placement as PU21
  (reference maximum at 4000 cd/m^2) after the alignment: BT.709 -> BT.2020 primaries, then PQ (BT.2100) of
  each component (PSNR with peak 1) and ICtCp (BT.2100), deltaE_ITP = 720 sqrt(dI^2 + (0.5 dCt)^2 + dCp^2).
  Against a real HDR master (absolute nits, no alignment) call :func:`absolute_metrics`.
- Masked variants average the squared error (or the SSIM map) over the pixels of the mask only.
- Highlight level (:func:`highlight_level`): log2 of the median luminance in the clipped pixels, prediction
  over truth, after aligning on the unclipped pixels alone (0 = right, +-0.585 = a factor of 1.5).
"""

from __future__ import annotations

import math

import numpy as np

from hdrvid.lazy import F, torch

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


def highlight_level(pred: np.ndarray, ref: np.ndarray, clipped: np.ndarray) -> float:
    """How bright ``pred`` puts what the camera clipped, relative to what it recorded, against the truth: log2
    of the median luminance of ``pred`` over that of ``ref`` in the ``clipped`` pixels, after scaling ``pred``
    to ``ref`` on the unclipped pixels alone (``align_scale``). 0 = the truth's level, +-0.585 = a factor of 1.5
    too bright / too dim (the held-out film pairs' criterion, here with the scene as its own master). NaN when
    the picture has no clipped or no unclipped pixels."""
    if not clipped.any() or clipped.all():
        return float("nan")
    pred, ref = np.asarray(pred, np.float64), np.asarray(ref, np.float64)
    k = align_scale(pred[~clipped], ref[~clipped])
    yp, yr = np.median(luminance(pred[clipped])) * k, np.median(luminance(ref[clipped]))
    return math.log2(max(yp, 1e-12) / max(yr, 1e-12))


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


_BT709_TO_BT2020 = np.array([[0.6274039, 0.32928304, 0.04331307], [0.06909729, 0.9195404, 0.01136232],
                             [0.01639144, 0.08801331, 0.89559525]])
_LMS = np.array([[1688, 2146, 262], [683, 2951, 462], [99, 309, 3688]], np.float64) / 4096
_ICTCP = np.array([[2048, 2048, 0], [6610, -13613, 7003], [17933, -17390, -543]], np.float64) / 4096


def pq(nits: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 inverse EOTF: absolute nits -> signal in [0, 1]."""
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 4096 * 128, 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    y = np.clip(nits / 10000.0, 0, 1) ** m1
    return ((c1 + c2 * y) / (1 + c3 * y)) ** m2


def ictcp(rgb2020_nits: np.ndarray) -> np.ndarray:
    """BT.2100 ICtCp (PQ) of linear BT.2020 RGB in nits, (..., 3)."""
    return pq(rgb2020_nits @ _LMS.T) @ _ICTCP.T


def absolute_metrics(pred_nits: np.ndarray, ref_nits: np.ndarray, mask: np.ndarray | None = None,
                     bt709: bool = True) -> dict[str, float]:
    """PQ-PSNR (dB) and mean deltaE_ITP (BT.2124) of two linear RGB images in absolute nits (no alignment)."""
    p, r = np.clip(pred_nits, 0, 10000), np.clip(ref_nits, 0, 10000)
    if bt709:
        p, r = p @ _BT709_TO_BT2020.T, r @ _BT709_TO_BT2020.T
    out = {"pq_psnr": _psnr(_masked_mean((pq(p) - pq(r)) ** 2, mask), 1.0)}
    d = ictcp(p) - ictcp(r)
    de = 720 * np.sqrt(d[..., 0] ** 2 + (0.5 * d[..., 1]) ** 2 + d[..., 2] ** 2)
    out["delta_e_itp"] = _masked_mean(de, mask)
    return out


def hdr_metrics(pred: np.ndarray, ref: np.ndarray, mask: np.ndarray | None = None, align: bool = True,
                ssim: bool = True) -> dict[str, float]:
    """Metrics of ``pred`` against ``ref`` (both (H, W, 3) linear, any scale), over ``mask`` if given.
    ``ssim=False`` leaves PU21-SSIM out (most of the time on large pictures)."""
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
    if ssim:
        out["pu21_ssim"] = _masked_mean(ssim_map(pp, pr, PU21_PEAK), mask)
    out.update(absolute_metrics(pred * scale, ref * scale, mask))
    return out
