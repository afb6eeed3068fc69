"""Splitting a video into keyframe-aligned segments that convert independently and join exactly.

Planning demuxes packets only (no decoding): every frame's pts and keyframe flag, in presentation order. A
segment starts at the first keyframe at or after k x S seconds; frames are identified by pts, never by
float time. Each segment decodes ``preroll`` frames before its own (so the temporal statistics, a model's
frame-wide state and the alternating merge's neighbours are what a single run would have) and ``postroll``
after (look-ahead windows), and keeps only its own frames (:class:`KeepRange`) for the encoder.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from hdrvid.errors import InputError
from hdrvid.io.probe import open_input, video_stream
from hdrvid.pipeline.frame import Frame


@dataclass(frozen=True)
class FrameIndex:
    """A video stream's frames in presentation order: pts (stream time base) and keyframe flags."""

    pts: tuple[int, ...]
    keyframes: tuple[bool, ...]
    time_base: Fraction
    packets: int = 0
    """Video packets read (with data or a timestamp: an AVI index lists empty ones; the edit list's hidden pre-roll
    included), counted as :class:`~hdrvid.pipeline.decoder.VideoDecoder` counts them for its truncation check."""
    declared: int = 0
    """Frames the container's index lists (0: none listed)."""


@dataclass(frozen=True)
class Segment:
    """One unit of work: own frames [start, end) (indices in the whole file); decoded frames [decode_start,
    decode_end) with their pts range (``pts_to`` None: to the end of the file)."""

    number: int
    start: int
    end: int
    decode_start: int
    decode_end: int
    pts_from: int
    pts_to: int | None

    @property
    def frames(self) -> int:
        return self.end - self.start


def index_frames(path: Path) -> FrameIndex:
    """Demux ``path``'s video packets (no decoding) into a :class:`FrameIndex`."""
    with open_input(path) as c:
        st = video_stream(c, path)
        items = []
        packets = 0
        for p in c.demux(st):
            packets += bool(p.size or p.pts is not None or p.dts is not None)  # as VideoDecoder counts them
            if p.size and p.pts is not None and not p.is_discard:  # (an edit list's pre-roll is never shown)
                items.append((int(p.pts), bool(p.is_keyframe)))
        tb = Fraction(st.time_base) if st.time_base else Fraction(1, 90000)
        declared = int(st.frames or 0)
    if not items:
        raise InputError(f"{path}: its video packets carry no timestamps; it cannot be split into segments "
                         f"(use --segment-seconds 0)")
    items.sort()
    pts = tuple(p for p, _ in items)
    if len(set(pts)) != len(pts):
        raise InputError(f"{path}: repeated timestamps in the video stream; it cannot be split into segments "
                         f"(use --segment-seconds 0)")
    return FrameIndex(pts, tuple(k for _, k in items), tb, packets, declared)


def plan_segments(index: FrameIndex, seconds: float, preroll: int, postroll: int = 0) -> list[Segment]:
    """Segments of about ``seconds`` (0: one segment, the whole file), each starting at a keyframe."""
    n = len(index.pts)
    starts = [0]
    if seconds > 0 and n:
        step = seconds / index.time_base  # in pts units
        k = 1  # segment k starts at the first keyframe at or after k x S (several k may share one keyframe)
        for i in range(1, n):
            t = index.pts[i] - index.pts[0]
            if index.keyframes[i] and t >= k * step:
                starts.append(i)
                k = math.floor(t / step) + 1
    bounds = starts + [n]
    out = []
    for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        da, db = max(0, a - preroll), min(n, b + postroll)
        out.append(Segment(j, a, b, da, db, index.pts[da], index.pts[db] if db < n else None))
    return out


def preroll_frames(period: float, relative_error: float = 1e-3, spread: float = math.log(1000.0)) -> int:
    """Frames of pre-roll after which a first-order IIR filter with time constant ``period`` frames has
    forgotten its start: P >= ln(eps / dmax) / ln(1 - a), a = 1 - exp(-1 / period). ``spread``: the largest
    log-domain distance between a true state and a segment's first frame (three decades); ``relative_error``:
    the remaining error in the log domain (0.1 %, below half a 10-bit PQ code value at any level)."""
    if period <= 0:
        return 0
    a = 1 - math.exp(-1 / period)
    return math.ceil(math.log(relative_error / spread) / math.log(1 - a))


class KeepRange:
    """Stage before the encoder: passes frames with ``start <= index < end`` (a segment's own frames) and
    drops its pre- and post-roll."""

    name = "keep"

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.kept = 0

    def process(self, frame: Frame) -> Iterator[Frame]:
        if self.start <= frame.index < self.end:
            self.kept += 1
            yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass
