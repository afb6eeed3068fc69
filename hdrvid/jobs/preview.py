"""``hdrvid convert IN --preview OUT.png``: one frame converted and shown three ways, in seconds.

SDR input | the HDR result rendered for an SDR screen (BT.2390 from its peak, the level's reference white at
SDR white) | false-colour nits (max(R, G, B) of the HDR output, the bands in the legend), so a user can judge
a model and its settings before a long run. The frame goes through the same decoder, model, highlight boost
and level as ``convert``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.operators import OPERATORS, ToneStats
from hdrvid.color.transfer import ENCODERS
from hdrvid.errors import InputError
from hdrvid.io.atomic import check_destination
from hdrvid.io.images import write_png
from hdrvid.io.report import Report
from hdrvid.io.sheets import false_colour, label, legend
from hdrvid.jobs.convert import ConvertOptions, set_average_cap, single_engine_options
from hdrvid.jobs.job import open_source
from hdrvid.pipeline.frame import Frame, VideoInfo
from hdrvid.pipeline.inference import boost_expansion
from hdrvid.runtime import make_executor


def _to_bgr8(signal: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray((signal.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(1, 2, 0).numpy()[:, :, ::-1])


@dataclass
class PreviewReport(Report):
    """``convert --preview``'s report: which frame was shown and what the model did to it."""

    output: str
    frame: int
    seconds: float
    model: str
    peak_nits: float
    above_reference_white: float

    def __str__(self) -> str:
        return (f"{self.output}: frame {self.frame} ({self.seconds:.2f} s) with {self.model}; peak "
                f"{self.peak_nits:.0f} nits, {100 * self.above_reference_white:.1f}% of pixels above reference white")


def _seconds(frame: Frame, rate: float) -> float:
    if frame.pts is not None and frame.time_base:
        return float(frame.pts * frame.time_base)
    return frame.index / rate


def pick_at(opts: ConvertOptions, at: float | None) -> tuple[Frame, VideoInfo]:
    """The frame on screen at ``at`` seconds (default: the middle frame by the container's count)."""
    source = open_source(opts.input, opts.decode, opts.rate)
    try:
        info = source.info
        rate = float(info.rate or 24)
        last = None
        for frame in source:
            if at is None:
                last = frame
                if frame.index >= max(0, info.frames // 2):
                    break
                continue
            if last is not None and _seconds(frame, rate) > at:
                break
            last = frame
        if last is None:
            raise InputError(f"{opts.input}: has no frames to preview")
        if at is not None and _seconds(last, rate) + 2.0 / rate < at:
            raise InputError(f"{opts.input}: --at {at:g} s is past the end of the clip "
                             f"(last frame at {_seconds(last, rate):.2f} s)")
        return last, info
    finally:
        source.close()


def preview(o: ConvertOptions, png: Path, at: float | None = None, overwrite: bool = False) -> PreviewReport:
    """One frame of ``o.input`` converted as ``convert`` would (model, engine, boost, level), as a sheet."""
    if o.mode == "alternating":
        raise InputError("--preview shows single-exposure conversion; drop --mode alternating for the preview")
    check_destination([o.input], png, overwrite)
    frame, info = pick_at(o, at)
    lin = frame.data.clone()
    executor = make_executor(o.single_model, o.weights, single_engine_options(o, info))
    set_average_cap(executor, o)
    with torch.inference_mode():
        hdr = boost_expansion(lin[None], executor.infer(lin[None]), o.highlight_boost)[0].float()
    executor.close()
    white = o.reference_white * LEVEL_GAIN[o.level]
    nits = hdr.clamp(min=0) * white
    peak = float(nits.amax())
    if hdr.shape[-2:] != lin.shape[-2:]:  # --upscale: the input shown at the output's size
        lin = F.interpolate(lin[None], size=hdr.shape[-2:], mode="bicubic", align_corners=False)[0].clamp(0, 1)
    sdr_in = ENCODERS[info.transfer if info.transfer in ENCODERS else "bt709"](lin.clamp(0, 1))
    la = float(torch.exp(torch.log(hdr.mean(0).clamp(min=1e-4)).mean()))
    stats = ToneStats(peak=max(float(hdr.amax()), 1.0), log_average=la)
    rendered = ENCODERS["bt709"](OPERATORS["bt2390"](hdr.clamp(min=0), stats).clamp(0, 1))
    fc = false_colour(np.minimum(nits.amax(0).numpy(), o.peak_nits))
    tiles = [label(_to_bgr8(sdr_in), "SDR input"), label(_to_bgr8(rendered), f"{o.model} for an SDR screen"),
             label(fc, f"nits (peak {peak:.0f})")]
    scale = max(1.0, tiles[0].shape[1] / 640)
    if scale > 1:
        size = (round(tiles[0].shape[1] / scale), round(tiles[0].shape[0] / scale))
        tiles = [cv2.resize(t, size, interpolation=cv2.INTER_AREA) for t in tiles]
    sheet = np.concatenate(tiles, axis=1)
    sheet = np.concatenate([sheet, legend(sheet.shape[1])], axis=0)
    write_png(png, sheet)
    t = _seconds(frame, float(info.rate or 24))
    above = float((hdr.amax(0) > 1.001).float().mean())
    return PreviewReport(output=str(png), frame=frame.index, seconds=t, model=o.single_model, peak_nits=round(peak, 1),
                         above_reference_white=round(above, 4))

