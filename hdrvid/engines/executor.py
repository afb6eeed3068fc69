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
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.color.kernels import downscale_aa
from hdrvid.engines.base import Engine
from hdrvid.engines.plan import ExecutionPlan, active_blocks_np, sparse_choice, tiled  # noqa: F401  (tiled: named here as before)
from hdrvid.errors import BackendError
from hdrvid.models.itmo import box_filter, square_max

PARTS = ("full", "field", "context", "field_tile", "condition", "denoise", "refine")
"""``condition`` and ``denoise``: a diffusion model's parts (run by :class:`hdrvid.engines.diffusion.DiffusionExecutor`);
``refine``: a super-resolution model's network on a frame and its base model's estimate
(:class:`hdrvid.engines.superres.SuperResExecutor`)."""


@runtime_checkable
class PartedModel(Protocol):
    receptive_radius: int

    def field(self, x: torch.Tensor) -> torch.Tensor: ...

    def context(self, x: torch.Tensor) -> torch.Tensor: ...

    def field_tile(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor: ...

    def apply(self, x: torch.Tensor, field: torch.Tensor) -> torch.Tensor: ...
    # optional: ``spatial_channels`` (int) and ``apply_split(x, spatial_field, frame_means)`` for a field whose
    # later channels are read only as frame means (the fast mode then upsamples the first ones only); and
    # ``acts_where_clipped`` + ``apply_where(x, gains_at, frame_means)`` for a model that changes only some
    # pixels (the fast mode then reads the upsampled field at those pixels only)


class ModelPart(nn.Module):
    """One part of a model as a module of its own (what an engine runs or an exporter traces)."""

    def __init__(self, model: nn.Module, part: str) -> None:
        super().__init__()
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}")
        if part in ("condition", "denoise"):
            if not getattr(model, "diffusion", False):
                raise BackendError(f"model {type(model).__name__} is not a diffusion model; it has no part {part!r}")
        elif part == "refine":
            if not getattr(model, "superres", False):
                raise BackendError(f"model {type(model).__name__} is not a super-resolution model; it has no part "
                                   f"'refine'")
        elif part != "full" and not isinstance(model, PartedModel):
            raise BackendError(f"model {type(model).__name__} is not built in parts; it runs whole only")
        self.model = model
        self.part = part

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        fn = self.model if self.part == "full" else getattr(self.model, self.part)
        return fn(*inputs)


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
        self.overlap = plan.border(radius)
        self.field_channels = int(getattr(model, "field_channels", 3))
        """Channels of the model's field (what an all-inactive frame gets as zeros)."""
        if plan.tile and self.overlap < radius:
            raise BackendError(f"tile overlap {self.overlap} is below the model's receptive radius {radius}")
        self.sparse = plan.sparse and hasattr(model, "active_mask") and "field_tile" in engines
        self.tiles_run = 0
        self.tiles_total = 0
        self.name = next(iter(engines.values())).name
        if self.sparse and not plan.tile:
            self.name += " sparse"
        if plan.tile:
            self.name += f" tile {plan.tile}+{self.overlap}"
        if plan.infer_scale != 1:
            self.name += f" scale {plan.infer_scale:g}"

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        return self._prepare(x)()

    @property
    def overlaps(self) -> bool:
        """Whether :meth:`prepare` does real work before it returns: the fast mode of a model that acts where the
        input clipped (hdrunet's guided path), whose network is stateless and whose per-frame expansion (and
        state) is the rest. The pipeline then runs the two on different frames at once (``pipeline.inference``)."""
        return ("full" not in self.engines and self.plan.infer_scale != 1 and not self.plan.tile
                and bool(getattr(self.model, "acts_where_clipped", False)))

    def prepare(self, x: torch.Tensor) -> Callable[[], torch.Tensor]:
        """``infer(x)`` in two steps: the network's part now, where it is stateless (:attr:`overlaps`), and a
        function that does the rest (the model's expansion of the frame, which may read and move per-shot state,
        so calls must follow the frames' order). Without :attr:`overlaps` everything is left to the function."""
        if not self.overlaps:
            return lambda: self._prepare(x)()
        return self._prepare(x)

    def _prepare(self, x: torch.Tensor) -> Callable[[], torch.Tensor]:
        """The network's part of ``x`` now, the model's application of it as the function returned."""
        if "full" in self.engines and len(self.engines) == 1:
            return lambda: self.engines["full"].infer(x)
        small = downscale(x, self.plan.infer_scale)
        scaled = small.shape[-2:] != x.shape[-2:]
        active = None
        if self.sparse:
            k = 2 * self.plan.guide_radius + 2  # what the guided upsampling reaches (2 box radii + 1)
            active = active_blocks(x, getattr(self.model, "active_threshold", None), small.shape[-2:], k)
            if active is None:
                with torch.inference_mode():
                    full_mask = self.model.active_mask(x).any(0, keepdim=True).float()  # type: ignore[operator]
                    # at the inference resolution, grown by what the guided upsampling reaches
                    active = F.adaptive_max_pool2d(full_mask, small.shape[-2:]) if scaled else full_mask
                    if scaled:
                        active = square_max(active, k)  # = max_pool2d(active, 2k + 1, stride 1, padding k)
        field = self._field(small, active)
        k = int(getattr(self.model, "spatial_channels", field.shape[1]))
        if scaled and k < field.shape[1] and getattr(self.model, "acts_where_clipped", False):
            # the model changes only some pixels (hdrunet: the clipped ones): the field is upsampled there only
            a, b = guided_coefficients(field[:, :k], guide(small), self.plan.guide_radius, self.plan.guide_eps)
            size = (int(x.shape[-2]), int(x.shape[-1]))

            def gains(n: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
                g = guide(pick(x, n, rows, cols))  # (len, 1): the guide at the pixels
                return bilinear_at(a, n, rows, cols, size) * g + bilinear_at(b, n, rows, cols, size)

            with torch.inference_mode():
                means = field[:, k:].mean((-2, -1))

            def expand() -> torch.Tensor:
                with torch.inference_mode():
                    if (hasattr(self.model, "apply_guided") and x.shape[0] == 1 and x.device.type == "cpu"
                            and x.dtype == torch.float32):  # the same in one compiled pass
                        return self.model.apply_guided(x, a, b, means)  # type: ignore[operator]
                    return self.model.apply_where(x, gains, means)  # type: ignore[operator]

            return expand
        if scaled:
            spatial = guided_upsample(field[:, :k], guide(small), guide(x), self.plan.guide_radius,
                                      self.plan.guide_eps)

        def apply() -> torch.Tensor:
            with torch.inference_mode():
                if k < field.shape[1]:  # channels the model reads only as frame means: never upsampled
                    return self.model.apply_split(x, spatial if scaled else field[:, :k],  # type: ignore[operator]
                                                  field[:, k:].mean((-2, -1)))
                return self.model.apply(x, spatial if scaled else field)  # type: ignore[operator]

        return apply

    def _field(self, x: torch.Tensor, active: torch.Tensor | None) -> torch.Tensor:
        tile = self.plan.tile
        if active is not None and not tile:
            choice, n_total, n_run = sparse_choice(x.shape[-2:], self.plan, self.overlap, active)
            self.tiles_total += n_total
            self.tiles_run += n_run
            if choice == "none":
                return torch.zeros((x.shape[0], self.field_channels, *x.shape[-2:]))
            if choice == "whole":
                return self.engines["field"].infer(x)
            tile = self.plan.sparse_tile
        elif not tile:
            return self.engines["field"].infer(x)
        context = self.engines["context"].infer(x)  # once per frame, from the whole frame
        return tiled(lambda t: self.engines["field_tile"].infer(t, context), x, tile, self.overlap, active)

    @property
    def active_share(self) -> float | None:
        """Share of tiles the sparse path ran the network on (None: not sparse)."""
        return self.tiles_run / self.tiles_total if self.tiles_total else None

    def close(self) -> None:
        for e in self.engines.values():
            e.close()


def active_blocks(x: torch.Tensor, threshold: float | None, size: tuple[int, ...], k: int) -> torch.Tensor | None:
    """:func:`hdrvid.engines.plan.active_blocks_np` of a float32 CPU tensor (N, C, H, W), as (1, 1, h, w); None where
    it does not apply (not float32 on the CPU, or as that function says): the caller takes the torch path."""
    if x.device.type != "cpu" or x.dtype != torch.float32:
        return None
    grown = active_blocks_np(x.detach().numpy(), threshold, size, k)
    return None if grown is None else torch.from_numpy(grown)[None, None]


def downscale(x: torch.Tensor, scale: float) -> torch.Tensor:
    """The fast mode's network input: ``x`` resized by ``scale`` with torch's antialiased bilinear filter, in C on
    the CPU (:func:`hdrvid.color.kernels.downscale_aa`: within a few float32 ulps of ``F.interpolate``, 0.9 against
    3.4 ms a 720p frame on one thread), by ``F.interpolate`` elsewhere."""
    if scale >= 1:
        return x
    h, w = x.shape[-2:]
    size = (max(16, round(h * scale)), max(16, round(w * scale)))
    if x.device.type == "cpu" and x.dtype == torch.float32 and not x.requires_grad and size[0] < h and size[1] < w:
        small = downscale_aa(x.detach().numpy(), *size)
        if small is not None:
            return torch.from_numpy(small)
    return F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)


def guide(x: torch.Tensor) -> torch.Tensor:
    """The guide image for field upsampling: perceptually encoded max(R, G, B) over axis 1, (N, 1, H, W) (or
    (L, 1) for picked pixels)."""
    return x.amax(1, keepdim=True).clamp(1e-6, 1) ** (1 / 2.2)


def guided_coefficients(field: torch.Tensor, guide_small: torch.Tensor, r: int,
                        eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Fast guided filter, low-resolution half: the smoothed local linear model field ~ a * guide + b."""
    mg, mf = box_filter(guide_small, r), box_filter(field, r)
    cov = box_filter(guide_small * field, r) - mg * mf
    var = box_filter(guide_small * guide_small, r) - mg * mg
    a = cov / (var + eps)
    b = mf - a * mg
    return box_filter(a, r), box_filter(b, r)


def pick(t: torch.Tensor, n: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``t[n, :, rows, cols]`` ((len, C)) by one flat gather per image (advanced indexing with a slice in the
    middle is ~10x slower in torch)."""
    if t.shape[0] == 1:
        return t[0].flatten(1).index_select(1, rows * t.shape[-1] + cols).T
    return t[n, :, rows, cols]


def bilinear_at(t: torch.Tensor, n: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
                size: tuple[int, int]) -> torch.Tensor:
    """``F.interpolate(t, size, mode="bilinear", align_corners=False)`` read at the pixels (n, rows, cols) only:
    (len(rows), C)."""
    h, w = t.shape[-2:]

    def taps(d: torch.Tensor, n_in: int, n_out: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        src = ((d.to(torch.float32) + 0.5) * (n_in / n_out) - 0.5).clamp(min=0)
        i0 = src.floor().long().clamp(max=n_in - 1)
        return i0, (i0 + 1).clamp(max=n_in - 1), (src - i0).unsqueeze(1)

    r0, r1, fr = taps(rows, h, size[0])
    c0, c1, fc = taps(cols, w, size[1])
    top = pick(t, n, r0, c0) * (1 - fc) + pick(t, n, r0, c1) * fc
    bottom = pick(t, n, r1, c0) * (1 - fc) + pick(t, n, r1, c1) * fc
    return top * (1 - fr) + bottom * fr


def guided_upsample(field: torch.Tensor, guide_small: torch.Tensor, guide_full: torch.Tensor, r: int,
                    eps: float) -> torch.Tensor:
    """Fast guided filter: local linear models field ~ a * guide fitted at low resolution, applied at full."""
    a, b = guided_coefficients(field, guide_small, r, eps)
    size = guide_full.shape[-2:]
    a = F.interpolate(a, size=size, mode="bilinear", align_corners=False)
    b = F.interpolate(b, size=size, mode="bilinear", align_corners=False)
    return a * guide_full + b
