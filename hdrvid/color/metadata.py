"""HDR10 static metadata: SMPTE ST 2086 mastering display and CTA-861.3 content light level.

MaxCLL is the largest max(R,G,B) of any pixel of any frame, MaxFALL the largest frame average of
max(R,G,B), both in nits, measured on the BT.2020 linear frames as written (CTA-861.3 Annex P).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from hdrvid.color.gamut import P3_D65, Primaries


@dataclass(frozen=True)
class MasteringDisplay:
    """The display the content was graded on (ST 2086). Luminances in nits."""

    primaries: Primaries = P3_D65
    max_nits: float = 1000.0
    min_nits: float = 0.0001

    def chromaticities(self) -> dict[str, tuple[int, int]]:
        """x, y of G, B, R and the white point in ST 2086 units (0.00002), in the order SEI and boxes use."""
        p = self.primaries
        q = lambda xy: (round(xy[0] * 50000), round(xy[1] * 50000))
        return {"G": q(p.green), "B": q(p.blue), "R": q(p.red), "WP": q(p.white)}

    def luminances(self) -> tuple[int, int]:
        """(max, min) luminance in ST 2086 units (0.0001 cd/m^2); min at least 1 (0 would mean unknown)."""
        return round(self.max_nits * 10000), max(1, round(self.min_nits * 10000))

    def x265(self) -> str:
        xy = "".join(f"{k}({x},{y})" for k, (x, y) in self.chromaticities().items())
        hi, lo = self.luminances()
        return f"{xy}L({hi},{lo})"

    def svtav1(self) -> str:
        p = self.primaries
        f = lambda xy: f"({xy[0]:.4f},{xy[1]:.4f})"
        return (
            f"G{f(p.green)}B{f(p.blue)}R{f(p.red)}WP{f(p.white)}"
            f"L({self.max_nits:.4f},{self.min_nits:.4f})"
        )


@dataclass
class LightLevel:
    """Running CTA-861.3 content light level. Feed each written frame's max and mean of max(R,G,B)."""

    max_cll: float = 0.0
    max_fall: float = 0.0

    def update(self, frame_max_nits: float, frame_average_nits: float) -> None:
        self.max_cll = max(self.max_cll, float(frame_max_nits))
        self.max_fall = max(self.max_fall, float(frame_average_nits))

    def values(self) -> tuple[int, int]:
        """Integer (MaxCLL, MaxFALL) as signalled, rounded up (0 would mean "unknown")."""
        cll = min(65535, max(1, math.ceil(self.max_cll)))
        fall = min(cll, max(1, math.ceil(self.max_fall)))
        return cll, fall


# The encoder is opened before any frame is measured, so the stream first carries a placeholder
# content-light-level message that is rewritten in place once the last frame is written.
PLACEHOLDER_CLL = (65521, 65519)


def _cll_patterns(codec: str, cll: tuple[int, int]) -> bytes:
    payload = struct.pack(">HH", *cll)
    if codec in ("hevc", "h264"):
        return b"\x90\x04" + payload  # SEI payload type 144, size 4
    if codec == "av1":
        return b"\x01" + payload  # metadata OBU, METADATA_TYPE_HDR_CLL
    raise ValueError(f"no content-light-level patching for codec {codec}")


def safe_cll(cll: int, fall: int) -> tuple[int, int]:
    """Nudge values so the 4 bytes never need H.26x emulation prevention (0x0000 followed by <= 3).

    The bytes are MaxCLL then MaxFALL, big-endian. Only a MaxCLL that is a multiple of 256 together with
    a MaxFALL below 4 nits can form that pattern; MaxFALL then moves up to 4 nits, still an upper bound.
    """
    cll, fall = max(cll, 1), max(fall, 1)
    if cll % 256 == 0 and fall < 4:
        fall = 4
    return cll, fall


def patch_light_level_bytes(data: bytes, codec: str, cll: tuple[int, int]) -> tuple[bytes, int]:
    """``data`` (one video packet or the stream header) with the placeholder MaxCLL/MaxFALL replaced by ``cll``,
    in the SEI/metadata OBU and in x265's own settings string; and how many were replaced."""
    values = safe_cll(*cll) if codec != "av1" else cll
    pairs = [(_cll_patterns(codec, PLACEHOLDER_CLL), _cll_patterns(codec, values)),
             (b"cll=%d,%d" % PLACEHOLDER_CLL, b"cll=%05d,%05d" % values)]  # same length: the SEI's size is kept
    count = 0
    for old, new in pairs:
        n = data.count(old)
        if n:
            data = data.replace(old, new)
            count += n
    return data, count
