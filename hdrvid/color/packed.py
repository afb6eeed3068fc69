"""Tables and packed (OpenCV/numpy) helpers shared by the C kernels (:mod:`hdrvid.color.kernels`) and numba's
(:mod:`hdrvid.color.fused`); nothing here imports numba."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from hdrvid.color.transfer import _C1, _C2, _C3, _M1, _M2, PQ_PEAK, pq_eotf, pq_inverse_eotf
from hdrvid.lazy import cv2

# --- tables -----------------------------------------------------------------------------------------------

PQ_TABLE_SIZE = 4096
"""``pq_table``: PQ's inverse EOTF sampled evenly in the fourth root of light (0..10,000 nits), read with linear
interpolation: within 0.0005 of a 10-bit code of the exact curve everywhere (two square roots and one
interpolation per value instead of two powers)."""
PQ_SCALE = PQ_TABLE_SIZE / PQ_PEAK**0.25

EOTF_TABLE_SIZE = 8192
"""``eotf_table``: PQ's EOTF at evenly spaced signal values, read with linear interpolation (MaxFALL)."""


@lru_cache(maxsize=1)
def pq_table() -> np.ndarray:
    t = np.linspace(0.0, PQ_PEAK**0.25, PQ_TABLE_SIZE + 1)
    return np.asarray(pq_inverse_eotf(np.minimum(t**4, PQ_PEAK)), np.float32)


@lru_cache(maxsize=1)
def eotf_table() -> np.ndarray:
    return np.asarray(pq_eotf(np.linspace(0.0, 1.0, EOTF_TABLE_SIZE + 1)), np.float64)


# --- SDR output tables (tone mapping by a curve) ----------------------------------------------------------

RATIO_TABLE_SIZE = 4096
"""``sdr_planes_linear``: a curve operator's gain (output / input of its scalar) sampled evenly in the fourth
root of the scalar, read with linear interpolation."""
OETF_TABLE_SIZE = 4096
"""``sdr_planes_linear``: the SDR encoding sampled evenly in the square root of display light."""


def curve_table(gain: np.ndarray, top: float) -> tuple[np.ndarray, float]:
    """(table, scale) for ``sdr_planes_linear``'s ``curve`` from a curve's gains at ``curve_samples(top)``."""
    return np.asarray(gain, np.float32), RATIO_TABLE_SIZE / top**0.25


def curve_samples(top: float) -> np.ndarray:
    """Where a curve's gain is sampled: 0..``top`` evenly in the fourth root (RATIO_TABLE_SIZE + 1 values)."""
    return (np.linspace(0.0, top**0.25, RATIO_TABLE_SIZE + 1) ** 4).astype(np.float32)


@lru_cache(maxsize=4)
def oetf_table(transfer: str) -> np.ndarray:
    """An SDR encoding (``color.transfer.ENCODERS``) at display light (0..1) evenly spaced in its square root (a
    pure power such as BT.1886's inverse is infinitely steep at black)."""
    from hdrvid.color.transfer import ENCODERS

    t = np.linspace(0.0, 1.0, OETF_TABLE_SIZE + 1)
    return np.asarray(ENCODERS[transfer](t * t), np.float32)


def roll_off_params(roll_off: tuple[float, float]) -> np.ndarray:
    """The HDR10 kernels' BT.2390 roll-off from ``roll_off`` = (source peak, target peak) nits, as
    ``pipeline.output`` applies it: (source peak, target peak, knee, pb, span, ks, max_lum), float64 (the knee is
    the target peak when the source is not brighter: a clamp)."""
    from hdrvid.color.tonemap import knee_nits

    src, tgt = float(roll_off[0]), float(roll_off[1])
    pb = float(pq_inverse_eotf(0.0))
    span = float(pq_inverse_eotf(src)) - pb
    max_lum = (float(pq_inverse_eotf(tgt)) - pb) / span
    knee = knee_nits(src, tgt) if src > tgt else tgt
    return np.array([src, tgt, knee, pb, span, 1.5 * max_lum - 0.5, max_lum], np.float64)


def yuv420_planes(h: int, w: int, dtype: type) -> list[np.ndarray]:
    """Empty Y, Cb, Cr planes for an (h, w) picture, sizes rounded up to even, as views of one buffer in PyAV's
    yuv420p / yuv420p10le layout (``planes_buffer`` gives the buffer back: handed to the encoder without a copy)."""
    hh, ww = h + h % 2, w + w % 2
    n = hh * ww
    buf = np.empty(n * 3 // 2, dtype)
    return [buf[:n].reshape(hh, ww), buf[n:n * 5 // 4].reshape(hh // 2, ww // 2),
            buf[n * 5 // 4:].reshape(hh // 2, ww // 2)]


def sdr_buffers(linear: np.ndarray, gamut: str, luminance_out: bool, block: int = 1
                ) -> tuple[np.ndarray, list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """What both SDR output kernels (C and numba) write into: the frame as contiguous float32 (3, H, W), its
    8-bit planes (``yuv420_planes``), the flicker meter's luminance rows summed over blocks of ``block`` columns
    ((H, W // block) each, zeros, or empty) and the per-chroma-row out-of-gamut counts; ``gamut`` checked."""
    if gamut not in ("compress", "clip"):
        raise ValueError(f"gamut mode must be compress or clip, not {gamut!r}")
    if block < 1:
        raise ValueError(f"the luminance block must be at least 1 pixel, not {block}")
    lin = np.ascontiguousarray(linear, np.float32)
    h, w = lin.shape[1:]
    planes = yuv420_planes(h, w, np.uint8)
    yout = np.zeros((h, w // block) if luminance_out else (0, 0), np.float32)
    return lin, planes, np.zeros_like(yout), yout, np.zeros(planes[1].shape[0], np.int64)


def block_rows_mean(row_sums: np.ndarray, block: int) -> np.ndarray:
    """(H, W // block) rows summed over column blocks -> the mean of each ``block`` x ``block`` block
    ((H // block, W // block): the last partial rows dropped, as ``block_mean``); ``block`` 1 returns the rows."""
    if block <= 1:
        return row_sums
    n = row_sums.shape[0] // block
    return row_sums[:n * block].reshape(n, block, -1).sum(axis=1, dtype=np.float32) * np.float32(1 / (block * block))


# --- packed helpers (OpenCV) ------------------------------------------------------------------------------

def _flat(x: np.ndarray) -> np.ndarray:
    """A one-channel 2-D view: OpenCV applies a Python scalar to the first channel only of a multi-channel
    array, so every elementwise step with a scalar runs on this view."""
    return x.reshape(x.shape[0], -1) if x.ndim != 2 else x


def pq_decode(signal: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 EOTF: signal [0, 1] (float32, any shape) -> nits."""
    e = cv2.pow(_flat(np.ascontiguousarray(signal, np.float32)), 1 / _M2)
    num = cv2.max(cv2.subtract(e, _C1), 0.0)
    den = cv2.subtract(cv2.multiply(e, -_C3), -_C2)
    return cv2.multiply(cv2.pow(cv2.divide(num, den), 1 / _M1), PQ_PEAK).reshape(np.shape(signal))


def block_mean(x: np.ndarray, f: int) -> np.ndarray:
    """Mean over ``f`` x ``f`` blocks of a 2-D float32 array, the last partial rows and columns dropped (what
    torch's ``avg_pool2d(x, f)`` gives), by OpenCV's area resize."""
    if f <= 1:
        return np.asarray(x, np.float32)
    h, w = x.shape[0] // f, x.shape[1] // f
    return cv2.resize(np.ascontiguousarray(x[:h * f, :w * f], np.float32), (w, h), interpolation=cv2.INTER_AREA)


def channel_max(x: np.ndarray) -> np.ndarray:
    """max over the last axis of an (H, W, C) float32 array, as one (H, W) array."""
    chans = cv2.split(x)
    out = chans[0]
    for c in chans[1:]:
        out = cv2.max(out, c)
    return out


def upsample_chroma(c: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h/2, w/2, C) chroma -> (h, w, C) as a bilinear decoder reads 4:2:0 with left-sited chroma (the packed
    twin of ``pipeline.output.upsample_chroma``): sample k on luma column 2k, odd columns the mean of their
    neighbours; vertically between rows 2k and 2k+1 (half-pixel bilinear, edges replicated)."""
    hh, ww = c.shape[:2]
    wide = np.empty((hh, 2 * ww) + c.shape[2:], np.float32)
    wide[:, 0::2] = c
    wide[:, 1:-1:2] = 0.5 * (c[:, :-1] + c[:, 1:])
    wide[:, -1] = c[:, -1]
    out = cv2.resize(wide, (2 * ww, h), interpolation=cv2.INTER_LINEAR)
    return out.reshape(h, 2 * ww, *c.shape[2:])[:, :w]


def planes_buffer(planes: list[np.ndarray]) -> np.ndarray | None:
    """The (H * 3/2, W) array PyAV's yuv420p10le frame is made from, when ``planes`` (Y', Cb, Cr) are the
    consecutive views ``hdr10_planes`` returns; else None (the caller concatenates)."""
    y, u, v = planes
    base = y.base
    if base is None or u.base is not base or v.base is not base or base.ndim != 1 or base.size != y.size * 3 // 2:
        return None
    if not (y.ctypes.data == base.ctypes.data and u.ctypes.data == y.ctypes.data + y.nbytes
            and v.ctypes.data == u.ctypes.data + u.nbytes):
        return None
    return base.reshape(y.shape[0] * 3 // 2, y.shape[1])
