"""How hard the edge around each clipped area is: a plateau or a highlight (issue 12, the edge gate).

A camera that clips a bright sun, a lamp or a specular reflection records a steep rise of the code values up to
white at the edge of the clipped area; a picture whose light barely exceeds white (an overcast sky, a lit wall,
a grade's plateau) reaches white through a gentle slope. On 53 Cycles renders and on the validation views
``hdrunet-auto`` lost its margin over plain linearisation on pictures of the second kind (the truth just above
white, the network expanding it as a highlight); the mean code gradient on a ring around each clipped area tells
the two apart (hdrunet card, session 26; docs/training/hdrunet/renders-check-session26/).

:func:`edge_exponents` gives each clipped area an exponent ``s`` in [EDGE_FLOOR, 1] on its expansion (the output
of a pixel there is ``x * (y / x) ** s``): 1 for a steep edge (EDGE_HI codes per pixel or more), EDGE_FLOOR for a
gentle one (EDGE_LO or less), linear in between. It is measured at EDGE_WIDTH pixels across (the width it was
chosen at), so a 4K frame's soft edge is not mistaken for a plateau because it spans more pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

EDGE_CODE = 246.0
"""An area is clipped where max(R, G, B) reaches this 8-bit code (signal ~0.965: where the expansion mask starts)."""
EDGE_LO, EDGE_HI = 2.0, 10.0
"""Mean code gradient (codes per pixel at EDGE_WIDTH, after a Gaussian blur of sigma 1) on the 2-pixel ring around
an area: at or below EDGE_LO the area's expansion takes the exponent EDGE_FLOOR, at or above EDGE_HI all of it.
Chosen on validation over 2-10, 2-6 and 4-12 with floors 0.3-0.7 (session 26 study; card)."""
EDGE_FLOOR = 0.5
EDGE_WIDTH = 384
"""Frames wider than this are measured on a copy area-resized to this width."""

_KERNEL3 = np.ones((3, 3), np.uint8)
_KERNEL5 = np.ones((5, 5), np.uint8)


def working_size(height: int, width: int) -> tuple[int, int]:
    """(h, w) the edges are measured at for a frame of this size: EDGE_WIDTH across at most."""
    if width <= EDGE_WIDTH:
        return height, width
    return max(1, round(height * EDGE_WIDTH / width)), EDGE_WIDTH


def edge_exponents(code: np.ndarray) -> np.ndarray | None:
    """``code`` (h, w) float32: max(R, G, B) in 8-bit code values (0-255, fractional allowed) at the working size.
    Returns the exponent map (h, w) float32 (1 outside clipped areas), or None when nothing reaches EDGE_CODE.

    Areas are the 8-connected components of the clipped pixels dilated by one pixel (a clipped cloud's speckles
    are one area); an area's ring is the pixels within two of it that belong to no area (where two rings overlap
    the ring pixel counts for the higher label); an area without a ring (the whole frame) keeps exponent 1."""
    code = np.ascontiguousarray(code, np.float32)
    clipped = (code >= EDGE_CODE).astype(np.uint8)
    if not clipped.any():
        return None
    n, labels = cv2.connectedComponents(cv2.dilate(clipped, _KERNEL3))
    blurred = cv2.GaussianBlur(code, (0, 0), 1.0)
    gy, gx = np.gradient(blurred)
    grad = np.hypot(gx, gy)
    near = cv2.dilate(labels.astype(np.float32), _KERNEL5).astype(np.int64)  # exact: labels < 2**24
    ring = (labels == 0) & (near > 0)
    counts = np.bincount(near[ring], minlength=n)
    sums = np.bincount(near[ring], weights=grad[ring], minlength=n)
    edge = sums / np.maximum(counts, 1)
    s = EDGE_FLOOR + (1 - EDGE_FLOOR) * np.clip((edge - EDGE_LO) / (EDGE_HI - EDGE_LO), 0, 1)
    s[counts == 0] = 1.0
    s[0] = 1.0
    return s.astype(np.float32)[labels]
