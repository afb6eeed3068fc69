"""Temporal smoothing of the statistics that drive scaling and tone mapping.

Per frame: log-average luminance and a high-percentile peak (99.9th percentile of max(R,G,B), robust to
a few hot pixels) of the model's output. Both are smoothed by a first-order IIR filter in the log domain
(time constant ``period`` frames, ~20 like libplacebo) that resets at scene cuts, detected when the input
histogram moves by more than ``cut_threshold`` (half the L1 distance, 0..1) from the previous frame.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from hdrvid.color.gamut import luminance
from hdrvid.color.packed import block_mean
from hdrvid.lazy import F, torch
from hdrvid.pipeline.frame import Frame

PEAK_PERCENTILE = 99.9


def frame_statistics(data: torch.Tensor | np.ndarray) -> tuple[float, float]:
    """(log-average luminance, high-percentile peak of max(R,G,B)) of a (3,H,W) linear frame (torch or numpy)."""
    h, w = data.shape[-2:]
    f = max(1, min(h, w) // 135)  # ~135 px on the short side is plenty for global statistics
    if isinstance(data, np.ndarray):
        small = np.stack([block_mean(c, f) for c in data])
        y = luminance(small, axis=0).clip(min=1e-6)
        peak_map = small.max(0).ravel()
        k = max(1, int(round(peak_map.size * PEAK_PERCENTILE / 100)))
        peak = float(np.partition(peak_map, k - 1)[k - 1])
        return float(np.exp(np.log(y).mean(dtype=np.float64))), max(peak, 1e-6)
    x = data.unsqueeze(0)
    if f > 1:
        x = F.avg_pool2d(x, f)
    y = luminance(x[0], axis=0).clamp(min=1e-6)
    log_avg = float(torch.exp(torch.log(y).mean()))
    peak_map = x[0].amax(0).flatten()
    k = max(1, int(round(peak_map.numel() * PEAK_PERCENTILE / 100)))
    peak = float(peak_map.kthvalue(k).values)
    return log_avg, max(peak, 1e-6)


class SceneCuts:
    """Scene-cut detector: half the L1 distance between consecutive input histograms above a threshold."""

    def __init__(self, threshold: float = 0.3) -> None:
        self.threshold = threshold
        self._hist: np.ndarray | None = None

    def update(self, hist: np.ndarray | None) -> bool:
        cut = False
        if hist is not None and self._hist is not None:
            cut = 0.5 * float(np.abs(hist - self._hist).sum()) > self.threshold
        self._hist = hist
        return cut


class TemporalSmoother:
    name = "smooth"

    def __init__(self, period: float = 20.0, cut_threshold: float = 0.3) -> None:
        self.alpha = 1 - math.exp(-1 / period) if period > 0 else 1.0
        self.detector = SceneCuts(cut_threshold)
        self._state: tuple[float, float] | None = None
        self.cuts: list[int] = []

    def process(self, frame: Frame) -> Iterator[Frame]:
        log_avg, peak = frame_statistics(frame.data)
        cut = self.detector.update(frame.stats.hist)
        la, pk = math.log(log_avg), math.log(peak)
        if self._state is None or cut:
            if cut:
                self.cuts.append(frame.index)
            self._state = (la, pk)
        else:
            s_la, s_pk = self._state
            self._state = (s_la + self.alpha * (la - s_la), s_pk + self.alpha * (pk - s_pk))
        st = frame.stats
        st.log_average, st.peak, st.scene_cut = log_avg, peak, cut
        st.log_average_smooth, st.peak_smooth = math.exp(self._state[0]), math.exp(self._state[1])
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass


def scene_statistics(per_frame: list[tuple[float, float, bool]]) -> list[tuple[float, float]]:
    """Two-pass statistics: one (log-average, peak) per scene, given per-frame (log_average, peak, cut).

    Within a scene the log-average is the geometric mean of the frames' and the peak the 95th
    percentile of the frames' peaks (robust to a single flash), so the tone curve is constant for the
    whole scene: no adaptation, no pumping.
    """
    out: list[tuple[float, float]] = []
    start = 0
    bounds = [i for i, (_, _, cut) in enumerate(per_frame) if cut and i > 0] + [len(per_frame)]
    for end in bounds:
        scene = per_frame[start:end]
        if scene:
            la = math.exp(sum(math.log(a) for a, _, _ in scene) / len(scene))
            pk = float(np.percentile([p for _, p, _ in scene], 95))
            out.extend([(la, pk)] * len(scene))
        start = end
    return out


class PrecomputedStats:
    """Stands in for the smoother in two-pass mode: statistics from a first pass over the whole input."""

    name = "smooth"

    def __init__(self, per_frame: list[tuple[float, float, bool]]) -> None:
        self.per_frame = per_frame
        self.scene = scene_statistics(per_frame)
        self.cuts = [i for i, (_, _, c) in enumerate(per_frame) if c]

    def process(self, frame: Frame) -> Iterator[Frame]:
        i = min(frame.index, len(self.scene) - 1)
        la, pk = self.scene[i]
        st = frame.stats
        st.log_average, st.peak, st.scene_cut = self.per_frame[i]
        st.log_average_smooth, st.peak_smooth = la, pk
        yield frame

    def flush(self) -> Iterator[Frame]:
        return iter(())

    def close(self) -> None:
        pass
