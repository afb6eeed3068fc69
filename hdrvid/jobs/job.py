"""What every command that runs the pipeline shares: opening the source, the atomic output and its
writer, running the stages with a progress bar, the common report fields, finishing HDR10 metadata."""

from __future__ import annotations

import logging
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from hdrvid.color.metadata import patch_content_light_level
from hdrvid.errors import OutputError
from hdrvid.io.atomic import AtomicFile, AtomicFolder
from hdrvid.io.probe import IMAGE_SUFFIXES
from hdrvid.pipeline.decoder import DecodeOptions, ImageSource, VideoDecoder
from hdrvid.pipeline.encoder import EncodeOptions, VideoEncoder
from hdrvid.pipeline.frame import VideoInfo
from hdrvid.pipeline.output import OutputSpec
from hdrvid.pipeline.runner import Runner, RunStats, Stage, run_sequential

log = logging.getLogger("hdrvid")

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".ts": "mpegts"}


class Job:
    """Owns a run's source, writer and temporary output: on leaving the ``with`` block the source and
    writer are closed, and on an exception (or interrupt) the temporary output is discarded."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.target: AtomicFile | AtomicFolder | None = None
        self.writer: Any = None

    def __enter__(self) -> Job:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None and self.target is not None:
                self.target.discard()
        finally:
            self.source.close()
            if self.writer is not None:
                self.writer.close()


def is_image_input(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES


def open_source(path: Path, decode: DecodeOptions, rate: Fraction = Fraction(24)) -> Any:
    """A video decoder, or an image source for stills, folders and EXR sequences (played at ``rate``)."""
    return ImageSource(path, decode, rate) if is_image_input(path) else VideoDecoder(path, decode)


def video_writer(dest: Path, container: str | None, spec: OutputSpec, info: VideoInfo,
                 encode: EncodeOptions) -> tuple[AtomicFile, VideoEncoder]:
    if info.width % 2 or info.height % 2:
        log.warning("%s: %dx%d is odd; 4:2:0 output is padded to %dx%d by repeating the edge",
                    info.path, info.width, info.height, info.width + info.width % 2, info.height + info.height % 2)
    target = AtomicFile(dest)
    try:
        return target, VideoEncoder(target.path, container, spec, info, encode, dest=dest)
    except BaseException:
        target.discard()
        raise


def execute(source: Any, stages: list[Stage], writer: Any, queue_size: int, progress: bool, label: str,
            sequential: bool = False) -> RunStats:
    """Run the stages to the end with a progress bar on a TTY; re-raises the first failure.
    ``sequential``: one frame at a time through every stage in this thread (benchmark baseline)."""
    runner = Runner(source, stages, queue_size)
    if sequential:
        return run_sequential(runner)
    bar = _progress(progress, source.info.frames, label)
    try:
        stats = runner.run(on_tick=(lambda: bar.update(writer.frames - bar.n)) if bar else None)
        if bar:
            bar.update(writer.frames - bar.n)
        return stats
    finally:
        if bar:
            bar.close()


def base_report(stats: RunStats, writer: Any, source: Any, queue_size: int) -> dict[str, Any]:
    info = source.info
    report: dict[str, Any] = {
        "width": info.width, "height": info.height, "frames": writer.frames, "queue_size": queue_size,
        "seconds": round(stats.seconds, 4),
        "fps": round(writer.frames / stats.seconds, 3) if stats.seconds > 0 else None,
        "stages": {s.name: round(s.busy_seconds, 4) for s in stats.stages},
        "stage_fps": {s.name: round(max(s.items_in, s.items_out) / s.busy_seconds, 2) if s.busy_seconds > 0 else None
                      for s in stats.stages},
        "queues": {q.name: q.as_dict() for q in stats.queues},
    }
    if isinstance(source, VideoDecoder):
        report.update(decode_errors=source.decode_errors, deinterlaced=source.deinterlaced,
                      input_transfer=info.transfer, input_transfer_tag=info.transfer_tag)
    if isinstance(writer, VideoEncoder):
        report["packets_copied"] = writer.packets_copied
    return report


def finish_hdr10(writer: VideoEncoder, target: AtomicFile, output: Path, peak_nits: float) -> dict[str, Any]:
    """Write the measured MaxCLL/MaxFALL over the placeholder in the finished (temporary) file."""
    cll = writer.light.values()
    patched = patch_content_light_level(target.path, "av1" if "av1" in writer.codec else "hevc", cll)
    if patched == 0:
        raise OutputError(f"{output}: content light level metadata not found in the encoded stream")
    return {"max_cll": cll[0], "max_fall": cll[1], "mastering_peak_nits": peak_nits}


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
