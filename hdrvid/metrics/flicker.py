"""Temporal stability of a video transform (tone mapping, inverse tone mapping).

Two measures, each computed for the output and for the input in comparable units:

- ``log_change``: frame-to-frame change of the mean log10 luminance (a global brightness pump shows
  here first);
- ``warp_error``: optical-flow warping error. Flow is estimated on the *input* frames (OpenCV DIS), the
  previous frame is warped onto the current one, and the mean absolute difference is taken over pixels
  the flow can explain (forward-backward consistent). Done on the input and on the output with the same
  flow, so the ratio output/input says how much flicker the transform added. Signals are compared in
  perceptually even units: PQ for HDR, the display-encoded value for SDR.

:class:`FlickerMeter` is streaming: it keeps only the previous frame, so memory stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hdrvid.lazy import cv2

ANALYSIS_HEIGHT = 270


def mean_log_luminance(y: np.ndarray) -> float:
    """Mean of log10 luminance (any absolute or relative unit), floored at 1e-4."""
    return float(np.log10(np.maximum(y, 1e-4)).mean())


def _small(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    if h <= ANALYSIS_HEIGHT:
        return img.astype(np.float32)
    s = ANALYSIS_HEIGHT / h
    return cv2.resize(img.astype(np.float32), (max(1, round(w * s)), ANALYSIS_HEIGHT), interpolation=cv2.INTER_AREA)


def _flow(a: np.ndarray, b: np.ndarray, dis: cv2.DISOpticalFlow) -> np.ndarray:
    a8 = np.clip(a * 255, 0, 255).astype(np.uint8)
    b8 = np.clip(b * 255, 0, 255).astype(np.uint8)
    return dis.calc(b8, a8, None)  # flow from current (b) to previous (a): b(x) ~ a(x + f(x))


def _warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@dataclass
class FlickerMeter:
    """Feed (input signal, output signal, input luminance, output luminance) per frame, in order.

    Signals are 2-D luminance-like images in [0, 1] (PQ or display-encoded); luminances are linear (any
    units) for the log-change measure. ``cuts`` lists frame indices where a new scene starts: transitions
    into those frames are left out of the statistics.
    """

    cuts: set[int] = field(default_factory=set)
    warp: bool = True
    """Also compute the optical-flow warping error (two DIS flows per frame: the costly part)."""
    log_in: list[float] = field(default_factory=list)
    log_out: list[float] = field(default_factory=list)
    warp_in: list[float] = field(default_factory=list)
    warp_out: list[float] = field(default_factory=list)
    _prev: tuple[np.ndarray, np.ndarray] | None = None
    _index: int = 0

    def __post_init__(self) -> None:
        self._dis: Any = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) if self.warp else None

    def mark_cut(self) -> None:
        """The next frame added starts a new scene."""
        self.cuts.add(self._index)

    def add(self, sig_in: np.ndarray | None, sig_out: np.ndarray | None, lum_in: np.ndarray,
            lum_out: np.ndarray) -> None:
        """One frame; the signals are only read for the warping error (None without ``warp``)."""
        self.log_in.append(mean_log_luminance(lum_in))
        self.log_out.append(mean_log_luminance(lum_out))
        if not self.warp:
            self._index += 1
            return
        if sig_in is None or sig_out is None:
            raise ValueError("the warping error needs both signals")
        a, b = _small(sig_in), _small(sig_out)
        if self._prev is not None and self._index not in self.cuts:
            pa, pb = self._prev
            f = _flow(pa, a, self._dis)
            back = _flow(a, pa, self._dis)
            # forward-backward check: keep pixels whose flow round trip returns within 1 px
            err = np.linalg.norm(f + _warp(back, f), axis=-1)
            ok = err < 1.0
            if ok.mean() > 0.05:
                self.warp_in.append(float(np.abs(a - _warp(pa, f))[ok].mean()))
                self.warp_out.append(float(np.abs(b - _warp(pb, f))[ok].mean()))
        self._prev = (a, b)
        self._index += 1

    def log_changes(self, frames: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """|change of mean log luminance| between consecutive frames (transition k -> k+1 at index k),
        input and output, skipping transitions into a cut; ``frames`` selects transitions by index."""
        d_in = np.abs(np.diff(self.log_in))
        d_out = np.abs(np.diff(self.log_out))
        keep = [k for k in range(len(d_in)) if (k + 1) not in self.cuts and (frames is None or k in frames)]
        return d_in[keep], d_out[keep]

    def summary(self) -> dict[str, float | None]:
        d_in, d_out = self.log_changes()
        ratio = lambda o, i: round(float(np.mean(o) / np.mean(i)), 4) if len(i) and np.mean(i) > 0 else None
        return {
            "log_change_in": round(float(d_in.mean()), 6) if len(d_in) else None,
            "log_change_out": round(float(d_out.mean()), 6) if len(d_out) else None,
            "log_change_ratio": ratio(d_out, d_in),
            "warp_error_in": round(float(np.mean(self.warp_in)), 6) if self.warp_in else None,
            "warp_error_out": round(float(np.mean(self.warp_out)), 6) if self.warp_out else None,
            "warp_error_ratio": ratio(np.array(self.warp_out), np.array(self.warp_in)) if self.warp_in else None,
        }
