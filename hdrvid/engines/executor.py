"""Running a model on full frames through one or more engines: whole, tiled, or at reduced resolution.

Models built in parts (see :class:`PartedModel`) let the engines run only the network:

- ``field(x)``: the network's output field (for ExpandNet, its per-channel log-gain field);
- ``context(x)`` + ``field_tile(tile, context)``: the same field, with the frame-wide part (ExpandNet's
  global branch) computed once per frame and the rest per tile;
- ``apply(x, field)``: cheap, per pixel, always at full resolution in torch.

Tiling discards an overlap border at least the network's receptive radius wide, so a tiled frame equals
the untiled one (up to float summation order). The fast mode runs ``field`` on a downscaled frame and
brings the field back to full resolution with a guided filter (He et al. 2013's fast variant: linear
coefficients computed at low resolution, upsampled, applied to the full-resolution guide), so edges of
the field follow the frame's own edges.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.engines.base import Engine
from hdrvid.errors import BackendError
from hdrvid.models.itmo import box_filter

PARTS = ("full", "field", "context", "field_tile")


@runtime_checkable
class PartedModel(Protocol):
    receptive_radius: int

    def field(self, x: torch.Tensor) -> torch.Tensor: ...

    def context(self, x: torch.Tensor) -> torch.Tensor: ...

    def field_tile(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor: ...

    def apply(self, x: torch.Tensor, field: torch.Tensor) -> torch.Tensor: ...


class ModelPart(nn.Module):
    """One part of a model as a module of its own (what an engine runs or an exporter traces)."""

    def __init__(self, model: nn.Module, part: str) -> None:
        super().__init__()
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}")
        if part != "full" and not isinstance(model, PartedModel):
            raise BackendError(f"model {type(model).__name__} is not built in parts; it runs whole only")
        self.model = model
        self.part = part

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        fn = self.model if self.part == "full" else getattr(self.model, self.part)
        return fn(*inputs)


@dataclass(frozen=True)
class ExecutionPlan:
    """tile: tile edge in pixels (0 = whole frames). overlap: border discarded around each tile (None: the
    model's receptive radius, rounded up to 8). infer_scale: run the network at this fraction of the frame size."""

    tile: int = 0
    overlap: int | None = None
    infer_scale: float = 1.0
    guide_radius: int = 2
    guide_eps: float = 1e-3

    def parts(self, model: nn.Module) -> tuple[str, ...]:
        """The model parts the engines must provide for this plan."""
        parted = isinstance(model, PartedModel)
        if not parted:
            if self.tile or self.infer_scale != 1.0:
                raise BackendError(f"{type(model).__name__} runs on whole frames only: drop --tile and --infer-scale "
                                   f"(classical models are cheap at full resolution)")
            return ("full",)
        return ("context", "field_tile") if self.tile else ("field",)


class Executor:
    """Full-resolution frames in, model output out, through the engines given for each part."""

    def __init__(self, model: nn.Module, engines: dict[str, Engine], plan: ExecutionPlan = ExecutionPlan()) -> None:
        if not 0 < plan.infer_scale <= 1:
            raise BackendError(f"--infer-scale must be in (0, 1], not {plan.infer_scale}")
        if plan.tile and plan.tile < 32:
            raise BackendError(f"--tile {plan.tile} is too small; use 256 or more")
        need = plan.parts(model)
        missing = [p for p in need if p not in engines]
        if missing:
            raise BackendError(f"no engine for model part(s) {missing}")
        self.model = model.eval()
        self.engines = engines
        self.plan = plan
        radius = getattr(model, "receptive_radius", 0)
        self.overlap = plan.overlap if plan.overlap is not None else -(-radius // 8) * 8
        if plan.tile and self.overlap < radius:
            raise BackendError(f"tile overlap {self.overlap} is below the model's receptive radius {radius}")
        self.name = next(iter(engines.values())).name
        if plan.tile:
            self.name += f" tile {plan.tile}+{self.overlap}"
        if plan.infer_scale != 1:
            self.name += f" scale {plan.infer_scale:g}"

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        if "full" in self.engines and len(self.engines) == 1:
            return self.engines["full"].infer(x)
        small = downscale(x, self.plan.infer_scale)
        field = self._field(small)
        if small.shape[-2:] != x.shape[-2:]:
            field = guided_upsample(field, guide(small), guide(x), self.plan.guide_radius, self.plan.guide_eps)
        with torch.inference_mode():
            return self.model.apply(x, field)  # type: ignore[operator]

    def _field(self, x: torch.Tensor) -> torch.Tensor:
        if not self.plan.tile:
            return self.engines["field"].infer(x)
        context = self.engines["context"].infer(x)  # once per frame, from the whole frame
        return tiled(lambda t: self.engines["field_tile"].infer(t, context), x, self.plan.tile, self.overlap)

    def close(self) -> None:
        for e in self.engines.values():
            e.close()


def tiled(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, tile: int, overlap: int) -> torch.Tensor:
    """Run ``fn`` on overlapping tiles of x and keep only each tile's core (discard-border stitching)."""
    n, _, h, w = x.shape
    if h <= tile and w <= tile:
        return fn(x)
    out: torch.Tensor | None = None
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            ya, xa = max(0, y0 - overlap), max(0, x0 - overlap)
            yb, xb = min(h, y1 + overlap), min(w, x1 + overlap)
            r = fn(x[:, :, ya:yb, xa:xb])
            if out is None:
                out = torch.empty((n, r.shape[1], h, w), dtype=r.dtype)
            out[:, :, y0:y1, x0:x1] = r[:, :, y0 - ya:y1 - ya, x0 - xa:x1 - xa]
    assert out is not None
    return out


def downscale(x: torch.Tensor, scale: float) -> torch.Tensor:
    if scale >= 1:
        return x
    h, w = x.shape[-2:]
    size = (max(16, round(h * scale)), max(16, round(w * scale)))
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


def guide(x: torch.Tensor) -> torch.Tensor:
    """The guide image for field upsampling: perceptually encoded max(R, G, B), (N, 1, H, W)."""
    return x.amax(1, keepdim=True).clamp(1e-6, 1) ** (1 / 2.2)


def guided_upsample(field: torch.Tensor, guide_small: torch.Tensor, guide_full: torch.Tensor, r: int,
                    eps: float) -> torch.Tensor:
    """Fast guided filter: local linear models field ~ a * guide fitted at low resolution, applied at full."""
    mg, mf = box_filter(guide_small, r), box_filter(field, r)
    cov = box_filter(guide_small * field, r) - mg * mf
    var = box_filter(guide_small * guide_small, r) - mg * mg
    a = cov / (var + eps)
    b = mf - a * mg
    a, b = box_filter(a, r), box_filter(b, r)
    size = guide_full.shape[-2:]
    a = F.interpolate(a, size=size, mode="bilinear", align_corners=False)
    b = F.interpolate(b, size=size, mode="bilinear", align_corners=False)
    return a * guide_full + b
