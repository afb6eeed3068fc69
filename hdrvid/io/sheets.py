"""Contact-sheet drawing shared by every picture hdrvid shows a person (convert --preview, tonemap --preview,
the demo, tools/look.py, tools/alt_sheet.py): labels and false-colour nits with their legend."""

from __future__ import annotations

import numpy as np

from hdrvid.lazy import cv2

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
    """``img`` (BGR or RGB uint8, (H, W, 3) or (H, W)) with ``text`` top left, white on a dark outline (readable
    on any picture), in place where ``img`` is contiguous.

    The outline is the thin text's own mask grown by a pixel: OpenCV's Hershey glyphs advance further when
    drawn thicker, so a thick black copy under a thin white one drifts apart along the line."""
    img = np.ascontiguousarray(img)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    box = img[:min(img.shape[0], 18 + base + 2), :min(img.shape[1], 6 + tw + 2)]
    mask = np.zeros(box.shape[:2], np.uint8)
    cv2.putText(mask, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_AA)
    outline = cv2.dilate(mask, np.ones((3, 3), np.uint8))
    for cover, value in ((outline, 0.0), (mask, 255.0)):
        a = cover.astype(np.float32) / 255
        if box.ndim == 3:
            a = a[..., None]
        box[...] = np.rint(box * (1 - a) + value * a).astype(np.uint8)
    return img
