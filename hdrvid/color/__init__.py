"""Colour science: transfer functions, gamuts, Y'CbCr, tone mapping and HDR metadata (numpy or torch)."""

from hdrvid.color.gamut import (
    BT709,
    BT2020,
    P3_D65,
    Primaries,
    convert_primaries,
    luminance,
)
from hdrvid.color.metadata import LightLevel, MasteringDisplay
from hdrvid.color.tonemap import eetf_bt2390, reinhard_global
from hdrvid.color.transfer import (
    DECODERS,
    ENCODERS,
    bt709_inverse_oetf,
    bt709_oetf,
    bt1886_eotf,
    hlg_inverse_oetf,
    hlg_inverse_ootf,
    hlg_oetf,
    hlg_ootf,
    pq_eotf,
    pq_inverse_eotf,
    srgb_eotf,
    srgb_inverse_eotf,
)

REFERENCE_WHITE_NITS = 203.0
"""Luminance of SDR reference (diffuse) white in an HDR signal, ITU-R BT.2408. Relative 1.0 maps here."""

__all__ = [
    "BT709",
    "BT2020",
    "DECODERS",
    "ENCODERS",
    "P3_D65",
    "REFERENCE_WHITE_NITS",
    "LightLevel",
    "MasteringDisplay",
    "Primaries",
    "bt709_inverse_oetf",
    "bt709_oetf",
    "bt1886_eotf",
    "convert_primaries",
    "eetf_bt2390",
    "hlg_inverse_oetf",
    "hlg_inverse_ootf",
    "hlg_oetf",
    "hlg_ootf",
    "luminance",
    "pq_eotf",
    "pq_inverse_eotf",
    "reinhard_global",
    "srgb_eotf",
    "srgb_inverse_eotf",
]
