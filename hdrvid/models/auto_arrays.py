"""``hdrunet-auto``'s per-frame expansion on numpy arrays, without torch (issue 17).

What :meth:`HDRUNet.apply_guided <hdrvid.models.hdrunet.HDRUNet.apply_guided>` does to one float32 CPU frame, given
the executor's guided field (coefficient maps ``a``, ``b`` at the network's resolution): the shoulder detector and
its per-shot decision, the camera or graded mask bounds, the codec-block mask shift, the guided expansion of the
clipped pixels, the graded boost, the edge gate, BT.2446A's curve under the average-light cap and the per-blob
level, with the same per-shot state and scene-cut resets. The compiled kernels and the numpy helpers are the ones
the torch model calls; the rest is the torch model's arithmetic in float32 numpy (tests hold the two paths to each
other on frame sequences). ``convert`` runs this path (:mod:`hdrvid.engines.array_executor`) for the default model
on CPUs where ``--precision auto`` picks the int8 network, so the run never imports torch (1.3 s of a start here).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from hdrvid.color.kernels import expand_clipped, luminance_gain
from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion
from hdrvid.errors import ModelError
from hdrvid.models import auto_params as P
from hdrvid.models.blob_level import BlobLevel
from hdrvid.models.clip_edges import gate_frame
from hdrvid.models.deblock import MaskShift
from hdrvid.models.shoulder_arrays import PARAMETERS, ShoulderMLP

BT709 = np.asarray(BT709_WEIGHTS, np.float32)
"""BT.709 luminance weights from its primaries (``color.operators.BT709_WEIGHTS``, what the torch curve uses)."""
LOG_GAIN = math.log(P.MAX_GAIN)
"""``HDRUNet.log_gain`` of the shipped network."""
LOG_EXPANSION = np.log(bt2446a_expansion(np.linspace(0, 1, 4097, dtype=np.float32) ** 2))
"""As ``hdrunet.LOG_EXPANSION``: the curve's log gain at sqrt(luminance) 0..1 for ``luminance_gain``."""


def smoothstep(t: float) -> float:
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def top_gate(sub: np.ndarray) -> float:
    """The graded boost's gate of one frame from its every 2nd row and column ``sub`` (3, h, w): 1 - smoothstep of
    the share of pixels whose max(R, G, B) reaches code ~254 (``auto_params.TOP_SHARE_LO`` .. ``TOP_SHARE_HI``). A grade's
    shoulder leaves the top code almost empty; a camera's clip piles pixels there."""
    top = float((np.maximum(np.maximum(sub[0], sub[1]), sub[2]) >= P.TOP_CODE_LINEAR).mean(dtype=np.float32))
    return 1 - smoothstep((top - P.TOP_SHARE_LO) / (P.TOP_SHARE_HI - P.TOP_SHARE_LO))


def cap_sure(p: float, bounds: tuple[float, float] | None = None) -> float:
    """How far the average-light cap keeps the BT.2446A curve's shape on a frame the detector calls graded with
    probability ``p``, whatever its top code: smoothstep of the logit from ``P.CAP_SURE_LO`` to ``P.CAP_SURE_HI``
    (or over ``bounds``, logits: ``brackets``' own, session 56)."""
    if not p > 0:
        return 0.0
    if p >= 1:
        return 1.0
    lo, hi = bounds if bounds is not None else (P.CAP_SURE_LO, P.CAP_SURE_HI)
    return smoothstep((math.log(p / (1 - p)) - lo) / (hi - lo))


def cap_factors(lin: np.ndarray, out: np.ndarray, w: float, cap: float, sub: np.ndarray,
                sure: float = 0.0) -> tuple[float, float]:
    """The average-light cap of one frame from its every 4th row and column: the input's light ``lin`` and the
    answer before the curve ``out`` (3, h, w), the curve weight ``w``, the cap, and the frame's every 2nd row and
    column ``sub`` for its top-code gate (:func:`top_gate`: 1 when the top code is empty, as a grade leaves it; read
    only when the cap acts), and how sure the detector is (:func:`cap_sure`). Returns (the factor on ``w``, one gain
    on the whole frame).

    The weight cap: the largest weight in [0, w] that keeps the mean max(R, G, B) under the curve at ``cap``
    (bisection: the mean rises with the weight wherever light is above 18 % grey); 1 when the curve keeps the
    mean at or below the cap; 0 when the frame is above the cap without it. It exists for bright camera frames
    the detector calls graded, which all fill the top code (hdrunet card, sessions 21 and 23). As far as the
    ``gate`` is open the curve keeps its weight (its shape is the grade's inverse) and the gain brings the frame's
    mean down to where the weight cap would have put it (the same average light; hdrunet card, session 48). The
    gate opens as far as the detector is ``sure`` too (a consumer camera's shoulder fills the top code; session 51)."""
    lin = np.clip(lin, 0, 1).astype(np.float32, copy=False)
    m = np.maximum(np.maximum(out[0], out[1]), out[2]).astype(np.float32, copy=False).ravel()
    log_g = np.log(bt2446a_expansion(BT709[0] * lin[0] + BT709[1] * lin[1] + BT709[2] * lin[2])).ravel()
    ww = np.float32(w)

    def mean_at(e: np.float32) -> float:
        return float((m * np.exp(e * log_g)).mean(dtype=np.float32))

    if not mean_at(ww) > cap:
        return 1.0, 1.0
    lo, hi = np.float32(0), ww
    for _ in range(16):
        mid = (lo + hi) / np.float32(2)
        if mean_at(mid) <= cap:
            lo = mid
        else:
            hi = mid
    factor = float(lo / max(ww, np.float32(1e-6)))
    gate = 1 - (1 - top_gate(sub)) * (1 - sure)
    if not gate > 0:
        return factor, 1.0
    kept = float(np.float32(factor + gate * (1 - factor)))
    light = max(cap, mean_at(lo))  # the weight cap's mean: the cap, or the frame without the curve above it
    return kept, float(np.float32(min(1.0, light / max(mean_at(np.float32(ww * np.float32(kept))), 1e-12))))


class ShotValue:
    """:class:`hdrvid.models.hdrunet.ShotMean` for one number per frame."""

    def __init__(self) -> None:
        self.value: float | None = None
        self.count = 0

    def reset(self) -> None:
        self.value, self.count = None, 0

    @property
    def held(self) -> bool:
        return self.count >= P.SETTLE_FRAMES

    def update(self, v: float) -> float:
        if self.count < P.SETTLE_FRAMES:
            self.count += 1
            self.value = v if self.value is None else float(np.float32(self.value + (v - self.value) / self.count))
        assert self.value is not None
        return self.value


def load_detector(path: Path) -> ShoulderMLP:
    """The shoulder detector's numbers (``hdrunet-shoulder.json``; its sha256 checked by the caller)."""
    try:
        doc = json.loads(path.read_text())
        params = {k: np.asarray(doc[k], np.float32) for k in PARAMETERS}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ModelError(f"{path}: the shoulder detector's numbers are missing or damaged ({err}); reinstall hdrvid") \
            from None
    return ShoulderMLP(params)


class AutoArrays:
    """``hdrunet-auto``'s expansion of one float32 (3, H, W) frame at a time (see the module)."""

    def __init__(self, detector: ShoulderMLP, log_gain: float = LOG_GAIN) -> None:
        self.detector = detector
        self.log_gain = log_gain
        self.average_cap = P.AVERAGE_CAP
        self.boost_stops = P.GRADED_BOOST
        self.blob_level = BlobLevel() if P.BLOB_LEVEL else None
        self._mask_shift = MaskShift()
        self.video = False
        self._shoulder, self._cap, self._gain, self._top = ShotValue(), ShotValue(), ShotValue(), ShotValue()
        self.last_p: float | None = None
        self.last_gain = 1.0
        self._shoulder_sum = self._curve_sum = self._boost_sum = self._gain_sum = 0.0
        self._frames = 0

    # --- the run: video state and the report's means (as HDRUNet's) ---------------------------------------

    def enable_temporal(self, alpha: float = 0.1) -> None:
        """Video: per-shot decisions, reset by :meth:`reset_temporal` at scene cuts (``alpha``: the torch model's
        curve filter, which ``hdrunet-auto`` does not apply)."""
        self.video = True
        self.reset_temporal()
        if self.blob_level is not None:
            self.blob_level.start(video=True)
        self._shoulder_sum = self._curve_sum = self._boost_sum = self._gain_sum = 0.0
        self._frames = 0

    def reset_temporal(self) -> None:
        self._shoulder.reset()
        self._cap.reset()
        self._gain.reset()
        self._top.reset()
        if self.blob_level is not None:
            self.blob_level.cut()

    def mean_shoulder_weight(self) -> float | None:
        return self._shoulder_sum / self._frames if self._frames else None

    def mean_curve_weight(self) -> float | None:
        return self._curve_sum / self._frames if self._frames else None

    def mean_graded_boost(self) -> float | None:
        return self._boost_sum / self._frames if self._frames and self.boost_stops else None

    def mean_cap_gain(self) -> float | None:
        return self._gain_sum / self._frames if self._frames else None

    def mean_blob_level(self) -> float | None:
        return None if self.blob_level is None else self.blob_level.mean_stops()

    # --- one frame ----------------------------------------------------------------------------------------

    def shoulder_weight(self, linear: np.ndarray) -> float:
        if self.video and self._shoulder.held:
            p = self._shoulder.value
        else:
            lo, hi = float(linear.min()), float(linear.max())
            x = linear if lo >= 0 and hi <= 1 else np.clip(linear, 0, 1)
            p = float(np.float32(self.detector.probability(x)))
            if self.video:
                p = self._shoulder.update(p)
        assert p is not None
        self.last_p = p
        return float(np.float32(smoothstep(float(np.float32((p - P.SHOULDER_LO) / (P.SHOULDER_HI - P.SHOULDER_LO))))))

    def boost(self, linear: np.ndarray, w: float) -> float | None:
        """The graded boost's natural-log gain at full mask (``GradedCurve.boost``), or None."""
        if self.boost_stops == 0 or not w > 0:
            return None
        if self.video and self._top.held:
            gate = self._top.value
        else:
            gate = top_gate(linear[:, ::2, ::2])
            if self.video:
                gate = self._top.update(gate)
        assert gate is not None
        stops = float(np.float32(self.boost_stops * w * gate))
        self._boost_sum += stops
        return stops * math.log(2)

    def capped_weight(self, linear: np.ndarray, out: np.ndarray, w: float) -> float:
        """``GradedCurve.capped_weight`` for one frame; the gain it leaves for the finished frame in
        :attr:`last_gain`."""
        cap = self.average_cap
        self.last_gain = 1.0
        if not math.isfinite(cap):
            return w
        if self.video and self._cap.held:
            self.last_gain = self._gain.value  # type: ignore[assignment]
            return float(np.float32(w * self._cap.value))  # type: ignore[operator]
        factor, gain = cap_factors(linear[:, ::4, ::4], out[:, ::4, ::4], w, cap, linear[:, ::2, ::2],
                                   cap_sure(self.last_p) if self.last_p is not None else 0.0)
        if self.video:  # the weight: the shot's first frames' mean; the gain: its first frame's, held
            factor = self._cap.update(float(np.float32(factor)))
            gain = self._gain.value if self._gain.value is not None else self._gain.update(float(np.float32(gain)))
        self.last_gain = gain
        return float(np.float32(w * factor))

    def apply(self, linear: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The expanded frame (a new float32 array) for ``linear`` (3, H, W) float32 and the guided field's
        coefficient maps ``a``, ``b`` (3, h, w)."""
        w = self.shoulder_weight(linear)
        self._shoulder_sum += w
        self._frames += 1
        bounds = (float(np.float32(P.CAMERA_ALPHA_LO + (P.ALPHA_LO - P.CAMERA_ALPHA_LO) * np.float32(w))),
                  float(np.float32(P.CAMERA_ALPHA_HI + (P.ALPHA_HI - P.CAMERA_ALPHA_HI) * np.float32(w))))
        boost = self.boost(linear, w)
        every = np.zeros(1, np.float32)  # the block filter on camera and graded frames alike (auto_params.DEBLOCK)
        shift = self._mask_shift(linear[None], every, P.CLIP_START_LINEAR, P.SIGNAL_GAMMA) if P.DEBLOCK else None
        out = expand_clipped(linear, a, b, self.log_gain, P.CLIP_START_LINEAR, bounds, P.SIGNAL_GAMMA,
                             (P.NEUTRAL_LO, P.NEUTRAL_HI), None if shift is None else shift[0, 0])
        if boost is not None:  # at the pixels the kernel expanded: one factor on every channel by the mask
            peak = np.maximum(np.maximum(linear[0], linear[1]), linear[2]).ravel()
            flat = np.flatnonzero(peak > P.CLIP_START_LINEAR)
            if len(flat):
                view = out.reshape(3, -1)
                signal = np.power(np.clip(linear.reshape(3, -1)[:, flat], 1e-8, 1), np.float32(1 / P.SIGNAL_GAMMA))
                if shift is not None:
                    signal = signal + shift[0, 0].ravel()[flat]
                t = np.clip((signal.max(0) - np.float32(bounds[0])) / np.float32(bounds[1] - bounds[0]), 0, 1)
                view[:, flat] *= np.exp(np.float32(boost) * (t * t * (3 - 2 * t)))
        if P.EDGE_GATE:
            gate_frame(linear, out, w, P.CLIP_START_LINEAR, P.SIGNAL_GAMMA)
        gain = 1.0
        if w > 0:
            cw = self.capped_weight(linear, out, w)
            gain = self.last_gain
            self._curve_sum += cw
            luminance_gain(linear, out, BT709, np.exp(np.float32(cw) * LOG_EXPANSION))
        self._gain_sum += gain
        if self.blob_level is not None and self.last_p is not None:
            self.blob_level(linear[None], out[None], np.asarray([self.last_p]),
                            (np.asarray([bounds[0]]), np.asarray([bounds[1]])), shift)
        if gain < 1:  # the cap's gain on the finished frame (after the per-blob level, which reads light)
            out *= np.float32(gain)
        return out
