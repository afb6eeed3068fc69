"""Classical models on numpy frames, without torch: the same maths as their torch modules (``models.itmo``),
held to them by tests, so a plain expansion to HDR10 never loads torch (``pipeline.arrays.ArrayModel``).

Frames are relative linear BT.709 light, planar (3, H, W) float32. OpenCV does the neighbourhood work:
``box_mean`` (the mean over the part of a square window inside the frame, ``itmo.box_filter``), ``square_max``
(``itmo.square_max``: dilation, whose border never wins), area downscaling (``avg_pool2d``) and bilinear
upscaling with half-pixel centres (``interpolate(..., align_corners=False)``).
"""

from __future__ import annotations

import collections
import functools
import threading

import numpy as np

from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.packed import block_mean
from hdrvid.lazy import cv2

ITMO_GAIN, ITMO_LARGE_GAIN, ITMO_THRESHOLD = 8.0, 2.5, 0.94
ITMO_RADIUS_FRACTION, ITMO_REGION_FRACTION = 0.02, 0.12
"""``itmo``'s parameters (``models.itmo.ClassicalITMO`` takes its defaults from here)."""
ITMO_AVERAGE_CAP = 250.0 / (203.0 * LEVEL_GAIN["bt2446a"])
"""``itmo`` holds a frame's mean max(R, G, B) at most this (relative: 1 = SDR white at the default level, 398 nits;
250 nits at the defaults, ``--average-cap``) by scaling its expansion down (never the recorded light):
:class:`ItmoCap`. Session 50: on the office clip a white wall's clipped third went to 1,000-2,400 nits and the
frame-average light to 289 nits, against 201 for the linearised input."""


ITMO_CAP_WINDOW = 12
"""Frames of :class:`ItmoCap`'s two windows in video (half a second at 24 fps)."""


class ItmoCap:
    """``itmo``'s average-light cap: the factor on its expansion (``gain - 1``) that keeps a frame's mean
    max(R, G, B) at ``average_cap`` (relative light; ``inf``: off), or at the frame's own mean before the expansion
    when that is already above.

    Video (:meth:`enable_temporal`): the factor a frame gets is the smaller of its own and the mean, over the last
    ``ITMO_CAP_WINDOW`` frames, of each frame's smallest factor over the ``ITMO_CAP_WINDOW`` frames before it; reset
    at scene cuts (:meth:`reset_temporal`). So the expanded highlights dim at once when a brighter frame needs it,
    hold while neighbouring frames need it (a person walking in front of a white wall does not make it pump), and
    come back over half a second. Two finite windows, so a segment of ``hdrvid batch`` with its pre-roll gets the
    single run's factors exactly. Shared by the torch module and the numpy path."""

    def __init__(self, average_cap: float = ITMO_AVERAGE_CAP) -> None:
        self.average_cap = average_cap
        self.video = False
        self._needs: collections.deque[float] = collections.deque(maxlen=ITMO_CAP_WINDOW)
        self._floors: collections.deque[float] = collections.deque(maxlen=ITMO_CAP_WINDOW)
        self._sum, self._frames = 0.0, 0

    def enable_temporal(self, alpha: float | None = None) -> None:
        self.video = True

    def reset_temporal(self) -> None:
        self._needs.clear()
        self._floors.clear()

    def factor(self, light: float, added: float) -> float:
        """The factor for one frame whose mean max(R, G, B) is ``light`` before the expansion and ``light +
        added`` after it."""
        k = 1.0
        cap = self.average_cap
        if np.isfinite(cap) and added > 0 and light + added > cap:
            k = float(np.float32(max(cap - light, 0.0) / added))
        if self.video:
            self._needs.append(k)
            self._floors.append(min(self._needs))
            k = min(k, float(np.float32(sum(self._floors) / len(self._floors))))
        self._sum += k
        self._frames += 1
        return k

    def frame_factor(self, grid_peak: np.ndarray, grid_gain: np.ndarray) -> float:
        """:meth:`factor` for one frame from max(R, G, B) and the expansion (gain - 1) at every 4th row and
        column (``[::4, ::4]``, float32): the light before it (:func:`frame_light`) and what it adds, summed in
        float64. Both paths call this."""
        peak = grid_peak.astype(np.float64)
        return self.factor(frame_light(peak), float((peak * grid_gain).sum() / peak.size))

    def mean_factor(self) -> float | None:
        """The mean factor over the frames so far (the run report), or None before any frame."""
        return self._sum / self._frames if self._frames else None


def frame_light(grid_peak: np.ndarray) -> float:
    """A frame's mean max(R, G, B) as :class:`ItmoCap` reads it, from ``grid_peak``: max(R, G, B) at every 4th row
    and column (``frame[:, ::4, ::4]``), in float64 (both paths sum the same values; the expansion's share is
    summed on the same grid)."""
    return float(grid_peak.astype(np.float64).mean())


def itmo_floor(threshold: float) -> np.float32:
    """Light below which ``itmo``'s mask (rising from signal ``threshold``) is 0 for certain (with a margin for
    rounding)."""
    return np.float32(0.9 * threshold ** 2.2)


_ITMO_FLOOR = itmo_floor(ITMO_THRESHOLD)
"""The floor at the default threshold."""
_SHIFTS = threading.local()


def itmo_block_shift(x: object, floor: float = float(_ITMO_FLOOR)) -> np.ndarray | None:
    """What ``itmo``'s mask adds to the max(R, G, B) signal it reads, (N, 1, H, W) float32 for frames ``x``
    (N, 3, H, W) (a tensor for a tensor), or None: the codec-block filter of ``hdrunet-auto``'s camera mask
    (:class:`hdrvid.models.deblock.MaskShift`) at every pixel above ``floor`` (linear light). A near-white wall in H.264 is a
    mosaic of blocks a code or two apart; itmo's mask rises over codes ~240-252, so read pixel by pixel it turned the
    blocks into bright and dim squares (the office clip's wall, session 49). The filter moves the signal towards its
    window's mean where the window is flat, and keeps it at edges and texture. The result is valid until the next
    call on the same thread (one buffer per thread)."""
    from hdrvid.models.deblock import MaskShift

    shift = getattr(_SHIFTS, "shift", None)
    if shift is None:
        shift = _SHIFTS.shift = MaskShift()
    return shift(x, (0.0,) * int(x.shape[0]), floor, 2.2)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=16)
def _window_counts(h: int, w: int, r: int) -> np.ndarray:
    count_r = np.minimum(np.arange(h) + r + 1, h) - np.maximum(np.arange(h) - r, 0)
    count_c = np.minimum(np.arange(w) + r + 1, w) - np.maximum(np.arange(w) - r, 0)
    out = np.outer(count_r, count_c).astype(np.float32)
    out.flags.writeable = False
    return out


def box_sums(x: np.ndarray, r: int) -> np.ndarray:
    """Sum over the part of the (2r+1)^2 window inside the frame, of a 2-D float32 array."""
    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=False, borderType=cv2.BORDER_CONSTANT)


def box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over the part of the (2r+1)^2 window inside the frame, of a 2-D float32 array."""
    total = box_sums(x, r)
    total /= _window_counts(*x.shape, r)
    return total


def square_max(x: np.ndarray, r: int) -> np.ndarray:
    """Max over the part of the (2r+1)^2 window inside the frame."""
    return cv2.dilate(x, np.ones((2 * r + 1, 2 * r + 1), np.uint8))


def _itmo_gains(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``ClassicalITMO.expansion_map`` of one frame (3, H, W) (light already clamped at 0) where it is not 0:
    (flat pixel indices, the gain minus one there). The mask is 0 below the threshold, and most frames hold a
    few percent of pixels above it: the neighbourhood maps are made frame-wide (OpenCV), the per-pixel maths
    only at those pixels, elementwise in the torch module's order (the same float32 values as frame-wide)."""
    h, w = x.shape[1:]
    peak = x.max(0)
    bright = np.flatnonzero(peak > _ITMO_FLOOR)  # the power and the ramp only where the mask can be > 0
    if not bright.size:
        return bright, np.zeros(0, np.float32)
    signal = np.clip(peak.ravel()[bright], 1e-8, 1.0) ** np.float32(1 / 2.2)
    shift = itmo_block_shift(x[None])
    if shift is not None:
        signal += shift.ravel()[bright]
    t = np.clip((signal - np.float32(ITMO_THRESHOLD)) / np.float32(0.99 - ITMO_THRESHOLD), 0, 1)
    mask = np.zeros((h, w), np.float32)
    mask.ravel()[bright] = t * t * (3 - 2 * t)
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
    r = max(1, round(ITMO_RADIUS_FRACTION * side / 4))
    idx = bright[mask.ravel()[bright] > 0]  # the gain is 0 where the mask is
    # spot = sqrt(clip(box_mean(mask, r), 0, 1)) at those pixels: the window sums frame-wide, the rest there
    spot = np.sqrt(np.clip(box_sums(mask, r).ravel()[idx] / _window_counts(h, w, r).ravel()[idx], 0, 1))
    m, lab = mask.ravel()[idx], label.ravel()[idx]
    depth = spot * (1 - lab) + dome.ravel()[idx] * lab
    m *= depth  # (mask * depth) * ..., in the torch module's order
    m *= np.float32(ITMO_GAIN - 1) - np.float32(ITMO_GAIN - ITMO_LARGE_GAIN) * lab
    return idx, m


def itmo_expansion_map(x: np.ndarray) -> np.ndarray:
    """``ClassicalITMO.expansion_map`` of one frame (3, H, W) (light already clamped at 0): the gain minus one,
    (H, W)."""
    idx, gain = _itmo_gains(x)
    out = np.zeros(x.shape[1:], np.float32)
    out.ravel()[idx] = gain
    return out


def itmo(x: np.ndarray, overwrite: bool = False, cap: ItmoCap | None = None) -> np.ndarray:
    """``itmo`` (``models.itmo.ClassicalITMO.forward``) on one frame (3, H, W) float32; ``overwrite``: the result
    in ``x``'s own memory (a pipeline's frame, no longer needed: no 11 MB allocation per 720p frame); ``cap``: its
    average-light cap (:class:`ItmoCap`; None: none, as a still's stateless call)."""
    own = overwrite and x.dtype == np.float32 and x.flags.c_contiguous and x.flags.writeable
    out = np.maximum(x, np.float32(0), out=x) if own else np.maximum(x, np.float32(0), dtype=np.float32)
    idx, gain = _itmo_gains(out)
    if idx.size:  # most frames expand a few percent of their pixels: the product only there
        if cap is not None and np.isfinite(cap.average_cap):
            grid_peak = out[:, ::4, ::4].max(0)
            grid_gain = np.zeros_like(grid_peak)
            rows, cols = np.divmod(idx, out.shape[2])
            on = (rows % 4 == 0) & (cols % 4 == 0)
            grid_gain[rows[on] // 4, cols[on] // 4] = gain[on]
            k = cap.frame_factor(grid_peak, grid_gain)
            if k < 1:
                gain *= np.float32(k)
        gain += np.float32(1)
        for plane in out.reshape(3, -1):
            plane[idx] *= gain
    return out


class HoldsItmoCap:
    """What a model with an :class:`ItmoCap` in ``self.cap`` shows the pipeline (``average_cap``, ``enable_temporal``,
    ``reset_temporal``, the report's ``mean_cap_factor``): the torch module and :class:`CappedItmo`."""

    cap: ItmoCap

    @property
    def average_cap(self) -> float:
        return self.cap.average_cap

    @average_cap.setter
    def average_cap(self, value: float) -> None:
        self.cap.average_cap = value

    def enable_temporal(self, alpha: float | None = None) -> None:
        self.cap.enable_temporal(alpha)

    def reset_temporal(self) -> None:
        self.cap.reset_temporal()

    def mean_cap_factor(self) -> float | None:
        return self.cap.mean_factor()


class CappedItmo(HoldsItmoCap):
    """``itmo`` with its average-light cap for one run (``convert``'s numpy path): ``fn(x, overwrite)`` as
    :data:`ARRAY_MODELS` wants it, the cap's state kept between frames."""

    def __init__(self) -> None:
        self.cap = ItmoCap()

    def __call__(self, x: np.ndarray, overwrite: bool = False) -> np.ndarray:
        return itmo(x, overwrite, self.cap)


def linearise(x: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """``none`` (``models.itmo.Linearise``): the linearised input itself."""
    return x


ARRAY_MODELS = {"itmo": CappedItmo, "none": lambda: linearise}
"""Model name -> a factory of its numpy implementation for one run (what ``convert`` runs without torch when it
can): ``fn(x, overwrite)`` with ``x`` (3, H, W) float32; ``overwrite=True`` lets it reuse ``x``'s memory for the
result. An ``fn`` with ``reset_temporal`` keeps state between frames (reset at scene cuts, ``pipeline.arrays``)."""
