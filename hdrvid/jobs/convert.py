"""``convert``: put the stages together for one input and one output, run them, report."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.kernels import native_available
from hdrvid.color.levels import LEVEL_GAIN, LEVELS, Level
from hdrvid.engines.backends import TorchBackend
from hdrvid.errors import InputError, OptionError, OutputError, check_choice, check_range
from hdrvid.io.atomic import AtomicFile, AtomicFolder, check_destination
from hdrvid.jobs.job import (
    CONTAINERS,
    STILL_CONTAINERS,
    Job,
    RunReport,
    check_free_space,
    estimate_exr_bytes,
    estimate_video_bytes,
    execute,
    finish_hdr10,
    is_image_input,
    open_source,
    video_writer,
)
from hdrvid.models import for_single_exposure, for_upscale, get
from hdrvid.models.arrays import ARRAY_MODELS
from hdrvid.models.registry import VIDEO_MERGES
from hdrvid.pipeline.arrays import ArrayModel, AutoExpand, AutoNetwork
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder
from hdrvid.pipeline.encoder import EncodeOptions, ImageWriter, VideoEncoder, codec_for
from hdrvid.pipeline.frame import VideoInfo
from hdrvid.pipeline.output import (
    IMAGE_FORMATS,
    MAX_PEAK_NITS,
    MIN_PEAK_NITS,
    VIDEO_FORMATS,
    OutputSpec,
    OutputTransform,
    check_content_light,
)
from hdrvid.pipeline.runner import Stage
from hdrvid.pipeline.smoothing import TemporalSmoother
from hdrvid.pipeline.transcode import FusedHdr10, fused_applies
from hdrvid.runtime import EngineOptions

if TYPE_CHECKING:
    from hdrvid.models.cycle import Cycle

# Torch loads with the first model: the model stages (hdrvid.pipeline.batcher, inference, alternating) and the
# executor factory are imported where they are built, so the fused plain transcode starts without torch.

log = logging.getLogger("hdrvid")

SEQUENCE_PATTERN = "%05d.exr"

Mode = Literal["single", "alternating"]
MODES: tuple[str, ...] = get_args(Mode)
"""single: one exposure per frame (inverse tone mapping); alternating: exposures cycle frame to frame."""
OutputFormat = Literal["hdr10", "hlg", "sdr", "exr", "hdr"]
@dataclass(frozen=True)
class ConvertOptions:
    """Everything ``hdrvid convert`` can be told. Units: nits for luminance."""

    input: Path
    output: Path
    model: str = "hdrunet-auto"
    weights: Path | None = None
    format: OutputFormat | None = None
    peak_nits: float = 1000.0
    reference_white: float = REFERENCE_WHITE_NITS
    level: Level = "bt2446a"
    """HDR10/HLG: where SDR tones land (see LEVEL_GAIN); EXR and SDR outputs stay relative to reference white."""
    max_cll: tuple[int, int] | None = None
    """HDR10: MaxCLL and MaxFALL (nits) to write as given instead of measuring them on the decoded output."""
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    engine: EngineOptions = field(default_factory=EngineOptions)
    batch_size: int = 1
    queue_size: int = 8
    smoothing_period: float = 20.0
    cut_threshold: float = 0.3
    start_number: int = 0
    overwrite: bool = False
    rate: Fraction = Fraction(24)
    """Frame rate for image sequences written as video."""
    mode: Mode = "single"
    """"single": one exposure per frame (inverse tone mapping); "alternating": exposures cycle frame to frame."""
    exposures: tuple[float, ...] | None = None
    """Alternating mode: EV of each frame in the cycle (the phase is measured); None measures the cycle too."""
    merge: str = "kalantari"
    """Alternating mode: debevec, flowmerge, ahdr or kalantari."""
    sequential: bool = False
    """Run the stages one frame at a time in one thread (the benchmark's no-pipelining baseline)."""
    upscale: int = 1
    """2: models with a super-resolution variant (``brackets``) output twice the input's width and height."""
    highlight_boost: float = 1.0
    """Strength of the model's expansion: every gain it applies is raised to this power (1 = as trained,
    0 = plain linearisation, 1.5 = half as many stops again). See the model card for what it does per kind of
    footage."""

    average_cap: float = 250.0
    """``hdrunet-auto``: nits of frame-average light (at ``level`` and ``reference_white``) above which its
    BT.2446A curve is lowered, once per shot; 0 = no cap."""

    def __post_init__(self) -> None:
        spec = get(self.model)  # an unknown model names the known ones
        if self.mode == "single" and spec.kind == "multi-exposure":
            raise OptionError(f"--model {self.model} merges alternating exposures: use --mode alternating "
                              f"--merge {self.model}")
        if self.weights is not None and (not spec.learned or self.mode == "alternating"):
            raise OptionError(f"--weights: {'--mode alternating uses the shipped merge weights' if spec.learned else f'{self.model} is classical and has no weights'}; "
                              f"drop --weights or choose a learned --model")
        if self.format is not None:
            check_choice(self.format, VIDEO_FORMATS + IMAGE_FORMATS, "--format")
        check_choice(self.mode, MODES, "--mode")
        check_choice(self.merge, VIDEO_MERGES, "--merge")
        check_range(self.peak_nits, "--peak-nits", MIN_PEAK_NITS, MAX_PEAK_NITS)
        check_range(self.reference_white, "--reference-white", 0, self.peak_nits, low_open=True)
        check_choice(self.level, LEVELS, "--level")
        if self.max_cll is not None:  # (the format is checked once known: OutputSpec)
            check_content_light(self.max_cll, "hdr10")
        check_range(self.highlight_boost, "--highlight-boost", 0, 4)
        check_range(self.average_cap, "--average-cap", 0, MAX_PEAK_NITS)
        check_choice(self.upscale, (1, 2), "--upscale")
        if self.upscale != 1:
            if self.mode == "alternating":
                raise OptionError("--upscale works in single-exposure mode; drop it or --mode alternating")
            _ = self.single_model  # refuses a model without a 2x variant, before any file is opened
        check_range(self.batch_size, "--batch-size", 1, 64)
        check_range(self.queue_size, "--queue-size", 1, 1024)
        check_range(self.smoothing_period, "smoothing period", 0)
        check_range(self.cut_threshold, "scene-cut threshold", 0, 1)
        check_range(self.start_number, "--start-number", 0)
        if not self.rate > 0:
            raise OptionError(f"--rate must be a positive frame rate, not {self.rate}")
        if self.exposures is not None:
            if len(self.exposures) not in (2, 3):
                raise OptionError("--exposures: alternating footage cycles through 2 or 3 exposures")
            for ev in self.exposures:
                check_range(ev, "--exposures (EV)", -16, 16)

    @property
    def single_model(self) -> str:
        """The registry name run on single-exposure footage (``--model diffhdr`` -> ``diffhdr-single``,
        ``--model brackets --upscale 2`` -> ``brackets-2x``)."""
        return for_upscale(for_single_exposure(self.model), self.upscale)


def output_info(opts: ConvertOptions, info: VideoInfo) -> VideoInfo:
    """The stream facts the writer is given: the source's, at the model's output size."""
    k = get(opts.single_model).output_scale
    return info if k == 1 else replace(info, width=k * info.width, height=k * info.height)


@dataclass
class ConvertReport(RunReport):
    """``hdrvid convert``'s report (``--report`` writes :meth:`as_dict`)."""

    model: str = ""
    engine: str = ""
    batch_size: int = 1
    network_tile_share: float | None = None
    mode: str | None = None
    merge: str | None = None
    exposures: list[float] | None = None
    level: str | None = None
    reference_white_nits: float | None = None
    """Nits of SDR reference white in the output (``--reference-white`` x the ``--level`` gain)."""
    above_reference_white: float | None = None
    """Share of output pixels brighter than SDR reference white."""
    graded_weight: float | None = None
    """``hdrunet-auto``: mean weight of BT.2446A's inverse curve over the frames (0 = the input was treated as
    camera footage that clips at white, 1 = as graded footage with a shoulder)."""
    curve_weight: float | None = None
    """``hdrunet-auto``: the curve's mean weight as applied, after the cap on a frame's average light (below
    ``graded_weight`` on bright footage: white walls, snow)."""
    cap_gain: float | None = None
    """``hdrunet-auto``: the average-light cap's mean gain over the frames (1: none); the cap keeps the curve on frames
    whose top code is empty (a grade's) and holds their average light down by this gain instead."""
    graded_boost: float | None = None
    """``hdrunet-auto``: mean stops added to the clipped highlights of frames treated as graded whose top code is
    nearly empty (``models.hdrunet.GRADED_BOOST``), over all frames."""
    blob_level: float | None = None
    """``hdrunet-auto``: mean over the frames of the stops the per-blob level (``models.blob_level``) added where it
    acted, weighted by its mask (negative: it dimmed the clipped highlights)."""
    blend_graded: float | None = None
    """``brackets``: the blend mask's mean shoulder weight over the frames (1 = graded footage, blended from code
    ~246; 0 = camera footage, from ~252.5 through the codec-block filter and the edge gate)."""
    expansion_cap: float | None = None
    """``itmo``: the average-light cap's mean factor on the expansion over the frames (1: none)."""

    @property
    def curve_lowered(self) -> bool:
        """The average-light cap lowered the curve below the detector's weight (on average over the frames)."""
        return self.curve_weight is not None and self.curve_weight < (self.graded_weight or 0.0) - 0.005

    @property
    def expansion_held(self) -> bool:
        """``itmo``'s average-light cap scaled its expansion down (on average over the frames)."""
        return self.expansion_cap is not None and self.expansion_cap < 0.995

    def __str__(self) -> str:
        line = super().__str__()
        if self.above_reference_white is not None and self.format in ("hdr10", "hlg"):
            share = 100 * self.above_reference_white
            line += f"; {share:.1f}% of pixels above reference white ({self.reference_white_nits:g} nits)"
            if share < 0.5 and self.model not in ("none",):
                held = (self.curve_lowered or (self.cap_gain is not None and self.cap_gain < 0.995)
                        or self.expansion_held)
                line += (" - almost nothing was expanded" + (" (held down by --average-cap)" if held
                                                             else " (no clipped highlights in this input?)"))
        if self.graded_weight is not None:
            curve = f"BT.2446A curve at {self.graded_weight:.2f}"
            if self.curve_lowered:
                curve += f", lowered to {self.curve_weight:.2f} to keep the frame-average light down"
            if self.cap_gain is not None and self.cap_gain < 0.995:
                curve += f", frame-average light held down by a gain of {self.cap_gain:.2f}"
            if self.graded_boost is not None and self.graded_boost >= 0.005:
                curve += f", clipped highlights +{self.graded_boost:.2f} stops"
            if self.blob_level is not None and abs(self.blob_level) >= 0.005:
                curve += f", clipped blobs {self.blob_level:+.2f} stops"
            if self.blend_graded is not None:  # brackets: where its fused light is blended in
                curve += ", blended from code ~246" if self.blend_graded >= 0.5 else ", blended from code ~252.5"
            line += (f"; treated as graded footage ({curve}; --model hdrunet keeps recorded pixels as decoded)"
                     if self.graded_weight >= 0.5 else f"; treated as camera footage ({curve})")
        elif self.blend_graded is not None:
            line += (f"; treated as graded footage (blended from code ~246, weight {self.blend_graded:.2f})"
                     if self.blend_graded >= 0.5 else
                     f"; treated as camera footage (blended from code ~252.5, weight {self.blend_graded:.2f})")
        if self.expansion_held:
            line += f"; expansion held down by --average-cap (mean factor {self.expansion_cap:.2f})"
        return line


MODEL_MEANS = {"graded_weight": "mean_shoulder_weight", "curve_weight": "mean_curve_weight", "cap_gain": "mean_cap_gain",
               "graded_boost": "mean_graded_boost", "blob_level": "mean_blob_level",
               "blend_graded": "mean_blend_weight", "expansion_cap": "mean_cap_factor"}
"""Report field -> the model's method that gives its mean over the run (``hdrunet-auto`` and the models that
wrap it: ``models.hdrunet.WrapsBase``; ``brackets``; ``itmo``, torch module or numpy ``fn``); a stills run reports
the mean over its pictures."""


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
    if out.exists() and not (out.is_file() or out.is_dir()):
        raise OutputError(f"{out}: is a device or special file, not a place for an output; give a file name")
    suffix = out.suffix.lower()
    is_pattern = "%" in out.name
    if fmt is not None and fmt not in VIDEO_FORMATS + IMAGE_FORMATS:
        raise OutputError(f"unknown --format {fmt}; choose from {', '.join(VIDEO_FORMATS + IMAGE_FORMATS)}")
    if image_input:
        if opts.input.is_dir():
            if suffix in CONTAINERS and fmt in (None, "hdr10", "hlg", "sdr"):  # an image sequence to video
                return Plan(fmt or "hdr10", "video", container=CONTAINERS[suffix])
            if suffix in (".exr", ".hdr") or suffix in STILL_CONTAINERS:
                raise OutputError(f"{out}: a folder of images converts to a folder (or a video); give a folder name")
            if fmt in ("hdr10", "hlg"):  # a folder of photos -> a folder of HDR AVIF stills, one per photo
                plan = Plan(fmt, "stills", container=STILL_CONTAINERS[".avif"], folder=out)
                codec_for(plan.container, plan.format, opts.encode.codec, out)
                return plan
            if fmt in VIDEO_FORMATS:
                raise OutputError(f"{out}: a folder of images converts to a folder of .exr (or .hdr with --format hdr, "
                                  f".avif with --format hdr10 or hlg) images, not {fmt}; give a .mp4 name for a video")
            return Plan(fmt or "exr", "folder")
        if is_pattern:
            raise OutputError(f"{out}: a still image gives one file, not numbered frames; name it, e.g. "
                              f"{opts.input.stem}.exr")
        if suffix in (".exr", ".hdr"):
            if fmt not in (None, suffix[1:]):
                raise OutputError(f"{out}: a {suffix} file holds {suffix[1:]}, not {fmt}; drop --format {fmt}"
                                  + (" or name the output .avif" if fmt in ("hdr10", "hlg") else ""))
            return Plan(suffix[1:], "image")
        if suffix in STILL_CONTAINERS:
            if fmt not in (None, "hdr10", "hlg"):
                raise OutputError(f"{out}: an AVIF still holds HDR10 (PQ) or HLG, not {fmt}; use --format hdr10 or hlg")
            plan = Plan(fmt or "hdr10", "video", container=STILL_CONTAINERS[suffix])
            codec_for(plan.container, plan.format, opts.encode.codec, out)
            return plan
        raise OutputError(f"{out}: a still image converts to .exr, .hdr or .avif; change the output name")
    if suffix in STILL_CONTAINERS:
        raise OutputError(f"{out}: .avif takes a still picture; write a video to .mp4, .mkv or .mov")
    if fmt == "exr" and suffix in CONTAINERS:
        raise OutputError(f"{out}: --format exr writes a folder of frames; give a folder name or a pattern like "
                          f"{out.with_suffix('')}/{SEQUENCE_PATTERN}")
    if is_pattern or suffix == ".exr" or fmt == "exr" or (out.is_dir() or suffix == ""):
        if fmt not in (None, "exr"):
            raise OutputError(f"{out}: --format {fmt} needs a video file output (.mp4, .mkv, .mov)")
        if is_pattern:
            sequence_regex(out.name)  # exactly one integer field
            return Plan("exr", "sequence", pattern=out.name, folder=out.parent)
        if suffix == ".exr":
            raise OutputError(f"{out}: a video gives many frames; use a pattern like frames/{SEQUENCE_PATTERN} or a folder")
        return Plan("exr", "sequence", pattern=SEQUENCE_PATTERN, folder=out)
    if suffix not in CONTAINERS:
        raise OutputError(f"{out}: unknown output type {suffix!r}; use .mp4, .mkv or .mov (or a folder for EXR)")
    plan = Plan(fmt or "hdr10", "video", container=CONTAINERS[suffix])
    codec_for(plan.container, plan.format, opts.encode.codec, out)  # e.g. .webm refuses x265 before any work
    return plan


def sequence_regex(pattern: str) -> re.Pattern[str]:
    """The file names an image-sequence pattern writes. The pattern must hold exactly one integer field
    (``%d``, ``%05d``, ``%5d``); ``%%`` is a literal percent sign; anything else with ``%`` is refused."""
    fields, parts, pos = 0, [], 0
    for m in re.finditer(r"%(%|0?\d*d)|%", pattern):
        parts.append(re.escape(pattern[pos:m.start()]))
        token = m.group(0)
        if token == "%%":
            parts.append("%")
        elif m.group(1):
            fields += 1
            parts.append(r"\d+")
        else:
            fields = -99
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    if fields != 1 or "/" in pattern:
        raise OutputError(f"{pattern}: an image-sequence name needs exactly one frame-number field such as %05d "
                          f"(write a literal % as %%), e.g. frame_%05d.exr")
    return re.compile("".join(parts))


def check_sdr_source(opts: ConvertOptions, info: VideoInfo) -> None:
    """Only --model none re-encodes an HDR source; every other model expands SDR."""
    if info.is_hdr and opts.model != "none":
        raise InputError(
            f"{opts.input}: is already HDR ({'linear float' if info.scene_linear else info.transfer_tag}); "
            f"use --model none to re-encode it, hdrvid tonemap to make SDR, or --input-transfer to override"
        )


def model_stages(opts: ConvertOptions, info: VideoInfo, image_input: bool, executor: Any = None,
                 owns_executor: bool = True, streaming: bool = False) -> tuple[list[Stage], str, Any, Cycle | None]:
    """The stages that turn decoded frames into HDR radiance (batching + inference, or the alternating
    merge), the engine's name, the single-exposure executor (None in alternating mode) and the exposure
    cycle (alternating mode). ``executor``: reuse this one (``hdrvid batch`` loads a model once per worker);
    ``owns_executor``: the stage closes it at the end; ``streaming``: a video encoder runs beside the model
    (:func:`single_engine_options`)."""
    from hdrvid.pipeline.batcher import Batcher
    from hdrvid.pipeline.inference import Inference
    from hdrvid.runtime import make_executor

    if opts.mode == "alternating":
        from hdrvid.pipeline.alternating import AlternatingMerge, detect_cycle, make_merger

        cycle = detect_cycle(opts.input, replace(opts.decode, pts_from=None, pts_to=None, first_index=0),
                             opts.exposures)
        log.info("exposure cycle %s (measured %s; response power %.2f)", cycle.exposures,
                 [round(v, 2) for v in cycle.measured], cycle.response_power)
        return [AlternatingMerge(make_merger(opts.merge, engine=opts.engine), cycle)], opts.merge, None, cycle
    engine = executor if executor is not None else make_executor(opts.single_model, opts.weights,
                                                                 single_engine_options(opts, info, streaming))
    set_average_cap(engine, opts)
    weights = str(opts.weights) if opts.weights else f"the shipped {opts.model} weights"
    inference = Inference(engine, weights, video=not image_input, cut_threshold=opts.cut_threshold,
                          boost=opts.highlight_boost, owns_executor=owns_executor)
    stages: list[Stage] = [Batcher(1 if image_input else opts.batch_size), *inference.stages()]
    return stages, engine.name, engine, None


def set_average_cap(engine: Any, opts: ConvertOptions) -> None:
    """``--average-cap`` (nits at the output's level) as the model's own relative cap (``hdrunet-auto``,
    ``brackets``, ``itmo``)."""
    cap_model(getattr(engine, "model", None), opts)


def cap_model(model: Any, opts: ConvertOptions) -> None:
    """:func:`set_average_cap` on a model (or the numpy path's ``fn``) that has an ``average_cap``."""
    if model is not None and hasattr(model, "average_cap"):
        white = opts.reference_white * LEVEL_GAIN[opts.level]
        model.average_cap = opts.average_cap / white if opts.average_cap > 0 else math.inf


def output_spec(opts: ConvertOptions, fmt: str, info: VideoInfo) -> OutputSpec:
    """The output transform's settings for format ``fmt``. SDR output: BT.2390's EETF from the frame's peak
    to SDR white (the identity below its knee, so SDR input converted with --model none comes back
    unchanged; a model's highlights are rolled off). A PQ or HLG source (``--model none``) keeps its light:
    ``--level`` and ``--reference-white`` place SDR tones and do not apply to it (they doubled an HDR10 file's
    level). Float images (EXR, relative to reference white like hdrvid's own EXR output) follow ``--level``."""
    if info.transfer in ("pq", "hlg"):  # display light already (decoded with white at 203 nits): kept as it is
        white = REFERENCE_WHITE_NITS
    else:
        white = opts.reference_white * (LEVEL_GAIN[opts.level] if fmt in ("hdr10", "hlg") else 1.0)
    return OutputSpec(fmt, opts.peak_nits, min(white, opts.peak_nits), rotation=info.rotation,
                      sdr_mapping=opts.decode.sdr_mapping, operator="bt2390", content_light=opts.max_cll)


def model_path(opts: ConvertOptions, spec: OutputSpec, info: VideoInfo, plan: Plan, source: Any, image_input: bool,
               extra_stages: list[Stage] | None = None, reuse: Callable[[], Any] | None = None,
               ) -> tuple[bool, list[Stage], str, Any, Cycle | None]:
    """How frames become HDR radiance in this conversion, the fastest way that gives the same picture: (fused: one
    stage does the model and the output transform, the model's stages, the engine's name, the single-exposure
    executor or None, the exposure cycle). The fused plain transcode (``--model none``), the default model without
    torch, a classical model in numpy, else :func:`model_stages` (``reuse``: returns the executor to run there and
    not close, built only when that path is taken: ``hdrvid batch`` loads a model once per worker). Sets the
    decoder's frame type for the first three. ``convert`` and every ``hdrvid batch`` segment take the same path,
    so a joined batch is the single run's picture (they differed by a code value at a few pixels when the worker
    always ran torch)."""
    video = isinstance(source, VideoDecoder)
    if uses_fused_transcode(opts, spec, info, plan) and not extra_stages:
        assert video
        source.raw = True
        kernel = "C kernels" if native_available() else "numba kernels"
        return True, [], f"fused ({kernel}, no model)", None, None
    if video and (auto := auto_arrays(opts, spec, info, plan, extra_stages)):
        source.arrays = True  # the default model in numpy and ONNX Runtime: torch is never loaded
        set_average_cap(auto, opts)
        return False, [AutoNetwork(auto), AutoExpand(auto, opts.model, opts.cut_threshold)], auto.name, auto, None
    if uses_array_model(opts, spec, info, plan) and not extra_stages and video:
        source.arrays = True  # every stage takes numpy frames: torch is never loaded
        fn = ARRAY_MODELS[opts.model]()
        cap_model(fn, opts)
        return False, [ArrayModel(fn, opts.model, video=not image_input, cut_threshold=opts.cut_threshold)], \
            "numpy (OpenCV, no torch)", None, None
    executor = reuse() if reuse is not None else None
    first, engine_name, engine, cycle = model_stages(opts, info, image_input, executor, executor is None,
                                                     streaming=plan.kind == "video")
    return False, first, engine_name, engine, cycle


def light_stages(opts: ConvertOptions, spec: OutputSpec, info: VideoInfo, fused: bool, first: list[Stage],
                 ) -> tuple[TemporalSmoother | FusedHdr10, OutputTransform | FusedHdr10, list[Stage]]:
    """The stages from decoded frames to output light, after :func:`model_path` (``fused``, ``first``): (the stage
    that finds scene cuts, the output transform, all of them in order). The fused transcode is one stage doing both;
    otherwise the model's stages, the temporal smoother and the output transform. ``convert`` and every ``hdrvid
    batch`` segment build them here."""
    if fused:
        both = FusedHdr10(spec, info.transfer, info.primaries, opts.cut_threshold)
        return both, both, [both]
    smoother, transform = TemporalSmoother(opts.smoothing_period, opts.cut_threshold), OutputTransform(spec)
    return smoother, transform, [*first, smoother, transform]


def uses_fused_transcode(opts: ConvertOptions, spec: OutputSpec, info: VideoInfo, plan: Plan) -> bool:
    """The plain transcode (``--model none`` to an HDR10 video, SDR video input) runs as one fused stage
    (:mod:`hdrvid.pipeline.transcode`): same picture within one code value, no torch, a fraction of the work."""
    return (opts.model == "none" and opts.mode == "single" and opts.upscale == 1 and plan.kind == "video"
            and not info.is_image and fused_applies(spec, info.transfer, info.primaries))


def uses_array_model(opts: ConvertOptions, spec: OutputSpec, info: VideoInfo, plan: Plan) -> bool:
    """A classical model with a numpy implementation (``models.arrays``: ``itmo``, ``none``) to an HDR10 video
    runs on numpy frames without torch (the torch module's picture within float rounding): on the CPU, whole
    frames, no highlight boost (its maths is torch's)."""
    backend = opts.engine.backend
    return (opts.mode == "single" and opts.model in ARRAY_MODELS and opts.upscale == 1 and plan.kind == "video"
            and not info.is_image and opts.weights is None and opts.highlight_boost == 1.0
            and OutputTransform(spec).takes_arrays and spec.format == "hdr10" and opts.engine.tile == 0
            and isinstance(backend, TorchBackend) and backend.device == "cpu")


def auto_arrays(opts: ConvertOptions, spec: OutputSpec, info: VideoInfo, plan: Plan,
                extra_stages: list[Stage] | None) -> Any:
    """The default model's torch-free executor (:mod:`hdrvid.engines.array_executor`) when it runs this conversion,
    else None: the model ships the files (``ModelSpec.arrays``), a video to HDR10 through the compiled kernels, its
    shipped weights on the CPU in the fast mode with the int8 network (``--precision int8``, or ``auto`` on a CPU
    without native bf16, where ``auto`` picks int8), whole frames the fast mode downscales, no
    highlight boost. The same picture as the torch executor within float rounding (tests); torch is never loaded."""
    from hdrvid.engines.array_executor import auto_arrays_executor, runs_torch_free
    from hdrvid.engines.plan import ExecutionPlan

    if (opts.mode != "single" or opts.upscale != 1 or plan.kind != "video" or info.is_image or extra_stages
            or get(opts.single_model).arrays is None or opts.weights is not None or opts.highlight_boost != 1.0
            or spec.format != "hdr10" or not OutputTransform(spec).takes_arrays):
        return None
    eng = single_engine_options(opts, info, streaming=True)
    scale = float(eng.infer_scale or 1.0)
    if not runs_torch_free(opts.single_model, eng.backend, eng.tile, info.height, info.width, scale):
        return None
    threads = getattr(eng.backend, "threads", None)
    return auto_arrays_executor(opts.single_model, ExecutionPlan(overlap=eng.overlap, infer_scale=scale), threads)


def single_engine_options(opts: ConvertOptions, info: VideoInfo, streaming: bool = False) -> EngineOptions:
    """The engine options of a single-exposure run (``--infer-scale auto`` resolved for the frame size; with
    ``streaming``, a video encoder beside the model, the CPU threads planned with it: ``runtime.options.
    streaming_threads``)."""
    eng = opts.engine
    if streaming:
        from hdrvid.runtime import streaming_threads

        eng = streaming_threads(eng, get(opts.single_model).encoder_thread_share)
    if get(opts.single_model).output_scale != 1 and get(opts.single_model).base is None:
        if eng.infer_scale not in (None, 1.0) or eng.tile:
            raise OptionError(f"--model {opts.single_model} runs on whole frames at full resolution: drop --infer-scale "
                              f"and --tile")
        return replace(eng, infer_scale=1.0)
    if eng.infer_scale is None:
        from hdrvid.runtime import auto_scale

        eng = replace(eng, infer_scale=auto_scale(eng.device, info.width))
    return eng


def convert(opts: ConvertOptions, progress: bool = False, extra_stages: list[Stage] | None = None) -> ConvertReport:
    """Convert one input to one output; returns the run report. Raises HdrvidError subclasses."""
    image_input = is_image_input(opts.input)
    if not opts.input.exists():
        raise InputError(f"{opts.input}: no such file; check the path")
    plan = plan_output(opts, image_input)
    if plan.kind == "stills":
        return convert_stills(opts, plan, progress)
    dest = plan.folder if plan.folder is not None else opts.output
    if plan.kind == "sequence":
        if dest.exists() and any(dest.glob("*.exr")) and not opts.overwrite:
            raise OutputError(f"{dest}: already holds .exr files; pass --overwrite to replace them")
        if opts.input.resolve() == dest.resolve():
            raise OutputError(f"{dest}: output is the input")
        if dest.exists() and not dest.is_dir():
            raise OutputError(f"{dest}: is a file, not a folder for EXR frames; choose a folder name")
    else:
        check_destination([opts.input], dest, opts.overwrite)

    with Job(open_source(opts.input, opts.decode, opts.rate, to_video=plan.kind == "video")) as job:
        source = job.source
        info = source.info
        if opts.mode == "alternating" and image_input:
            raise InputError(f"{opts.input}: alternating mode takes a video; merge still brackets with hdrvid merge")
        check_sdr_source(opts, info)
        spec = output_spec(opts, plan.format, info)
        fused, first, engine_name, engine, cycle = model_path(opts, spec, info, plan, source, image_input,
                                                               extra_stages)
        writer: Any
        target: AtomicFile | AtomicFolder
        if plan.kind == "video":
            check_free_space(dest, estimate_video_bytes(opts.input, info))
            target, writer = video_writer(job, dest, plan.container, spec, output_info(opts, info), opts.encode,
                                          opts.overwrite,
                                          trimmed=opts.decode.trimmed and not info.is_image)
        elif plan.kind == "image":
            target = job.output(AtomicFile(dest, overwrite=opts.overwrite))
            writer = job.writer(ImageWriter(target.path.parent, plan.format, None, single=target.path))
        else:
            check_free_space(dest, estimate_exr_bytes(info))
            replace_names = sequence_regex(plan.pattern) if plan.pattern else None
            target = job.output(AtomicFolder(dest, overwrite=opts.overwrite, replace=replace_names))
            writer = job.writer(ImageWriter(target.path, plan.format, plan.pattern, opts.start_number))
        batch = 1 if image_input else opts.batch_size
        smoother, transform, core = light_stages(opts, spec, info, fused, first)
        stages = [*core, *(extra_stages or []), writer]
        stats = execute(source, stages, writer, opts.queue_size, progress, opts.input.name, opts.sequential)
        report = ConvertReport(input=str(opts.input), output=str(opts.output), model=opts.model, format=plan.format,
                               engine=engine_name, batch_size=batch)
        if engine is not None and engine.active_share is not None:
            report.network_tile_share = round(engine.active_share, 3)
        model = getattr(engine, "model", None) if engine is not None else (
            getattr(first[0], "fn", None) if first else None)  # the numpy path's fn
        for field_name, method in MODEL_MEANS.items():  # the model's per-run decisions (None where it has none)
            mean = getattr(model, method, None)
            value = mean() if callable(mean) else None
            setattr(report, field_name, round(float(value), 3) if value is not None else None)
        if cycle is not None:
            report.mode, report.merge, report.exposures, report.model = ("alternating", opts.merge,
                                                                          list(cycle.exposures), opts.merge)
        report.add_run(stats, writer, source, opts.queue_size)
        report.scene_cuts = smoother.cuts
        report.above_reference_white = round(transform.above_white_share(), 4)
        report.level, report.reference_white_nits = opts.level, spec.reference_white
        if isinstance(writer, VideoEncoder) and plan.format == "hdr10":
            assert isinstance(target, AtomicFile)
            finish_hdr10(writer, target, report, opts.peak_nits)
    return report


def convert_stills(opts: ConvertOptions, plan: Plan, progress: bool = False) -> ConvertReport:
    """A folder of photos to a folder of HDR AVIF stills (``<stem>.avif``), each photo converted on its own (its
    own shot, so ``hdrunet-auto`` decides camera or graded per photo). All or nothing: the stills are written
    into a temporary folder that replaces nothing until every photo has converted."""
    from hdrvid.io.images import list_images

    dest = opts.output
    files = list_images(opts.input)
    stems: dict[str, Path] = {}
    for f in files:
        if f.suffix.lower() in (".exr", ".hdr"):
            raise InputError(f"{f}: is already HDR; convert SDR photos only, or move it out of {opts.input}")
        if f.stem in stems:
            raise OutputError(f"{dest}: {stems[f.stem].name} and {f.name} would both be {f.stem}.avif; rename one")
        stems[f.stem] = f
    check_destination([opts.input, *files], dest, opts.overwrite)
    reports: list[ConvertReport] = []
    with AtomicFolder(dest, overwrite=opts.overwrite) as folder:
        for f in files:
            reports.append(convert(replace(opts, input=f, output=folder.path / f"{f.stem}.avif"), progress))
    first = reports[0]
    report = replace(first, input=str(opts.input), output=str(dest), frames=len(reports),
                     seconds=round(sum(r.seconds for r in reports), 4), stages={}, stage_fps={}, queues={})
    report.fps = round(len(reports) / report.seconds, 3) if report.seconds > 0 else None
    report.width, report.height = max(r.width for r in reports), max(r.height for r in reports)
    for name in ("max_cll", "max_fall"):
        values = [getattr(r, name) for r in reports if getattr(r, name) is not None]
        setattr(report, name, max(values) if values else None)
    shares = [r.above_reference_white for r in reports if r.above_reference_white is not None]
    report.above_reference_white = round(sum(shares) / len(shares), 4) if shares else None
    for field_name in MODEL_MEANS:
        values = [getattr(r, field_name) for r in reports if getattr(r, field_name) is not None]
        setattr(report, field_name, round(sum(values) / len(values), 3) if values else None)
    return report

