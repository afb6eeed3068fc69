"""Non-constant-luminance Y'CbCr (ITU-R BT.601/709/2020) and integer quantisation at 8/10/12 bits.

Signals here are non-linear R'G'B' in [0, 1]; Y' is in [0, 1] and Cb, Cr in [-0.5, 0.5].
Limited ("narrow", "tv", MPEG) range follows BT.709/BT.2100: Y' = 16..235 and C = 16..240, scaled by
2^(bits-8). Full ("pc", JPEG) range: Y' = round((2^n - 1) Y'), C = round((2^n - 1) C + 2^(n-1)).
"""

from __future__ import annotations

import numpy as np

from hdrvid.color._xp import Array, apply_matrix, xp

KR_KB = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020nc": (0.2627, 0.0593)}


def rgb_to_ycbcr_matrix(matrix: str) -> np.ndarray:
    kr, kb = KR_KB[matrix]
    kg = 1 - kr - kb
    return np.array(
        [
            [kr, kg, kb],
            [-kr / (2 * (1 - kb)), -kg / (2 * (1 - kb)), 0.5],
            [0.5, -kg / (2 * (1 - kr)), -kb / (2 * (1 - kr))],
        ]
    )


def rgb_to_ycbcr(rgb: Array, matrix: str = "bt2020nc", axis: int = -1) -> Array:
    """R'G'B' -> Y'CbCr (floats), along ``axis``."""
    return apply_matrix(rgb, rgb_to_ycbcr_matrix(matrix), axis=axis)


def ycbcr_to_rgb(ycc: Array, matrix: str = "bt2020nc", axis: int = -1) -> Array:
    """Y'CbCr (floats) -> R'G'B', along ``axis``."""
    return apply_matrix(ycc, np.linalg.inv(rgb_to_ycbcr_matrix(matrix)), axis=axis)


def code_scales(bits: int, full_range: bool) -> tuple[float, float, float, float]:
    """(luma scale, luma offset, chroma scale, chroma offset) in code values."""
    if full_range:
        n = float(2**bits - 1)
        return n, 0.0, n, float(2 ** (bits - 1))
    k = float(2 ** (bits - 8))
    return 219 * k, 16 * k, 224 * k, 128 * k


def quantize_luma(y: Array, bits: int = 10, full_range: bool = False) -> Array:
    """Y' [0,1] -> integer code values (float dtype kept for torch; round half away from zero)."""
    s, o, _, _ = code_scales(bits, full_range)
    return _round(y * s + o).clip(0, 2**bits - 1)


def quantize_chroma(c: Array, bits: int = 10, full_range: bool = False) -> Array:
    """Cb or Cr [-0.5,0.5] -> integer code values."""
    _, _, s, o = code_scales(bits, full_range)
    return _round(c * s + o).clip(0, 2**bits - 1)


def dequantize_luma(d: Array, bits: int = 10, full_range: bool = False) -> Array:
    s, o, _, _ = code_scales(bits, full_range)
    return (d - o) / s


def dequantize_chroma(d: Array, bits: int = 10, full_range: bool = False) -> Array:
    _, _, s, o = code_scales(bits, full_range)
    return (d - o) / s


def quantize(ycc: Array, bits: int = 10, full_range: bool = False, axis: int = -1) -> Array:
    """Y'CbCr floats -> code values along ``axis`` (channel 0 luma, 1-2 chroma)."""
    m = xp(ycc)
    if m is np:
        y, cb, cr = (np.take(ycc, i, axis=axis) for i in range(3))
        return np.stack(
            [quantize_luma(y, bits, full_range), quantize_chroma(cb, bits, full_range), quantize_chroma(cr, bits, full_range)],
            axis=axis,
        )
    y, cb, cr = ycc.unbind(axis)
    return m.stack(
        [quantize_luma(y, bits, full_range), quantize_chroma(cb, bits, full_range), quantize_chroma(cr, bits, full_range)],
        dim=axis,
    )


def _round(x: Array) -> Array:
    """Round half up (floor(x + 0.5)); in place on torch tensors, which are always temporaries here."""
    m = xp(x)
    if m is np:
        return np.floor(x + 0.5)
    return x.add_(0.5).floor_()
