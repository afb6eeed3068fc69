"""The expansion mask read through codec blocks (issue 12).

On camera footage ``hdrunet-auto``'s expansion mask rises over two code values (signal 0.99-0.998, codes
~252.5-254.5). A near-white sky or wall in H.264 or JPEG is a mosaic of 8x8-16x16 blocks whose flat levels
differ by a code or two, so block by block the mask is 0 or nearly 1: the codec's blocks, invisible in the SDR
input, became 300-vs-450-nit squares in the HDR output (Big Buck Bunny's sky, session 27).

:func:`mask_shift` moves the signal the mask reads (max(R, G, B)) towards its 17x17 window's mean by the window's
flatness, ``(1 - a) (mean - m)`` with ``a = var / (var + eps)``: the local linear model of a self-guided filter
(He, Sun and Tang, "Guided Image Filtering", ECCV 2010). Where a window's values vary by much less than
``DEBLOCK_EPS_CODES`` (a flat area's block steps) the mask reads their mean; where they vary by more (the edge of
a lamp, a window frame, texture) it reads the pixel. The expansion still multiplies the decoded light; only where
it acts moves. Chosen on validation (hdrunet card, session 28). ``hdrunet-auto`` applies it on every frame (since
session 50: on frames called graded, whose mask is three times as wide, a graded office wall's blocks still became
squares under the graded boost); ``brackets`` on frames called camera footage, pulled to nothing by the shoulder
weight on frames called graded, as the edge gate (:mod:`hdrvid.models.clip_edges`)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from hdrvid.lazy import torch

DEBLOCK_RADIUS = 8
"""Box radius of the filter, pixels (a 17x17 window: spans an 8x8 or 16x16 codec block's edge). In pixels of the
frame, not of a working size: codec blocks have a fixed size in pixels at any resolution."""
DEBLOCK_EPS_CODES = 3.0
"""The flatness weight's regulariser as a standard deviation in 8-bit codes: windows varying by much less are
averaged."""
DEBLOCK_SCALE = 2
"""The filter's statistics are taken on a copy this many times smaller (area-resized), its coefficients bilinearly
resized back ("Fast Guided Filter", He and Sun 2015): 4x fewer box passes, the radius the same in frame pixels."""


def flat_mean_shift(plane: np.ndarray, radius: int, eps: float, scale: int = 1) -> np.ndarray:
    """How far each pixel of a float32 (h, w) plane moves towards its window's mean, ``(1 - a) (mean - plane)``
    with ``a = var / (var + eps)`` the window's flatness weight (the self-guided filter's local linear model
    ``a x + b`` at the pixel's own window, without the filter's second averaging of ``a`` and ``b``, which carried
    a flat neighbour's pull into a small clipped highlight's edge). The window's mean and variance are taken
    ``scale`` times smaller (area-resized, radius ``radius // scale``) and bilinearly resized back when the plane
    is large enough ("Fast Guided Filter", He and Sun 2015); box means by OpenCV, reflected borders."""
    h, w = plane.shape
    small, square = plane, np.multiply(plane, plane)
    if scale > 1 and min(h, w) >= 4 * scale:  # the squares at full size: the variance keeps fine texture
        size = (w // scale, h // scale)
        small = cv2.resize(plane, size, interpolation=cv2.INTER_AREA)
        square = cv2.resize(square, size, interpolation=cv2.INTER_AREA)
        radius = max(1, radius // scale)
    k = (2 * radius + 1, 2 * radius + 1)
    mean = cv2.boxFilter(small, -1, k)
    keep = cv2.boxFilter(square, -1, k)
    keep -= mean * mean
    np.maximum(keep, 0, out=keep)  # the window's variance
    keep += np.float32(eps)
    np.divide(np.float32(eps), keep, out=keep)  # 1 - a
    if small is not plane:
        mean = cv2.resize(mean, (w, h), interpolation=cv2.INTER_LINEAR)
        keep = cv2.resize(keep, (w, h), interpolation=cv2.INTER_LINEAR)
    mean -= plane
    mean *= keep
    return mean


def _peak(frame: torch.Tensor | np.ndarray) -> np.ndarray:
    """max(R, G, B) of one (C, H, W) frame (a tensor or a float32 array) as float32 numpy (on the CPU: NumPy's
    elementwise maximum, ~10x torch's ``amax`` over the channel dimension)."""
    if isinstance(frame, np.ndarray) or (frame.device.type == "cpu" and frame.dtype == torch.float32):
        planes = frame if isinstance(frame, np.ndarray) else frame.detach().numpy()
        out = np.maximum(planes[0], planes[1])
        for p in planes[2:]:
            np.maximum(out, p, out=out)
        return out
    return frame.amax(0).float().cpu().numpy()


class MaskShift:
    """:func:`mask_shift` with its output buffer kept between calls (a fresh frame-sized zeroed tensor per call
    cost more than the filter: page faults on 3.7 MB at 720p); the result is valid until the next call."""

    def __init__(self) -> None:
        self._buffer: np.ndarray | None = None
        self._dirty: list[tuple[int, int, int, int, int]] = []

    def __call__(self, linear: torch.Tensor | np.ndarray, weight: torch.Tensor | np.ndarray, start: float,
                 gamma: float, radius: int | None = None, eps_codes: float | None = None) -> Any:
        """(N, 1, H, W) float32: what to add to each channel's signal (``linear ** (1 / gamma)``) before the
        expansion mask reads it, ``flat_mean_shift(m) (1 - weight)`` with ``m`` the max(R, G, B) signal; 0 at pixels
        whose max(R, G, B) is at or below ``start`` (linear light; they leave as decoded on every path).
        ``weight`` (N,) is each frame's shoulder weight on the CPU (1 = graded: no shift). None when no frame needs
        one. The filter runs on the rows and columns around the pixels above ``start`` only (``radius``,
        ``eps_codes``: default DEBLOCK_RADIUS, DEBLOCK_EPS_CODES). ``linear`` a float32 array: the result is one
        (no torch)."""
        n, _, h, w = linear.shape
        radius = DEBLOCK_RADIUS if radius is None else radius
        eps = ((DEBLOCK_EPS_CODES if eps_codes is None else eps_codes) / 255.0) ** 2
        out = None
        for i in range(n):
            keep = 1.0 - float(weight[i])
            if keep <= 0:
                continue
            peak = _peak(linear[i])
            above = peak > start
            rows = np.flatnonzero(above.any(1))
            if not len(rows):
                continue
            cols = np.flatnonzero(above[rows[0]:rows[-1] + 1].any(0))
            pad = radius + 2 * DEBLOCK_SCALE  # the window's reach (and the resizes')
            r0, r1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, h)
            c0, c1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, w)
            m = np.clip(peak[r0:r1, c0:c1], 1e-8, 1)  # its own array: the power in place
            cv2.pow(m, 1 / gamma, dst=m)
            shift = flat_mean_shift(m, radius, eps, DEBLOCK_SCALE)
            if keep < 1:
                shift *= np.float32(keep)
            if out is None:
                out = self._zeroed((n, 1, h, w))
            np.multiply(shift, above[r0:r1, c0:c1], out=out[i, 0, r0:r1, c0:c1])
            self._dirty.append((i, r0, r1, c0, c1))
        if out is None or isinstance(linear, np.ndarray):
            return out
        return torch.from_numpy(out)

    def _zeroed(self, shape: tuple[int, int, int, int]) -> np.ndarray:
        if self._buffer is None or self._buffer.shape != shape:
            self._buffer = np.zeros(shape, np.float32)
        else:
            for i, r0, r1, c0, c1 in self._dirty:
                self._buffer[i, 0, r0:r1, c0:c1] = 0
        self._dirty = []
        return self._buffer


def mask_shift(linear: torch.Tensor, weight: torch.Tensor, start: float, gamma: float,
               radius: int | None = None, eps_codes: float | None = None) -> torch.Tensor | None:
    """:class:`MaskShift` once (a new buffer)."""
    return MaskShift()(linear, weight, start, gamma, radius, eps_codes)
