"""Decoder stage (the source): video via PyAV, or still images, to linear-light frames.

Every frame leaves as (3, H, W) float32 linear light in BT.709 primaries, relative units (1.0 = SDR
reference white). The stream's own tags decide the curve (untagged video: BT.709; untagged images:
sRGB) unless ``transfer`` overrides them; limited/full range is honoured and 10/12-bit input keeps its
precision (decoded through 16-bit RGB). PQ and HLG input is decoded to absolute light and divided by
the reference white (203 nits, BT.2408).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, get_args

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, Interpolation

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.gamut import PRIMARIES_FROM_TAG, apply_to_bt709, to_bt709_matrix
from hdrvid.color.levels import SDR_MAPPING_TRANSFER, SDR_MAPPINGS, SdrMapping
from hdrvid.color.transfer import (
    DECODERS,
    INPUT_TRANSFERS,
    InputTransfer,
    hlg_inverse_oetf,
    hlg_ootf,
    pq_eotf,
    pq_inverse_eotf,
)
from hdrvid.errors import InputError, check_choice, check_range
from hdrvid.io.icc import embedded_colour
from hdrvid.io.images import MAX_PIXELS, TRANSPARENCY_WARNING, check_pixels, list_images, read_image
from hdrvid.io.probe import (
    MATRIX,
    PRIMARIES,
    RANGE,
    TRANSFER_FROM_TAG,
    TRC,
    _name,
    hdr_side_data,
    open_input,
    rotation_of,
    sample_aspect,
    stream_rate,
    video_stream,
)
from hdrvid.lazy import torch
from hdrvid.pipeline.frame import Frame, FrameStats, VideoInfo, plane_views_420

log = logging.getLogger("hdrvid")

HIST_BINS = 64


Deinterlace = Literal["auto", "on", "off"]
DEINTERLACE: tuple[str, ...] = get_args(Deinterlace)


@dataclass(frozen=True)
class DecodeOptions:
    transfer: InputTransfer | None = None
    """Override the input transfer: srgb, bt709, bt1886, gamma22, linear (or pq, hlg)."""
    sdr_mapping: SdrMapping = "scene"
    """Video tagged (or assumed) BT.709: scene light (camera curve) or display light (BT.1886); see
    :mod:`hdrvid.color.levels`."""
    start: float = 0.0
    """Video: skip frames shown before this many seconds from the start of the file (``--start``)."""
    duration: float | None = None
    """Video: stop after this many seconds from ``start`` (``--duration``)."""
    max_frames: int | None = None
    """Video: stop after this many frames (``--frames``)."""
    pts_from: int | None = None
    """Video (segments of ``hdrvid batch``): the first frame is the one with this pts (stream time base);
    frames are identified by pts, never by float time."""
    pts_to: int | None = None
    """Video: stop before the frame with this pts (None: to the end)."""
    first_index: int = 0
    """The frame index of the first frame decoded (a segment's frames keep their index in the whole file:
    the alternating merge's exposure phase comes from it)."""

    @property
    def trimmed(self) -> bool:
        return self.start > 0 or self.duration is not None or self.max_frames is not None

    @property
    def segment(self) -> bool:
        return self.pts_from is not None or self.pts_to is not None

    @property
    def end(self) -> float | None:
        return None if self.duration is None else self.start + self.duration
    max_decode_errors: int = 10
    """Fail when more packets than this cannot be decoded."""
    allow_short: bool = False
    """Accept fewer decoded frames than the container declares (warn instead of failing)."""
    deinterlace: Deinterlace = "auto"
    """auto: deinterlace (bwdif, one frame per frame) when frames are flagged interlaced; on; off."""
    threads: int = 0
    max_pixels: int = MAX_PIXELS
    """Refuse pictures larger than this (width x height) before decoding one: a tiny file can declare a
    huge picture (a decompression bomb). Default: 8K UHD (7680 x 4320)."""

    def __post_init__(self) -> None:
        if self.transfer is not None:
            check_choice(self.transfer, INPUT_TRANSFERS, "--input-transfer")
        check_choice(self.sdr_mapping, SDR_MAPPINGS, "--sdr-mapping")
        check_range(self.start, "--start", 0)
        if self.duration is not None:
            check_range(self.duration, "--duration", 0, low_open=True)
        if self.max_frames is not None:
            check_range(self.max_frames, "--frames", 1)
        check_choice(self.deinterlace, DEINTERLACE, "--deinterlace")
        check_range(self.max_decode_errors, "--max-decode-errors", 0)
        check_range(self.threads, "decoder threads", 0)
        check_range(self.max_pixels, "--max-pixels", 1)


def signal_histogram(rgb_signal: np.ndarray) -> np.ndarray:
    """64-bin histogram of the mean code value (pass a subsampled (h, w, 3) signal), sums to 1 (scene cuts)."""
    sub = rgb_signal.mean(axis=-1)
    h, _ = np.histogram(sub, bins=HIST_BINS, range=(0.0, 1.0))
    return h.astype(np.float32) / max(1, sub.size)


def code_histogram(codes: np.ndarray, top: int) -> np.ndarray:
    """``signal_histogram`` of integer R'G'B' codes (a subsampled (h, w, 3) array, white at ``top``) in integer
    arithmetic: the bin of the mean code value is (sum of the three x 64) // (3 x top), the last bin closed, as
    np.histogram's is. In place in int32 (3 x 65535 x 64 < 2**31): a fifth of the time of int64 temporaries."""
    c = codes.reshape(-1, 3)
    s = c[:, 0].astype(np.int32)
    s += c[:, 1]
    s += c[:, 2]
    s *= HIST_BINS
    s //= 3 * top
    np.minimum(s, HIST_BINS - 1, out=s)
    return np.bincount(s, minlength=HIST_BINS).astype(np.float32) / max(1, s.size)


def transfer_lut(transfer: str, bits: int) -> np.ndarray:
    """Code value -> linear light table for an elementwise transfer (all but HLG's OOTF), float32."""
    codes = np.arange(2**bits, dtype=np.float64) / (2**bits - 1)
    if transfer == "pq":
        return (pq_eotf(codes) / REFERENCE_WHITE_NITS).astype(np.float32)
    if transfer == "hlg":
        return hlg_inverse_oetf(codes).astype(np.float32)  # scene light; the OOTF follows per pixel
    return np.asarray(DECODERS[transfer](codes), dtype=np.float32)


def linearise_codes(codes: np.ndarray, lut: np.ndarray, transfer: str, primaries: str) -> np.ndarray:
    """Integer R'G'B' codes (H, W, 3) -> relative linear BT.709 light, planar (3, H, W) float32."""
    from hdrvid.color.kernels import planar_lookup  # C (numba where not built): on use

    lin = planar_lookup(codes, lut)  # the table lookup also makes the planar copy
    if transfer == "hlg":
        lin = (hlg_ootf(lin, 1000.0, axis=0) / REFERENCE_WHITE_NITS).astype(np.float32)
    return apply_to_bt709(lin, primaries, axis=0)


def linearise(signal: np.ndarray, transfer: str, primaries: str) -> np.ndarray:
    """Float signal (H, W, 3) in [0,1] -> relative linear BT.709 light (H, W, 3) float32."""
    if transfer == "pq":
        lin = pq_eotf(signal) / REFERENCE_WHITE_NITS
    elif transfer == "hlg":
        lin = hlg_ootf(hlg_inverse_oetf(signal), 1000.0) / REFERENCE_WHITE_NITS
    else:
        lin = DECODERS[transfer](signal)
    return apply_to_bt709(np.asarray(lin, dtype=np.float32), primaries)


def resolve_transfer(tag: str, override: str | None, is_image: bool, sdr_mapping: str = "scene") -> str:
    """The transfer to decode with: ``override``, else the tag's, else sRGB (images) / BT.709 (video);
    BT.709 means the camera curve for ``sdr_mapping`` "scene" and the BT.1886 display EOTF for "display"."""
    if override:
        return override
    found = TRANSFER_FROM_TAG.get(tag, "srgb" if is_image else "bt709")
    return SDR_MAPPING_TRANSFER[sdr_mapping] if found == "bt709" else found


_NO_DATA: Any = None
"""``Frame.data`` of a raw frame (no tensor: the fused transcode never imports torch)."""


def _untagged_matrix(path: Path, primaries: str, height: int, pix_fmt: str) -> str:
    """The Y'CbCr matrix of a stream that does not say: BT.2020 with BT.2020 primaries; BT.601 for standard
    definition (576 lines or fewer, as players and FFmpeg's scalers assume: SD video predates BT.709); else
    BT.709."""
    if primaries == "bt2020":
        return "bt2020nc"
    if height <= 576 and not pix_fmt.startswith(("rgb", "bgr", "gbr")):
        log.info("%s: no colour matrix tag on %d-line video: BT.601, as players assume for standard definition",
                 path, height)
        return "smpte170m"
    return "bt709"


def _warn_transparency(path: Path, frame: Any) -> None:
    """Warn when the first frame has an alpha channel that is not fully opaque (ProRes 4444, PNG and QuickTime
    Animation exports from motion graphics): it is dropped."""
    comps = frame.format.components
    if not any(c.is_alpha for c in comps):
        return
    try:
        alpha = frame.to_ndarray(format="rgba64le" if comps[0].bits > 8 else "rgba")[..., 3]
    except (ValueError, av.error.FFmpegError):
        return
    if alpha.min() < np.iinfo(alpha.dtype).max:
        log.warning(TRANSPARENCY_WARNING, path)


TRUNCATED_FIX = "; re-download the file or pass --allow-short to convert what is there"
"""What :func:`truncated_message`'s reader can do about it (the error's end)."""


def truncated_message(path: Path, packets: int, declared: int, frames: int) -> str:
    """A file with fewer video packets than its index lists (cut short in transfer), said once for ``convert``'s
    decoder and ``hdrvid batch``'s planner."""
    return f"{path}: truncated: read {packets} of {declared} packets its index lists ({frames} frames)"


class VideoDecoder:
    """Source stage: demux + decode the first video stream, yield linear :class:`Frame` objects."""

    name = "decode"

    def __init__(self, path: Path, options: DecodeOptions = DecodeOptions()) -> None:
        self.path = path
        self.options = options
        self.container = open_input(path)
        self.stream = video_stream(self.container, path)
        cc = self.stream.codec_context
        check_pixels(path, cc.width, cc.height, options.max_pixels)  # from the headers, before any decode
        self._threads()
        self.packets = 0
        self.decode_errors = 0
        self._read = False
        self._last_pts: int | None = None
        self._rebuilt = False
        self._pending: tuple[Any, Iterator[Any]] | None = None
        """The first decoded frame and the rest of the pass that decoded it (the probe's frame is the first one
        yielded: no second opening, no second decode)."""
        self.info = self._probe()
        self.frames_out = 0
        self.deinterlaced = False
        self._graph: Any = None
        self._lut: np.ndarray | None = None
        self.raw = False
        """Yield the R'G'B' codes (``Frame.codes``) instead of linear light (the fused plain transcode)."""
        self.arrays = False
        """Yield linear light as numpy arrays instead of tensors (stages that are all compiled kernels: no torch)."""

    def _probe(self) -> VideoInfo:
        s = self.stream
        cc = s.codec_context
        frames = self._packets_decoded()
        try:
            first = next(frames, None)
        except av.error.FFmpegError as e:
            raise InputError(f"{self.path}: cannot decode the video stream ({e.strerror or e})") from None
        if first is None:
            raise InputError(f"{self.path}: truncated or invalid: the video stream has no decodable frames")
        tag_of = lambda table, fv, cv: _name(table, fv) if _name(table, fv) != "unknown" else _name(table, cv)
        trc_tag = tag_of(TRC, first.color_trc, cc.color_trc)
        prim = tag_of(PRIMARIES, first.color_primaries, cc.color_primaries)
        matrix = tag_of(MATRIX, first.colorspace, cc.colorspace)
        rng = tag_of(RANGE, first.color_range, cc.color_range)
        fmt = first.format
        depth = fmt.components[0].bits
        full = rng == "pc" or fmt.name.startswith("yuvj") or matrix == "gbr" or fmt.name.startswith(("rgb", "bgr", "gbr"))
        md, cl = hdr_side_data(first, cc.name)
        _warn_transparency(self.path, first)
        tb = s.time_base or Fraction(1, 90000)
        rate = stream_rate(s)
        if first.pts is None:  # raw elementary stream: timestamps will come from the frame rate
            tb = Fraction(1) / rate
        info = VideoInfo(
            path=self.path, width=first.width, height=first.height, rate=rate, time_base=Fraction(tb),
            frames=int(s.frames or 0), codec=cc.name, pix_fmt=fmt.name, bit_depth=depth,
            primaries=PRIMARIES_FROM_TAG.get(prim, "bt709"),
            transfer=resolve_transfer(trc_tag, self.options.transfer, False, self.options.sdr_mapping),
            transfer_tag=trc_tag,
            matrix=matrix if matrix in ("bt709", "bt2020nc", "smpte170m", "bt470bg", "gbr") else (
                _untagged_matrix(self.path, prim, first.height, fmt.name)),
            full_range=full, rotation=rotation_of(s, first), interlaced=bool(first.interlaced_frame),
            mastering_display=md, content_light=cl, stream_index=s.index, sample_aspect=sample_aspect(s),
            start=self.origin(),
        )
        self._pending = (first, frames)
        return info

    def _threads(self) -> None:
        self.stream.thread_type = "AUTO"
        if self.options.threads:
            self.stream.thread_count = self.options.threads

    def _reopen(self) -> None:
        """Start again from the first packet (seeking is unreliable on raw streams)."""
        self._pending = None
        self.container.close()
        self.container = open_input(self.path)
        self.stream = video_stream(self.container, self.path)
        self._threads()
        self.packets = 0
        self.decode_errors = 0
        self._read = False
        self._last_pts = None
        self._rebuilt = False

    def _decoded(self) -> Iterator[Any]:
        """The pass the probe began (its first frame first), else a pass over a container no pass has read
        (reopened, or reopened and sought)."""
        if self._pending is not None:
            first, rest = self._pending
            self._pending = None
            self._read = True
            return itertools.chain((first,), rest)
        if self._read:
            self._reopen()
        self._read = True
        return self._packets_decoded()

    # --- conversion ---------------------------------------------------------------------------------

    def _to_codes(self, frame: Any) -> np.ndarray:
        """Decoded frame -> R'G'B' integer codes (H, W, 3): uint8, or uint16 for >8-bit input."""
        info = self.info
        # planar RGB: swscale's packed rgb24 path with ACCURATE_RND returns 8-bit codes 1-2 too low (SDR white
        # 253 instead of 255); gbrp/gbrp16le are exact (tested against colour-science on every code value)
        if info.bit_depth > 8 and info.matrix != "gbr":
            return self._high_bit_codes(frame)
        if info.bit_depth == 8 and info.matrix != "gbr" and frame.format.name in ("yuv420p", "yuvj420p"):
            return self._codes_420(frame)
        target = "gbrp16le" if info.bit_depth > 8 else "gbrp"
        cs = {"bt709": Colorspace.ITU709, "bt2020nc": Colorspace.BT2020, "smpte170m": Colorspace.ITU601,
              "bt470bg": Colorspace.ITU601}.get(info.matrix, Colorspace.ITU709)
        kw: dict[str, Any] = {}
        if info.matrix != "gbr":
            kw = dict(src_colorspace=cs, dst_colorspace=cs,
                      src_color_range=ColorRange.JPEG if info.full_range else ColorRange.MPEG,
                      dst_color_range=ColorRange.JPEG)
        codes = frame.reformat(format=target, interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND,
                               **kw).to_ndarray()
        return codes

    def _codes_420(self, frame: Any) -> np.ndarray:
        """8-bit 4:2:0 -> R'G'B' codes in one C pass over PyAV's planes in place (no swscale, no copy): the exact
        maths on bilinear chroma sited left (the H.264/HEVC default, as the >8-bit path reads it; swscale's 8-bit
        planar path took it as centre-sited), superwhites clamped, not wrapped as swscale's planar path wraps them
        (``color.kernels.yuv420_u8_to_codes``: C, or numba's twin where it was not built)."""
        from hdrvid.color.kernels import yuv420_u8_to_codes

        info = self.info
        planes = plane_views_420(frame)
        if planes is None:
            raise InputError(f"{self.path}: a decoded frame's planes are smaller than its size says "
                             f"({frame.width}x{frame.height}); re-encode the file (ffmpeg -i in -c:v libx264 out.mp4)")
        return yuv420_u8_to_codes(*planes, info.full_range or frame.format.name == "yuvj420p", self._ycc_matrix())

    def _high_bit_codes(self, frame: Any) -> np.ndarray:
        """10/12-bit Y'CbCr -> R'G'B' as uint16 codes (0-65535), in floating point.

        swscale's limited -> full range conversion for more than 8 bits scales white to 1020/1023 (0.4 % low:
        about 3 % of linear light at 400 nits in PQ), whatever the output format; its shift to 16-bit Y'CbCr is
        exact, so only chroma upsampling is left to it and the matrix and range are applied here (BT.2100)."""
        info = self.info
        ycc = frame.reformat(format="yuv444p16le",
                             interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND).to_ndarray()
        from hdrvid.color.fused import ycc16_to_codes  # numba: on use

        return ycc16_to_codes(ycc, info.bit_depth, info.full_range, self._ycc_matrix())

    def _ycc_matrix(self) -> str:
        """The Y'CbCr matrix of a (non-RGB) stream as ``color.ycbcr`` names it (its tag is one of bt709, bt2020nc,
        smpte170m, bt470bg: the last two are BT.601's)."""
        return self.info.matrix if self.info.matrix in ("bt709", "bt2020nc") else "bt601"

    def _direct_420(self, frame: Any) -> bool:
        """Whether linear light comes straight from the 4:2:0 planes in one compiled pass
        (``color.kernels.yuv420_to_linear``: the same numbers as the codes path below, tested): >8-bit 4:2:0
        Y'CbCr of even size, a transfer that is one table per code (not HLG's OOTF), linear light wanted."""
        info = self.info
        return (not self.raw and frame.format.name in ("yuv420p10le", "yuv420p12le") and info.matrix in (
            "bt709", "bt2020nc") and info.transfer != "hlg" and frame.width % 2 == 0 and frame.height % 2 == 0)

    def _frame(self, frame: Any, index: int) -> Frame:
        info = self.info
        if frame.width != info.width or frame.height != info.height:
            raise InputError(
                f"{self.path}: resolution changes mid-stream at frame {index} "
                f"({info.width}x{info.height} -> {frame.width}x{frame.height}); split the file at that point"
            )
        lin = None
        if self._direct_420(frame):
            if self._lut is None:
                self._lut = transfer_lut(info.transfer, 16)
            from hdrvid.color.kernels import yuv420_to_linear  # C (numba where not built): on use

            planes = plane_views_420(frame)
            lin, small = yuv420_to_linear(frame.to_ndarray() if planes is None else planes, info.bit_depth,
                                          info.full_range, info.matrix, self._lut,
                                          to_bt709_matrix(info.primaries))
        else:
            codes = self._to_codes(frame)
            small = codes[::4, ::4]
        pts, tb = frame.pts, frame.time_base
        if pts is None:  # raw elementary streams: timestamps from the frame rate, monotonic
            pts, tb = round(index / info.rate / info.time_base), info.time_base
        elif tb and Fraction(tb) != info.time_base:
            pts, tb = round(pts * Fraction(tb) / info.time_base), info.time_base
        pts = self._monotonic(int(pts), index)
        stats = FrameStats(hist=code_histogram(small, 65535 if small.dtype == np.uint16 else 255))
        time_base = Fraction(tb) if tb else info.time_base
        if self.raw:
            return Frame(index=index, pts=pts, time_base=time_base, data=_NO_DATA, stats=stats, codes=codes)
        if lin is None:
            if self._lut is None:
                self._lut = transfer_lut(info.transfer, 16 if codes.dtype == np.uint16 else 8)
            lin = linearise_codes(codes, self._lut, info.transfer, info.primaries)
        lin = np.ascontiguousarray(lin)
        return Frame(index=index, pts=pts, time_base=time_base, data=lin if self.arrays else torch.from_numpy(lin),
                     stats=stats)

    def _monotonic(self, pts: int, index: int) -> int:
        """Strictly increasing timestamps. Sources whose timestamps go backwards or repeat (B-frames in AVI,
        transport-stream discontinuities, duplicated pts) get them rebuilt from the frame rate, said once."""
        step = max(1, round(1 / (self.info.rate * self.info.time_base)))
        if self._last_pts is not None and pts <= self._last_pts:
            if not self._rebuilt:
                log.warning("%s: timestamps go backwards or repeat at frame %d; rebuilding them from the frame "
                            "rate (%s fps)", self.path, index, self.info.rate)
                self._rebuilt = True
            pts = self._last_pts + step
        self._last_pts = pts
        return pts

    # --- iteration ----------------------------------------------------------------------------------

    def _decode_error(self, what: str) -> None:
        self.decode_errors += 1
        log.debug("%s: decode error %d (%s)", self.path, self.decode_errors, what)
        if self.decode_errors > self.options.max_decode_errors:
            raise InputError(
                f"{self.path}: more than {self.options.max_decode_errors} corrupt packets or frames (damaged file); "
                f"pass --max-decode-errors N to accept damaged input"
            )

    def _packets_decoded(self) -> Iterator[Any]:
        for packet in self.container.demux(self.stream):
            if packet.size or packet.pts is not None or packet.dts is not None:
                self.packets += 1  # (the flush packet at the end is neither)
            try:
                frames = packet.decode()
            except av.error.InvalidDataError as e:
                self._decode_error(e.strerror or "invalid data")
                continue
            for f in frames:
                if f.is_corrupt:
                    self._decode_error(f"frame pts {f.pts} flagged corrupt")
                yield f

    def _deinterlaced(self, frames: Iterator[Any]) -> Iterator[Any]:
        mode = self.options.deinterlace
        if mode == "off" or (mode == "auto" and not self.info.interlaced):
            if self.info.interlaced:
                log.warning("%s: interlaced video left interlaced (--deinterlace off)", self.path)
            yield from frames
            return
        if self.info.interlaced:
            log.warning("%s: interlaced video detected; deinterlacing with bwdif (one frame per frame)", self.path)
        self.deinterlaced = True
        g = av.filter.Graph()
        src = g.add_buffer(template=self.stream)
        bw = g.add("bwdif", "mode=send_frame:parity=auto:deint=all")
        sink = g.add("buffersink")
        src.link_to(bw)
        bw.link_to(sink)
        g.configure()
        self._graph = g

        def drain() -> Iterator[Any]:
            while True:
                try:
                    yield g.pull()
                except (av.error.BlockingIOError, av.error.EOFError, BlockingIOError, EOFError):
                    return

        for f in frames:
            g.push(f)
            yield from drain()
        g.push(None)
        yield from drain()

    def origin(self) -> float:
        """Seconds of the file's first timestamp: what --start counts from, and what the encoder subtracts from
        every timestamp so the output starts at 0 (a transport stream can start anywhere, even just before its
        33-bit clock wraps; an MP4 edit list made from that plays half)."""
        start = self.container.start_time
        return float(start) / 1e6 if start is not None and start > 0 else 0.0

    def __iter__(self) -> Iterator[Frame]:
        opts = self.options
        origin = self.origin()
        start, end = opts.start, opts.end
        half = 0.5 / float(self.info.rate or 25)
        if start > 10 or (opts.segment and opts.pts_from is not None):
            self._reopen()  # a fresh container to seek in (not the probe's half-read one)
        if start > 10:  # jump near the start (to a keyframe before it) instead of decoding everything before
            try:
                self.container.seek(int((origin + start - 5) / self.stream.time_base), stream=self.stream,
                                    backward=True)
            except av.error.FFmpegError:
                self._reopen()
        if opts.segment:
            yield from self._segment()
            return
        index = 0
        stopped = False
        for f in self._deinterlaced(self._decoded()):
            if opts.trimmed and f.pts is not None:
                t = float(f.pts * f.time_base) - origin
                if t < start - half:
                    continue
                if end is not None and t >= end - half:
                    stopped = True
                    break
            yield self._frame(f, index)
            index += 1
            if opts.max_frames is not None and index >= opts.max_frames:
                stopped = True
                break
        self.frames_out = index
        if opts.trimmed and index == 0:
            raise InputError(f"{self.path}: no frames between --start {start:g} s and the end of the part asked for")
        if stopped or opts.start > 10:
            return
        # the container's frame count is a hint (edit lists trim it, AVI indexes list empty packets): the
        # file is short only when fewer packets could be read than its index lists
        declared = self.info.frames
        if declared and self.packets < declared:
            msg = truncated_message(self.path, self.packets, declared, index)
            if not self.options.allow_short:
                raise InputError(msg + TRUNCATED_FIX)
            log.warning(msg)
        if self.decode_errors:
            log.warning("%s: %d decode errors concealed", self.path, self.decode_errors)

    def _segment(self) -> Iterator[Frame]:
        """Frames with ``pts_from <= pts < pts_to`` (stream time base), indexed from ``first_index``: seek to
        the keyframe at or before ``pts_from`` (indexed containers), decode from there, drop what comes
        before. Refuses sources whose frames carry no timestamps (their segments cannot be identified)."""
        opts = self.options
        lo, hi = opts.pts_from, opts.pts_to
        if lo is not None and self.container.format.name not in ("mpegts", "h264", "hevc", "mpeg"):
            try:
                self.container.seek(int(lo), stream=self.stream, backward=True, any_frame=False)
            except av.error.FFmpegError:
                self._reopen()
        index = opts.first_index
        for f in self._deinterlaced(self._decoded()):
            if f.pts is None:
                raise InputError(f"{self.path}: frames without timestamps cannot be split into segments; "
                                 f"use --segment-seconds 0 (whole files)")
            if lo is not None and f.pts < lo:
                continue
            if hi is not None and f.pts >= hi:
                break
            yield self._frame(f, index)
            index += 1
        self.frames_out = index - opts.first_index

    def close(self) -> None:
        self.container.close()


class ImageSource:
    """Source stage for a still image or a folder of them (one frame per file, named by stem).

    A folder of frames (e.g. an EXR sequence) plays at ``rate`` frames per second when written as video.
    """

    name = "decode"

    def __init__(self, path: Path, options: DecodeOptions = DecodeOptions(), rate: Fraction = Fraction(24),
                 uniform: bool = False) -> None:
        """``uniform``: every image must have the first one's size (a sequence made into a video)."""
        self.path = path
        self.uniform = uniform
        self.files = list_images(path)
        self.options = options
        sig, depth, is_float = read_image(self.files[0], options.max_pixels)
        self._first: tuple[np.ndarray, int, bool] | None = (sig, depth, is_float)  # read once (its warnings too)
        h, w = sig.shape[:2]
        self._colours: dict[Path, tuple[str, str]] = {}
        transfer, primaries = self._colour(self.files[0], is_float)
        self.info = VideoInfo(
            path=path, width=w, height=h, rate=Fraction(rate), time_base=1 / Fraction(rate), frames=len(self.files),
            codec="image", pix_fmt=f"rgb{depth}", bit_depth=depth, transfer=transfer, primaries=primaries,
            transfer_tag="unknown", is_image=True, scene_linear=is_float,
        )

    def _colour(self, path: Path, is_float: bool) -> tuple[str, str]:
        """(transfer, primaries) of one image: float images are linear BT.709; others as their embedded ICC
        profile says (sRGB, Display P3, Adobe RGB), else sRGB; ``--input-transfer`` overrides the transfer."""
        if is_float:
            return self.options.transfer or "linear", "bt709"
        if path not in self._colours:  # asked for the first file twice (info, then frames): one warning
            self._colours[path] = embedded_colour(path) or ("srgb", "bt709")
        transfer, primaries = self._colours[path]
        return self.options.transfer or transfer, primaries

    def __iter__(self) -> Iterator[Frame]:
        for i, f in enumerate(self.files):
            first, self._first = self._first, None
            sig, _, is_float = first if i == 0 and first is not None else read_image(f, self.options.max_pixels)
            if self.uniform and sig.shape[:2] != (self.info.height, self.info.width):
                raise InputError(f"{f}: is {sig.shape[1]}x{sig.shape[0]} but {self.files[0].name} is "
                                 f"{self.info.width}x{self.info.height}; a sequence needs one size for all its images")
            transfer, primaries = self._colour(f, is_float)
            lin = linearise(sig if is_float else sig.clip(0, 1), transfer, primaries)
            t = torch.from_numpy(np.ascontiguousarray(lin.transpose(2, 0, 1)))
            # scene cuts are judged on a fixed perceptual scale: the code values, or PQ for linear HDR
            hist_src = np.clip(sig, 0, 1) if not is_float else pq_inverse_eotf(lin[::4, ::4].clip(min=0) * REFERENCE_WHITE_NITS)
            yield Frame(index=i, pts=i, time_base=self.info.time_base, data=t, name=f.stem,
                        stats=FrameStats(hist=signal_histogram(hist_src if is_float else hist_src[::4, ::4])))

    def close(self) -> None:
        pass
