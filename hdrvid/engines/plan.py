"""How an executor feeds frames to a model's parts (:class:`ExecutionPlan`), and the sparse path's mask of active
blocks: no torch (the torch-free CPU path, :mod:`hdrvid.engines.array_executor`, uses both)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hdrvid.errors import BackendError
from hdrvid.lazy import cv2

PARTED = ("receptive_radius", "field", "context", "field_tile", "apply")
"""What a model built in parts has (``executor.PartedModel``, a runtime-checkable protocol: the same test)."""


@dataclass(frozen=True)
class ExecutionPlan:
    """tile: tile edge in pixels (0 = whole frames). overlap: border discarded around each tile (None: the
    model's receptive radius, rounded up to 8). infer_scale: run the network at this fraction of the frame size.
    sparse: for models with an ``active_mask``, run the network only on tiles (``sparse_tile`` pixels at the
    inference resolution) that hold pixels whose output depends on it; frames where too many tiles are active
    (``sparse_limit``) run whole. The result is the same as running everything (tested)."""

    tile: int = 0
    overlap: int | None = None
    infer_scale: float = 1.0
    guide_radius: int = 2
    guide_eps: float = 1e-3
    sparse: bool = True
    sparse_tile: int = 64
    sparse_limit: float = 0.7

    def border(self, radius: int) -> int:
        """The tile border discarded for a model whose receptive radius is ``radius``: ``overlap``, or the radius
        rounded up to 8."""
        return self.overlap if self.overlap is not None else -(-radius // 8) * 8

    def parts(self, model: Any) -> tuple[str, ...]:
        """The model parts the engines must provide for this plan."""
        parted = all(hasattr(model, n) for n in PARTED)
        if not parted:
            if self.tile or self.infer_scale != 1.0:
                raise BackendError(f"{type(model).__name__} runs on whole frames only: drop --tile and --infer-scale "
                                   f"(classical models are cheap at full resolution)")
            return ("full",)
        if self.tile:
            return ("context", "field_tile")
        if self.sparse and hasattr(model, "active_mask"):
            return ("field", "context", "field_tile")
        return ("field",)


def active_blocks_np(planes: np.ndarray, threshold: float | None, size: tuple[int, ...], k: int) -> np.ndarray | None:
    """The sparse path's mask at the network's ``size`` (h, w) float32, computed in numpy and OpenCV: where any
    frame of ``planes`` (N, C, H, W) float32 has max(R, G, B) above ``threshold`` in a block of the frame (the bins
    of ``adaptive_max_pool2d``: row i covers floor(i H / h) to ceil((i + 1) H / h) - 1, so neighbouring bins share a
    row where h does not divide H), grown by ``k`` blocks. The same values as ``adaptive_max_pool2d`` of the
    full-size mask and ``square_max`` (tests) at a fraction of their cost (5-6 ms a 720p frame inside a pipeline:
    torch's max over the channel axis, its adaptive max pool over a full-size float mask). None where it does not
    apply (no threshold, or no downscaling)."""
    h, w = int(planes.shape[-2]), int(planes.shape[-1])
    sh, sw = int(size[0]), int(size[1])
    if threshold is None or planes.shape[1] < 1 or sh > h or sw > w or (sh, sw) == (h, w):
        return None
    above = np.zeros((h, w), bool)
    for frame in planes:
        peak = frame[0].copy()
        for p in frame[1:]:
            np.maximum(peak, p, out=peak)
        above |= peak > threshold
    if h % sh == 0 and w % sw == 0:  # whole blocks: a max over each block anchored at its corner, read there
        fy, fx = h // sh, w // sw
        blocks = cv2.dilate(above.view(np.uint8), np.ones((fy, fx), np.uint8), anchor=(0, 0))[::fy, ::fx]
    else:
        blocks = _bin_max(_bin_max(above.view(np.uint8), sh, 0), sw, 1)
    grown = cv2.dilate(blocks, np.ones((2 * k + 1, 2 * k + 1), np.uint8))  # outside the frame adds nothing
    return grown.astype(np.float32)


def _bin_max(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """``adaptive_max_pool`` along ``axis`` to ``n`` bins: bin i is the max over floor(i L / n) .. ceil((i + 1) L / n)
    - 1, which reaches at most one element into the next bin's start."""
    length = a.shape[axis]
    i = np.arange(n)
    starts, ends = (i * length) // n, -((-(i + 1) * length) // n)
    out = np.maximum.reduceat(a, starts, axis=axis)  # max over starts[i] .. starts[i + 1] - 1
    spill = ends[:-1] > starts[1:]  # bins whose last element is the next bin's first
    if spill.any():
        idx = np.flatnonzero(spill)
        extra = np.take(a, ends[idx] - 1, axis=axis)
        sl = [slice(None)] * a.ndim
        sl[axis] = idx
        out[tuple(sl)] = np.maximum(np.take(out, idx, axis=axis), extra)
    return np.ascontiguousarray(out)


def tile_grid(active: Any, tile: int) -> np.ndarray:
    """(ny, nx) bool: which ``tile`` x ``tile`` tiles of ``active`` ((1, 1, h, w) or (h, w), a tensor or an array;
    the last row and column of tiles partial) hold a nonzero value (``max_pool2d`` with ``ceil_mode``)."""
    a = active if isinstance(active, np.ndarray) else active.detach().cpu().numpy()
    a = a.reshape(a.shape[-2:])
    h, w = a.shape
    ny, nx = -(-h // tile), -(-w // tile)
    padded = np.zeros((ny * tile, nx * tile), bool)
    padded[:h, :w] = a != 0
    return padded.reshape(ny, tile, nx, tile).any((1, 3))


def sparse_choice(size: tuple[int, ...], plan: ExecutionPlan, overlap: int, active: Any) -> tuple[str, int, int]:
    """How the sparse path runs the network on a frame of ``size`` (h, w) whose mask of active pixels is ``active``:
    ``"none"`` (no tile active: the field is zeros), ``"whole"`` (most tiles active, or the active tiles with their
    ``overlap`` borders cost clearly more than the frame: a wide receptive field makes every bordered tile nearly
    the whole frame) or ``"tiles"`` (the active ``plan.sparse_tile`` tiles); with the frame's tile count and the
    tiles the network runs on (the run's share)."""
    h, w = int(size[0]), int(size[1])
    tile = plan.sparse_tile
    n_total = -(-h // tile) * -(-w // tile)
    n_active = int(tile_grid(active, tile).sum())
    if n_active == 0:
        return "none", n_total, 0
    span = tile + 2 * overlap  # what one tile costs with its border
    if n_active > plan.sparse_limit * n_total or n_active * min(h, span) * min(w, span) > 1.5 * h * w:
        return "whole", n_total, n_total
    return "tiles", n_total, n_active


def tiled(fn: Callable[[Any], Any], x: Any, tile: int, overlap: int, active: Any = None, scale: int = 1) -> Any:
    """Run ``fn`` on overlapping tiles of ``x`` (N, C, H, W: a tensor or an array) and keep only each tile's core
    (discard-border stitching). With ``active`` ((1, 1, H, W), nonzero where the result matters), tiles without any
    are left at 0. ``scale``: ``fn`` returns its tile ``scale`` times larger (a super-resolution network). The
    result is on the CPU."""
    n, _, h, w = x.shape
    if h <= tile and w <= tile and active is None:
        return fn(x)
    out = None
    s = scale
    for y0 in range(0, h, tile):
        for x0 in range(0, w, tile):
            y1, x1 = min(h, y0 + tile), min(w, x0 + tile)
            if active is not None and not bool(active[..., y0:y1, x0:x1].any()):
                continue
            ya, xa = max(0, y0 - overlap), max(0, x0 - overlap)
            yb, xb = min(h, y1 + overlap), min(w, x1 + overlap)
            r = fn(x[:, :, ya:yb, xa:xb])
            if out is None:
                shape = (n, r.shape[1], h * s, w * s)
                out = np.zeros(shape, r.dtype) if isinstance(r, np.ndarray) else r.new_zeros(shape, device="cpu")
            out[:, :, s * y0:s * y1, s * x0:s * x1] = r[:, :, s * (y0 - ya):s * (y1 - ya), s * (x0 - xa):s * (x1 - xa)]
    assert out is not None
    return out

