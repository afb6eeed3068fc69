"""Alternating-exposure footage: find the exposure cycle, then merge each frame with its neighbours.

Output frame t uses frame t as the reference and frames t-1 and t+1 (the other exposure(s) of a 2- or
3-exposure cycle) as neighbours: exposure-matched DIS flow both ways, warping, ghost masks and a merge
(classical or learned). Flows between consecutive frames are computed once and used for both frames of
the pair. The stage holds three frames: memory stays constant however long the video.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hdrvid.errors import InputError
from hdrvid.lazy import torch
from hdrvid.models.cycle import Cycle, fit_cycle, relative_evs
from hdrvid.models.merge import DISFlow, FlowPair, flow_merge, weighted_merge
from hdrvid.models.merge_nets import pack, unpack_output
from hdrvid.models.registry import DIFFUSION_MERGES, LEARNED_MERGES, VIDEO_MERGES
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder
from hdrvid.pipeline.frame import Frame
from hdrvid.runtime import EngineOptions, make_executor

log = logging.getLogger("hdrvid")

"""``--merge`` choices for alternating-exposure video."""


class Merger(Protocol):
    """Merges a reference picture with neighbours: (picture, ev, flows reference<->neighbour or None)."""

    name: str
    needs_flow: bool

    def merge(self, ref: np.ndarray, ev_ref: float,
              neighbours: Sequence[tuple[np.ndarray, float, FlowPair | None]]) -> np.ndarray: ...


class DebevecMerge:
    name, needs_flow = "debevec", False

    def merge(self, ref: np.ndarray, ev_ref: float,
              neighbours: Sequence[tuple[np.ndarray, float, FlowPair | None]]) -> np.ndarray:
        return weighted_merge([ref] + [n[0] for n in neighbours], [ev_ref] + [n[1] for n in neighbours])


WORK_SIDE = 640
"""Optical flow and the (smooth) ghost masks are computed with the longer side scaled down to at most this
many pixels (by powers of two); warping and the merge itself stay at full resolution. At 1280x720 this
halves the work of the two most expensive steps; quality measured in the alternating model cards."""


class FlowMerge:
    """``snr=1`` (default): a longer neighbour that recorded a pixel outweighs a short reference in proportion
    to its exposure (chosen on the realistic validation clips: 2 exposures 33.58 -> 34.26 dB PSNR-mu,
    flicker +0.0153 -> +0.0142; 3 exposures 36.80 -> 37.18, +0.0042 -> +0.0028; short references no longer
    noisier than long ones)."""

    name, needs_flow = "flowmerge", True

    def __init__(self, mask_side: int = WORK_SIDE, snr: float = 1.0) -> None:
        self.mask_side = mask_side
        self.snr = snr

    def merge(self, ref: np.ndarray, ev_ref: float,
              neighbours: Sequence[tuple[np.ndarray, float, FlowPair | None]]) -> np.ndarray:
        return flow_merge(ref, ev_ref, [(p, e, f) for p, e, f in neighbours if f is not None], self.mask_side,
                          self.snr)


class LearnedMerge:
    """A trained merge network (ahdr, kalantari, diffhdr) on any backend; flows and packing stay outside it."""

    needs_flow = True

    def __init__(self, name: str, engine: EngineOptions | None = None, weights: Path | None = None) -> None:
        self.name = name
        self.executor = make_executor(name, weights, engine or EngineOptions())
        self.packing: str = getattr(self.executor.model, "kind", name)
        """How the inputs are packed (``merge_nets.pack``): diffhdr takes kalantari's."""

    def merge(self, ref: np.ndarray, ev_ref: float,
              neighbours: Sequence[tuple[np.ndarray, float, FlowPair | None]]) -> np.ndarray:
        nb = [(p, e, f) for p, e, f in neighbours if f is not None]
        ev_min = min([ev_ref] + [e for _, e, _ in nb])
        x = torch.from_numpy(pack(self.packing, ref, ev_ref, nb, ev_min))[None]
        y = self.executor.infer(x)
        return unpack_output(y, ev_min)[0].numpy()


def make_merger(name: str, **kwargs: Any) -> Merger:
    if name == "debevec":
        return DebevecMerge()
    if name == "flowmerge":
        return FlowMerge()
    if name in LEARNED_MERGES + DIFFUSION_MERGES:
        return LearnedMerge(name, **kwargs)
    raise InputError(f"unknown merge {name!r}; choose from {', '.join(VIDEO_MERGES)}")


# --- the exposure cycle (measured in hdrvid.models.cycle) ----------------------------------------------

def detect_cycle(path: Path, decode: DecodeOptions, exposures: Sequence[float] | None = None,
                 frames: int = 18) -> Cycle:
    """Read the first ``frames`` frames (at low resolution) and fit the exposure cycle."""
    dec = VideoDecoder(path, decode)
    pictures = []
    try:
        for f in dec:
            x = f.data.numpy()
            scale = max(1, x.shape[2] // 320)
            pictures.append(np.ascontiguousarray(x[:, ::scale, ::scale]))
            if len(pictures) >= frames:
                break
    finally:
        dec.close()
    if len(pictures) < 3:
        raise InputError(f"{path}: alternating mode needs at least 3 frames")
    try:
        measured = relative_evs(pictures)
    except InputError:
        if exposures is None:
            raise
        log.warning("%s: could not measure which frame has which exposure; assuming frame 0 is %+g EV",
                    path, exposures[0])
        return Cycle(tuple(float(v) for v in exposures))
    return fit_cycle(measured, exposures)


# --- the stage -------------------------------------------------------------------------------------------

class AlternatingMerge:
    """Pipeline stage: frames (linear, one exposure each) in, merged radiance frames (EV 0 scale) out."""

    name = "merge"

    def __init__(self, merger: Merger, cycle: Cycle, flow_preset: str = "medium", flow_side: int = WORK_SIDE) -> None:
        self.merger = merger
        self.cycle = cycle
        self.flow = DISFlow(flow_preset, flow_side) if merger.needs_flow else None
        self.window: list[Frame] = []
        self.flows: dict[tuple[int, int], FlowPair] = {}

    def _pair(self, a: Frame, b: Frame) -> FlowPair:
        key = (a.index, b.index)
        if key not in self.flows:
            assert self.flow is not None
            ab = self.flow.pair(a.data.numpy(), self.cycle.ev(a.index), b.data.numpy(), self.cycle.ev(b.index))
            self.flows[key] = ab
            self.flows[(b.index, a.index)] = FlowPair(ab.ba, ab.ab)
        return self.flows[key]

    def _emit(self, ref: Frame, neighbours: list[Frame]) -> Frame:
        ev = self.cycle.ev(ref.index)
        nb = [(n.data.numpy(), self.cycle.ev(n.index), self._pair(ref, n) if self.flow else None) for n in neighbours]
        out = self.merger.merge(ref.data.numpy(), ev, nb)
        ref.data = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
        ref.exposure = ev
        # flows involving frames that can no longer be a neighbour are dropped (constant memory)
        self.flows = {k: v for k, v in self.flows.items() if min(k) >= ref.index}
        return ref

    def process(self, frame: Frame) -> Iterator[Frame]:
        g = self.cycle.response_power
        if g != 1.0:
            frame.data = frame.data.clamp(min=0).pow(g)
        self.window.append(frame)
        if len(self.window) == 2 and self.window[0].index == 0:
            yield self._emit_copy(self.window[0], [self.window[1]])
        if len(self.window) == 3:
            prev, ref, nxt = self.window
            yield self._emit_copy(ref, [prev, nxt])
            self.window = self.window[1:]

    def _emit_copy(self, ref: Frame, neighbours: list[Frame]) -> Frame:
        """Emit a merged copy of ``ref`` (the original stays in the window as a neighbour)."""
        clone = Frame(index=ref.index, pts=ref.pts, time_base=ref.time_base, data=ref.data, name=ref.name,
                      stats=dataclasses.replace(ref.stats))
        return self._emit(clone, neighbours)

    def flush(self) -> Iterator[Frame]:
        if len(self.window) == 2:  # the last frame: only its previous neighbour
            yield self._emit_copy(self.window[1], [self.window[0]])
        elif len(self.window) == 1:
            yield self._emit_copy(self.window[0], [])

    def close(self) -> None:
        self.window, self.flows = [], {}

