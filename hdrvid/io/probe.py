"""Opening inputs safely and reading what a stream says about itself (size, rate, colour, HDR data)."""

from __future__ import annotations

import os
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from hdrvid.errors import InputError

# FFmpeg enum values -> names (libavutil/pixfmt.h)
TRC = {1: "bt709", 2: "unknown", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
       13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
PRIMARIES = {1: "bt709", 2: "unknown", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 11: "smpte431", 12: "smpte432"}
MATRIX = {0: "gbr", 1: "bt709", 2: "unknown", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc", 10: "bt2020c"}
RANGE = {0: "unknown", 1: "tv", 2: "pc"}

# transfer tag -> the decoding curve hdrvid applies (see color.transfer.DECODERS; pq/hlg handled apart)
TRANSFER_FROM_TAG = {
    "bt709": "bt709", "smpte170m": "bt709", "smpte240m": "bt709", "bt2020-10": "bt709", "bt2020-12": "bt709",
    "iec61966-2-1": "srgb", "gamma22": "gamma22", "gamma28": "gamma28", "linear": "linear",
    "smpte2084": "pq", "arib-std-b67": "hlg",
}

VIDEO_SUFFIXES = {".mp4", ".mkv", ".mov", ".m4v", ".webm", ".avi", ".ts", ".m2ts", ".mxf", ".h264", ".264",
                  ".h265", ".265", ".hevc", ".y4m", ".nut", ".flv"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".exr", ".hdr"}
HDR_IMAGE_SUFFIXES = {".exr", ".hdr"}


def open_input(path: Path, decode: bool = True) -> Any:
    """``av.open`` with the failures users meet turned into one-line :class:`InputError`.

    ``decode=False`` is for readers that only copy packets: FFmpeg's stream probing then decodes no video frame
    (``skip_frame=all``), which is most of an opening's time (an H.264 MP4: ~1 ms instead of ~14). The streams'
    parameters then come from the headers alone; a video stream's start and duration may differ."""
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; pass a video file (folders are read as image sequences)")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: file is empty (0 bytes); re-export or re-copy it")
    try:
        return av.open(str(path), metadata_errors="ignore", options=None if decode else {"skip_frame": "all"})
    except av.error.InvalidDataError:
        raise InputError(
            f"{path}: truncated or invalid media file (no readable header or index); re-download or re-export it"
        ) from None
    except av.error.FFmpegError as e:
        raise InputError(f"{path}: cannot open ({e.strerror or e}); is it a video file?") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None


def is_attached_picture(stream: Any) -> bool:
    """Cover art: a one-picture "video" stream that is really metadata (MP4 covr, Matroska attachment)."""
    return stream.type == "video" and bool(stream.disposition & av.stream.Disposition.attached_pic)


def is_cover_picture(stream: Any) -> bool:
    """Cover art, flagged or not: an attached picture, or a one-frame still-image track (MJPEG/PNG)."""
    if stream.type != "video":
        return False
    if is_attached_picture(stream):
        return True
    name = stream.codec_context.name if stream.codec_context is not None else ""
    return name in ("mjpeg", "png", "bmp", "gif", "webp") and (stream.frames or 0) <= 1


def video_stream(container: Any, path: Path) -> Any:
    """The stream to convert: a real video stream (never cover art), the one marked default if several,
    else the longest."""
    videos = [s for s in container.streams.video if not is_cover_picture(s)]
    if not videos:
        kinds = ", ".join(f"{s.type} {s.codec_context.name}" + (" (cover picture)" if is_cover_picture(s) else "")
                          for s in container.streams) or "none"
        raise InputError(f"{path}: no video stream (found: {kinds}); hdrvid converts video or still images")

    def length(s: Any) -> float:
        if s.duration and s.time_base:
            return float(s.duration * s.time_base)
        return float(s.frames or 0)

    default = [s for s in videos if s.disposition & av.stream.Disposition.default]
    return max(default or videos, key=length)


def _name(table: dict[int, str], value: Any) -> str:
    try:
        return table.get(int(value), "unknown")
    except (TypeError, ValueError):
        return "unknown"


def stream_rate(stream: Any) -> Fraction:
    """The nominal frame rate: FFmpeg's guess (r_frame_rate: the codec's own rate for raw streams, the
    container's otherwise), else the average. Timestamps, not this rate, place frames in time."""
    guessed = stream.guessed_rate
    if guessed and 0 < guessed <= 240:
        return Fraction(guessed)
    for r in (stream.average_rate, stream.base_rate):
        if r and r > 0:
            return Fraction(r)
    return Fraction(25)


def parse_mastering_display(raw: bytes) -> dict[str, Any] | None:
    """AVMasteringDisplayMetadata -> {'red': (x, y), ..., 'max_nits', 'min_nits'}."""
    if len(raw) < 88:
        return None
    v = struct.unpack("<20i", raw[:80]) + struct.unpack("<2i", raw[80:88])
    q = lambda i: v[i] / v[i + 1] if v[i + 1] else 0.0
    out: dict[str, Any] = {}
    if v[20]:
        out.update(red=(q(0), q(2)), green=(q(4), q(6)), blue=(q(8), q(10)), white=(q(12), q(14)))
    if v[21]:
        out.update(min_nits=q(16), max_nits=q(18))
    return out or None


def parse_content_light(raw: bytes) -> dict[str, int] | None:
    if len(raw) < 8:
        return None
    cll, fall = struct.unpack("<2I", raw[:8])
    return {"max_cll": cll, "max_fall": fall}


STILL_IMAGE_CODECS = frozenset({
    "png", "apng", "tiff", "mjpeg", "jpegls", "webp", "bmp", "gif", "qoi", "jpegxl", "libjxl", "jpeg2000",
    "libopenjpeg", "targa", "sgi", "ppm", "pam", "pgm", "pgmyuv", "pbm", "pcx", "xwd", "dpx", "photocd"})
"""Picture codecs that carry no HDR10 frame metadata; :func:`hdr_side_data` does not look at their frames'
side data (PyAV 18 crashes when a frame whose side data holds metadata, as a PNG's named ICC profile does, is
freed after its side data was read, and refuses side data types it does not know, as TIFF's)."""


def hdr_side_data(frame: Any, codec: str = "") -> tuple[dict[str, Any] | None, dict[str, int] | None]:
    """Mastering display and content light level of a decoded frame (``codec``: its decoder's name)."""
    md = cl = None
    if codec in STILL_IMAGE_CODECS:
        return md, cl
    try:
        side_data = list(frame.side_data)
    except ValueError:  # a side data type this PyAV does not know (not one of the two read here)
        return md, cl
    for sd in side_data:
        kind = getattr(sd.type, "name", str(sd.type))
        if kind == "MASTERING_DISPLAY_METADATA":
            md = parse_mastering_display(bytes(sd))
        elif kind == "CONTENT_LIGHT_LEVEL":
            cl = parse_content_light(bytes(sd))
    return md, cl


def rotation_of(stream: Any, frame: Any | None) -> int:
    rot = getattr(frame, "rotation", 0) if frame is not None else 0
    return int(round(rot or 0)) % 360


def sample_aspect(stream: Any) -> Fraction | None:
    """A video stream's pixel aspect ratio where it is not square (None: square or not said)."""
    for sar in (stream.codec_context.sample_aspect_ratio, stream.sample_aspect_ratio):
        if sar and sar.numerator > 0 and sar.denominator > 0:
            return None if sar == 1 else Fraction(sar.numerator, sar.denominator)
    return None


def describe(path: Path) -> dict[str, Any]:
    """Everything ``hdrvid info`` shows, as plain data."""
    c = open_input(path)
    try:
        streams = []
        for s in c.streams:
            cc = s.codec_context
            d: dict[str, Any] = {"index": s.index, "type": s.type, "codec": cc.name if cc else "?",
                                 "time_base": str(s.time_base), "frames": s.frames or None,
                                 "duration_s": float(s.duration * s.time_base) if s.duration and s.time_base else None}
            if s.type == "video":
                d.update(width=cc.width, height=cc.height, pix_fmt=cc.pix_fmt, rate=str(stream_rate(s)),
                         primaries=_name(PRIMARIES, cc.color_primaries), transfer=_name(TRC, cc.color_trc),
                         matrix=_name(MATRIX, cc.colorspace), range=_name(RANGE, cc.color_range))
                sar = sample_aspect(s)
                if sar:
                    d["sample_aspect"] = f"{sar.numerator}:{sar.denominator}"
            elif s.type == "audio":
                d.update(sample_rate=cc.sample_rate, channels=cc.channels if hasattr(cc, "channels") else None)
            elif s.type == "attachment":
                d.update(codec=str(s.metadata.get("mimetype") or "?"), filename=s.metadata.get("filename"))
            if s.metadata.get("timecode"):  # any stream may carry it (video, a QuickTime tmcd track)
                d["timecode"] = s.metadata["timecode"]
            if s.language:
                d["language"] = s.language
            streams.append(d)
        info: dict[str, Any] = {"path": str(path), "format": c.format.name, "streams": streams,
                                "duration_s": c.duration / 1e6 if c.duration else None}
        if c.streams.video:
            v = c.streams.video[0]
            first = None
            try:
                for first in c.decode(v):
                    break
            except av.error.FFmpegError:
                first = None
            if first is not None:
                md, cl = hdr_side_data(first, v.codec_context.name)
                vs = streams[v.index]
                vs["rotation"] = rotation_of(v, first)
                vs["interlaced"] = bool(first.interlaced_frame)
                vs["bit_depth"] = first.format.components[0].bits
                vs["mastering_display"] = md
                vs["content_light_level"] = cl
            if not v.frames:
                streams[v.index]["frames"] = count_packets(path, v.index)
        if path.suffix.lower() in IMAGE_SUFFIXES - HDR_IMAGE_SUFFIXES:
            from hdrvid.io.icc import embedded_colour

            transfer, primaries = embedded_colour(path) or ("srgb", "bt709")
            info["decoded_as"] = {"primaries": primaries, "transfer": transfer}
        return info
    finally:
        c.close()


def count_packets(path: Path, index: int) -> int:
    """Frame count by demuxing (no decoding) when the container does not say."""
    c = open_input(path)
    try:
        s = c.streams[index]
        return sum(1 for p in c.demux(s) if p.size)
    finally:
        c.close()
