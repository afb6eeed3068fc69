"""``convert``: put the stages together for one input and one output, run them, report."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.metadata import patch_content_light_level
from hdrvid.engines import TorchConfig, TorchEngine
from hdrvid.errors import InputError, OutputError
from hdrvid.models import build
from hdrvid.pipeline.atomic import AtomicFile, AtomicFolder, check_destination
from hdrvid.pipeline.batcher import Batcher
from hdrvid.pipeline.decoder import DecodeOptions, ImageSource, VideoDecoder
from hdrvid.pipeline.encoder import EncodeOptions, ImageWriter, VideoEncoder
from hdrvid.pipeline.inference import Inference
from hdrvid.pipeline.output import IMAGE_FORMATS, VIDEO_FORMATS, OutputSpec, OutputTransform
from hdrvid.pipeline.probe import IMAGE_SUFFIXES
from hdrvid.pipeline.runner import Runner, Stage
from hdrvid.pipeline.smoothing import TemporalSmoother

log = logging.getLogger("hdrvid")

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm", ".ts": "mpegts"}
SEQUENCE_PATTERN = "%05d.exr"


@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``hdrvid convert`` can be told. Units: nits for luminance."""

    input: Path
    output: Path
    model: str = "itmo"
    weights: Path | None = None
    format: str | None = None
    peak_nits: float = 1000.0
    reference_white: float = REFERENCE_WHITE_NITS
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    engine: TorchConfig = field(default_factory=TorchConfig)
    batch_size: int = 1
    queue_size: int = 8
    smoothing_period: float = 20.0
    cut_threshold: float = 0.3
    start_number: int = 0
    overwrite: bool = False


def is_image_input(path: Path) -> bool:
    return path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES


@dataclass
class Plan:
    """Where and how the output is written, decided before anything runs."""

    format: str
    kind: str  # "video", "image", "folder", "sequence"
    container: str | None = None
    pattern: str | None = None
    folder: Path | None = None
    """For image sequences: the folder the numbered files go into."""


def plan_output(opts: ConvertOptions, image_input: bool) -> Plan:
    out, fmt = opts.output, opts.format
    suffix = out.suffix.lower()
    is_pattern = "%" in out.name
    if fmt is not None and fmt not in VIDEO_FORMATS + IMAGE_FORMATS:
        raise OutputError(f"unknown --format {fmt}; choose from {', '.join(VIDEO_FORMATS + IMAGE_FORMATS)}")
    if image_input:
        if opts.input.is_dir():
            if suffix in CONTAINERS or suffix in (".exr", ".hdr"):
                raise OutputError(f"{out}: a folder of images converts to a folder; give a folder name")
            return Plan(fmt or "exr", "folder")
        if suffix in (".exr", ".hdr"):
            return Plan(fmt or suffix[1:], "image")
        raise OutputError(f"{out}: a still image converts to .exr or .hdr; change the output name")
    if is_pattern or suffix == ".exr" or fmt == "exr" or (out.is_dir() or suffix == ""):
        if fmt not in (None, "exr"):
            raise OutputError(f"{out}: --format {fmt} needs a video file output (.mp4, .mkv, .mov)")
        if is_pattern:
            return Plan("exr", "sequence", pattern=out.name, folder=out.parent)
        if suffix == ".exr":
            raise OutputError(f"{out}: a video gives many frames; use a pattern like frames/{SEQUENCE_PATTERN} or a folder")
        return Plan("exr", "sequence", pattern=SEQUENCE_PATTERN, folder=out)
    if suffix not in CONTAINERS:
        raise OutputError(f"{out}: unknown output type {suffix!r}; use .mp4, .mkv or .mov (or a folder for EXR)")
    return Plan(fmt or "hdr10", "video", container=CONTAINERS[suffix])


def convert(opts: ConvertOptions, progress: bool = False, extra_stages: list[Stage] | None = None) -> dict[str, Any]:
    """Convert one input to one output; returns the run report. Raises HdrvidError subclasses."""
    image_input = is_image_input(opts.input)
    if not opts.input.exists():
        raise InputError(f"{opts.input}: no such file; check the path")
    plan = plan_output(opts, image_input)
    dest = plan.folder if plan.folder is not None else opts.output
    if plan.kind == "sequence":
        if dest.exists() and any(dest.glob("*.exr")) and not opts.overwrite:
            raise OutputError(f"{dest}: already holds .exr files; pass --overwrite to replace them")
        if opts.input.resolve() == dest.resolve():
            raise OutputError(f"{dest}: output is the input")
    else:
        check_destination([opts.input], dest, opts.overwrite)

    source: Any = ImageSource(opts.input, opts.decode) if image_input else VideoDecoder(opts.input, opts.decode)
    target: AtomicFile | AtomicFolder | None = None
    writer: Any = None
    try:
        info = source.info
        if info.is_hdr and opts.model != "none":
            raise InputError(
                f"{opts.input}: is already HDR ({info.transfer_tag}); use --model none to re-encode it, "
                f"or --input-transfer to override the tag"
            )
        model = build(opts.model, opts.weights)
        engine = TorchEngine(model, opts.engine)
        spec = OutputSpec(plan.format, opts.peak_nits, opts.reference_white, rotation=info.rotation)
        if plan.kind == "video":
            if info.width % 2 or info.height % 2:
                log.warning("%s: %dx%d is odd; 4:2:0 output is padded to %dx%d by repeating the edge",
                            opts.input, info.width, info.height, info.width + info.width % 2, info.height + info.height % 2)
            target = AtomicFile(dest)
            writer = VideoEncoder(target.path, plan.container, spec, info, opts.encode, dest=dest)
        elif plan.kind == "image":
            target = AtomicFile(dest)
            writer = ImageWriter(target.path.parent, plan.format, None, single=target.path)
        else:
            target = AtomicFolder(dest)
            writer = ImageWriter(target.path, plan.format, plan.pattern, opts.start_number)
        batch = 1 if image_input else opts.batch_size
        stages: list[Stage] = [Batcher(batch), Inference(engine), TemporalSmoother(opts.smoothing_period, opts.cut_threshold)]
        stages += [OutputTransform(spec), *(extra_stages or []), writer]
        runner = Runner(source, stages, opts.queue_size)
        bar = _progress(progress, info.frames, str(opts.input.name))
        try:
            stats = runner.run(on_tick=(lambda: bar.update(writer.frames - bar.n)) if bar else None)
            if bar:
                bar.update(writer.frames - bar.n)
        finally:
            if bar:
                bar.close()
        report: dict[str, Any] = {
            "input": str(opts.input), "output": str(opts.output), "model": opts.model, "format": plan.format,
            "engine": engine.name, "batch_size": batch, "queue_size": opts.queue_size,
            "width": info.width, "height": info.height, "frames": writer.frames,
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
        smoother = stages[2]
        report["scene_cuts"] = smoother.cuts  # type: ignore[attr-defined]
        if isinstance(writer, VideoEncoder):
            report["packets_copied"] = writer.packets_copied
            if plan.format == "hdr10":
                cll = writer.light.values()
                patched = patch_content_light_level(target.path, "av1" if "av1" in writer.codec else "hevc", cll)
                if patched == 0:
                    raise OutputError(f"{opts.output}: content light level metadata not found in the encoded stream")
                report.update(max_cll=cll[0], max_fall=cll[1], mastering_peak_nits=opts.peak_nits)
        target.commit()
        return report
    except BaseException:
        if target is not None:
            target.discard()
        raise
    finally:
        source.close()
        if writer is not None:
            writer.close()


def _progress(enabled: bool, total: int, desc: str) -> Any:
    if not enabled or not sys.stderr.isatty():
        return None
    import os

    from tqdm import tqdm

    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        size = os.terminal_size((0, 0))
    # a terminal that reports no size (some ptys) would make tqdm hide the bar
    return tqdm(total=total or None, unit="frame", desc=desc, file=sys.stderr,
                ncols=size.columns if size.columns >= 40 else 100, nrows=size.lines if size.lines > 0 else 24)
