"""The executor factory: a model plus a backend value plus an execution plan -> an :class:`Executor`.

``EngineOptions`` is what every job is told about running a model: the backend (a value from
:mod:`hdrvid.engines.backends`) and how frames are fed to it (whole, tiled, or at a reduced scale).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from torch import nn

from hdrvid.engines import (
    Backend,
    Engine,
    ExecutionPlan,
    Executor,
    ModelPart,
    OrtBackend,
    OrtEngine,
    TensorRTBackend,
    TensorRTEngine,
    TorchBackend,
    TorchEngine,
)
from hdrvid.engines.diffusion import DIFFUSION_PARTS, DiffusionExecutor
from hdrvid.engines.superres import REFINE_TILE, SuperResExecutor
from hdrvid.engines.tensorrt_engine import import_tensorrt
from hdrvid.errors import BackendError
from hdrvid.export.onnx import cached_onnx
from hdrvid.machine import native_bf16
from hdrvid.models import arrays_file, build, get, int8_file
from hdrvid.runtime.options import FAST_WIDTH, EngineOptions, auto_scale  # noqa: F401  (named here as before)

log = logging.getLogger("hdrvid")


def auto_precision(model: nn.Module, device: str, int8: bool = False) -> str:
    """``--precision auto``: bf16 for a model validated in bf16 (``cpu_bf16 = True``; its card gives the quality
    cost) on a CPU that computes bf16 natively; on a CPU without it, int8 where the model ships an int8 network
    for the weights it runs (``int8``; validated on the card too); fp32 otherwise."""
    if device == "cpu" and getattr(model, "cpu_bf16", False) and native_bf16():
        return "bf16"
    if device == "cpu" and int8:
        return "int8"
    return "fp32"


class Int8Field:
    """The ``field`` part of a model whose ``field_tile`` runs in int8: the frame-wide context on its own engine
    (fp32), then the int8 network on the whole frame (what ``field`` computes in one call elsewhere)."""

    def __init__(self, context: Engine, field_tile: Engine) -> None:
        self.context, self.field_tile = context, field_tile
        self.name = field_tile.name

    def infer(self, *inputs: Any) -> Any:
        x = inputs[0]
        return self.field_tile.infer(x, self.context.infer(x))

    def close(self) -> None:
        self.context.close()
        self.field_tile.close()


# _WRAPPED_BASE: a model that refines another (``diffhdr-single``, ``hdrunet-2x``) holds its base's weights in its
# own file (``diffhdr-single``: the session-4 ``hdrunet``, not the shipped one). The base runs through its own
# executor on torch (on the backend's device) whatever backend runs the refining network: an ONNX export of the
# base would be of the registry's weights, not of the wrapper's copy.


def make_executor(model_name: str, weights: Path | None = None, opts: EngineOptions = EngineOptions(),
                  model: nn.Module | None = None) -> Executor | DiffusionExecutor | SuperResExecutor:
    """The model ``model_name`` on the chosen backend, ready to run full frames."""
    spec = get(model_name)
    # a packaged int8 file is made from the registry's weights: not from --weights, nor a wrapper's copy of its
    # base (``model`` given: a super-resolution or diffusion model's base), which run fp32 under auto
    shipped = model is None and weights is None
    model = model if model is not None else build(model_name, weights)
    requested = opts.backend
    if isinstance(opts.backend, TorchBackend) and opts.backend.precision == "auto":
        precision = auto_precision(model, opts.backend.device, int8=shipped and spec.int8 is not None)
        opts = replace(opts, backend=replace(opts.backend, precision=precision))
    int8_path = None
    if getattr(opts.backend, "precision", None) == "int8":
        int8_path = int8_file(model_name)  # checked once (one line if the model ships none)
        if not shipped:
            raise BackendError("--precision int8 runs the int8 network packaged with the shipped weights; with "
                               "--weights use --precision fp32 or auto")
    if spec.kind == "diffusion":
        backend = _profile_for(opts.backend, opts) if isinstance(opts.backend, TensorRTBackend) else opts.backend
        base = None
        if getattr(model, "single", False):  # the regression start runs through its own executor (fast mode)
            base_model = getattr(model, "base")
            base_opts = replace(opts, tile=0)
            if not isinstance(opts.backend, TorchBackend):  # its own weights: see _WRAPPED_BASE
                base_opts = replace(base_opts, backend=TorchBackend(device=opts.device))
            base = make_executor(getattr(model, "base_model"), None, base_opts, model=base_model)
        elif opts.infer_scale not in (None, 1.0):
            raise BackendError(f"{model_name} runs at full resolution: drop --infer-scale")
        engines = {part: _engine(model_name, model, part, backend, weights) for part in DIFFUSION_PARTS}
        return DiffusionExecutor(model, engines, opts.steps, opts.seed, opts.tile, opts.noise_scale, base=base,
                                 start=opts.diffusion_start)
    if getattr(model, "superres", False):  # the base model at the input's size (its fast mode), then the network
        base_model = getattr(model, "base")
        # the base as it runs at 1x: the torch backend asked for (its own precision choice, e.g. bf16 for hdrunet
        # on this CPU), or torch on the backend's device
        base_backend = requested if isinstance(requested, TorchBackend) \
            else TorchBackend(device=opts.device, precision="auto")  # its own weights: see _WRAPPED_BASE
        base = make_executor(getattr(model, "base_model"), None, replace(opts, backend=base_backend), model=base_model)
        backend = _profile_for(opts.backend, opts) if isinstance(opts.backend, TensorRTBackend) else opts.backend
        return SuperResExecutor(model, _engine(model_name, model, "refine", backend, weights), base,
                                tile=REFINE_TILE if opts.device == "cpu" else None)
    scale = 1.0 if opts.infer_scale is None or not spec.learned else opts.infer_scale
    plan = ExecutionPlan(tile=opts.tile, overlap=opts.overlap, infer_scale=scale)
    parts = plan.parts(model)
    backend = opts.backend
    if not spec.learned and not isinstance(backend, TorchBackend):
        log.info("%s is classical and runs in torch whatever the backend", model_name)
        backend = TorchBackend(device=opts.device)
    if not isinstance(backend, TorchBackend) and not getattr(model, "exportable", True):
        raise BackendError(f"model {model_name} runs on the torch backend only in this release (no ONNX export "
                           f"yet); use --backend torch (CPU or --device cuda)")
    if isinstance(backend, TensorRTBackend):
        backend = _profile_for(backend, opts)
    if int8_path is not None:
        return Executor(model, _int8_engines(model_name, model, parts, backend, int8_path), plan)
    engines = {part: _engine(model_name, model, part, backend, weights) for part in parts}
    return Executor(model, engines, plan)


def _int8_engines(model_name: str, model: nn.Module, parts: tuple[str, ...], backend: Backend,
                  path: Path) -> dict[str, Engine]:
    """``parts`` with the network (``field_tile``) in the model's packaged int8 file ``path`` (checked by
    ``int8_file``) on ONNX Runtime's CPU provider, the frame-wide context in fp32 (the model's packaged export on
    ONNX Runtime where it ships one and the backend is the CPU, else on the backend asked for), and ``field`` as the
    two in turn."""
    threads = getattr(backend, "threads", None)
    tile = OrtEngine(path, OrtBackend(provider="cpu", precision="int8", threads=threads), known=True)
    context: Engine
    packaged = arrays_file(model_name, ".onnx", "context network")
    if packaged is not None and isinstance(backend, TorchBackend) and backend.device == "cpu":
        # the packaged fp32 export the torch-free path runs (engines.array_executor): the int8 network's input is
        # then the same numbers on both paths (a float-rounding change in it can flip an int8 rounding step)
        context = OrtEngine(packaged, OrtBackend(provider="cpu", precision="fp32", threads=threads), known=True)
    else:
        context = _engine(model_name, model, "context", replace(backend, precision="fp32"), None)  # type: ignore[type-var]
    engines: dict[str, Engine] = {}
    for part in sorted(parts, key=lambda p: p == "context"):  # the executor is named after its first engine
        engines[part] = {"field_tile": tile, "context": context}.get(part) or Int8Field(context, tile)
    return engines


def _engine(model_name: str, model: nn.Module, part: str, backend: Backend, weights: Path | None) -> Engine:
    if isinstance(backend, TorchBackend):
        return TorchEngine(ModelPart(model, part), backend)
    if isinstance(backend, OrtBackend):
        return OrtEngine(cached_onnx(model_name, part, weights=weights, fp16=backend.fp16_export), backend)
    if isinstance(backend, TensorRTBackend):  # builds its own fp16 kernels from the fp32 graph
        import_tensorrt()
        return TensorRTEngine(cached_onnx(model_name, part, weights=weights), backend)
    raise BackendError(f"unknown backend {backend!r}")


def _profile_for(backend: TensorRTBackend, opts: EngineOptions) -> TensorRTBackend:
    """The optimisation profile that covers what the plan will feed: whole frames up to ``max_size``, or
    tiles with their overlap border."""
    h, w = (min(opts.tile, opts.max_size[0]), min(opts.tile, opts.max_size[1])) if opts.tile else opts.max_size
    if opts.tile:
        pad = 2 * (opts.overlap if opts.overlap is not None else 16)
        h, w = h + pad, w + pad
    return replace(backend, max_shape=(4, h, w), opt_shape=(1, min(h, 720), min(w, 1280)))
