"""Classical models on numpy frames, without torch: the same maths as their torch modules (``models.itmo``),
held to them by tests, so a plain expansion to HDR10 never loads torch (``pipeline.arrays.ArrayModel``).

Frames are relative linear BT.709 light, planar (3, H, W) float32. OpenCV does the neighbourhood work:
``box_mean`` (the mean over the part of a square window inside the frame, ``itmo.box_filter``), ``square_max``
(``itmo.square_max``: dilation, whose border never wins), area downscaling (``avg_pool2d``) and bilinear
upscaling with half-pixel centres (``interpolate(..., align_corners=False)``).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from hdrvid.color.packed import block_mean

ITMO_GAIN, ITMO_LARGE_GAIN, ITMO_THRESHOLD = 8.0, 2.5, 0.94
ITMO_RADIUS_FRACTION, ITMO_REGION_FRACTION = 0.02, 0.12
"""``itmo``'s parameters (``models.itmo.ClassicalITMO`` takes its defaults from here)."""
_ITMO_FLOOR = np.float32(0.9 * ITMO_THRESHOLD ** 2.2)
"""Light below which ``itmo``'s mask is 0 for certain (the threshold's signal, with a margin for rounding)."""


@functools.lru_cache(maxsize=16)
def _window_counts(h: int, w: int, r: int) -> np.ndarray:
    count_r = np.minimum(np.arange(h) + r + 1, h) - np.maximum(np.arange(h) - r, 0)
    count_c = np.minimum(np.arange(w) + r + 1, w) - np.maximum(np.arange(w) - r, 0)
    out = np.outer(count_r, count_c).astype(np.float32)
    out.flags.writeable = False
    return out


def box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over the part of the (2r+1)^2 window inside the frame, of a 2-D float32 array."""
    k = 2 * r + 1
    total = cv2.boxFilter(x, -1, (k, k), normalize=False, borderType=cv2.BORDER_CONSTANT)
    total /= _window_counts(*x.shape, r)
    return total


def square_max(x: np.ndarray, r: int) -> np.ndarray:
    """Max over the part of the (2r+1)^2 window inside the frame."""
    return cv2.dilate(x, np.ones((2 * r + 1, 2 * r + 1), np.uint8))


def itmo_expansion_map(x: np.ndarray) -> np.ndarray:
    """``ClassicalITMO.expansion_map`` of one frame (3, H, W) (light already clamped at 0): the gain minus one,
    (H, W)."""
    h, w = x.shape[1:]
    mask = np.zeros((h, w), np.float32)
    peak = x.max(0)
    bright = peak > _ITMO_FLOOR  # the mask is 0 below the threshold: the power and ramp only where it is not
    if not bright.any():
        return mask
    signal = np.clip(peak[bright], 1e-8, 1.0) ** np.float32(1 / 2.2)
    t = np.clip((signal - np.float32(ITMO_THRESHOLD)) / np.float32(0.99 - ITMO_THRESHOLD), 0, 1)
    mask[bright] = t * t * (3 - 2 * t)
    side = max(h, w)
    big = max(2, round(ITMO_REGION_FRACTION * side))
    f = 4 if min(h, w) >= 64 else 1
    small = block_mean(mask, f)
    rq = max(1, big // f)
    size = np.clip(box_mean(small, rq), 0, 1)
    label = square_max(size * small, rq)
    dome = np.sqrt(np.clip(box_mean(small, max(1, rq // 3)), 0, 1))
    if f > 1:
        label = cv2.resize(label, (w, h), interpolation=cv2.INTER_LINEAR)
        dome = cv2.resize(dome, (w, h), interpolation=cv2.INTER_LINEAR)
    spot = np.sqrt(np.clip(box_mean(mask, max(1, round(ITMO_RADIUS_FRACTION * side / 4))), 0, 1))
    rows = np.flatnonzero(mask.any(1))  # the gain is 0 where the mask is: the per-pixel maths on its rows only
    b = slice(int(rows[0]), int(rows[-1]) + 1) if rows.size else slice(0, 0)
    label, dome, spot = label[b], dome[b], spot[b]
    depth = spot * (1 - label) + dome * label
    mask[b] *= depth  # (mask * depth) * ..., in the torch module's order
    mask[b] *= np.float32(ITMO_GAIN - 1) - np.float32(ITMO_GAIN - ITMO_LARGE_GAIN) * label
    return mask


def itmo(x: np.ndarray) -> np.ndarray:
    """``itmo`` (``models.itmo.ClassicalITMO.forward``) on one frame (3, H, W) float32."""
    out = np.maximum(x, np.float32(0), dtype=np.float32)
    gain = itmo_expansion_map(out)
    rows = np.flatnonzero(gain.any(1))  # most frames expand a few rows: the product only there
    if rows.size:
        lo, hi = int(rows[0]), int(rows[-1]) + 1
        gain[lo:hi] += np.float32(1)
        out[:, lo:hi] *= gain[lo:hi]
    return out


def linearise(x: np.ndarray) -> np.ndarray:
    """``none`` (``models.itmo.Linearise``): the linearised input itself."""
    return x


ARRAY_MODELS = {"itmo": itmo, "none": linearise}
"""Model name -> its numpy implementation (what ``convert`` runs without torch when it can)."""
