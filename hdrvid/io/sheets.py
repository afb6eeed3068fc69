"""Contact-sheet drawing shared by every picture hdrvid shows a person (convert --preview, tonemap --preview,
the demo, tools/look.py, tools/alt_sheet.py): labels and false-colour nits with their legend."""

from __future__ import annotations

import cv2
import numpy as np

NIT_BANDS = ((0, (40, 40, 40)), (1, (90, 30, 30)), (10, (160, 60, 20)), (50, (30, 110, 40)), (100, (40, 170, 60)),
             (203, (30, 200, 200)), (400, (20, 220, 255)), (1000, (0, 140, 255)), (4000, (30, 30, 255)))
"""False-colour bands: lower bound in nits -> BGR colour (dark grey below 1 nit ... red above 4000)."""


def false_colour(nits: np.ndarray) -> np.ndarray:
    """(H, W) nits -> (H, W, 3) BGR uint8 by :data:`NIT_BANDS`."""
    out = np.zeros((*nits.shape, 3), np.uint8)
    for lo, col in NIT_BANDS:
        out[nits >= lo] = col
    return out


def legend(width: int) -> np.ndarray:
    """A (22, width, 3) BGR bar of the bands with their lower bounds in nits."""
    bar = np.full((22, width, 3), 255, np.uint8)
    step = width // len(NIT_BANDS)
    for i, (lo, col) in enumerate(NIT_BANDS):
        bar[:, i * step:(i + 1) * step] = col
        cv2.putText(bar, f"{lo}", (i * step + 3, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    return bar


def label(img: np.ndarray, text: str) -> np.ndarray:
    """``img`` (BGR or RGB uint8) with ``text`` top left, white on a dark outline (readable on any picture)."""
    img = np.ascontiguousarray(img)
    for colour, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, thick, cv2.LINE_AA)
    return img
