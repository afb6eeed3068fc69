"""The colour space a photo's embedded ICC profile describes (read with Pillow; the pixels are OpenCV's)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np

from hdrvid.color.gamut import BT709, D50_PCS, PRIMARIES, bradford

log = logging.getLogger("hdrvid")

ICC_SPACES = {"bt709": "srgb", "p3-d65": "srgb", "adobe-rgb": "gamma22"}
"""The RGB spaces an embedded ICC profile is recognised as (by its primaries) -> the transfer of that space's
standard profile (sRGB and Display P3: the sRGB curve; Adobe RGB (1998): gamma 2.2, its 2.19921875 within
0.04 %)."""


def embedded_colour(path: Path) -> tuple[str, str] | None:
    """(transfer, primaries) of the ICC profile a photo carries (JPEG, PNG, TIFF, WebP; read with Pillow), for
    the matrix-shaper RGB profiles of :data:`ICC_SPACES`, recognised by their colorants adapted back from the
    D50 connection space (Bradford) to D65 primaries within 0.005 in xy. None without a profile, and for any
    other profile (logged: the picture is then read as sRGB)."""
    try:
        from PIL import Image, ImageCms

        with Image.open(path) as im:
            icc = im.info.get("icc_profile")
        if not icc:
            return None
        prof = ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile
        desc = (prof.profile_description or "").strip() or "unnamed"
        rgb = prof.xcolor_space.strip() == "RGB"
        if not rgb or not prof.is_matrix_shaper:
            if rgb:
                log.warning("%s: ICC profile '%s' is not a matrix profile hdrvid converts; read as sRGB", path, desc)
            return None
        cat = bradford(D50_PCS, BT709.rgb_to_xyz() @ np.ones(3))
        xyz = cat @ np.array([prof.red_colorant[0], prof.green_colorant[0], prof.blue_colorant[0]], np.float64).T
        xy = (xyz[:2] / xyz.sum(0)).T
    except Exception as e:  # Pillow cannot open every file OpenCV reads, nor parse every profile
        log.info("%s: embedded colour profile not read (%s); read as sRGB", path, e)
        return None
    for name, transfer in ICC_SPACES.items():
        p = PRIMARIES[name]
        if np.abs(xy - np.array([p.red, p.green, p.blue])).max() < 0.005:
            return transfer, name
    log.warning("%s: ICC profile '%s' (primaries %s) is not one hdrvid converts (sRGB, Display P3, Adobe RGB); "
                "read as sRGB", path, desc, ", ".join(f"({x:.3f}, {y:.3f})" for x, y in xy))
    return None
