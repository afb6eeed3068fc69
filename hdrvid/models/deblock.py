"""The expansion mask read through codec blocks (issue 12).

On camera footage ``hdrunet-auto``'s expansion mask rises over two code values (signal 0.99-0.998, codes
~252.5-254.5). A near-white sky or wall in H.264 or JPEG is a mosaic of 8x8-16x16 blocks whose flat levels
differ by a code or two, so block by block the mask is 0 or nearly 1: the codec's blocks, invisible in the SDR
input, became 300-vs-450-nit squares in the HDR output (Big Buck Bunny's sky, session 27).

:func:`mask_shift` reads the mask on a self-guided filter (He, Sun and Tang, "Guided Image Filtering", ECCV
2010) of max(R, G, B) in signal: where a window's values vary by less than ``DEBLOCK_EPS_CODES`` (a flat area's
block steps) the filter averages them, where they vary by more (the edge of a lamp, a window frame) it keeps
them. The expansion still multiplies the decoded light; only where it acts moves. Applied on frames called
camera footage, pulled to nothing on frames called graded (whose mask is three times as wide), as the edge gate
(:mod:`hdrvid.models.clip_edges`). Chosen on validation (hdrunet card, session 28).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

DEBLOCK_RADIUS = 8
"""Box radius of the filter, pixels (a 17x17 window: spans an 8x8 or 16x16 codec block's edge). In pixels of the
frame, not of a working size: codec blocks have a fixed size in pixels at any resolution."""
DEBLOCK_EPS_CODES = 3.0
"""The filter's regulariser as a standard deviation in 8-bit codes: windows varying by much less are averaged."""


def guided_self(plane: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Self-guided filter of a float32 (h, w) plane (box means by OpenCV, reflected borders; temporaries reused)."""
    k = (2 * radius + 1, 2 * radius + 1)
    mean = cv2.boxFilter(plane, -1, k)
    a = cv2.boxFilter(np.multiply(plane, plane), -1, k)
    a -= mean * mean
    np.maximum(a, 0, out=a)  # the window's variance
    a /= a + np.float32(eps)
    mean -= a * mean  # b = mean (1 - a)
    out = cv2.boxFilter(a, -1, k)
    out *= plane
    out += cv2.boxFilter(mean, -1, k)
    return out


def _peak(frame: torch.Tensor) -> np.ndarray:
    """max(R, G, B) of one (C, H, W) frame as float32 numpy (on the CPU: NumPy's elementwise maximum, ~10x
    torch's ``amax`` over the channel dimension)."""
    if frame.device.type == "cpu" and frame.dtype == torch.float32:
        planes = frame.numpy()
        out = np.maximum(planes[0], planes[1])
        for p in planes[2:]:
            np.maximum(out, p, out=out)
        return out
    return frame.amax(0).float().cpu().numpy()


def mask_shift(linear: torch.Tensor, weight: torch.Tensor, start: float, gamma: float,
               radius: int | None = None, eps_codes: float | None = None) -> torch.Tensor | None:
    """(N, 1, H, W) float32: what to add to each channel's signal (``linear ** (1 / gamma)``) before the expansion
    mask reads it, ``(guided(m) - m) (1 - weight)`` with ``m`` the max(R, G, B) signal; 0 at pixels whose
    max(R, G, B) is at or below ``start`` (linear light; they leave as decoded on every path). ``weight`` (N,)
    is each frame's shoulder weight on the CPU (1 = graded: no shift). None when no frame needs one. The filter
    runs on the rows and columns around the pixels above ``start`` only (``radius``, ``eps_codes``: default
    DEBLOCK_RADIUS, DEBLOCK_EPS_CODES)."""
    n, _, h, w = linear.shape
    radius = DEBLOCK_RADIUS if radius is None else radius
    eps = ((DEBLOCK_EPS_CODES if eps_codes is None else eps_codes) / 255.0) ** 2
    out = None
    for i in range(n):
        keep = 1.0 - float(weight[i])
        if keep <= 0:
            continue
        peak = _peak(linear[i].detach())
        above = peak > start
        rows = np.flatnonzero(above.any(1))
        if not len(rows):
            continue
        cols = np.flatnonzero(above[rows[0]:rows[-1] + 1].any(0))
        pad = 2 * radius + 1  # the filter's reach (two box passes)
        r0, r1 = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, h)
        c0, c1 = max(cols[0] - pad, 0), min(cols[-1] + pad + 1, w)
        m = np.clip(peak[r0:r1, c0:c1], 1e-8, 1)
        m = cv2.pow(m, 1 / gamma)
        shift = guided_self(m, radius, eps)
        shift -= m
        if keep < 1:
            shift *= np.float32(keep)
        shift[~above[r0:r1, c0:c1]] = 0
        if out is None:
            out = torch.zeros(n, 1, h, w)
        out[i, 0, r0:r1, c0:c1] = torch.from_numpy(shift)
    return out
