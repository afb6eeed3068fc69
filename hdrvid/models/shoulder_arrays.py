"""The shoulder detector's features and MLP on numpy arrays (no torch): what :mod:`hdrvid.models.shoulder` computes,
for ``hdrunet-auto``'s torch-free CPU path (:mod:`hdrvid.models.auto_arrays`). The torch module's :func:`features`
is this function on each frame, so both paths read the same numbers."""

from __future__ import annotations

import math

import numpy as np

from hdrvid.lazy import cv2

ANALYSIS_SIDE = 256
"""The frame is analysed at about this longer side (area-averaged for the gradients, every k-th pixel for the
code histogram, which must keep exact codes)."""
HIST_BINS = 16
BANDS = ((100, 150), (150, 200), (200, 230), (230, 245), (245, 253), (253, 256))
FEATURES = 1 + HIST_BINS + 6 + 1 + 3 * len(BANDS) + 5
SIGNAL_GAMMA = 2.2
PARAMETERS = ("lo", "hi", "mean", "std", "net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias")
"""The detector's tensors in a weights file, under its prefix (``shoulder.``)."""


def _signal(linear: np.ndarray) -> np.ndarray:
    """Linear light -> the 8-bit-like signal in [0, 1] the features are taken on (float32, as torch computes it)."""
    return np.power(np.clip(linear, 0, 1, dtype=np.float32), np.float32(1 / SIGNAL_GAMMA), dtype=np.float32)


def adaptive_mean(x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``F.adaptive_avg_pool2d`` of (C, H, W) to ``size``: output row i averages input rows floor(i H / h) to
    ceil((i + 1) H / h) - 1, the same for columns (float64 sums, float32 out)."""
    _, h, w = x.shape
    oh, ow = size
    if h % oh == 0 and w % ow == 0:  # whole blocks: OpenCV's area resize, the same means
        return np.stack([cv2.resize(np.ascontiguousarray(p), (ow, oh), interpolation=cv2.INTER_AREA) for p in x])
    c = np.zeros((x.shape[0], h + 1, w + 1), np.float64)
    c[:, 1:, 1:] = x.astype(np.float64).cumsum(1).cumsum(2)
    i, j = np.arange(oh), np.arange(ow)
    r0, r1 = (i * h) // oh, -((-(i + 1) * h) // oh)
    c0, c1 = (j * w) // ow, -((-(j + 1) * w) // ow)
    s = c[:, r1][:, :, c1] - c[:, r0][:, :, c1] - c[:, r1][:, :, c0] + c[:, r0][:, :, c0]
    return (s / ((r1 - r0)[:, None] * (c1 - c0)[None, :])).astype(np.float32)


def features(frame: np.ndarray) -> np.ndarray:
    """(3, H, W) linear light (1.0 = SDR white) -> (FEATURES,) float32."""
    x = np.asarray(frame, np.float32)
    _, h, w = x.shape
    step = max(1, round(max(h, w) / ANALYSIS_SIDE))
    sub = x[:, ::step, ::step]
    small = adaptive_mean(x, (max(8, round(h / step)), max(8, round(w / step)))) if step > 1 else x
    codes = np.round(_signal(sub) * np.float32(255)).reshape(3, -1)  # exact codes
    m = codes.max(0)
    total = m.size
    f: list[float] = []
    bright = max(int((m >= 128).sum()), 1)
    f.append(math.log(np.float32(bright / total + 1e-4)))
    upper = m[m >= 128]
    f += list(np.bincount(np.minimum(((upper - 128) // 8).astype(np.int64), HIST_BINS - 1),
                          minlength=HIST_BINS)[:HIST_BINS] / np.float32(bright))
    top = max(int((m >= 224).sum()), 1)
    f += [float((m == k).sum()) / top for k in range(250, 256)]
    f.append(math.log(float((m >= 250).mean(dtype=np.float32)) + 1e-4))
    # how the top clips: one channel (hue shifts, a camera's per-channel clip) or all three at once
    hot = codes[:, m >= 250]
    k = max(hot.shape[1], 1)
    lo, at = (hot.min(0), (hot >= 254).sum(0)) if hot.shape[1] else (np.zeros(0), np.zeros(0))
    f += [float((lo < 200).sum()) / k, float((lo >= 250).sum()) / k, float((at == 1).sum()) / k,
          float((at == 2).sum()) / k, float((at == 3).sum()) / k]
    cs = _signal(small)  # gradients and saturation at the analysis scale
    peak = cs.max(0)
    ms = np.round(peak * np.float32(255))
    # Sobel (3x3, the zero border cropped): x = right - left of rows weighted 1, 2, 1; y likewise
    d = ms[:, 2:] - ms[:, :-2]
    gx = d[:-2] + 2 * d[1:-1] + d[2:]
    e = ms[2:] - ms[:-2]
    gy = e[:, :-2] + 2 * e[:, 1:-1] + e[:, 2:]
    g = np.sqrt(gx * gx + gy * gy).ravel()
    mg = ms[1:-1, 1:-1].ravel()
    satg = ((peak - cs.min(0)) / np.maximum(peak, np.float32(1 / 255)))[1:-1, 1:-1].ravel()
    for lo_band, hi_band in BANDS:
        sel = (mg >= lo_band) & (mg < hi_band)
        n = int(sel.sum())
        if n >= 8:
            gs = g[sel]
            median = np.partition(gs, (n - 1) // 2)[(n - 1) // 2]  # torch's median: the lower of the two middles
            f += [float(satg[sel].mean(dtype=np.float32)), math.log(float(median) + 1), 1.0]
        else:
            f += [0.0] * 3
    return np.asarray(f, np.float32)


class ShoulderMLP:
    """:class:`hdrvid.models.shoulder.ShoulderDetector` on numpy: its tensors (``PARAMETERS``) as arrays."""

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self.lo, self.hi = params["lo"], params["hi"]
        self.mean, self.std = params["mean"], params["std"]
        self.w1, self.b1 = params["net.0.weight"], params["net.0.bias"]
        self.w2, self.b2 = params["net.2.weight"], params["net.2.bias"]

    def probability(self, frame: np.ndarray) -> float:
        """The probability that ``frame`` (3, H, W) linear light has a shoulder."""
        x = (np.minimum(np.maximum(features(frame), self.lo), self.hi) - self.mean) / self.std
        h = self.w1 @ x + self.b1
        h = 0.5 * h * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))  # GELU (exact, as torch's default)
        logit = float((self.w2 @ h + self.b2)[0])
        return 1 / (1 + math.exp(-logit))
