"""What travels through the pipeline: a ``Frame`` per picture, one ``VideoInfo`` per stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from hdrvid.color.transfer import pq_inverse_eotf
from hdrvid.lazy import torch

MAX_RELATIVE = 1e4
"""Largest plausible model output (relative to reference white): PQ ends at 10,000 nits, about 49x of 203 nits;
anything far beyond is a broken model, not a highlight."""


def implausible(peak: float) -> str | None:
    """What is wrong with a model output whose largest magnitude is ``peak`` (None: nothing)."""
    import math

    if not math.isfinite(peak):
        return "NaN or infinite values"
    return f"values up to {peak:.3g}x reference white" if peak > MAX_RELATIVE else None


def plane_views_420(frame: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The Y', Cb and Cr planes of a decoded 4:2:0 PyAV frame (8-bit, or 16-bit words for 10/12-bit) as 2-D
    numpy views of the decoder's own buffers (rows padded to its line sizes; nothing copied), or None where a
    plane's buffer is smaller than its size says. Read-only; valid while ``frame`` lives."""
    item = 1 if frame.format.name in ("yuv420p", "yuvj420p") else 2
    h, w = frame.height, frame.width
    ch, cw = (h + 1) // 2, (w + 1) // 2
    views = []
    for plane, rows, cols in zip(frame.planes, (h, ch, ch), (w, cw, cw)):
        a = np.frombuffer(plane, np.uint8 if item == 1 else np.uint16)
        if plane.line_size % item or a.size < plane.line_size // item * (rows - 1) + cols:
            return None
        views.append(np.lib.stride_tricks.as_strided(a, (rows, cols), (plane.line_size, item), writeable=False))
    return views[0], views[1], views[2]


@dataclass
class VideoInfo:
    """Stream-level facts the stages need. Colour tags are FFmpeg names ("bt709", "smpte2084", ...)."""

    path: Path
    width: int
    height: int
    rate: Fraction
    time_base: Fraction
    frames: int  # declared by the container, 0 if unknown
    codec: str = ""
    pix_fmt: str = ""
    bit_depth: int = 8
    primaries: str = "bt709"
    transfer: str = "bt709"  # the SDR/HDR curve actually used to decode (tag, default or override)
    transfer_tag: str = "unknown"  # what the stream said
    matrix: str = "bt709"
    full_range: bool = False
    rotation: int = 0  # counter-clockwise degrees from the display matrix
    interlaced: bool = False
    is_image: bool = False
    mastering_display: dict[str, Any] | None = None
    content_light: dict[str, int] | None = None
    stream_index: int = 0
    scene_linear: bool = False  # float images (EXR, Radiance HDR): already linear HDR light
    sample_aspect: Fraction | None = None  # a pixel's width over its height where not square (anamorphic SD, HDV)
    start: float = 0.0  # seconds of the file's first timestamp (what --start counts from; the output starts at 0)

    @property
    def is_hdr(self) -> bool:
        return self.transfer in ("pq", "hlg") or self.scene_linear


@dataclass
class FlickerSample:
    """Small luminance images of one frame's input and output, kept for the flicker meter: the input in nits,
    the output as shown (display-relative, 1 = white) on a display whose white is ``white`` nits."""

    nits_in: np.ndarray
    display_out: np.ndarray
    white: float

    def signals(self) -> tuple[np.ndarray, np.ndarray]:
        """Both as PQ signals of absolute light, so their changes compare (only the optical-flow warping error
        uses them: made on demand, ~1 ms each a 1080p frame)."""
        return (np.asarray(pq_inverse_eotf(self.nits_in), np.float32),
                np.asarray(pq_inverse_eotf(self.display_out * self.white), np.float32))


@dataclass
class FrameStats:
    """Per-frame measurements a stage hands on to later ones. None (or False) until a stage sets them."""

    hist: np.ndarray | None = None
    """Decoder: 64-bin histogram of the mean code value, sums to 1 (scene cuts)."""
    log_average: float | None = None
    """Smoother: this frame's log-average luminance (relative units)."""
    peak: float | None = None
    """Smoother: this frame's 99.9th percentile of max(R,G,B) (relative units)."""
    scene_cut: bool = False
    log_average_smooth: float | None = None
    peak_smooth: float | None = None
    """Smoother: the statistics after the temporal filter (or per scene in two-pass mode)."""
    out_of_gamut: float | None = None
    """Output transform (SDR): share of pixels outside BT.709 before gamut mapping."""
    max_nits: float | None = None
    average_nits: float | None = None
    """Output transform (HDR): max and mean of max(R,G,B) in nits, for MaxCLL / MaxFALL (CTA-861.3)."""
    flicker: FlickerSample | None = None
    """Output transform (when measuring flicker): what the flicker stage consumes."""


@dataclass
class Frame:
    """One picture. ``data`` is (3, H, W) float32 linear light in BT.709 primaries, relative units
    (1.0 = SDR reference white) until the output transform replaces it by ``planes`` (code values); an empty
    placeholder when the decoder runs ``raw`` and hands ``codes`` instead."""

    index: int
    pts: int | None
    time_base: Fraction | None
    data: torch.Tensor
    exposure: float | None = None
    name: str = ""  # file stem for still images
    stats: FrameStats = field(default_factory=FrameStats)
    planes: list[Any] | None = None
    codes: np.ndarray | None = None
    """The decoded R'G'B' codes (H, W, 3; uint8, or uint16 for > 8 bits) when the decoder runs ``raw`` (the
    fused plain transcode: ``data`` is None then)."""


@dataclass
class Batch:
    """Frames stacked for inference; the last batch is padded to full size and ``valid`` says how much."""

    frames: list[Frame]
    tensor: torch.Tensor
    valid: int


class EndOfStream:
    """Sentinel put on a queue after the last item."""

    def __repr__(self) -> str:
        return "EOS"


EOS = EndOfStream()
