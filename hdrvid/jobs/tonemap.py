"""``tonemap``: HDR video (HDR10, HLG) or EXR sequences down to SDR, or to a lower-peak HDR10.

Stages: decode -> statistics (streaming IIR smoother, or a first pass over the whole input with
``two_pass``) -> output transform (gamut mapping, operator, encoding) -> [flicker meter] -> encode.
The source peak the operators work from honours the input's HDR10 static metadata (MaxCLL, else the
mastering display peak) when present, and is measured when absent (see ``OutputSpec.peak_mode``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.gamut import GAMUT_MODES, GamutMode, gamut_compress
from hdrvid.color.levels import LEVEL_GAIN, LEVELS, SDR_MAPPING_TRANSFER, Level, SdrMapping
from hdrvid.color.operators import OPERATORS, ToneStats
from hdrvid.color.transfer import ENCODERS
from hdrvid.errors import InputError, OptionError, OutputError, check_choice, check_range
from hdrvid.io.atomic import check_destination
from hdrvid.io.images import write_png
from hdrvid.io.sheets import label
from hdrvid.jobs.job import CONTAINERS, Job, RunReport, execute, finish_hdr10, open_source, video_writer
from hdrvid.lazy import cv2, torch
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder
from hdrvid.pipeline.encoder import EncodeOptions
from hdrvid.pipeline.frame import Frame, VideoInfo
from hdrvid.pipeline.output import (
    MAX_PEAK_NITS,
    MIN_PEAK_NITS,
    PEAK_MODES,
    FlickerStage,
    OutputSpec,
    OutputTransform,
    PeakMode,
    check_content_light,
)
from hdrvid.pipeline.runner import Stage
from hdrvid.pipeline.smoothing import (
    PrecomputedStats,
    SceneCuts,
    TemporalSmoother,
    frame_statistics,
)


@dataclass(frozen=True)
class TonemapOptions:
    input: Path
    output: Path
    operator: str = "bt2390"
    gamut: GamutMode = "compress"
    target_nits: float | None = None
    """Map to a lower-peak HDR10 output instead of SDR."""
    max_cll: tuple[int, int] | None = None
    """HDR10 output (``target_nits``): MaxCLL and MaxFALL to write as given instead of measuring them."""
    two_pass: bool = False
    peak_mode: PeakMode = "auto"
    reference_white: float = REFERENCE_WHITE_NITS
    level: Level = "bt2446a"
    """SDR output: the HDR level that becomes SDR white is ``reference_white`` x the level's gain (the inverse
    of ``convert --level``; see :mod:`hdrvid.color.levels`)."""
    sdr_mapping: SdrMapping = "scene"
    """How the SDR output's signal relates to light (see :mod:`hdrvid.color.levels`)."""
    smoothing_period: float = 20.0
    cut_threshold: float = 0.3
    measure_flicker: bool = True
    """Report the frame-to-frame change of mean log luminance, input vs output (cheap)."""
    flicker_warp: bool = False
    """Also report the optical-flow warping error (DIS flow on every frame pair: slower)."""
    rate: Fraction = Fraction(24)
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    decode: DecodeOptions = field(default_factory=DecodeOptions)
    queue_size: int = 8
    overwrite: bool = False

    def __post_init__(self) -> None:
        check_choice(self.operator, OPERATORS, "--operator")
        check_choice(self.gamut, GAMUT_MODES, "--gamut")
        check_choice(self.peak_mode, PEAK_MODES, "--peak-source")
        if self.target_nits is not None:
            check_range(self.target_nits, "--target-nits", MIN_PEAK_NITS, MAX_PEAK_NITS)
        if self.max_cll is not None:
            check_content_light(self.max_cll, "hdr10" if self.target_nits is not None else "sdr", "--target-nits N")
        check_range(self.reference_white, "--reference-white", 0, MAX_PEAK_NITS, low_open=True)
        check_range(self.queue_size, "--queue-size", 1, 1024)
        check_choice(self.level, LEVELS, "--level")
        if not self.rate > 0:
            raise OptionError(f"--rate must be a positive frame rate, not {self.rate}")


@dataclass
class TonemapReport(RunReport):
    """``hdrvid tonemap``'s report."""

    operator: str = ""
    gamut: str = ""
    two_pass: bool = False
    peak_mode: str = ""
    metadata_peak: str = ""
    out_of_gamut_share: float = 0.0
    flicker: dict[str, Any] | None = None

    def __str__(self) -> str:
        f = self.flicker or {}
        return (f"{self.output}: {self.frames} frames, {self.format} ({self.operator}), {self.fps} fps, "
                f"out of gamut {100 * self.out_of_gamut_share:.2f}%"
                + (f", flicker ratio {f['log_change_ratio']}" if f.get("log_change_ratio") else ""))


def metadata_peak(info: VideoInfo, reference_white: float) -> tuple[float | None, str]:
    """The input's declared peak in relative units, and where it came from."""
    cl = info.content_light or {}
    md = info.mastering_display or {}
    if cl.get("max_cll"):
        return cl["max_cll"] / reference_white, f"MaxCLL {cl['max_cll']} nits"
    if md.get("max_nits"):
        return md["max_nits"] / reference_white, f"mastering display {md['max_nits']:g} nits"
    return None, "none (measured)"


def analyse(path: Path, decode: DecodeOptions, rate: Fraction, cut_threshold: float) -> list[tuple[float, float, bool]]:
    """First pass of ``two_pass``: (log-average, peak, scene cut) of every frame."""
    source = open_source(path, decode, rate)
    cuts = SceneCuts(cut_threshold)
    out = []
    try:
        for frame in source:
            la, pk = frame_statistics(frame.data)
            out.append((la, pk, cuts.update(frame.stats.hist)))
    finally:
        source.close()
    return out


def tonemap(opts: TonemapOptions, progress: bool = False, extra_stages: list[Stage] | None = None) -> TonemapReport:
    suffix = opts.output.suffix.lower()
    if suffix not in CONTAINERS:
        raise OutputError(f"{opts.output}: tonemap writes video; use .mp4, .mkv or .mov")
    if not opts.input.exists():
        raise InputError(f"{opts.input}: no such file; check the path")
    check_destination([opts.input], opts.output, opts.overwrite)
    with Job(open_source(opts.input, opts.decode, opts.rate)) as job:
        source = job.source
        info = source.info
        if not info.is_hdr:
            raise InputError(f"{opts.input}: is SDR ({info.transfer}); hdrvid tonemap reads HDR10, HLG or EXR "
                             f"(use hdrvid convert to make HDR from SDR)")
        meta_peak, meta_source = metadata_peak(info, opts.reference_white)
        fmt = "hdr10" if opts.target_nits else "sdr"
        spec = OutputSpec(fmt, opts.target_nits or 1000.0, opts.reference_white, operator=opts.operator,
                          gamut=opts.gamut, peak_mode=opts.peak_mode, metadata_peak=meta_peak,
                          measure_flicker=opts.measure_flicker and fmt == "sdr",
                          sdr_exposure=1.0 / LEVEL_GAIN[opts.level], sdr_mapping=opts.sdr_mapping,
                          content_light=opts.max_cll)
        smoother: Any
        if opts.two_pass:
            smoother = PrecomputedStats(analyse(opts.input, opts.decode, opts.rate, opts.cut_threshold))
        else:
            smoother = TemporalSmoother(opts.smoothing_period, opts.cut_threshold)
        transform = OutputTransform(spec)
        if transform.takes_arrays and isinstance(source, VideoDecoder) and not extra_stages:
            source.arrays = True  # every stage is numpy or compiled: torch is never imported
        flicker = FlickerStage(warp=opts.flicker_warp) if spec.measure_flicker else None
        target, writer = video_writer(job, opts.output, CONTAINERS[suffix], spec, info, opts.encode,
                                      trimmed=opts.decode.trimmed and not info.is_image)
        stages: list[Stage] = [smoother, transform, *([flicker] if flicker else []), *(extra_stages or []), writer]
        stats = execute(source, stages, writer, opts.queue_size, progress, opts.input.name)
        report = TonemapReport(
            input=str(opts.input), output=str(opts.output), format=fmt,
            operator=opts.operator if fmt == "sdr" else "bt2390-eetf", gamut=opts.gamut, two_pass=opts.two_pass,
            peak_mode=opts.peak_mode, metadata_peak=meta_source,
            out_of_gamut_share=round(transform.out_of_gamut_share(), 6))
        report.add_run(stats, writer, source, opts.queue_size)
        report.scene_cuts = smoother.cuts
        if flicker is not None:
            report.flicker = flicker.meter.summary()
        if fmt == "hdr10":
            finish_hdr10(writer, target, report, spec.peak_nits)
    return report


def pick_frame(path: Path, decode: DecodeOptions, index: int | None, rate: Fraction = Fraction(24)) -> tuple[Frame, VideoInfo]:
    """Frame ``index`` (default: the middle one) of a video or sequence, decoded to relative linear light."""
    source = open_source(path, decode, rate)
    try:
        info = source.info
        want = index if index is not None else max(0, info.frames // 2)
        for frame in source:
            if frame.index == want:
                return frame, info
        raise InputError(f"{path}: has no frame {want}")
    finally:
        source.close()


def preview_sheet(path: Path, png: Path, decode: DecodeOptions = DecodeOptions(), index: int | None = None,
                  reference_white: float = REFERENCE_WHITE_NITS, operators: list[str] | None = None,
                  repeats: int = 3, level: str = "bt2446a", sdr_mapping: str = "scene") -> dict[str, float]:
    """Contact sheet of every operator on one frame; returns each operator's time in ms for that frame
    (best of ``repeats``, operator only: gamut mapping and encoding excluded)."""
    frame, info = pick_frame(path, decode, index)
    meta, _ = metadata_peak(info, reference_white)
    la, pk = frame_statistics(frame.data)
    k = 1.0 / LEVEL_GAIN[level]  # as the SDR output: the level's reference white becomes SDR white
    stats = ToneStats.for_frame((min(pk, meta) if meta else pk) * k, la * k, reference_white / k)
    x = gamut_compress(frame.data * k, axis=0).clamp(min=0)
    encode = ENCODERS[SDR_MAPPING_TRANSFER[sdr_mapping]]
    names = operators or list(OPERATORS)
    tiles, timings = [], {}
    for name in names:
        op = OPERATORS[name]
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = op(x, stats)
            best = min(best, time.perf_counter() - t0)
        timings[name] = round(best * 1000, 1)
        img = (encode(out.clamp(0, 1)) * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()
        tile = np.ascontiguousarray(img[:, :, ::-1])
        scale = max(1.0, tile.shape[1] / 480)
        if scale > 1:
            tile = cv2.resize(tile, (round(tile.shape[1] / scale), round(tile.shape[0] / scale)), interpolation=cv2.INTER_AREA)
        tiles.append(label(tile, f"{name} ({timings[name]:.0f} ms)"))
    cols = 4
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.concatenate(tiles[i:i + cols], axis=1) for i in range(0, len(tiles), cols)]
    write_png(png, np.concatenate(rows, axis=0))
    return timings
