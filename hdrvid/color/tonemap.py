"""Tone mapping operators (numpy or torch).

Inputs are linear light. Operators that take statistics (log-average, peak) accept them as arguments so a
temporal filter can smooth them across frames instead of each frame measuring its own.
"""

from __future__ import annotations

from hdrvid.color._xp import Array, asarray, where, xp
from hdrvid.color.gamut import BT709, Primaries, luminance
from hdrvid.color.transfer import pq_eotf, pq_inverse_eotf
from hdrvid.lazy import torch


def reinhard_global(
    rgb: Array,
    log_average: float,
    white: float,
    key: float = 0.18,
    axis: int = -1,
    primaries: Primaries = BT709,
) -> Array:
    """Reinhard et al. 2002 photographic operator, global version with a white point (their eq. 4).

    ``rgb`` is relative linear light; ``log_average`` its log-average luminance; ``white`` the luminance
    (same units as ``rgb``) that maps to display white. The luminance is scaled to ``key`` / log_average,
    compressed with L (1 + L / Lw^2) / (1 + L), and colour follows by the ratio Ld / L.
    Returns display-relative linear light in [0, 1] (clipped).
    """
    rgb = asarray(rgb)
    y = luminance(rgb, primaries, axis=axis)
    scale = key / max(float(log_average), 1e-6)
    lw = max(float(white) * scale, 1e-6)
    ls = y * scale
    ld = ls * (1 + ls / (lw * lw)) / (1 + ls)
    ratio = where(y > 1e-9, ld / y.clip(min=1e-9), scale)
    m = xp(rgb)
    ratio = m.expand_dims(ratio, axis) if m.__name__ == "numpy" else ratio.unsqueeze(axis)
    return (rgb * ratio).clip(0, 1)


def eetf_bt2390(
    nits: Array, source_peak: float, target_peak: float, source_black: float = 0.0, target_black: float = 0.0
) -> Array:
    """ITU-R BT.2390 EETF: map absolute luminance (nits) from a source to a lower-peak target, in PQ space.

    Identity below the knee KS = 1.5 * maxLum - 0.5, a Hermite spline above it, reaching exactly
    ``target_peak`` at ``source_peak``. Apply to luminance or max(R,G,B) and scale colour by the ratio.
    """
    nits = asarray(nits)
    if target_peak >= source_peak:
        return nits.clip(min=0)
    pb, pw = float(pq_inverse_eotf(source_black)), float(pq_inverse_eotf(source_peak))
    span = pw - pb
    e1 = ((pq_inverse_eotf(nits) - pb) / span).clip(0, 1)
    max_lum = (float(pq_inverse_eotf(target_peak)) - pb) / span
    min_lum = (float(pq_inverse_eotf(target_black)) - pb) / span
    ks = 1.5 * max_lum - 0.5
    t = ((e1 - ks) / (1 - ks)).clip(min=0)
    t2, t3 = t * t, t * t * t
    p = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1 - ks) + (-2 * t3 + 3 * t2) * max_lum
    e2 = where(e1 < ks, e1, p)
    e3 = e2 + min_lum * (1 - e2).clip(min=0) ** 4
    return pq_eotf(e3 * span + pb)


def roll_off(nits: torch.Tensor, source_peak: float, target_peak: float, channel_axis: int = 0) -> torch.Tensor:
    """BT.2390 EETF on max(R,G,B) (absolute light in nits, torch), colour scaled by the same ratio so hue
    and saturation are kept. The EETF is the identity below its knee, so only the pixels above it are
    computed. Light above ``source_peak`` ends at ``target_peak``."""
    m = nits.amax(channel_axis, keepdim=True)
    if source_peak <= target_peak:
        over = m > target_peak
        if bool(over.any()):
            nits = nits * torch.where(over, target_peak / m.clamp(min=1e-6), 1.0)
        return nits
    knee = knee_nits(source_peak, target_peak)
    over = m > knee
    if not bool(over.any()):
        return nits
    ratio = torch.ones_like(m)
    ratio[over] = roll_off_gain(m[over], source_peak, target_peak)
    return nits * ratio


def roll_off_gain(m: Array, source_peak: float, target_peak: float) -> Array:
    """``roll_off``'s ratio for max(R,G,B) ``m`` in nits (numpy or torch): 1 below the knee, the BT.2390 EETF's
    output / input above it (light above ``source_peak`` ends at ``target_peak``)."""
    m = asarray(m)
    if source_peak <= target_peak:
        return where(m > target_peak, target_peak / m.clip(min=1e-6), 1.0)
    knee = knee_nits(source_peak, target_peak)
    return where(m > knee, eetf_bt2390(m, source_peak, target_peak) / m.clip(min=1e-6), 1.0)


def knee_nits(source_peak: float, target_peak: float) -> float:
    """Luminance below which the BT.2390 EETF (black at 0) leaves light unchanged."""
    span = float(pq_inverse_eotf(source_peak))
    ks = 1.5 * float(pq_inverse_eotf(target_peak)) / span - 0.5
    return float(pq_eotf(max(ks, 0.0) * span))
