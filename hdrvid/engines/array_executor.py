"""``hdrunet-auto``'s fast mode on numpy frames through ONNX Runtime, without torch (issue 17).

:class:`hdrvid.engines.executor.Executor`'s guided path for one float32 (3, H, W) frame: the frame downscaled by
torch's antialiased bilinear filter (the C kernel), the sparse mask of blocks that hold clipped pixels, the network
(the packaged fp32 context and int8 ``field_tile``, whole or on the active tiles), the fast guided filter's
coefficients at the network's size, then :class:`hdrvid.models.auto_arrays.AutoArrays`' expansion at full size. The
same steps and float32 numbers as the torch executor with the same int8 engines (tests); it applies wherever the fast
mode downscales the frame (``applies``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hdrvid.color.kernels import downscale_aa
from hdrvid.engines.onnxruntime_engine import OrtEngine
from hdrvid.engines.plan import ExecutionPlan, active_blocks_np, sparse_choice, tiled
from hdrvid.errors import ModelError
from hdrvid.models.arrays import box_mean
from hdrvid.models.auto_arrays import AutoArrays
from hdrvid.models.auto_params import CLIP_START_LINEAR, KNOTS, RECEPTIVE_RADIUS

FIELD_CHANNELS = 3 + KNOTS + 1


def network_size(h: int, w: int, scale: float) -> tuple[int, int]:
    """The network's input size for a frame of h x w at ``scale`` (as ``executor.downscale``)."""
    return max(16, round(h * scale)), max(16, round(w * scale))


def applies(h: int, w: int, scale: float) -> bool:
    """Whether this path runs a frame of h x w at ``scale``: downscaled (the fast mode), with the C kernels built."""
    from hdrvid.color.kernels import native_available

    sh, sw = network_size(h, w, scale)
    return scale < 1 and sh < h and sw < w and native_available()


def runs_torch_free(model_name: str, backend: Any, tile: int, h: int, w: int, scale: float) -> bool:
    """Whether ``model_name`` with its shipped weights on ``backend`` (a backend value) runs on this path for frames
    of h x w at ``scale``: the model ships the files (``ModelSpec.arrays``), torch on the CPU with the int8 network
    (``--precision int8``, or ``auto`` on a CPU without native bf16, where ``auto`` picks int8), whole frames in
    the fast mode (:func:`applies`). What ``convert`` and ``bench`` both ask."""
    from hdrvid.engines.backends import TorchBackend
    from hdrvid.machine import native_bf16
    from hdrvid.models import get

    return (get(model_name).arrays is not None and isinstance(backend, TorchBackend) and backend.device == "cpu"
            and (backend.precision == "int8" or (backend.precision == "auto" and not native_bf16()))
            and not tile and applies(h, w, scale))


def guide(x: np.ndarray) -> np.ndarray:
    """``executor.guide`` of (3, h, w): max(R, G, B) clamped to [1e-6, 1], to the power 1 / 2.2 (float32)."""
    peak = np.maximum(np.maximum(x[0], x[1]), x[2])
    return np.power(np.clip(peak, np.float32(1e-6), np.float32(1)), np.float32(1 / 2.2))


def guided_coefficients(field: np.ndarray, g: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """``executor.guided_coefficients`` for (C, h, w) ``field`` and (h, w) guide ``g``: (C, h, w) ``a``, ``b``."""
    mg = box_mean(g, r)
    var = box_mean(g * g, r) - mg * mg
    a_out, b_out = [], []
    for f in field:
        f = np.ascontiguousarray(f)
        mf = box_mean(f, r)
        cov = box_mean(g * f, r) - mg * mf
        a = cov / (var + np.float32(eps))
        b = mf - a * mg
        a_out.append(box_mean(a, r))
        b_out.append(box_mean(b, r))
    return np.stack(a_out), np.stack(b_out)


class ArrayExecutor:
    """``hdrunet-auto`` on float32 (3, H, W) frames: :meth:`prepare` runs the network now and returns the expansion
    to run later, in the frames' order (the pipeline runs the two on different threads, as ``Inference`` does)."""

    overlaps = True

    def __init__(self, model: AutoArrays, context: OrtEngine, field_tile: OrtEngine, plan: ExecutionPlan,
                 overlap: int) -> None:
        self.model, self.context, self.field_tile, self.plan = model, context, field_tile, plan
        self.overlap = overlap
        self.tiles_run = self.tiles_total = 0
        self.name = f"{field_tile.name} sparse scale {plan.infer_scale:g} (numpy, no torch)"

    def prepare(self, x: np.ndarray) -> Callable[[], np.ndarray]:
        h, w = x.shape[-2:]
        size = network_size(h, w, self.plan.infer_scale)
        small = downscale_aa(x, *size)
        if small is None:
            raise RuntimeError("the C kernels are not built: the torch-free path does not apply")
        k = 2 * self.plan.guide_radius + 2  # what the guided upsampling reaches (2 box radii + 1)
        active = active_blocks_np(x[None], CLIP_START_LINEAR, size, k)
        assert active is not None  # a threshold and a downscaled frame (``applies``)
        field = self._field(small, active)
        a, b = guided_coefficients(field[:3], guide(small), self.plan.guide_radius, self.plan.guide_eps)
        return lambda: self.model.apply(x, a, b)

    def _field(self, small: np.ndarray, active: np.ndarray) -> np.ndarray:
        """The network's field (FIELD_CHANNELS, h, w) of the downscaled frame: whole, on its active tiles
        (``plan.sparse_choice``, ``plan.tiled``: the torch executor's), or zeros."""
        h, w = small.shape[-2:]
        x = small[None]
        choice, n_total, n_run = sparse_choice((h, w), self.plan, self.overlap, active)
        self.tiles_total += n_total
        self.tiles_run += n_run
        if choice == "none":
            return np.zeros((FIELD_CHANNELS, h, w), np.float32)
        ctx = self.context.run(x)
        if choice == "whole":
            return self.field_tile.run(x, ctx)[0]
        return tiled(lambda t: self.field_tile.run(t, ctx), x, self.plan.sparse_tile, self.overlap, active[None, None])[0]

    @property
    def active_share(self) -> float | None:
        return self.tiles_run / self.tiles_total if self.tiles_total else None

    def close(self) -> None:
        self.context.close()
        self.field_tile.close()


def auto_arrays_executor(model_name: str, plan: ExecutionPlan, threads: int | None) -> ArrayExecutor:
    """``model_name``'s torch-free executor from its packaged files (``ModelSpec.arrays``, the int8 network), each
    checked against the registry's sha256 before it is read."""
    from hdrvid.engines.backends import OrtBackend
    from hdrvid.models import arrays_file, int8_file
    from hdrvid.models.auto_arrays import load_detector

    context_file = arrays_file(model_name, ".onnx", "context network")
    detector_file = arrays_file(model_name, ".json", "shoulder detector")
    if context_file is None or detector_file is None:
        raise ModelError(f"model {model_name!r} ships no torch-free CPU path")
    # the same two engines as the torch executor's int8 path (runtime.factory._int8_engines)
    context = OrtEngine(context_file, OrtBackend(provider="cpu", precision="fp32", threads=threads), known=True)
    tile = OrtEngine(int8_file(model_name), OrtBackend(provider="cpu", precision="int8", threads=threads), known=True)
    model = AutoArrays(load_detector(detector_file))
    overlap = plan.border(RECEPTIVE_RADIUS)
    return ArrayExecutor(model, context, tile, plan, overlap)
