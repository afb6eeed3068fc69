"""``hdrvid bench``: frames per second across models, backends, precisions, resolutions and modes.

Everything in one report comes from one run on one machine, so ratios between rows are meaningful:

- ``model``: the executor alone (network + fast-mode upsampling) on one decoded frame, repeated;
- ``pipelined``: ``convert`` end to end (decode -> batch -> infer -> smooth -> output -> encode, one thread
  per stage, bounded queues) with per-stage busy time; ``vs_slowest`` = end-to-end fps / the slowest
  stage's fps (stage busy time includes waiting for a core when threads outnumber cores);
- ``sequential``: the same stages one frame at a time in one thread (the pipelining gain);
- ``transcode``: the same chain with no model (``--model none``): the ceiling.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hdrvid.engines import BACKENDS, PRECISIONS, TorchBackend, backend_from_options
from hdrvid.engines.array_executor import auto_arrays_executor, runs_torch_free
from hdrvid.engines.plan import ExecutionPlan
from hdrvid.errors import BackendError, HdrvidError, OptionError, check_choice, check_range
from hdrvid.io.images import write_png
from hdrvid.io.report import Report
from hdrvid.jobs.convert import ConvertOptions, ConvertReport, convert
from hdrvid.jobs.demo import write_demo_input
from hdrvid.machine import describe_cpu
from hdrvid.models import for_single_exposure, get
from hdrvid.models.registry import CLASSICAL_MERGES, DIFFUSION_MERGES, VIDEO_MERGES
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder
from hdrvid.pipeline.encoder import EncodeOptions
from hdrvid.runtime import EngineOptions, auto_scale, make_executor
from hdrvid.synth.alternating import SynthConfig, synth_alternating
from hdrvid.synth.scenes import interior_with_window

log = logging.getLogger("hdrvid")

MODES = ("model", "pipelined", "sequential")


@dataclass(frozen=True)
class BenchConfig:
    input: Path | None = None
    """A video to convert; None generates the built-in scene at each resolution."""
    models: tuple[str, ...] = ("hdrunet-auto@auto",)
    """Model names; NAME@SCALE runs the fast mode at that --infer-scale, NAME@auto at the scale ``convert``
    picks for the frame size and device (the default: the default model as ``convert`` runs it)."""
    backends: tuple[str, ...] = ("torch", "onnxruntime")
    precisions: tuple[str, ...] = ("auto",)
    """``auto``: what ``convert`` uses (bf16 for a model validated in it on a CPU that computes bf16, fp16 on
    TensorRT, fp32 elsewhere)."""
    resolutions: tuple[tuple[int, int], ...] = ((1280, 720),)
    frames: int = 12
    modes: tuple[str, ...] = MODES
    transcode: bool = True
    device: str = "cpu"
    threads: int | None = None
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    merges: tuple[str, ...] = ()
    """Alternating-exposure merges to measure on a generated EV -2/+2 clip at each resolution."""
    steps: tuple[int, ...] = ()
    """Diffusion merges (diffhdr): DDIM step counts to measure (empty: the model's default)."""

    def __post_init__(self) -> None:
        for m in self.modes:
            check_choice(m, MODES, "--mode")
        for b in self.backends:
            check_choice(b, BACKENDS, "--backend")
        for p in self.precisions:
            check_choice(p, PRECISIONS, "--precision")
        for m in self.models:
            model_scale(m)  # refuses a bad NAME@SCALE before anything runs
        for m in self.merges:
            check_choice(m, VIDEO_MERGES, "--merge")
        check_range(self.frames, "--frames", 1)
        for k in self.steps:
            check_range(k, "--steps", 1, 100)
        for w, h in self.resolutions:
            check_range(w, "--resolution width", 16, 8192)
            check_range(h, "--resolution height", 16, 8192)


def _first_frame(path: Path) -> torch.Tensor:
    dec = VideoDecoder(path, DecodeOptions())
    try:
        frame = next(iter(dec))
        return frame.data[None].contiguous()
    finally:
        dec.close()


def model_scale(label: str) -> float | None:
    """The --infer-scale of a bench label: NAME -> 1 (whole frames), NAME@0.25 -> 0.25, NAME@auto -> None
    (``convert``'s choice for the frame size: ``runtime.auto_scale``)."""
    name, at, scale = label.partition("@")
    if not at:
        return 1.0
    if scale == "auto":
        return None
    try:
        value = float(scale)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise OptionError(f"--model {label}: the scale after @ must be in (0, 1] or 'auto' (e.g. {name}@0.25)")
    return value


def _model_fps(label: str, opts: EngineOptions, x: torch.Tensor, repeats: int) -> tuple[float, str]:
    name = label.partition("@")[0]
    scale = model_scale(label)
    if scale is None:
        scale = auto_scale(opts.device, int(x.shape[-1])) if get(name).learned else 1.0
    model = for_single_exposure(name)
    if runs_torch_free(model, opts.backend, opts.tile, int(x.shape[-2]), int(x.shape[-1]), scale):
        # the default's torch-free path, as ``convert`` runs it here: network, then expansion, on a numpy frame
        arrays = auto_arrays_executor(model, ExecutionPlan(overlap=opts.overlap, infer_scale=scale),
                                      getattr(opts.backend, "threads", None))
        arrays.model.enable_temporal()
        try:
            return _timed(lambda f: arrays.prepare(f)(), x[0].contiguous().numpy(), repeats), arrays.name
        finally:
            arrays.close()
    ex = make_executor(model, None, replace(opts, infer_scale=scale))
    try:
        return _timed(ex.infer, x, repeats), ex.name
    finally:
        ex.close()


def resolved_precision(asked: str, engine: str) -> str:
    """The precision a row ran at: ``asked``, or for ``auto`` the one in the engine's label
    (``torch-cpu-bf16 1 thread ...`` -> ``bf16``)."""
    if asked != "auto":
        return asked
    words = engine.split()
    last = words[0].rsplit("-", 1)[-1] if words else ""
    return last if last in PRECISIONS else asked


def _timed(fn: Callable[[Any], object], x: Any, repeats: int) -> float:
    """Calls per second of ``fn(x)`` after one warm-up call (first-call allocations, ORT graph preparation)."""
    fn(x)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn(x)
    return repeats / (time.perf_counter() - t0)


def _row(report: ConvertReport, **keys: Any) -> dict[str, Any]:
    busy = {k: v for k, v in report.stages.items() if v}
    slowest = max(busy, key=busy.__getitem__) if busy else None
    slowest_fps = report.stage_fps.get(slowest) if slowest else None
    fps = report.fps
    return {**keys, "fps": fps, "engine": report.engine, "network_tile_share": report.network_tile_share,
            "stages_busy_s": report.stages, "stage_fps": report.stage_fps, "slowest_stage": slowest,
            "slowest_stage_fps": slowest_fps, "vs_slowest": round(fps / slowest_fps, 3) if fps and slowest_fps else None,
            "queues": report.queues, "frames": report.frames}


@dataclass
class BenchReport(Report):
    """``hdrvid bench``: one row per (resolution, model, backend, precision, mode), all from one run."""

    rows: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    config: dict[str, Any]
    machine: dict[str, Any] = field(default_factory=dict)
    """:func:`describe_machine`: the CPU, its features, GPUs and library versions."""

    def __str__(self) -> str:
        return format_table(self)


def run_bench(cfg: BenchConfig, progress: bool = False) -> BenchReport:
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="hdrvid-bench-") as tmp:
        for w, h in cfg.resolutions:
            res = f"{w}x{h}"
            src = cfg.input
            if src is None:
                src = Path(tmp) / f"input-{res}.mp4"
                write_demo_input(src, frames=cfg.frames, size=(w, h))
            out = Path(tmp) / "out.mp4"

            def run(model: str, engine: EngineOptions, sequential: bool = False, _src: Path = src,
                    _out: Path = out) -> ConvertReport:
                name = model.partition("@")[0]
                eng = replace(engine, infer_scale=model_scale(model))  # None: resolved by convert
                opts = ConvertOptions(input=_src, output=_out, model=name, engine=eng, encode=cfg.encode,
                                      overwrite=True, sequential=sequential)
                return convert(opts, progress=progress)

            base = EngineOptions(backend=TorchBackend(device=cfg.device, threads=cfg.threads))
            run("none", base)  # warm-up (thread pools, encoder, page cache); not reported
            if cfg.transcode:
                r = run("none", base)
                rows.append(_row(r, resolution=res, model="none", backend="-", precision="-", mode="transcode"))
                log.info("%s transcode: %.2f fps", res, r.fps)
            x = _first_frame(src) if "model" in cfg.modes else None
            for model in cfg.models:
                spec = get(model.partition("@")[0])
                classical = not spec.learned
                every_steps = (cfg.steps or (None,)) if spec.kind == "diffusion" else (None,)
                for backend, precision, steps in ((b, p, k) for b in (("torch",) if classical else cfg.backends)
                                                  for p in (("fp32",) if classical else cfg.precisions)
                                                  for k in every_steps):  # diffusion models: per DDIM steps
                    label = model + (f" K={steps}" if steps is not None else "")
                    keys = {"resolution": res, "model": label, "backend": backend, "precision": precision}
                    try:
                        eng = replace(base, backend=backend_from_options(backend, cfg.device, precision,
                                                                         cfg.threads), steps=steps)
                        for mode in cfg.modes:
                            if mode == "model":
                                assert x is not None
                                fps, engine_name = _model_fps(model, eng, x, repeats=max(2, min(cfg.frames, 5)))
                                rows.append({**keys, "mode": "model", "fps": round(fps, 3), "engine": engine_name})
                            else:
                                r = run(model, eng, sequential=mode == "sequential")
                                rows.append(_row(r, **keys, mode=mode))
                            rows[-1]["precision"] = resolved_precision(precision, rows[-1]["engine"])
                            log.info("%s %s %s %s %s: %.2f fps", res, model, backend, precision, mode,
                                     rows[-1]["fps"])
                    except (BackendError, HdrvidError) as e:
                        skipped.append({**keys, "reason": str(e)})
            for merge in cfg.merges:
                learned = merge not in CLASSICAL_MERGES
                diffusion = merge in DIFFUSION_MERGES
                for backend in (cfg.backends if learned else ("torch",)):
                    for precision in (cfg.precisions if learned else ("fp32",)):
                        for steps in ((cfg.steps or (None,)) if diffusion else (None,)):
                            rows += _bench_merge(merge, (w, h), cfg, Path(tmp), skipped, progress, backend,
                                                 precision, steps)
    _ratios(rows)
    return BenchReport(rows=rows, skipped=skipped, config={
        "input": str(cfg.input) if cfg.input else "generated (hdrvid demo scene, H.264 BT.709)",
        "frames": cfg.frames, "device": cfg.device, "threads": cfg.threads or torch.get_num_threads(),
        "torch": torch.__version__, "encoder": cfg.encode.codec or "libx265", "preset": cfg.encode.preset},
        machine=describe_machine())


def describe_machine() -> dict[str, Any]:
    """What a report sent back from another machine must say for its rows to be read (issue 17): the CPU
    (:func:`hdrvid.machine.describe_cpu`: which of bf16, int8 and AVX-512 paths run natively), the GPUs torch
    sees, and the versions of the libraries that do the work."""
    from importlib.metadata import PackageNotFoundError, version

    from hdrvid import __version__

    versions = {"hdrvid": __version__}
    for dist in ("torch", "onnxruntime", "onnxruntime-gpu", "tensorrt", "av", "numpy", "opencv-python-headless"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            continue
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return {**describe_cpu(), "gpus": gpus, "versions": versions}


def _bench_merge(merge: str, size: tuple[int, int], cfg: BenchConfig, tmp: Path, skipped: list[dict[str, str]],
                 progress: bool, backend: str = "torch", precision: str = "fp32",
                 steps: int | None = None) -> list[dict[str, Any]]:
    """A merge's rows: the network alone on a packed frame (learned merges, mode ``model``) and end to end
    through ``convert --mode alternating`` (flows, packing, merge, output transform and encoder)."""
    w, h = size
    src = tmp / f"alternating-{w}x{h}.mp4"
    if not src.exists():
        synth_alternating(interior_with_window(0.5, 2 * w, 2 * h), src, None, SynthConfig(frames=cfg.frames, size=size))
    label = f"merge:{merge}" + (f" K={steps}" if steps is not None else "")
    keys = {"resolution": f"{w}x{h}", "model": label, "backend": backend, "precision": precision}
    rows = []
    try:
        engine = EngineOptions(backend=backend_from_options(backend, cfg.device, precision, cfg.threads), steps=steps)
        for mode in cfg.modes:
            if mode == "model":
                if merge in CLASSICAL_MERGES:
                    continue
                ex = make_executor(merge, None, engine)
                try:
                    x = ex.model.example_input(h, w)
                    fps = _timed(ex.infer, x, repeats=max(2, min(cfg.frames, 3)))
                finally:
                    ex.close()
                rows.append({**keys, "mode": "model", "fps": round(fps, 3)})
            else:
                opts = ConvertOptions(input=src, output=tmp / "alt-out.mp4", mode="alternating", merge=merge,
                                      exposures=(-2.0, 2.0), encode=cfg.encode, overwrite=True,
                                      sequential=mode == "sequential", engine=engine)
                rows.append(_row(convert(opts, progress=progress), **keys, mode=mode))
            log.info("%s %s %s %s %s: %.2f fps", keys["resolution"], label, backend, precision, mode, rows[-1]["fps"])
    except (BackendError, HdrvidError) as e:
        skipped.append({**keys, "reason": str(e)})
    return rows


def _ratios(rows: list[dict[str, Any]]) -> None:
    """vs_transcode for pipelined rows; pipelining gain (pipelined / sequential) for each configuration."""
    transcode = {r["resolution"]: r["fps"] for r in rows if r["mode"] == "transcode"}
    seq = {(r["resolution"], r["model"], r["backend"], r["precision"]): r["fps"] for r in rows if r["mode"] == "sequential"}
    for r in rows:
        key = (r["resolution"], r["model"], r["backend"], r["precision"])
        if r["mode"] == "pipelined":
            t = transcode.get(r["resolution"])
            r["vs_transcode"] = round(r["fps"] / t, 3) if t else None
            s = seq.get(key)
            r["vs_sequential"] = round(r["fps"] / s, 3) if s else None


def format_table(result: BenchReport) -> str:
    m = result.machine
    about = [f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores ({' '.join(m.get('flags', [])) or 'no AVX2'}"
             f"{', native bf16' if m.get('native_bf16') else ''}); GPU: {', '.join(m.get('gpus', [])) or 'none'}"] \
        if m else []
    head = f"{'resolution':<11}{'model':<20}{'backend':<13}{'prec':<6}{'mode':<11}{'fps':>8}  {'slowest stage':<20}{'e2e/slowest':>12}{'e2e/transcode':>15}{'vs seq':>8}"
    lines = [*about, head, "-" * len(head)]
    for r in result.rows:
        slow = f"{r['slowest_stage']} {r['slowest_stage_fps']:.2f}" if r.get("slowest_stage") else ""
        def f(v: Any) -> str:
            return f"{v:.2f}" if isinstance(v, (int, float)) else "-"
        lines.append(f"{r['resolution']:<11}{r['model']:<20}{r['backend']:<13}{r['precision']:<6}{r['mode']:<11}"
                     f"{r['fps']:>8.2f}  {slow:<20}{f(r.get('vs_slowest')):>12}{f(r.get('vs_transcode')):>15}"
                     f"{f(r.get('vs_sequential')):>8}")
    for s in result.skipped:
        lines.append(f"skipped {s['resolution']} {s['model']} {s['backend']} {s['precision']}: {s['reason']}")
    return "\n".join(lines)


def plot(result: BenchReport, png: Path) -> None:
    """A horizontal bar chart of fps per row (OpenCV drawing; no plotting dependency)."""
    import cv2

    rows = result.rows
    bar_h, left, width = 22, 420, 900
    img = np.full((bar_h * len(rows) + 60, width, 3), 255, np.uint8)
    top = max((r["fps"] for r in rows), default=1.0) or 1.0
    colours = {"transcode": (150, 150, 150), "pipelined": (200, 110, 30), "sequential": (60, 160, 230),
               "model": (90, 170, 90)}
    cv2.putText(img, "frames per second (one run)", (10, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
    for i, r in enumerate(rows):
        y = 40 + i * bar_h
        label = f"{r['resolution']} {r['model']} {r['backend']} {r['precision']} {r['mode']}"
        cv2.putText(img, label[:58], (6, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
        length = int((width - left - 70) * r["fps"] / top)
        cv2.rectangle(img, (left, y + 3), (left + max(1, length), y + bar_h - 3), colours.get(r["mode"], (0, 0, 0)), -1)
        cv2.putText(img, f"{r['fps']:.2f}", (left + length + 6, y + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1,
                    cv2.LINE_AA)
    write_png(png, img)
