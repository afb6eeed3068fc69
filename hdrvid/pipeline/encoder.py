"""Encoder stages (the sink): PyAV encode + mux with stream copy, or EXR/HDR image files.

Video: the new video stream keeps the input's time base and every frame's pts (VFR survives); audio
and subtitle streams are copied packet for packet from a second demuxer of the input, interleaved by
time with the encoded video; the display matrix (rotation) is carried over.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

import av
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc, Interpolation

from hdrvid.color import kernels, packed
from hdrvid.color.hdr10plus import FrameLight, hevc_sei_nal, insert_sei
from hdrvid.color.metadata import PLACEHOLDER_CLL, LightLevel, MasteringDisplay, patch_light_level_bytes
from hdrvid.color.transfer import pq_eotf
from hdrvid.color.ycbcr import dequantize_chroma, dequantize_luma, rgb_to_ycbcr_matrix
from hdrvid.errors import OptionError, OutputError, check_choice, check_range
from hdrvid.io.images import write_exr, write_hdr
from hdrvid.io.mp4boxes import add_hdr_boxes
from hdrvid.io.probe import is_cover_picture, open_input
from hdrvid.lazy import cv2
from hdrvid.machine import usable_cores
from hdrvid.pipeline.frame import Frame, VideoInfo, plane_views_420
from hdrvid.pipeline.output import OutputSpec

log = logging.getLogger("hdrvid")

X26X_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
                "placebo")
Codec = Literal["libx265", "libsvtav1", "libx264", "prores", "prores4444", "ffv1"]
CODECS: tuple[str, ...] = get_args(Codec)
MEZZANINE = {
    # name: (FFmpeg encoder, pixel format, encoder options, containers that take it)
    "prores": ("prores_ks", "yuv422p10le", {"profile": "3", "vendor": "apl0"}, ("mov",)),  # ProRes 422 HQ
    "prores4444": ("prores_ks", "yuv444p10le", {"profile": "4", "vendor": "apl0"}, ("mov",)),  # ProRes 4444
    "ffv1": ("ffv1", "yuv420p10le", {"level": "3", "slices": "4", "slicecrc": "1", "g": "1"}, ("matroska",)),
}
"""Editing and archive codecs: no --crf/--preset (ProRes is constant-quality by profile, FFV1 is lossless).
The pipeline's 4:2:0 planes are upsampled to 4:2:2/4:4:4 for ProRes (SDR sources are 4:2:0 anyway); HDR10
static metadata has no place in these bitstreams: ProRes .mov files get mdcv + clli boxes, and the report has it."""
DEFAULT_CODEC = {"hdr10": "libx265", "hlg": "libx265", "sdr": "libx264"}
MIN_SIZE = {"libx265": 16, "libsvtav1": 16, "libx264": 2}
"""Smallest picture side each encoder accepts (measured: x265 refuses 8x8)."""
X265_10BIT_BAD_WIDTHS = range(34, 49)
"""Picture widths at which x265 corrupts its heap on 10-bit input and the process aborts ("double free or
corruption"): measured with PyAV's x265 4.2 and Debian's 3.5, every preset, heights 16-200; 32 and 50 work."""
DEFAULT_CRF = {"libx265": 18, "libx264": 18, "libsvtav1": 30}
DEFAULT_PRESET = {"libx265": "fast", "libx264": "medium", "libsvtav1": "8"}
STILL_CRF, STILL_PRESET = 16, "6"
"""An AVIF still's defaults: one frame is cheap to encode well (crf 16 measured 52 dB PSNR-Y against lossless on
a 768x432 photo, at 70 % of the source JPEG's size; the video default crf 30 gave 46 dB)."""
TAGS = {
    "hdr10": (ColorPrimaries.BT2020, ColorTrc.SMPTE2084, Colorspace.BT2020),
    "hlg": (ColorPrimaries.BT2020, ColorTrc.ARIB_STD_B67, Colorspace.BT2020),
    "sdr": (ColorPrimaries.BT709, ColorTrc.BT709, Colorspace.ITU709),
}


@dataclass(frozen=True)
class EncodeOptions:
    codec: Codec | None = None
    """None: libx265 for HDR10/HLG, libx264 for SDR."""
    crf: int | None = None
    preset: str | None = None
    copy_streams: bool = True
    """Copy audio and subtitle streams from the input (packet for packet)."""
    hdr10plus: bool = False
    """HDR10 in HEVC: add per-frame SMPTE ST 2094-40 (HDR10+) dynamic metadata measured on the written frames."""

    def __post_init__(self) -> None:
        if self.codec is not None:
            check_choice(self.codec, CODECS, "--codec")
        if self.hdr10plus and self.codec not in (None, "libx265"):
            raise OptionError(f"--hdr10plus is written into HEVC (libx265) streams; drop --codec {self.codec} or "
                              f"--hdr10plus")
        if self.codec in MEZZANINE and (self.crf is not None or self.preset is not None):
            raise OptionError(f"--crf/--preset do not apply to --codec {self.codec} (constant quality by profile or "
                              f"lossless); drop them")
        if self.crf is not None:
            check_range(self.crf, "--crf", 0, 63 if self.codec == "libsvtav1" else 51)
        if self.preset is not None:
            svt = self.preset.lstrip("-").isdigit() and -1 <= int(self.preset) <= 13
            if self.codec == "libsvtav1" and not svt:
                raise OptionError(f"--preset for libsvtav1 is a number from -1 (slowest) to 13, not {self.preset!r}")
            if self.codec != "libsvtav1":
                allowed = X26X_PRESETS + (() if self.codec else tuple(str(i) for i in range(-1, 14)))
                check_choice(self.preset, allowed, "--preset")


def codec_for(container: str | None, fmt: str, codec: str | None, dest: Path) -> str:
    """The encoder for this container and format: the one asked for, or the default; WebM takes AV1 only."""
    if codec in MEZZANINE:
        allowed = MEZZANINE[codec][3]
        if container not in allowed:
            exts = " or ".join({"mov": ".mov", "matroska": ".mkv"}[c] for c in allowed)
            raise OutputError(f"{dest}: --codec {codec} is written to {exts} files; change the output's extension")
        return codec
    if container == "avif":
        if codec not in (None, "libsvtav1"):
            raise OutputError(f"{dest}: an AVIF still is AV1; drop --codec {codec} (or use --codec libsvtav1)")
        return "libsvtav1"
    if container == "webm":
        chosen = codec or "libsvtav1"
        if chosen != "libsvtav1":
            raise OutputError(f"{dest}: WebM holds VP8, VP9 or AV1 video only; use --codec libsvtav1, or a .mkv/.mp4 "
                              f"output for {chosen}")
        return chosen
    return codec or DEFAULT_CODEC[fmt]


def copy_stream_properties(src: Any, dst: Any) -> None:
    """Language, title and other tags, and the default/forced/attached-picture flags of a stream."""
    dst.metadata.update({k: v for k, v in src.metadata.items() if k.lower() not in ("encoder", "duration")})
    try:
        dst.disposition = src.disposition
    except (AttributeError, ValueError, TypeError):
        pass


def copy_container_properties(src: Any, dst: Any) -> None:
    """The global tags (title, ...) and chapters."""
    dst.metadata.update({k: v for k, v in src.metadata.items() if k.lower() not in ("encoder", "major_brand",
                                                                                    "minor_version",
                                                                                    "compatible_brands")})
    chapters = src.chapters()
    if chapters:
        dst.set_chapters(chapters)


def attachment_name(st: Any) -> str:
    return str(st.name or st.metadata.get("filename") or f"attachment{st.index}")


def copy_attachment(st: Any, out: Any) -> None:
    """A Matroska attachment (the fonts of ASS subtitles, a cover image) into another Matroska file, as is."""
    mimetype = st.mimetype or st.metadata.get("mimetype") or "application/octet-stream"
    out.add_attachment(attachment_name(st), str(mimetype), bytes(st.data))


def chapters_from(chapters: list[dict[str, Any]], start: float) -> list[dict[str, Any]]:
    """Chapters of a part that starts ``start`` seconds into its source: moved back by ``start``, the one
    running at the cut starting at 0, those over before it dropped."""
    out = []
    for ch in chapters:
        tb = Fraction(ch["time_base"])
        shift = round(Fraction(start) / tb)
        if ch["end"] - shift <= 0:
            continue
        out.append({**ch, "start": max(0, ch["start"] - shift), "end": ch["end"] - shift})
    return out


def source_timecode(c: Any, video: Any) -> str | None:
    """The input's start timecode (HH:MM:SS:FF, ';' before the frames when drop-frame): the video stream's tag,
    a timecode track's (QuickTime tmcd), or the container's."""
    for tags in (video.metadata, *(st.metadata for st in c.streams if st.type == "data"), c.metadata):
        tc = tags.get("timecode")
        if tc and re.fullmatch(r"\d{1,2}:\d{2}:\d{2}[:;.,]\d{2,3}", tc):
            return str(tc)
    return None


def advance_timecode(tc: str, frames: int, rate: float) -> str:
    """``tc`` moved on by ``frames`` frames at ``rate`` (SMPTE 12M drop-frame counting at 29.97 and 59.94 when
    ``tc`` is drop-frame: frame numbers 0 and 1 (0-3 at 59.94) skipped every minute but every tenth)."""
    h, m, sec, f = (int(x) for x in re.split(r"[:;.,]", tc))
    fps = max(1, round(rate))
    drop = tc[-3] in ";.," and fps in (30, 60)
    d = fps // 15 if drop else 0  # frame numbers dropped per minute
    minutes = 60 * h + m
    n = (60 * minutes + sec) * fps + f - d * (minutes - minutes // 10) + frames
    if drop:  # back from a frame count to a label: add the dropped numbers again
        per10, per1 = 600 * fps - 9 * d, 60 * fps - d
        tens, rest = divmod(n, per10)
        n += 9 * d * tens + (d * ((rest - d) // per1) if rest > d else 0)
    f, n = n % fps, n // fps
    return f"{n // 3600 % 24:02d}:{n // 60 % 60:02d}:{n % 60:02d}{';' if drop else ':'}{f:02d}"


def x265_frame_threads(cpus: int | None = None) -> int | None:
    """x265's frame threads for this machine: 2 where 2-3 cores are usable (x265's own choice there is 1, which
    leaves a core idle while wavefront rows wait on each other), else None (x265 decides: 2-6 from 4 cores up).
    With constant-quality rate control the pictures are the same or within rounding (measured on 48 frames of
    1080p: 24 bytes of 250 KB apart, 56.661 vs 56.659 dB against the source) and the encode is ~10-15 %
    faster (BENCHMARKS.md, session 18)."""
    if cpus is None:
        cpus = usable_cores()
    return 2 if cpus in (2, 3) else None


def codec_params(spec: OutputSpec, codec: str, light: tuple[int, int] | None = None) -> dict[str, str]:
    """Encoder-private options that put the colour description (and HDR10 metadata) in the bitstream. ``light``:
    the content light level to write (MaxCLL, MaxFALL); by default a placeholder that the measured values
    replace once the file is encoded (``remux_with_light_level``)."""
    md = MasteringDisplay(max_nits=spec.peak_nits)
    cll = light or PLACEHOLDER_CLL
    if codec == "libx265":
        common = "log-level=error:repeat-headers=1:colormatrix=" + ("bt709" if spec.format == "sdr" else "bt2020nc")
        threads = x265_frame_threads()
        if threads:
            common += f":frame-threads={threads}"
        if spec.format == "hdr10":
            return {"x265-params": f"{common}:hdr10=1:hdr10-opt=1:colorprim=bt2020:transfer=smpte2084"
                                   f":range=limited:master-display={md.x265()}:max-cll={cll[0]},{cll[1]}"}
        if spec.format == "hlg":
            return {"x265-params": f"{common}:colorprim=bt2020:transfer=arib-std-b67:range=limited"}
        return {"x265-params": f"{common}:colorprim=bt709:transfer=bt709:range=limited"}
    if codec == "libsvtav1":
        if spec.format == "hdr10":
            return {"svtav1-params": f"enable-hdr=1:mastering-display={md.svtav1()}"
                                     f":content-light={cll[0]},{cll[1]}"}
        return {}
    if codec == "libx264":
        if spec.format != "sdr":
            raise OutputError(f"{codec} cannot carry {spec.format}; use --codec libx265 or libsvtav1")
        return {}
    if codec in MEZZANINE:
        return dict(MEZZANINE[codec][2])
    raise OutputError(f"unsupported --codec {codec}; use libx265, libsvtav1 (HDR) or libx264 (SDR)")


EDIT_LIST_FORMATS = ("mp4", "mov", "ipod", "3gp", "ismv")
"""Output formats whose edit lists hide copied packets that come before the programme's start, as the input's did."""


MUXER_ALSO_TAKES = {"mpegts": {"aac", "aac_latm", "mp3", "ac3", "eac3", "dts", "truehd", "opus", "s302m",
                               "dvb_subtitle", "dvb_teletext", "hdmv_pgs_subtitle"}}
"""Codecs a muxer takes that libavformat's codec query does not list (the MPEG-TS muxer has no tag table, so
the query names 8 codecs, AAC not among them, and every .ts output with AAC sound was refused)."""


TEXT_SUBTITLES = ("mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text")
TEXT_SUBTITLE_FOR = {"matroska": "subrip", "webm": "webvtt", "mp4": "mov_text", "mov": "mov_text",
                     "ipod": "mov_text", "3gp": "mov_text"}
"""Container -> the text subtitle codec a text subtitle stream it cannot hold is re-encoded to (MP4's mov_text
into Matroska as SubRip, SubRip/ASS/WebVTT into MP4 as mov_text), as FFmpeg does when it transcodes."""


class SubtitleText:
    """A text subtitle stream re-encoded for a container that cannot hold its codec: each cue decoded (its text
    and styling, as ASS) and encoded again by libavcodec, with the cue's own timestamps and duration."""

    def __init__(self, src: Any, out: Any, codec: str) -> None:
        self.decoder = src.codec_context
        self.decoder.open()
        self.stream = out.add_stream(codec)
        cc = self.stream.codec_context
        cc.subtitle_header = self.decoder.subtitle_header  # the ASS header the encoders take their styles from
        cc.time_base = src.time_base
        self.stream.time_base = src.time_base

    def packet(self, p: Any) -> Any:
        """The cue of the input packet ``p`` as an output packet (None for an empty cue)."""
        cues = self.decoder.decode2(p)
        if cues is None or not len(cues):
            return None
        q = self.stream.codec_context.encode_subtitle(cues)
        q.pts, q.dts, q.duration, q.time_base = p.pts, p.dts, p.duration, p.time_base
        q.stream = self.stream
        return q


def _without_preroll(packets: Iterator[Any]) -> Iterator[Any]:
    """Copied packets for a container without edit lists (Matroska): of the packets the input's edit list marks
    for discarding before a stream's first shown packet, only the last is kept (the decoder's priming: AAC's
    encoder delay is one packet); the rest (the pre-roll of a cut made by stream copy, a second or more of
    sound from before the cut) would play before the picture, since Matroska starts every stream at 0."""
    held: dict[int, Any] = {}
    started: set[int] = set()
    for p in packets:
        i = p.stream.index
        if p.is_discard:
            if i not in started:
                held[i] = p
            continue
        if i not in started:
            started.add(i)
            if i in held:
                yield held.pop(i)
        yield p


def describe_streams(out: Any) -> str:
    """"video libx265, audio opus": what an output holds, for an error message."""
    return ", ".join(f"{st.type} {st.codec_context.name if st.codec_context else st.type}" for st in out.streams)


def refused(dest: Path, what: str, fmt: str, e: Exception) -> OutputError:
    """The one-line error for a muxer that refused the streams, with the way out."""
    hint = "use a .mkv output, or " if fmt != "matroska" else ""
    return OutputError(f"{dest}: {what}: {getattr(e, 'strerror', None) or e}; {hint}pass --no-copy to leave "
                       f"audio and subtitles out")


class VideoEncoder:
    name = "encode"

    def __init__(self, path: Path, container_format: str | None, spec: OutputSpec, info: VideoInfo,
                 options: EncodeOptions = EncodeOptions(), dest: Path | None = None, trimmed: bool = False) -> None:
        """Write to ``path`` (a temporary file); messages name ``dest``, the file the user asked for.
        ``trimmed``: the source is a part of the input (--start/--duration/--frames): the output starts at its
        first frame, and copied audio/subtitle packets outside the part are left out."""
        self.dest = dest or path
        self.trimmed = trimmed
        self._video_end: float | None = None
        self.spec = spec
        self.info = info
        self.codec = codec_for(container_format, spec.format, options.codec, self.dest)
        self.hdr10plus = options.hdr10plus
        if self.hdr10plus and (spec.format != "hdr10" or self.codec != "libx265"):
            raise OptionError(f"--hdr10plus needs --format hdr10 in HEVC (libx265), not {spec.format} in {self.codec}")
        self.frames = 0
        self.packets_copied = 0
        self.light = LightLevel()
        self.given_light = spec.content_light if spec.format == "hdr10" and not self.hdr10plus else None
        """``--max-cll``: written in the bitstream as given; nothing is measured and no placeholder is patched
        (with HDR10+ the frames are measured for the dynamic metadata anyway, and the placeholder takes them)."""
        self.meter: DecodedLightMeter | None = None
        """Measures the decoded light level while encoding (HDR10 through x265/x264 without HDR10+)."""
        self.input: Any = None
        self.copies: dict[int, Any] = {}
        self.retext: dict[int, SubtitleText] = {}
        """Input stream index -> its text subtitles re-encoded for this container (the rest are copied as is)."""
        self._pending: Any = None
        self._offset = 0.0
        self._timecode: str | None = None
        self._header_written = False
        self._copy_dts: dict[int, int] = {}
        self.copies_dropped = 0
        """Packets of copied streams that could not be written (timestamps going backwards, damaged)."""
        self._copy_iter: Iterator[Any] | None = None
        self._video_dts: int | None = None
        try:
            self.out = av.open(str(path), "w", format=container_format)
            self.out_format: str = self.out.format.name
        except (av.error.FFmpegError, ValueError) as e:
            raise OutputError(f"{self.dest}: cannot create the output container ({e})") from None
        try:
            self.width = info.width + info.width % 2
            self.height = info.height + info.height % 2
            smallest = MIN_SIZE.get(self.codec, 2)
            if min(self.width, self.height) < smallest:
                fix = ("write an EXR still instead (an .exr name)" if self.out_format == "avif"
                       else "write EXR frames instead (a folder output)")
                raise OutputError(f"{self.dest}: {info.width}x{info.height} is too small for {self.codec} (at least "
                                  f"{smallest}x{smallest}); {fix}")
            if self.codec == "libx265" and spec.bits == 10 and self.width in X265_10BIT_BAD_WIDTHS:
                raise OutputError(f"{self.dest}: x265 crashes on 10-bit pictures 34-48 pixels wide (this one is "
                                  f"{info.width}); use --codec libsvtav1 or ffv1, or write EXR frames")
            self.planes_format = "yuv420p" if spec.bits == 8 else "yuv420p10le"
            s = self._video_stream(options)
            if self.codec == "libx265" and self.out.format.name in ("mp4", "mov"):
                s.codec_tag = "hvc1"
            if info.rotation:
                s.set_display_rotation(info.rotation)
            self.stream = s
            if spec.format == "hdr10" and not self.hdr10plus and self.given_light is None and self.codec in DECODER_OF:
                self.meter = DecodedLightMeter(DECODER_OF[self.codec], info.width, info.height)
            if not info.is_image:
                # One opening of the input serves the container's properties and the copied streams; it only
                # copies packets, so its probing decodes no video (the decoder's container gave the start)
                self.input = open_input(info.path, decode=False)
                self._offset = info.start
                self._copy_video_properties(self.input)
                if options.copy_streams:
                    self._add_copy_streams()
                if not self.copies:
                    self.input.close()
                    self.input = None
        except BaseException:
            self.close()
            raise

    def _video_stream(self, options: EncodeOptions) -> Any:
        """The output's video stream: an encoder with the format's colour description and HDR metadata."""
        info, spec = self.info, self.spec
        mezz = MEZZANINE.get(self.codec)
        if self.codec == "libsvtav1":  # SVT-AV1 prints its banner and configuration to stderr: errors only
            os.environ.setdefault("SVT_LOG", "1")
        s = self.out.add_stream(mezz[0] if mezz else self.codec, rate=info.rate if info.rate else 25)
        s.width, s.height = self.width, self.height
        s.pix_fmt = mezz[1] if mezz else self.planes_format
        s.time_base = info.time_base
        s.codec_context.time_base = info.time_base  # else the encoder rounds VFR pts to 1/rate
        if mezz:
            s.options = codec_params(spec, self.codec, self.given_light)
        else:
            still = self.out.format.name == "avif"
            crf = options.crf if options.crf is not None else STILL_CRF if still else DEFAULT_CRF.get(self.codec, 20)
            preset = options.preset or (STILL_PRESET if still else DEFAULT_PRESET.get(self.codec, "medium"))
            s.options = {"crf": str(crf), "preset": str(preset), **codec_params(spec, self.codec, self.given_light)}
        prim, trc, cs = TAGS[spec.format]
        cc = s.codec_context
        if info.sample_aspect:  # anamorphic pixels stay anamorphic (the bitstream's VUI and MP4's pasp box)
            cc.sample_aspect_ratio = info.sample_aspect
            if self.codec == "libsvtav1":
                log.warning("%s: pixels of aspect %s are written as square by the AV1 encoder (libsvtav1 does not "
                            "signal it); use the default HEVC to keep the picture's shape", info.path,
                            info.sample_aspect)
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = prim, trc, cs, ColorRange.MPEG
        if self.codec == "libx264":
            # PyAV opens encoders with slice threading, which libavcodec's x264 wrapper turns into x264's sliced
            # threads; the ffmpeg command line (frame | slice) gives x264's frame threads: as FFmpeg encodes
            cc.thread_type = "AUTO"
        return s

    # --- stream copy --------------------------------------------------------------------------------

    def _copy_video_properties(self, c: Any) -> None:
        copy_container_properties(c, self.out)
        src = c.streams[self.info.stream_index]
        self.stream.metadata.update({k: v for k, v in src.metadata.items()
                                     if k.lower() in ("language", "title", "handler_name")})
        self._timecode = source_timecode(c, src)
        if self._timecode:  # (MP4/MOV write it as a timecode track, Matroska as a tag)
            self.stream.metadata["timecode"] = self._timecode

    def _add_copy_streams(self) -> None:
        supported = getattr(self.out, "supported_codecs", None)
        if supported is not None:
            supported = set(supported) | MUXER_ALSO_TAKES.get(self.out.format.name, set())
        for st in self.input.streams:
            attached = is_cover_picture(st)
            if st.index == self.info.stream_index or not (st.type in ("audio", "subtitle", "attachment") or attached):
                if st.index != self.info.stream_index and not (st.type == "data" and "timecode" in st.metadata):
                    log.warning("%s: stream %d (%s) not copied", self.info.path, st.index, st.type)
                continue
            fmt = self.out.format.name
            if st.type == "attachment":  # (no codec, no packets: a file in the header, e.g. an ASS font)
                if fmt == "matroska":
                    copy_attachment(st, self.out)
                else:
                    log.warning("%s: attachment %d (%s) cannot go into %s; not copied (a .mkv output keeps it)",
                                self.info.path, st.index, attachment_name(st), fmt)
                continue
            name = st.codec_context.name
            if supported is not None and name not in supported:
                if attached:
                    log.warning("%s: the cover picture (stream %d) cannot go into %s; not copied", self.info.path,
                                st.index, fmt)
                    continue
                target = TEXT_SUBTITLE_FOR.get(fmt)
                if st.type == "subtitle" and name in TEXT_SUBTITLES and target in supported:
                    self.retext[st.index] = SubtitleText(st, self.out, target)
                    self.copies[st.index] = self.retext[st.index].stream
                    copy_stream_properties(st, self.copies[st.index])
                    log.info("%s: subtitle stream %d (%s) re-encoded as %s for %s", self.info.path, st.index, name,
                             target, fmt)
                    continue
                hint = "use a .mkv output" if fmt != "matroska" else "pass --no-copy to leave audio and subtitles out"
                raise OutputError(f"{self.dest}: {fmt} cannot hold {st.type} stream {st.index} ({name}); {hint}")
            self.copies[st.index] = self.out.add_stream_from_template(st)
            copy_stream_properties(st, self.copies[st.index])
        if self.copies:
            streams = [self.input.streams[i] for i in self.copies]
            packets = (p for p in self.input.demux(*streams) if p.size)
            self._copy_iter = packets if self.out_format in EDIT_LIST_FORMATS else _without_preroll(packets)

    def _mux_copies_until(self, seconds: float | None) -> None:
        """Mux copied packets whose decode time is at or before ``seconds`` (None: all the rest)."""
        if self._copy_iter is None:
            return
        while True:
            p = self._pending
            if p is None:
                p = next(self._copy_iter, None)
                if p is None:
                    self._copy_iter = None
                    return
            if self.trimmed and seconds is None:
                seconds = self._video_end if self._video_end is not None else 0.0
            if seconds is not None and p.dts is not None and float(p.dts * p.time_base) - self._offset > seconds:
                self._pending = p
                if self.trimmed and self._copy_iter is not None and seconds == self._video_end:
                    self._copy_iter = None  # the part is over: the rest of the input is not copied
                return
            self._pending = None
            if self.trimmed and p.pts is not None and float(p.pts * p.time_base) < self._offset - 1e-3:
                continue  # before the part
            if self._offset:
                shift = round(self._offset / p.time_base)
                if p.pts is not None:
                    p.pts -= shift
                if p.dts is not None:
                    p.dts -= shift
            index = p.stream.index
            last = self._copy_dts.get(index)
            if p.dts is not None and last is not None and p.dts <= last:  # damaged input: time went backwards
                if p.pts is not None and p.pts > last:
                    p.dts = last + 1
                else:
                    self.copies_dropped += 1
                    continue
            if index in self.retext:
                p = self.retext[index].packet(p)
                if p is None:  # an empty cue (mov_text clears the screen with one): durations say it here
                    continue
            else:
                p.stream = self.copies[index]
            dts = p.dts  # in the input's time base (muxing rescales the packet to the output stream's)
            try:
                self._mux(p)
            except av.error.InvalidDataError:  # a packet the muxer cannot take (damaged input)
                self.copies_dropped += 1
                continue
            if dts is not None:
                self._copy_dts[index] = dts
            self.packets_copied += 1

    def _mux(self, packet: Any) -> None:
        try:
            self.out.mux(packet)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise OutputError(f"{self.dest}: no space left on device") from None
            raise
        except av.error.FFmpegError as e:
            if self._header_written:
                raise
            # the first packet writes the header, where a muxer finally checks its streams (MOV refuses Opus,
            # which the codec query lets through)
            fmt, streams = self.out.format.name, describe_streams(self.out)
            raise refused(self.dest, f"{fmt} cannot hold these streams ({streams})", fmt, e) from None
        self._header_written = True

    def _mux_video(self, packets: list[Any]) -> None:
        for p in packets:
            if p.pts is not None and not self._plausible_dts(p):
                # x265 can give a one- or two-frame stream a decode time of "none" (rescaled: a huge negative
                # number) or garbage, which the MP4 muxer refuses: decode at the presentation time, after
                # the previous packet
                fixed = p.pts if self._video_dts is None else self._video_dts + 1
                log.debug("%s: video packet pts %s has decode time %s; using %s", self.dest, p.pts, p.dts, fixed)
                p.dts = fixed
            if p.dts is not None:
                self._video_dts = p.dts
                self._mux_copies_until(float(p.dts * p.time_base))
            if self.meter is not None:  # decoded before muxing: the muxer takes the packet's data
                self.meter.feed(p, self.stream.codec_context.extradata)
            self._mux(p)

    def _plausible_dts(self, p: Any) -> bool:
        """A decode time an encoder can have produced: at or before the presentation time, at most 32 frames
        before it (x265 reorders at most 16), after the previous packet's."""
        if p.dts is None:
            return False
        step = max(1, round(1 / (self.info.rate * p.time_base))) if self.info.rate and p.time_base else 1
        after = self._video_dts is None or p.dts > self._video_dts
        return bool(after and p.pts - 32 * step <= p.dts <= p.pts)

    # --- stage --------------------------------------------------------------------------------------

    def process(self, frame: Frame) -> Iterator[None]:
        assert frame.planes is not None
        flat = packed.planes_buffer(frame.planes)  # the fused transcode's planes are one buffer already
        if flat is None:
            y, u, v = frame.planes
            flat = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(self.height * 3 // 2, self.width)
        vf = av.VideoFrame.from_ndarray(flat, format=self.planes_format)
        if self.stream.pix_fmt != self.planes_format:  # ProRes: 4:2:2 / 4:4:4 (chroma upsampled, luma exact)
            vf = vf.reformat(format=self.stream.pix_fmt, interpolation=Interpolation.BILINEAR)
        vf.time_base = self.info.time_base if frame.time_base is None else frame.time_base
        if self.trimmed and self.frames == 0 and frame.pts is not None:
            start = self._offset
            self._offset = float(frame.pts * vf.time_base)  # the part starts at 0
            if self._timecode and self.info.rate:  # and its timecode is its first frame's
                self.stream.metadata["timecode"] = advance_timecode(
                    self._timecode, round((self._offset - start) * float(self.info.rate)), float(self.info.rate))
            chapters = self.out.chapters()
            if chapters:  # and its chapters start where it does
                self.out.set_chapters(chapters_from(chapters, self._offset - start))
        vf.pts = frame.pts - round(self._offset / vf.time_base) if frame.pts is not None else None
        if vf.pts is not None:
            step = 1 / float(self.info.rate) if self.info.rate else 0.0
            self._video_end = float(vf.pts * vf.time_base) + step
        prim, trc, cs = TAGS[self.spec.format]
        vf.color_primaries, vf.color_trc, vf.colorspace, vf.color_range = prim, trc, cs, ColorRange.MPEG
        self._mux_video(self.stream.encode(vf))
        if frame.stats.max_nits is not None and frame.stats.average_nits is not None:
            self.light.update(frame.stats.max_nits, frame.stats.average_nits)
        self.frames += 1
        return iter(())

    def flush(self) -> Iterator[None]:
        self._mux_video(self.stream.encode(None))
        self._mux_copies_until(None)
        if self.copies_dropped:
            log.warning("%s: %d damaged packets of audio/subtitle streams could not be copied (timestamps going "
                        "backwards or unreadable); the report counts them", self.info.path, self.copies_dropped)
        return iter(())

    def close(self) -> None:
        if self.meter is not None:  # its thread ends with the encoder, whatever happened
            self.meter.finish()
        if self.input is not None:
            self.input.close()
            self.input = None
        out, self.out = getattr(self, "out", None), None
        if out is not None:
            fmt, streams = out.format.name, describe_streams(out)
            try:
                out.close()
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise OutputError(f"{self.dest}: no space left on device") from None
                raise
            except av.error.FFmpegError as e:  # the trailer, where a muxer can still refuse (PCM of varying
                # packet sizes in MP4): one line naming the streams and the fix, the partial file removed
                raise refused(self.dest, f"{fmt} could not be finished with these streams ({streams})", fmt,
                              e) from None


class SegmentJoiner(VideoEncoder):
    """Joins encoded segments (video only, each starting with an IDR frame, identical settings) into one
    output, packet for packet, with the source's audio, subtitles and metadata copied once, interleaved as
    :class:`VideoEncoder` does. ``segments``: the segment files in order. Refuses segments whose codec
    parameters (extradata) differ: their streams cannot be one stream."""

    def __init__(self, path: Path, container_format: str | None, spec: OutputSpec, info: VideoInfo,
                 segments: list[Path], options: EncodeOptions = EncodeOptions(), dest: Path | None = None) -> None:
        if not segments:
            raise OutputError(f"{dest or path}: no segments to join")
        self.segments = segments
        self._template = open_input(segments[0])
        try:
            first = self._template.streams.video[0]
            self._extradata = bytes(first.codec_context.extradata or b"")
            for seg in segments[1:]:
                with open_input(seg) as c:
                    if bytes(c.streams.video[0].codec_context.extradata or b"") != self._extradata:
                        raise OutputError(f"{seg}: its codec parameters differ from {segments[0].name}'s; the segments "
                                          f"were encoded with different settings (delete the work folder and run again)")
            super().__init__(path, container_format, spec, info, options, dest=dest)
        finally:
            self._template.close()

    def _video_stream(self, options: EncodeOptions) -> Any:
        s = self.out.add_stream_from_template(self._template.streams.video[0])
        s.time_base = self.info.time_base
        return s

    def join(self) -> int:
        """Mux every segment's packets with the timestamps the segment holds, in its own time base (the muxer
        rescales them once, to the output's; they were rescaled to the source's time base first while the
        packets still said the segment's, which put the first frame of a Matroska source 20 ms early);
        returns the number of video packets."""
        count = 0
        last: Fraction | None = None  # the last decode time muxed, in seconds
        for seg in self.segments:
            with open_input(seg) as c:
                st = c.streams.video[0]
                tb = Fraction(st.time_base)
                for p in c.demux(st):
                    if not p.size:
                        continue
                    if p.dts is not None:
                        if last is not None and p.dts * tb <= last:
                            # two segments' decode times at a seam can meet within a tick of each other: the
                            # next tick keeps them in order, as FFmpeg's muxer does; a frame shown before the
                            # last one decoded is a real overlap
                            if p.pts is None or p.pts * tb <= last:
                                raise OutputError(f"{seg}: its timestamps overlap the previous segment's; the "
                                                  f"segments do not follow each other (delete the work folder and "
                                                  f"run again)")
                            p.dts = math.floor(last / tb) + 1
                        last = p.dts * tb
                    p.stream = self.stream
                    self._mux_video([p])
                    count += 1
        self.frames = count
        return count

    def process(self, frame: Frame) -> Iterator[None]:
        raise RuntimeError("SegmentJoiner joins encoded segments; it does not encode frames")

    def flush(self) -> Iterator[None]:
        self._mux_copies_until(None)
        return iter(())


class ImageWriter:
    """Writes each frame as an image file into ``folder``: named ``pattern % (start + index)`` for video
    frames, or by the input's stem for still images."""

    name = "encode"

    def __init__(self, folder: Path, fmt: str, pattern: str | None, start_number: int = 0,
                 single: Path | None = None) -> None:
        self.folder = folder
        self.fmt = fmt
        self.pattern = pattern
        self.start = start_number
        self.single = single
        self.frames = 0
        self.write = write_exr if fmt == "exr" else write_hdr

    def target(self, frame: Frame) -> Path:
        if self.single is not None:
            return self.single
        if self.pattern is not None:
            return self.folder / (self.pattern % (self.start + frame.index))
        return self.folder / f"{frame.name}.{self.fmt}"

    def process(self, frame: Frame) -> Iterator[None]:
        assert frame.planes is not None
        self.write(self.target(frame), frame.planes[0])
        self.frames += 1
        return iter(())

    def flush(self) -> Iterator[None]:
        return iter(())

    def close(self) -> None:
        pass


def remux_with_light_level(src: Path, dst: Path, container_format: str, codec: str, cll: tuple[int, int],
                           dest_name: Path, dynamic: dict[int, FrameLight] | None = None) -> int:
    """Copy ``src`` to ``dst`` packet for packet, writing the measured MaxCLL/MaxFALL over the placeholder in
    the video stream only: its header (extradata) and its packets. Copied audio/subtitle packets pass through
    byte for byte, whatever bytes they hold. Returns how many placeholders were replaced. ``dynamic`` (HEVC):
    each video packet also gets its frame's HDR10+ SEI (looked up by pts)."""
    count = 0
    codec = "av1" if "av1" in codec else "hevc"
    with av.open(str(src)) as inp, av.open(str(dst), "w", format=container_format) as out:
        copy_container_properties(inp, out)
        video = inp.streams.video[0]
        streams = {}
        for st in inp.streams:
            if st.type == "attachment":
                copy_attachment(st, out)
                continue
            if st.type == "data":  # the muxer's timecode track: written again from the video stream's tag
                continue
            # (opaque: no decoder needed; this build of FFmpeg has an AV1 encoder but no AV1 decoder)
            o = out.add_stream_from_template(st, opaque=st.type != "video" or codec == "av1")
            copy_stream_properties(st, o)
            if st.index == video.index and st.codec_tag in ("hvc1", "hev1"):
                o.codec_tag = st.codec_tag  # (the mp4 muxer would pick hev1 by itself: Apple players want hvc1)
            streams[st.index] = o
        extradata = bytes(video.codec_context.extradata or b"") if codec == "hevc" else b""  # (av1C holds no metadata)
        if extradata:
            patched, n = patch_light_level_bytes(extradata, codec, cll)
            if n:
                streams[video.index].codec_context.extradata = patched
                count += n
        try:
            for p in inp.demux():
                if p.size == 0:
                    continue
                index = p.stream.index
                if index not in streams:
                    continue
                if index == video.index:
                    data, n = patch_light_level_bytes(bytes(p), codec, cll)
                    count += n
                    if dynamic is not None and p.pts is not None and int(p.pts) in dynamic:
                        data = insert_sei(data, hevc_sei_nal(dynamic[int(p.pts)]))
                        n += 1
                    if n:
                        q = av.Packet(data)
                        q.pts, q.dts, q.time_base, q.is_keyframe = p.pts, p.dts, p.time_base, p.is_keyframe
                        p = q
                p.stream = streams[index]
                out.mux(p)
        except OSError as e:
            if e.errno == errno.ENOSPC:
                raise OutputError(f"{dest_name}: no space left on device") from None
            raise
    return count


def matroska_with_hdr_metadata(src: Path, dst: Path, display: MasteringDisplay, cll: tuple[int, int],
                               work: Path) -> None:
    """``src`` (Matroska/WebM) copied to ``dst`` with the video track's Colour/MasteringMetadata and
    MaxCLL/MaxFALL elements. FFmpeg's Matroska muxer writes them from the stream's side data, which PyAV
    cannot set but a stream template carries: so the video stream goes once through an MP4 (``work``) that
    gets mdcv/clli boxes, the MP4 demuxer turns them into side data, and that stream is the template of the
    final video track. Packets are copied from ``src`` unchanged, in its order."""
    with av.open(str(src)) as inp, av.open(str(work), "w", format="mp4") as tmp:
        st = inp.streams.video[0]
        o = tmp.add_stream_from_template(st, opaque=True)
        if st.codec_context.name == "hevc":
            o.codec_tag = "hvc1"
        for p in inp.demux(st):
            if p.size:
                p.stream = o
                tmp.mux(p)
    add_hdr_boxes(work, display, cll)
    with av.open(str(src)) as inp, av.open(str(work)) as tpl, av.open(str(dst), "w", format=inp.format.name.split(",")[0]) as out:
        copy_container_properties(inp, out)
        video = inp.streams.video[0]
        streams = {}
        for st in inp.streams:
            if st.type == "attachment":
                copy_attachment(st, out)
                continue
            o = out.add_stream_from_template(tpl.streams.video[0] if st.index == video.index else st, opaque=True)
            copy_stream_properties(st, o)
            streams[st.index] = o
        for p in inp.demux():
            if p.size == 0:
                continue
            p.stream = streams[p.stream.index]
            out.mux(p)


def _measure_decoded(f: Any, width: int, height: int, light: LightLevel,
                     per_frame: dict[int, FrameLight] | None) -> None:
    """One decoded 10-bit 4:2:0 frame into ``light`` (and ``per_frame``, HDR10+), as a player shows it: chroma
    upsampled bilinearly, BT.2020 R'G'B' through the PQ EOTF, max(R,G,B) per pixel."""
    planes = f.to_ndarray(format="yuv420p10le")
    if per_frame is not None and f.pts is not None:  # HDR10+: every channel, once
        h, w = f.height, f.width
        y = dequantize_luma(planes[:h].astype(np.float32), 10)
        chroma = dequantize_chroma(planes[h:].reshape(2, h // 2, w // 2).transpose(1, 2, 0).astype(np.float32), 10)
        # the chroma terms of R', G', B' per chroma sample, upsampled (both linear: the order is free)
        lift3 = packed.upsample_chroma(cv2.transform(chroma, _INV_CHROMA), h, w)
        rgb = packed.pq_decode(np.clip(lift3 + y[..., None], 0, 1)[:height, :width])
        per_frame[int(f.pts)] = FrameLight.measure(rgb)
        nits = packed.channel_max(rgb)
        light.update(float(nits.max()), float(nits.mean()))
    else:  # the EOTF is monotonic: MaxCLL from the largest signal; MaxFALL through an EOTF table (compiled)
        top, mean = kernels.decoded_light(planes, width, height)
        light.update(float(pq_eotf(top)), mean)


def _measure_decoded_in_place(f: Any, width: int, height: int, light: LightLevel) -> bool:
    """``_measure_decoded`` (without HDR10+) on the planes of a yuv420p10le frame where the decoder left them,
    with no copy of the frame; False where it cannot (another format, odd size, no C kernels)."""
    if f.format.name != "yuv420p10le" or f.width % 2 or f.height % 2:
        return False
    views = plane_views_420(f)
    if views is None:
        return False
    measured = kernels.decoded_light_planes(*views, width, height)
    if measured is None:
        return False
    top, mean = measured
    light.update(float(pq_eotf(top)), mean)
    return True


_INV_CHROMA = np.linalg.inv(rgb_to_ycbcr_matrix("bt2020nc"))[:, 1:].astype(np.float32)

DECODER_OF = {"libx265": "hevc", "libx264": "h264"}
"""The decoder that reads what an encoder wrote (for measuring the light level while encoding)."""


class DecodedLightMeter:
    """CTA-861.3 MaxCLL/MaxFALL of the encoded stream as a decoder reconstructs it, measured while encoding:
    each packet the encoder makes is copied (compressed: a few kB) to a thread of its own that decodes and
    measures it, so the measure overlaps the encoding instead of a second pass over the finished file. Same
    numbers as :func:`decoded_light_level` on the file (``tests/test_fused.py``)."""

    def __init__(self, decoder: str, width: int, height: int) -> None:
        self.decoder, self.width, self.height = decoder, width, height
        self.light = LightLevel()
        self.frames = 0
        self._queue: queue.SimpleQueue[tuple[bytes, int | None, int | None] | None] = queue.SimpleQueue()
        self._extradata: bytes | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def feed(self, packet: Any, extradata: bytes | None) -> None:
        if self._thread is None:
            self._extradata = bytes(extradata) if extradata else None
            self._thread = threading.Thread(target=self._run, name="hdrvid-light-meter", daemon=True)
            self._thread.start()
        self._queue.put((bytes(packet), packet.pts, packet.dts))

    def _run(self) -> None:
        try:
            ctx = av.CodecContext.create(self.decoder, "r")
            if self._extradata:
                ctx.extradata = self._extradata
            # one decoding thread: it keeps pace with the encoder (decoding costs a few % of encoding) and
            # holds one set of reference frames instead of one per thread (measured at 3840x2160: -0.3 GB)
            ctx.thread_count = 1
            while (item := self._queue.get()) is not None:
                p = av.Packet(item[0])
                p.pts, p.dts = item[1], item[2]
                for f in ctx.decode(p):
                    self._measure(f)
            for f in ctx.decode(None):
                self._measure(f)
        except BaseException as e:  # reported by finish(); the file pass measures instead
            self._error = e
            while self._queue.get() is not None:  # let feed() go on without blocking
                pass

    def _measure(self, f: Any) -> None:
        if not _measure_decoded_in_place(f, self.width, self.height, self.light):
            _measure_decoded(f, self.width, self.height, self.light, None)
        self.frames += 1

    def finish(self) -> LightLevel | None:
        """The light level of every frame fed, or None if the decoder failed (the caller measures the file)."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
            if self._error is not None:
                log.debug("light level while encoding failed (%s); measuring the file", self._error)
        return None if self._error is not None else self.light


def decoded_light_level(path: Path, width: int, height: int,
                        per_frame: dict[int, FrameLight] | None = None) -> LightLevel | None:
    """CTA-861.3 MaxCLL/MaxFALL of the video as a decoder reconstructs it: every frame of the (temporary)
    file decoded again (see ``_measure_decoded``). Codec overshoot is included, which a measure taken before
    encoding cannot see. None if this FFmpeg build cannot decode the codec (AV1 here: the measure from before
    encoding is used then). ``per_frame``: filled with each frame's HDR10+ statistics, keyed by pts. Packed
    numpy/OpenCV maths (``color.fused``): no torch. :class:`DecodedLightMeter` measures the same while
    encoding."""
    light = LightLevel()
    try:
        with av.open(str(path)) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            for f in c.decode(st):
                _measure_decoded(f, width, height, light, per_frame)
    except (av.error.FFmpegError, av.codec.codec.UnknownCodecError):
        return None
    return light
