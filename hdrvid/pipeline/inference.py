"""Inference: builds the engines for a model and backend, runs each batch, hands frames on one by one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from hdrvid.engines import (
    BACKENDS,
    Engine,
    ExecutionPlan,
    Executor,
    ModelPart,
    OrtConfig,
    OrtEngine,
    TensorRTConfig,
    TensorRTEngine,
    TorchConfig,
    TorchEngine,
)
from hdrvid.engines.tensorrt_engine import import_tensorrt
from hdrvid.errors import BackendError
from hdrvid.models import build, get
from hdrvid.pipeline.frame import Batch, Frame

log = logging.getLogger("hdrvid")


@dataclass(frozen=True)
class EngineOptions:
    """How to run the model: backend, device, precision, and whole/tiled/reduced-scale execution."""

    backend: str = "torch"
    device: str = "cpu"
    precision: str = "fp32"
    threads: int | None = None
    channels_last: bool = False
    compile: bool = False
    tile: int = 0
    overlap: int | None = None
    infer_scale: float | None = 1.0
    """Fraction of the frame size the network runs at; None = automatic (:func:`auto_scale`)."""
    max_size: tuple[int, int] = (2160, 3840)
    """Largest frame (h, w) a TensorRT engine's optimisation profile must cover."""


def make_executor(model_name: str, weights: Path | None = None, opts: EngineOptions = EngineOptions(),
                  model: nn.Module | None = None) -> Executor:
    """The model ``model_name`` on the chosen backend, ready to run full frames."""
    if opts.backend not in BACKENDS:
        raise BackendError(f"--backend must be one of {', '.join(BACKENDS)}, not {opts.backend!r}")
    spec = get(model_name)
    model = model if model is not None else build(model_name, weights)
    scale = 1.0 if opts.infer_scale is None or not spec.learned else opts.infer_scale
    plan = ExecutionPlan(tile=opts.tile, overlap=opts.overlap, infer_scale=scale)
    parts = plan.parts(model)
    backend = opts.backend
    if not spec.learned and backend != "torch":
        log.info("%s is classical and runs in torch whatever the backend", model_name)
        backend = "torch"
    engines: dict[str, Engine] = {}
    for part in parts:
        if backend == "torch":
            cfg = TorchConfig(device=opts.device, precision=opts.precision, channels_last=opts.channels_last,
                              compile=opts.compile, threads=opts.threads)
            engines[part] = TorchEngine(ModelPart(model, part), cfg)
            continue
        from hdrvid.export.onnx import cached_onnx

        fp16 = opts.precision == "fp16"
        if backend == "onnxruntime":
            if opts.device.startswith("cuda"):
                cfg_o = OrtConfig(provider="cuda", device_id=_device_id(opts.device), precision=opts.precision)
            else:
                cfg_o = OrtConfig(provider="cpu", precision=opts.precision, threads=opts.threads)
            if cfg_o.precision == "bf16":
                raise BackendError("the onnxruntime backend runs fp32 or fp16; use --backend torch for bf16")
            engines[part] = OrtEngine(cached_onnx(model_name, part, weights=weights, fp16=fp16), cfg_o)
        else:
            import_tensorrt()
            if not opts.device.startswith("cuda"):
                raise BackendError("the tensorrt backend runs on a CUDA GPU: add --device cuda")
            h, w = (min(opts.tile, opts.max_size[0]), min(opts.tile, opts.max_size[1])) if opts.tile else opts.max_size
            if opts.tile:
                pad = 2 * (opts.overlap if opts.overlap is not None else 16)
                h, w = h + pad, w + pad
            cfg_t = TensorRTConfig(device_id=_device_id(opts.device), precision=opts.precision,
                                   max_shape=(4, h, w), opt_shape=(1, min(h, 720), min(w, 1280)))
            # TensorRT builds its own fp16 kernels from the fp32 graph
            engines[part] = TensorRTEngine(cached_onnx(model_name, part, weights=weights), cfg_t)
    return Executor(model, engines, plan)


def auto_scale(device: str, width: int) -> float:
    """``--infer-scale auto``: full resolution on a GPU; on a CPU the fast mode, by frame width
    (>= 1280: 0.25, >= 640: 0.5, else 1). Measured cost: -0.1 dB PU21 at 0.25 (BENCHMARKS.md)."""
    if device.startswith("cuda"):
        return 1.0
    return 0.25 if width >= 1280 else 0.5 if width >= 640 else 1.0


def _device_id(device: str) -> int:
    return int(device.split(":", 1)[1]) if ":" in device else 0


class Inference:
    name = "infer"

    def __init__(self, executor: Executor) -> None:
        self.executor = executor

    def process(self, batch: Batch) -> Iterator[Frame]:
        out = self.executor.infer(batch.tensor)
        if out.shape[0] != batch.tensor.shape[0]:
            raise RuntimeError(f"engine {self.executor.name} returned {out.shape[0]} frames for {batch.tensor.shape[0]}")
        for i, frame in enumerate(batch.frames[: batch.valid]):
            frame.data = out[i]
            yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        self.executor.close()
