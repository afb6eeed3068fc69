"""Contact-sheet drawing (hdrvid.io.sheets): what every preview picture a person reads is made of."""

import cv2
import numpy as np

from hdrvid.io.sheets import NIT_BANDS, false_colour, label


def test_a_label_is_white_text_on_an_outline_that_follows_it_to_the_end_of_the_line():
    # the outline drawn as thick black text drifted away from the thin white text along a long line (OpenCV's
    # Hershey glyphs advance further when thicker): by the end of a 50-character label the two were a glyph apart
    text = "hdrunet-auto: MaxCLL 722 FALL 130 med 68 >203: 10.6%"
    img = label(np.full((40, 600, 3), 128, np.uint8), text)
    white = (img.min(2) > 160).astype(np.uint8)
    dark = (img.max(2) < 40).astype(np.uint8)
    assert white.sum() > 200 and dark.sum() > 200
    near_white = cv2.dilate(white, np.ones((5, 5), np.uint8))
    assert (dark & (1 - near_white)).sum() == 0  # every outline pixel touches the text
    right = np.nonzero(white.any(0))[0].max()
    assert abs(int(np.nonzero(dark.any(0))[0].max()) - right) <= 3  # and ends where it ends
    assert (img[30:] == 128).all()  # below the line nothing changed


def test_a_label_on_a_grey_picture_and_on_a_tiny_one():
    g = label(np.zeros((30, 100), np.uint8), "x")
    assert g.max() > 200
    assert label(np.zeros((8, 8, 3), np.uint8), "a long label on a tiny picture").shape == (8, 8, 3)


def test_false_colour_puts_each_band_at_its_lower_bound():
    lows = np.array([[lo for lo, _ in NIT_BANDS]], np.float32)
    out = false_colour(lows)
    for i, (_, colour) in enumerate(NIT_BANDS):
        assert tuple(out[0, i]) == colour
