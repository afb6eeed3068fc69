"""Colour primaries and RGB <-> RGB conversion in linear light (ITU-R BT.709, BT.2020, DCI-P3 D65, SMPTE C and
EBU / BT.470 B/G)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from hdrvid.color._xp import Array, apply_matrix


@dataclass(frozen=True)
class Primaries:
    """CIE 1931 xy chromaticities of red, green, blue and the white point."""

    name: str
    red: tuple[float, float]
    green: tuple[float, float]
    blue: tuple[float, float]
    white: tuple[float, float]

    def rgb_to_xyz(self) -> np.ndarray:
        """Normalised primary matrix (RGB linear -> CIE XYZ, Y of white = 1)."""
        xy = np.array([self.red, self.green, self.blue], dtype=np.float64)
        xyz = np.stack([xy[:, 0] / xy[:, 1], np.ones(3), (1 - xy[:, 0] - xy[:, 1]) / xy[:, 1]], axis=0)
        wx, wy = self.white
        w = np.array([wx / wy, 1.0, (1 - wx - wy) / wy])
        s = np.linalg.solve(xyz, w)
        return xyz * s

    def luminance_weights(self) -> np.ndarray:
        """Y row of :meth:`rgb_to_xyz`: the luminance of unit R, G, B."""
        return self.rgb_to_xyz()[1]


D65 = (0.3127, 0.3290)
BT709 = Primaries("bt709", (0.640, 0.330), (0.300, 0.600), (0.150, 0.060), D65)
BT2020 = Primaries("bt2020", (0.708, 0.292), (0.170, 0.797), (0.131, 0.046), D65)
P3_D65 = Primaries("p3-d65", (0.680, 0.320), (0.265, 0.690), (0.150, 0.060), D65)
SMPTE_C = Primaries("smpte170m", (0.630, 0.340), (0.310, 0.595), (0.155, 0.070), D65)
"""SMPTE 170M / 240M ("SMPTE C"): 525-line standard definition (NTSC DVDs, SD broadcast in the Americas)."""
EBU = Primaries("bt470bg", (0.640, 0.330), (0.290, 0.600), (0.150, 0.060), D65)
"""ITU-R BT.470 system B/G, EBU Tech 3213 (BT.601-625): 625-line standard definition (PAL DVDs and broadcast)."""

ADOBE_RGB = Primaries("adobe-rgb", (0.640, 0.330), (0.210, 0.710), (0.150, 0.060), D65)
"""Adobe RGB (1998): the wide-gamut setting of many cameras and photo editors."""

PRIMARIES = {p.name: p for p in (BT709, BT2020, P3_D65, SMPTE_C, EBU, ADOBE_RGB)}

PRIMARIES_FROM_TAG = {"bt709": "bt709", "bt2020": "bt2020", "smpte170m": "smpte170m", "smpte240m": "smpte170m",
                      "bt470bg": "bt470bg", "smpte432": "p3-d65"}
"""A stream's colour-primaries tag (FFmpeg's names) -> the :data:`PRIMARIES` it means. Untagged streams, and the
rare tags without an entry (BT.470 M's illuminant C, DCI's own white, generic film), are taken as BT.709."""


def to_bt709_matrix(name: str) -> np.ndarray | None:
    """3x3 matrix from linear RGB in :data:`PRIMARIES` ``name`` to BT.709 (None for BT.709 itself)."""
    return None if name == "bt709" else rgb_to_rgb_matrix(PRIMARIES[name], BT709)


def rgb_to_rgb_matrix(src: Primaries, dst: Primaries) -> np.ndarray:
    """3x3 matrix taking linear RGB in ``src`` primaries to ``dst`` primaries (same white, no adaptation)."""
    return np.linalg.inv(dst.rgb_to_xyz()) @ src.rgb_to_xyz()


BT709_TO_BT2020 = rgb_to_rgb_matrix(BT709, BT2020)
BT2020_TO_BT709 = rgb_to_rgb_matrix(BT2020, BT709)


D50_PCS = (0.9642, 1.0, 0.8249)
"""The ICC profile connection space's white (XYZ, Y = 1)."""
_BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def bradford(src_white_xyz: tuple[float, float, float], dst_white_xyz: tuple[float, float, float]) -> np.ndarray:
    """3x3 Bradford chromatic adaptation matrix (XYZ under ``src`` white -> XYZ under ``dst`` white), as ICC
    profiles adapt their colorants to the D50 connection space."""
    ratio = (_BRADFORD @ np.asarray(dst_white_xyz, np.float64)) / (_BRADFORD @ np.asarray(src_white_xyz, np.float64))
    return np.linalg.inv(_BRADFORD) @ np.diag(ratio) @ _BRADFORD


def apply_to_bt709(rgb: np.ndarray, name: str, axis: int = -1) -> np.ndarray:
    """Linear float32 RGB in :data:`PRIMARIES` ``name`` -> BT.709 (returned as is for BT.709)."""
    m = to_bt709_matrix(name)
    return rgb if m is None else apply_matrix(rgb, m, axis=axis).astype(np.float32)


def convert_primaries(rgb: Array, src: Primaries, dst: Primaries, axis: int = -1) -> Array:
    """Linear RGB from ``src`` to ``dst`` primaries. Values outside the target gamut stay (may be < 0)."""
    if src == dst:
        return rgb
    return apply_matrix(rgb, rgb_to_rgb_matrix(src, dst), axis=axis)


def luminance(rgb: Array, primaries: Primaries = BT709, axis: int = -1) -> Array:
    """Relative luminance Y of linear RGB; the channel ``axis`` is dropped."""
    w = primaries.luminance_weights()
    if isinstance(rgb, np.ndarray):
        return np.tensordot(np.moveaxis(rgb, axis, -1), w.astype(rgb.dtype), axes=([-1], [0]))
    return w[0] * rgb.select(axis, 0) + w[1] * rgb.select(axis, 1) + w[2] * rgb.select(axis, 2)


def _lum_keep(rgb: Array, primaries: Primaries, axis: int) -> Array:
    y = luminance(rgb, primaries, axis=axis)
    return np.expand_dims(y, axis) if isinstance(rgb, np.ndarray) else y.unsqueeze(axis)


def chroma_distance(rgb: Array, primaries: Primaries = BT709, axis: int = -1) -> Array:
    """How far each linear colour sits from its grey (same luminance) towards the gamut boundary along its
    own hue line: 0 = grey, 1 = on the boundary (a channel at 0), > 1 = outside (a channel negative)."""
    y = _lum_keep(rgb, primaries, axis).clip(min=1e-9)
    d = (y - rgb) / y
    return d.max(axis=axis, keepdims=True) if isinstance(rgb, np.ndarray) else d.amax(axis, keepdim=True)


def gamut_clip(rgb: Array) -> Array:
    """Hard gamut mapping: negative channels set to 0 (shifts hue and luminance of saturated colours)."""
    return rgb.clip(min=0)


COMPRESS_THRESHOLD = 1.0
"""Where gamut compression starts (distance to grey, 1 = the boundary). Colours that came from BT.709 and
were never out of gamut must come back unchanged, to the code value: even a soft zone just inside the
boundary (0.98) moved a cyan's red channel by 12 codes in a BT.1886 encoding (its dark channel sits where the
curve is steepest). So by default only colours outside move: straight towards their own grey (luminance
and hue kept) onto the boundary. A threshold below 1 gives the soft (tanh) roll-off from there."""
OUT_OF_GAMUT_TOLERANCE = 0.02
"""A pixel counts as out of gamut when a channel is below -2 % of its luminance: 10-bit PQ and 4:2:0
chroma put BT.709 colours a little outside by rounding alone, which is not a gamut problem."""


def gamut_compress(rgb: Array, primaries: Primaries = BT709, axis: int = -1,
                   threshold: float = COMPRESS_THRESHOLD) -> Array:
    """Soft, hue-preserving gamut compression: each colour keeps its luminance and its hue line (it moves
    straight towards its own grey); distances past ``threshold`` are compressed smoothly (tanh) into
    [threshold, 1), so out-of-gamut colours land just inside the boundary and in-gamut colours near
    the boundary move only a little. Colours below ``threshold`` are untouched."""
    y = _lum_keep(rgb, primaries, axis).clip(min=0)
    d = chroma_distance(rgb, primaries, axis)
    t = min(threshold, 1.0)
    span = max(1 - t, 1e-9)
    if isinstance(rgb, np.ndarray):
        dc = np.where(d > t, t + (1 - t) * np.tanh((d - t) / span), d)
    else:
        import torch

        dc = torch.where(d > t, t + (1 - t) * torch.tanh((d - t) / span), d)
    scale = dc / d.clip(min=1e-9)
    out = y + (rgb - y) * scale
    return out.clip(min=0)


def out_of_gamut_fraction(rgb: Array, primaries: Primaries = BT709, axis: int = -1,
                          tolerance: float = OUT_OF_GAMUT_TOLERANCE) -> float:
    """Share of pixels with a channel below -tolerance x their luminance (outside ``primaries``)."""
    return float((chroma_distance(rgb, primaries, axis) > 1 + tolerance).mean(dtype=None) if isinstance(rgb, np.ndarray)
                 else (chroma_distance(rgb, primaries, axis) > 1 + tolerance).float().mean())


GamutMode = Literal["compress", "clip"]
GAMUT_MODES: tuple[str, ...] = get_args(GamutMode)


def gamut_map(rgb: Array, mode: str = "compress", primaries: Primaries = BT709, axis: int = -1,
              threshold: float = COMPRESS_THRESHOLD, tolerance: float = OUT_OF_GAMUT_TOLERANCE) -> tuple[Array, float]:
    """Bring linear colours into ``primaries``: ``compress`` (as :func:`gamut_compress`) or ``clip``.
    Returns (mapped, share of pixels that were out of gamut). The distance to grey is computed once and
    only the pixels that need it are touched, so in-gamut frames cost one pass."""
    d = chroma_distance(rgb, primaries, axis)
    is_np = isinstance(rgb, np.ndarray)
    oog = float((d > 1 + tolerance).mean()) if is_np else float((d > 1 + tolerance).float().mean())
    if mode == "clip":
        return (gamut_clip(rgb) if oog > 0 else rgb), oog
    if mode != "compress":
        raise ValueError(f"gamut mode must be compress or clip, not {mode!r}")
    need = d > threshold
    if not bool(need.any()):
        return rgb, oog
    if is_np:
        return gamut_compress(rgb, primaries, axis, threshold), oog
    import torch

    x = torch.movedim(rgb, axis, -1)  # (..., 3) view
    sel = torch.movedim(need, axis, -1)[..., 0]
    out = x.clone()
    out[sel] = gamut_compress(x[sel], primaries, -1, threshold).to(out.dtype)
    return torch.movedim(out, -1, axis), oog
