"""Transfer functions (numpy or torch, elementwise).

Conventions: "linear" is relative scene or display light with 1.0 = nominal peak of the signal
(SDR: reference white). PQ works in absolute luminance (cd/m^2, "nits"). HLG scene light E is in [0, 1].
Standards: IEC 61966-2-1 (sRGB), ITU-R BT.709 (OETF), ITU-R BT.1886 (EOTF), ITU-R BT.2100 (PQ, HLG),
SMPTE ST 2084 (PQ).
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

from hdrvid.color._xp import Array, asarray, power, where, xp

# --- sRGB (IEC 61966-2-1) -------------------------------------------------------------------------


def srgb_eotf(v: Array) -> Array:
    """sRGB code value [0,1] -> linear light [0,1] (the piecewise sRGB curve)."""
    v = asarray(v)
    return where(v <= 0.04045, v / 12.92, power((v.clip(min=0.04045) + 0.055) / 1.055, 2.4))


def srgb_inverse_eotf(lin: Array) -> Array:
    """Linear light [0,1] -> sRGB code value [0,1]."""
    lin = asarray(lin)
    return where(lin <= 0.0031308, lin * 12.92, 1.055 * power(lin.clip(min=0.0031308), 1 / 2.4) - 0.055)


# --- BT.709 camera curve ---------------------------------------------------------------------------

_A709 = 1.099
_B709 = 0.018


def bt709_oetf(lin: Array) -> Array:
    """ITU-R BT.709 OETF: scene linear [0,1] -> signal [0,1]."""
    lin = asarray(lin)
    return where(lin < _B709, 4.5 * lin, _A709 * power(lin.clip(min=_B709), 0.45) - (_A709 - 1))


def bt709_inverse_oetf(v: Array) -> Array:
    """Inverse of the BT.709 OETF: signal [0,1] -> scene linear [0,1]."""
    v = asarray(v)
    knee = _A709 * _B709**0.45 - (_A709 - 1)  # the upper branch at beta (continuous with it)
    return where(v < knee, v / 4.5, power((v.clip(min=knee) + (_A709 - 1)) / _A709, 1 / 0.45))


# --- BT.1886 display ------------------------------------------------------------------------------


def bt1886_eotf(v: Array, gamma: float = 2.4) -> Array:
    """ITU-R BT.1886 EOTF with black at 0: signal [0,1] -> relative display light [0,1]."""
    v = asarray(v)
    return power(v.clip(min=0), gamma)


def bt1886_inverse_eotf(lin: Array, gamma: float = 2.4) -> Array:
    lin = asarray(lin)
    return power(lin.clip(min=0), 1 / gamma)


def gamma_eotf(v: Array, gamma: float) -> Array:
    """Pure power law (e.g. gamma 2.2 or 2.8 tags)."""
    return bt1886_eotf(v, gamma)


# --- PQ (SMPTE ST 2084 / BT.2100) -----------------------------------------------------------------

PQ_PEAK = 10000.0
_M1 = 2610 / 16384
_M2 = 2523 / 4096 * 128
_C1 = 3424 / 4096
_C2 = 2413 / 4096 * 32
_C3 = 2392 / 4096 * 32


def pq_eotf(e: Array) -> Array:
    """PQ signal E' [0,1] -> absolute display luminance in nits [0, 10000]."""
    e = asarray(e)
    p = power(e.clip(min=0, max=1), 1 / _M2)
    return PQ_PEAK * power((p - _C1).clip(min=0) / (_C2 - _C3 * p), 1 / _M1)


def pq_inverse_eotf(nits: Array) -> Array:
    """Absolute luminance in nits -> PQ signal E' [0,1]."""
    nits = asarray(nits)
    y = power((nits / PQ_PEAK).clip(min=0, max=1), _M1)
    return power((_C1 + _C2 * y) / (1 + _C3 * y), _M2)


# --- HLG (ARIB STD-B67 / BT.2100) -----------------------------------------------------------------

_HA = 0.17883277
_HB = 1 - 4 * _HA
_HC = 0.5 - _HA * math.log(4 * _HA)


def hlg_oetf(e: Array) -> Array:
    """HLG OETF: scene linear E [0,1] -> signal E' [0,1]."""
    e = asarray(e).clip(min=0)
    m = xp(e)
    return where(e <= 1 / 12, (3 * e).clip(min=0) ** 0.5, _HA * m.log((12 * e - _HB).clip(min=1e-12)) + _HC)


def hlg_inverse_oetf(v: Array) -> Array:
    """HLG signal E' [0,1] -> scene linear E [0,1]."""
    v = asarray(v).clip(min=0)
    m = xp(v)
    return where(v <= 0.5, v**2 / 3, (m.exp((v - _HC) / _HA) + _HB) / 12)


def hlg_system_gamma(peak_nits: float) -> float:
    """BT.2100 HLG system gamma for a display of nominal peak luminance ``peak_nits`` (1.2 at 1000)."""
    return 1.2 + 0.42 * math.log10(peak_nits / 1000.0)


def _luma2020(rgb: Array, axis: int) -> Array:
    """BT.2020 luminance of linear RGB along ``axis``, keeping that axis (size 1)."""
    return 0.2627 * _channel(rgb, 0, axis) + 0.6780 * _channel(rgb, 1, axis) + 0.0593 * _channel(rgb, 2, axis)


def _channel(x: Array, i: int, axis: int) -> Array:
    if xp(x) is np:
        return np.expand_dims(np.take(x, i, axis=axis), axis)
    return x.narrow(axis, i, 1)


def hlg_ootf(e: Array, peak_nits: float = 1000.0, axis: int = -1) -> Array:
    """HLG OOTF (BT.2100, black level 0): scene linear RGB (BT.2020) [0,1] -> display light in nits."""
    e = asarray(e)
    ys = _luma2020(e, axis).clip(min=0)
    g = hlg_system_gamma(peak_nits)
    return peak_nits * power(ys, g - 1) * e


def hlg_inverse_ootf(fd: Array, peak_nits: float = 1000.0, axis: int = -1) -> Array:
    """Inverse HLG OOTF: display light in nits (BT.2020 RGB) -> scene linear E [0,1]."""
    fd = asarray(fd)
    yd = _luma2020(fd, axis).clip(min=1e-12)
    g = hlg_system_gamma(peak_nits)
    return power(yd / peak_nits, (1 - g) / g) * fd / peak_nits


# --- names used on the command line and in stream tags --------------------------------------------

DECODERS = {
    "srgb": srgb_eotf,
    "bt709": bt709_inverse_oetf,
    "bt1886": bt1886_eotf,
    "gamma22": lambda v: gamma_eotf(v, 2.2),
    "gamma28": lambda v: gamma_eotf(v, 2.8),
    "linear": lambda v: v,
}
"""SDR transfer name -> function from signal [0,1] to relative linear light (1.0 = reference white)."""

InputTransfer = Literal["srgb", "bt709", "bt1886", "gamma22", "linear", "pq", "hlg"]
INPUT_TRANSFERS: tuple[str, ...] = get_args(InputTransfer)
"""What ``--input-transfer`` may say: the SDR curves above, or PQ/HLG."""

ENCODERS = {
    "srgb": srgb_inverse_eotf,
    "bt709": bt709_oetf,
    "bt1886": bt1886_inverse_eotf,
    "gamma22": lambda v: bt1886_inverse_eotf(v, 2.2),
    "gamma28": lambda v: bt1886_inverse_eotf(v, 2.8),
    "linear": lambda v: v,
}
