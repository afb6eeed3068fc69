"""The output end of the colour maths on packed (H, W, C) float32 frames with OpenCV's SIMD kernels.

The same maths as the planar torch path (``pipeline.output.to_yuv420``, ``color.transfer.pq_inverse_eotf``),
written for the plain transcode (``convert --model none``), where it is the whole per-frame cost besides
the codec: OpenCV runs each step as one vectorised pass over the frame (``cv2.transform`` for every 3x3
product, ``cv2.pow`` for PQ's two powers, ``cv2.dilate`` and ``cv2.resize`` for the chroma neighbourhoods),
with no torch import. ``tests/test_fused.py`` holds it to the torch path within one code value.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from hdrvid.color.transfer import _C1, _C2, _C3, _M1, _M2, PQ_PEAK, pq_inverse_eotf
from hdrvid.color.ycbcr import _scales, rgb_to_ycbcr_matrix


def _flat(x: np.ndarray) -> np.ndarray:
    """A one-channel 2-D view: OpenCV applies a Python scalar to the first channel only of a multi-channel
    array, so every elementwise step with a scalar runs on this view."""
    return x.reshape(x.shape[0], -1) if x.ndim != 2 else x


def pq_encode(nits: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 inverse EOTF of absolute light (nits, >= 0, float32, any shape) -> signal [0, 1]."""
    y = cv2.pow(cv2.multiply(_flat(nits), 1 / PQ_PEAK), _M1)
    num = cv2.add(cv2.multiply(y, _C2), _C1)
    den = cv2.add(cv2.multiply(y, _C3), 1.0)
    return cv2.pow(cv2.divide(num, den), _M2).reshape(nits.shape)


PQ_TABLE_SHIFT = 12
"""``pq_table``: float32 bit patterns shifted right by this many bits index the table, so every entry covers a
2^-11 relative step of light: the signal is within 0.03 of a 10-bit code value of the exact curve."""


@lru_cache(maxsize=1)
def pq_table() -> np.ndarray:
    """PQ's inverse EOTF sampled at the middle of every float32 bin of ``PQ_TABLE_SHIFT`` dropped bits (nits
    -> signal); negative, NaN and infinite light map to 0 and 1 as a clip would."""
    n = 1 << (31 - PQ_TABLE_SHIFT)  # the non-negative floats
    i = np.arange(n, dtype=np.uint64)
    with np.errstate(invalid="ignore", over="ignore"):  # the NaN bit patterns
        lo = (i << PQ_TABLE_SHIFT).astype(np.uint32).view(np.float32).astype(np.float64)
        hi = (((i + 1) << PQ_TABLE_SHIFT) - 1).astype(np.uint32).view(np.float32).astype(np.float64)
        mid = np.nan_to_num(0.5 * (lo + hi), nan=PQ_PEAK, posinf=PQ_PEAK)
    positive = pq_inverse_eotf(np.clip(mid, 0, PQ_PEAK)).astype(np.float32)
    return np.concatenate([positive, np.zeros(n, np.float32)])  # the sign bit set: negative light


def pq_encode_table(nits: np.ndarray) -> np.ndarray:
    """``pq_encode`` by one table lookup per value (``pq_table``): 3-6x faster than the two powers (and
    ``np.take`` without ``out=``: with it, 2x slower here)."""
    idx = np.right_shift(np.ascontiguousarray(nits, np.float32).view(np.uint32), PQ_TABLE_SHIFT)
    return np.take(pq_table(), idx)


def pq_decode(signal: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 EOTF: signal [0, 1] (float32, any shape) -> nits."""
    e = cv2.pow(_flat(signal), 1 / _M2)
    num = cv2.max(cv2.subtract(e, _C1), 0.0)
    den = cv2.subtract(cv2.multiply(e, -_C3), -_C2)
    return cv2.multiply(cv2.pow(cv2.divide(num, den), 1 / _M1), PQ_PEAK).reshape(signal.shape)


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


def _lift_at(lift3: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """max(R', G', B') lift of ``upsample_chroma`` at the full-resolution pixels (rows, cols), from the
    (h/2, w/2, 3) lifts of the chroma samples: left-sited columns, vertically between rows."""
    kmax, jmax = lift3.shape[0] - 1, lift3.shape[1] - 1
    k, j = rows // 2, cols // 2
    kn = np.where(rows % 2 == 0, np.maximum(k - 1, 0), np.minimum(k + 1, kmax))
    jn = np.minimum(j + 1, jmax)
    at_j = 0.75 * lift3[k, j] + 0.25 * lift3[kn, j]
    at_jn = 0.75 * lift3[k, jn] + 0.25 * lift3[kn, jn]
    odd = (cols % 2 == 1)[:, None]
    return np.where(odd, 0.5 * (at_j + at_jn), at_j).max(axis=1)


def to_yuv420(signal: np.ndarray, matrix: str, bits: int, ceiling: float | None = None, in_range: bool = False
              ) -> tuple[list[np.ndarray], np.ndarray | None]:
    """Non-linear (H, W, 3) float32 R'G'B' -> limited-range Y', Cb, Cr planes (4:2:0, left-sited chroma), with
    ``pipeline.output.to_yuv420``'s chroma filter and luma adjustment under ``ceiling`` (see there). Returns the
    planes (uint16 for > 8 bits) and, with a ceiling, the decoded max(R', G', B') as a bilinear decoder sees
    it at the even rows and columns (for frame statistics). ``in_range``: the caller guarantees values in [0, 1] (skips a clip)."""
    h, w = signal.shape[:2]
    x = signal if in_range else np.clip(signal, 0, 1)
    if h % 2 or w % 2:
        x = cv2.copyMakeBorder(x, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    hh, ww = x.shape[:2]
    m = rgb_to_ycbcr_matrix(matrix).astype(np.float32)
    ys, yo, cs, co = _scales(bits, False)
    y = cv2.transform(x, m[0:1]).reshape(hh, ww)
    c = cv2.add(x[0::2], x[1::2])  # vertical: between the two rows (x 2: folded into the taps below)
    # horizontal [1 2 1]/4 on the even columns, the left edge replicated
    c = cv2.filter2D(c, -1, np.array([[0.125, 0.25, 0.125]], np.float32), borderType=cv2.BORDER_REPLICATE)[:, 0::2]
    cbcr = cv2.transform(np.ascontiguousarray(c), m[1:3] * np.float32(cs))
    top = float(2**bits - 1)
    cq = np.clip(cv2.add(_flat(cbcr), co + 0.5), 0, top + 0.5).reshape(cbcr.shape)
    np.floor(cq, out=cq)
    decoded_max = None
    if ceiling is not None:
        inv = np.linalg.inv(rgb_to_ycbcr_matrix(matrix))[:, 1:].astype(np.float32)
        cdq = cv2.multiply(cv2.subtract(_flat(cq), co), 1 / cs).reshape(cq.shape)
        lift3 = cv2.transform(cdq, inv)  # what each chroma sample adds to R', G', B'
        worst = cv2.dilate(channel_max(lift3), np.ones((3, 3), np.uint8))  # max of the 3x3 chroma neighbourhood
        worst = cv2.resize(worst, (ww, hh), interpolation=cv2.INTER_NEAREST)
        half_step = np.float32(0.5 / (219 * 2 ** (bits - 8)))
        y = cv2.min(y, np.float32(ceiling) - half_step - worst)
        # the bilinear decoder's lift at a pixel mixes samples of its 3x3 neighbourhood, so it is at most `worst`:
        # "at most the frame's brightest component" can bind only where y + worst reaches it (found sparsely)
        top_signal = float(x.max() - half_step)
        hits = cv2.findNonZero(cv2.compare(y, np.float32(top_signal) - worst, cv2.CMP_GT))
        if hits is not None:
            hits = hits.reshape(-1, 2)  # (x, y) pairs
            cols, rows = hits[:, 0], hits[:, 1]
            y[rows, cols] = np.minimum(y[rows, cols], top_signal - _lift_at(lift3, rows, cols))
    yq = np.clip(cv2.add(cv2.multiply(y, ys), yo + 0.5), 0, top + 0.5)
    np.floor(yq, out=yq)
    if ceiling is not None:  # as a bilinear decoder sees the even rows and columns (a quarter of the pixels)
        even = channel_max(cv2.addWeighted(lift3, 0.75, np.concatenate([lift3[:1], lift3[:-1]]), 0.25, 0))
        decoded_max = np.clip(cv2.add(cv2.multiply(cv2.subtract(yq[0::2, 0::2], yo), 1 / ys), even), 0, 1)
        decoded_max = decoded_max[:(h + 1) // 2, :(w + 1) // 2]
    dtype = np.uint8 if bits == 8 else np.uint16
    cb, cr = cv2.split(cq)
    return [yq.astype(dtype), cb.astype(dtype), cr.astype(dtype)], decoded_max
