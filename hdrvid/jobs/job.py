"""What every command that runs the pipeline shares: opening the source, the atomic output and its
writer, running the stages with a progress bar, the common report fields, finishing HDR10 metadata."""

from __future__ import annotations

import logging
import os
import shutil
import sys
from contextlib import ExitStack
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

from hdrvid.color.hdr10plus import FrameLight
from hdrvid.color.metadata import LightLevel, MasteringDisplay
from hdrvid.errors import OutputError
from hdrvid.io.atomic import AtomicFile
from hdrvid.io.mp4boxes import add_hdr_boxes
from hdrvid.io.probe import IMAGE_SUFFIXES
from hdrvid.io.report import Report
from hdrvid.machine import numpy_hugepages, opencv_threads, torch_threads_restorer
from hdrvid.pipeline.decoder import DecodeOptions, ImageSource, VideoDecoder
from hdrvid.pipeline.encoder import (
    MEZZANINE,
    EncodeOptions,
    VideoEncoder,
    decoded_light_level,
    matroska_with_hdr_metadata,
    remux_with_light_level,
)
from hdrvid.pipeline.frame import VideoInfo
from hdrvid.pipeline.output import OutputSpec
from hdrvid.pipeline.runner import Runner, RunStats, Stage, run_sequential

log = logging.getLogger("hdrvid")

T = TypeVar("T")
W = TypeVar("W")

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".ts": "mpegts"}
STILL_CONTAINERS = {".avif": "avif"}
"""Still-image outputs written by a video encoder: one frame of 10-bit AV1 (PQ or HLG) in an AVIF file."""


class Job:
    """Owns a run's source, writer and temporary output. Leaving the ``with`` block closes the writer and
    the source, then commits the output (renamed into place) - or, on an exception or interrupt, discards it
    and leaves an existing output as it was."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self._stack = ExitStack()
        self._stack.callback(torch_threads_restorer())  # an engine's --threads ends with the run (last)
        self._stack.callback(source.close)

    def __enter__(self) -> Job:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._stack.__exit__(exc_type, exc, tb)

    def output(self, target: T) -> T:
        """Enter ``target`` (an AtomicFile or AtomicFolder): committed when the job ends well."""
        return self._stack.enter_context(target)  # type: ignore[no-any-return]

    def writer(self, writer: W) -> W:
        """Close ``writer`` when the job ends (before its output is committed)."""
        self._stack.callback(writer.close)
        return writer


def is_image_input(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES


def open_source(path: Path, decode: DecodeOptions, rate: Fraction = Fraction(24), to_video: bool = False) -> Any:
    """A video decoder, or an image source for stills, folders and EXR sequences (played at ``rate``; all one
    size when they become a video)."""
    return ImageSource(path, decode, rate, uniform=to_video) if is_image_input(path) else VideoDecoder(path, decode)


def video_writer(job: Job, dest: Path, container: str | None, spec: OutputSpec, info: VideoInfo,
                 encode: EncodeOptions, overwrite: bool = True, trimmed: bool = False) -> tuple[AtomicFile, VideoEncoder]:
    if info.width % 2 or info.height % 2:
        log.warning("%s: %dx%d is odd; 4:2:0 output is padded to %dx%d by repeating the edge",
                    info.path, info.width, info.height, info.width + info.width % 2, info.height + info.height % 2)
    target = job.output(AtomicFile(dest, overwrite=overwrite))
    return target, job.writer(VideoEncoder(target.path, container, spec, info, encode, dest=dest, trimmed=trimmed))


def estimate_video_bytes(path: Path, info: VideoInfo) -> int:
    """A lower bound on a video output's size: a quarter of the input's (10-bit HEVC at crf 18 is rarely
    smaller), so the free-space check only fails when the output clearly cannot fit."""
    try:
        return path.stat().st_size // 4
    except OSError:
        return 0


def estimate_exr_bytes(info: VideoInfo) -> int:
    """A lower bound on an EXR sequence's size: half-float RGB at 3:1 ZIP compression."""
    return info.width * info.height * 6 * max(1, info.frames) // 3


def check_free_space(dest: Path, needed: int) -> None:
    """Fail at the start, not 170 s in, when the destination's file system clearly cannot hold the output."""
    folder = dest if dest.is_dir() else (dest.parent if str(dest.parent) else Path("."))
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if needed > free:
        raise OutputError(f"{dest}: needs at least {needed / 1e9:.2f} GB but {folder} has {free / 1e9:.2f} GB free; "
                          f"free some space or write elsewhere")


def execute(source: Any, stages: list[Stage], writer: Any, queue_size: int, progress: bool, label: str,
            sequential: bool = False) -> RunStats:
    """Run the stages to the end with a progress bar on a TTY; re-raises the first failure.
    ``sequential``: one frame at a time through every stage in this thread (benchmark baseline)."""
    runner = Runner(source, stages, queue_size)
    if sequential:
        return run_sequential(runner)
    bar = _progress(progress, source.info.frames, label)
    try:
        # the stages are the parallelism (no OpenCV pool spinning beside them); frame arrays on small pages
        with opencv_threads(1), numpy_hugepages(False):
            stats = runner.run(on_tick=(lambda: bar.update(writer.frames - bar.n)) if bar else None)
        if bar:
            bar.update(writer.frames - bar.n)
        return stats
    finally:
        if bar:
            bar.close()


@dataclass
class RunReport(Report):
    """What every pipeline run reports (convert, tonemap); fields that do not apply stay None."""

    input: str
    output: str
    format: str
    width: int = 0
    height: int = 0
    frames: int = 0
    queue_size: int = 0
    seconds: float = 0.0
    fps: float | None = None
    stages: dict[str, float] = field(default_factory=dict)
    stage_fps: dict[str, float | None] = field(default_factory=dict)
    queues: dict[str, dict[str, Any]] = field(default_factory=dict)
    decode_errors: int | None = None
    deinterlaced: bool | None = None
    input_transfer: str | None = None
    input_transfer_tag: str | None = None
    packets_copied: int | None = None
    packets_dropped: int | None = None
    scene_cuts: list[int] = field(default_factory=list)
    max_cll: int | None = None
    max_fall: int | None = None
    mastering_peak_nits: float | None = None
    light_level: str | None = None
    """HDR10: where MaxCLL/MaxFALL came from: "measured" (on the decoded output) or "given" (``--max-cll``)."""

    def add_run(self, stats: RunStats, writer: Any, source: Any, queue_size: int) -> None:
        """The measured run: sizes, frames, time, per-stage busy time and queue occupancy."""
        info = source.info
        self.width, self.height, self.frames, self.queue_size = info.width, info.height, writer.frames, queue_size
        self.seconds = round(stats.seconds, 4)
        self.fps = round(writer.frames / stats.seconds, 3) if stats.seconds > 0 else None
        self.stages = {s.name: round(s.busy_seconds, 4) for s in stats.stages}
        self.stage_fps = {s.name: round(max(s.items_in, s.items_out) / s.busy_seconds, 2) if s.busy_seconds > 0
                          else None for s in stats.stages}
        self.queues = {q.name: q.as_dict() for q in stats.queues}
        if isinstance(source, VideoDecoder):
            self.decode_errors, self.deinterlaced = source.decode_errors, source.deinterlaced
            self.input_transfer, self.input_transfer_tag = info.transfer, info.transfer_tag
        if isinstance(writer, VideoEncoder):
            self.packets_copied = writer.packets_copied
            self.packets_dropped = writer.copies_dropped

    def __str__(self) -> str:
        extra = f", MaxCLL {self.max_cll} / MaxFALL {self.max_fall} nits" if self.max_cll is not None else ""
        if extra and self.light_level == "given":
            extra += " (given by --max-cll)"
        return f"{self.output}: {self.frames} frames, {self.format}, {self.fps} fps{extra}"


def finish_hdr10(writer: VideoEncoder, target: AtomicFile, report: RunReport, peak_nits: float) -> None:
    """Put MaxCLL/MaxFALL in the finished (temporary) file: measured on the frames decoded back from it (so
    they describe what players show, codec included), written by a remux that rewrites the placeholder in the
    video stream's header and packets only (copied streams stay byte-identical). Values given by the user
    (``--max-cll``, ``OutputSpec.content_light``) are in the bitstream already: only the container's copies of
    them are added, with no pass over the file."""
    writer.close()  # the container is complete before it is read again
    dynamic: dict[int, FrameLight] | None = {} if writer.hdr10plus else None
    given = writer.spec.content_light
    meter = writer.meter
    if writer.given_light is not None:  # --max-cll: already in the bitstream as given; nothing to measure
        decoded: LightLevel | None = None
    elif meter is not None and meter.finish() is not None and meter.frames == writer.frames > 0:
        decoded = meter.light  # measured while encoding: no second pass over the file
    else:
        decoded = decoded_light_level(target.path, writer.info.width, writer.info.height, dynamic)
    cll = given if given is not None else (decoded or writer.light).values()
    report.max_cll, report.max_fall, report.mastering_peak_nits = cll[0], cll[1], peak_nits
    report.light_level = "given" if given is not None else "measured"
    if writer.codec in MEZZANINE:  # no SEI to carry them: the container (.mov) and the report do
        if writer.out_format in ("mp4", "mov") and writer.codec.startswith("prores"):
            add_hdr_boxes(target.path, MasteringDisplay(max_nits=peak_nits), cll)
        return
    if writer.given_light is None:  # measured: written over the encoder's placeholder (and HDR10+ SEI)
        with AtomicFile(target.path) as final:
            patched = remux_with_light_level(target.path, final.path, writer.out_format, writer.codec, cll,
                                             target.dest, dynamic)
            if patched == 0:
                raise OutputError(f"{target.dest}: content light level metadata not found in the encoded stream")
    if writer.out_format in ("mp4", "mov"):  # the same values at container level (mdcv + clli boxes)
        add_hdr_boxes(target.path, MasteringDisplay(max_nits=peak_nits), cll)
    if writer.out_format in ("matroska", "webm"):  # ... or Matroska's Colour elements
        with AtomicFile(target.path) as final, AtomicFile(target.path.with_suffix(".hdr.mp4")) as work:
            matroska_with_hdr_metadata(target.path, final.path, MasteringDisplay(max_nits=peak_nits), cll, work.path)
            work.discard()


def _progress(enabled: bool, total: int, desc: str) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        size = os.terminal_size((0, 0))
    # a terminal that reports no size (some ptys) would make tqdm hide the bar
    return tqdm(total=total or None, unit="frame", desc=desc, file=sys.stderr,
                ncols=size.columns if size.columns >= 40 else 100, nrows=size.lines if size.lines > 0 else 24)
