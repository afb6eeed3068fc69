"""A single-exposure model with a frame-wide view: global inverse-response curve + U-Net highlight expansion.

Why (issue 12): ExpandNet sees 8 pixels around each pixel plus one global vector, so a clipped sky or window
gets one gain; and real SDR is graded (a shoulder rolls highlights off before white), so the inverse of the
nominal transfer curve is wrong even where nothing clipped. The design takes the two best-known answers:

- HDRTVNet's split (Chen et al. 2021): a tiny *global* colour mapping, conditioned on a frame-wide feature
  vector, applied per pixel: here a monotone piecewise-linear inverse response ``c`` on linear light: the
  identity below signal 0.5, then 8 knots spaced evenly in the signal domain up to 1 (slopes from softplus,
  so it is increasing by construction and starts as the identity). It undoes the shoulders of graded SDR in
  the bright tones, clipped or not, and leaves dark and mid tones exactly as decoded (a clip-at-white
  camera's recorded pixels cannot be told from a grade's, and they must stay put);
- HDRCNN's U-Net with mask blending (Eilertsen et al. 2017): a 4-level U-Net (receptive field ~140 px at the
  resolution it runs at) predicts a log gain for the highlights, blended in only where the input is clipped
  (``alpha``: smoothstep on the signal between codes ~246 and ~252.5, per channel, so one clipped channel
  counts; channels within a few codes of the brightest share its mask, so a near-white pixel expands as one).
  Pixels the camera recorded are ``c(x)``: nothing expands a pixel that was merely bright.

    out = c(x) * exp(alpha(x) * g(x)),   g = ln(max_gain) * sigmoid(.)   (per channel)

``hdrunet-auto`` (the default model since session 10) adds ITU-R BT.2446 Method A's inverse curve, as a gain on
the input's luminance (1 at 18 % grey), on frames a small detector (:mod:`hdrvid.models.shoulder`) finds graded,
one decision per shot in video: camera footage that clips at white keeps its recorded pixels.
On frames it calls camera footage, each clipped area's expansion is raised to a power from 0.5 (the codes reach
white through a gentle slope: a plateau at the clip point) to 1 (a steep rise: a light source), the edge gate of
:mod:`hdrvid.models.clip_edges` (session 27).

Built in parts for hdrvid's executor (``field`` = 3 log-gain channels + the curve's knot values as constant
channels; ``apply`` is per pixel), so the CPU fast mode runs the network at a quarter of the frame size and
applies its field at full resolution. Parameters: about 0.5 M (``width=16``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.color.kernels import expand_clipped, luminance_gain
from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_expansion, luminance
from hdrvid.models.auto_arrays import LOG_EXPANSION as LOG_EXPANSION_TABLE
from hdrvid.models.auto_arrays import cap_factors, cap_sure, top_gate
from hdrvid.models.auto_params import (  # noqa: F401  (the settings, named here as before)
    ALPHA_HI,
    ALPHA_LO,
    AVERAGE_CAP,
    BLOB_LEVEL,
    CAMERA_ALPHA_HI,
    CAMERA_ALPHA_LO,
    CLIP_HI,
    CLIP_LO,
    CLIP_START_LINEAR,
    DEBLOCK,
    EDGE_GATE,
    GRADED_BOOST,
    KNEE,
    KNOTS,
    MAX_GAIN,
    NEUTRAL_HI,
    NEUTRAL_LO,
    RECEPTIVE_RADIUS,
    SETTLE_FRAMES,
    SHOULDER_HI,
    SHOULDER_LO,
    SIGNAL_GAMMA,
    TOP_CODE_LINEAR,
    TOP_SHARE_HI,
    TOP_SHARE_LO,
)
from hdrvid.models.blob_level import BlobLevel
from hdrvid.models.clip_edges import gate_expansion
from hdrvid.models.deblock import MaskShift
from hdrvid.models.shoulder import ShoulderDetector

LOG_EXPANSION = torch.from_numpy(LOG_EXPANSION_TABLE)
"""hdrunet-auto's curve (log gain) tabulated at sqrt(luminance) 0..1 for the compiled pass
(``color.kernels.luminance_gain``: C, or numba where not built); a frame's table is exp(weight x this). The torch-free
path's table (``auto_arrays.LOG_EXPANSION``, BT.2446A's expansion in float32 numpy): one table for both."""
TAIL_EDGES = 16
"""The gate sees the share of pixels whose max(R, G, B) signal reaches each of these many levels between
the knee and white: a grade's shoulder fills the top codes smoothly, a clip piles pixels up at 255."""
"""The inverse response is the identity below this signal value (linear 0.218): dark and mid tones are left
exactly as decoded; the curve only undoes what grades do to the top (shoulders, highlight roll-off)."""


class ShotMean:
    """Video: a per-frame value's running mean over a shot's first SETTLE_FRAMES frames, then held until
    :meth:`reset` (a scene cut): hdrunet-auto's per-shot decisions (the detector's probability, the cap's
    factor), so a car driving through a shot cannot make the picture breathe."""

    def __init__(self) -> None:
        self.value: torch.Tensor | None = None
        self.count = 0

    def reset(self) -> None:
        self.value, self.count = None, 0

    @property
    def held(self) -> bool:
        return self.count >= SETTLE_FRAMES

    def update(self, values: torch.Tensor) -> torch.Tensor:
        """(N,) the value each of the next N frames gets: the running mean including it, or the held one."""
        out = []
        for v in values:
            if self.count < SETTLE_FRAMES:
                self.count += 1
                self.value = (v if self.value is None else self.value + (v - self.value) / self.count).detach()
            out.append(self.value)
        return torch.stack(out)  # type: ignore[arg-type]


WIDTH, CONTEXT = 16, 64
"""The shipped network's U-Net width (its first level's channels) and context vector length: the defaults."""


def in_unit_range(x: torch.Tensor) -> torch.Tensor:
    """``x.clamp(0, 1)``, or ``x`` itself when every value already lies in [0, 1] (one read-only min-max pass: an
    8-bit source's light always does; a 1080p clamp's new 25 MB cost ~5x the check, session 33)."""
    lo, hi = torch.aminmax(x)
    return x if bool(lo >= 0) and bool(hi <= 1) else x.clamp(0, 1)


class GradedCurve:
    """BT.2446 Method A's inverse curve on frames called graded (``hdrunet-auto``'s, and ``brackets``' since session
    32): a picture's light times BT.2446A's expansion of its input luminance to the power of the frame's shoulder
    weight, lowered on bright frames by the cap on their average light (:meth:`capped_weight`: on frames whose top
    code is full by the weight, on frames whose top code is empty by one gain that :meth:`gained` applies to the
    finished frame); and the graded boost (:meth:`boost`: more light in the clipped highlights of graded frames
    whose top code is nearly empty). Video (:meth:`start`): the cap's factor and gain and the boost's gate are one
    per shot (:class:`ShotMean`; the gain is the shot's first frame's), reset at scene cuts (:meth:`cut`)."""

    def __init__(self, sure_bounds: tuple[float, float] | None = None) -> None:
        self.average_cap = AVERAGE_CAP
        """The cap on a frame's mean max(R, G, B) under the curve (relative light; inf: none)."""
        self.sure_bounds = sure_bounds
        """Logits of the detector's probability over which the cap comes to keep the curve's shape
        (:func:`~hdrvid.models.auto_arrays.cap_sure`; None: ``auto_params.CAP_SURE_LO`` .. ``CAP_SURE_HI``)."""
        self.video = False
        self._cap = ShotMean()
        """Video: the shot's factor on the curve from the average-light cap."""
        self._gain: torch.Tensor | None = None
        """Video: the shot's gain from the average-light cap (its first frame's: a moving mean of a gain on the
        whole frame made the picture breathe)."""
        self.total = 0.0
        """Sum of the curve weights applied since :meth:`start` (the run report's mean)."""
        self.last: torch.Tensor | None = None
        """The curve weights of the last call after the average-light cap."""
        self.last_gain: torch.Tensor | None = None
        """The cap's gains of the last call's frames ((N,); None: none below 1), for :meth:`gained`."""
        self.gain_total = 0.0
        """Sum of the cap's gains on the frames the curve saw since :meth:`start`."""
        self.frames = 0
        """Frames the curve saw since :meth:`start` (with a weight above 0)."""
        self.boost_stops = GRADED_BOOST
        """Stops the graded boost (:meth:`boost`) adds at full weight (0: off)."""
        self._top = ShotMean()
        """Video: the shot's gate of the graded boost (share of pixels at the top code)."""
        self.boost_total = 0.0
        """Sum of the stops the boost added since :meth:`start`."""
        self.last_boost: torch.Tensor | None = None

    def start(self, video: bool) -> None:
        self.video = video
        self._cap.reset()
        self._gain = None
        self._top.reset()
        self.total = self.boost_total = self.gain_total = 0.0
        self.frames = 0

    def cut(self) -> None:
        self._cap.reset()
        self._gain = None
        self._top.reset()

    def boost(self, linear: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor | None:
        """(N,) each frame's graded boost as a natural-log gain at full mask: :attr:`boost_stops` x the shoulder
        weight ``w`` x the gate on the share of pixels at the top code (``TOP_SHARE_LO`` .. ``TOP_SHARE_HI``, on
        every 2nd row and column) x ln 2; None when off. A grade's shoulder leaves the top code almost empty: its
        clipped highlights were compressed more than a camera's clip. Video: one gate per shot."""
        if w is None or self.boost_stops == 0 or not bool((w > 0).any()):
            self.last_boost = None
            return None
        if self.video and self._top.held:
            gate = self._top.value.expand(linear.shape[0])  # type: ignore[union-attr]
        else:
            subs = linear[:, :, ::2, ::2].detach().float().cpu().numpy()
            gate = torch.tensor([top_gate(sub) for sub in subs], dtype=torch.float32, device=w.device)
            if self.video:
                gate = self._top.update(gate)
        stops = self.boost_stops * w.flatten().float() * gate.float()
        self.last_boost = stops
        self.boost_total += float(stops.sum())
        return stops * math.log(2)

    def capped_weight(self, linear: torch.Tensor, out: torch.Tensor, w: torch.Tensor,
                      p: torch.Tensor | None = None) -> torch.Tensor:
        """(N, 1, 1, 1) the curve weights ``w`` under the cap on a frame's mean max(R, G, B) (on every 4th row and
        column; :func:`~hdrvid.models.auto_arrays.cap_factors`): on a frame whose top code is full (a camera's
        clip) the largest weight in [0, w] that keeps the mean at :attr:`average_cap`, or 0 when the frame is
        already above it without the curve; as far as the top code is empty (a grade's shoulder) the weight is
        kept and one gain (:attr:`last_gain`, applied by :meth:`gained`) brings the frame to the same mean; and as
        far as the detector's probability ``p`` (N,) is sure (:func:`~hdrvid.models.auto_arrays.cap_sure`).
        Video: one factor per shot, the mean over the shot's first SETTLE_FRAMES frames, then held (as the
        shoulder weight); one gain per shot, its first frame's (a gain on the whole picture that followed a running
        mean made it breathe: hdrunet card, session 48)."""
        cap = self.average_cap
        self.last_gain = None
        if not math.isfinite(cap):
            return w
        if self.video and self._cap.held:
            factor = self._cap.value.to(w.dtype).expand(w.shape[0])  # type: ignore[union-attr]
            gain = self._gain.to(w.dtype).expand(w.shape[0])  # type: ignore[union-attr]
        else:
            lin = linear[:, :, ::4, ::4].detach().float().cpu().numpy()
            o = out[:, :, ::4, ::4].detach().float().cpu().numpy()
            subs = linear[:, :, ::2, ::2].detach().float().cpu().numpy()
            ww = w.flatten().float()
            sure = [0.0] * len(lin) if p is None else [cap_sure(float(v), self.sure_bounds) for v in p.flatten()]
            both = torch.tensor([cap_factors(lin[i], o[i], float(ww[i]), cap, subs[i], sure[i])
                                 for i in range(len(lin))], dtype=torch.float32, device=w.device).view(-1, 2)
            factor, gain = both[:, 0], both[:, 1]
            if self.video:  # the weight: the mean of the shot's first frames; the gain: its first frame's, held
                factor = self._cap.update(factor)
                if self._gain is None:
                    self._gain = gain[0].detach()
                gain = self._gain.expand(w.shape[0])
            factor, gain = factor.to(w.dtype), gain.to(w.dtype)
        if bool((gain < 1).any()):
            self.last_gain = gain
        return w * factor.view(-1, 1, 1, 1)

    def mean_gain(self, frames: int) -> float:
        """The cap's mean gain over the run's ``frames`` (a frame the curve did not see counts as 1)."""
        return (self.gain_total + (frames - self.frames)) / frames

    def gained(self, out: torch.Tensor) -> torch.Tensor:
        """``out`` (the finished frames of the last call, after the per-blob level, which reads light) times the
        cap's gains (:meth:`capped_weight`), in place where it can be; ``out`` itself when none is below 1."""
        g = self.last_gain
        if g is None:
            return out
        g = g.to(out.dtype).view(-1, 1, 1, 1)
        return out.mul_(g) if not out.requires_grad else out * g

    def __call__(self, linear: torch.Tensor, out: torch.Tensor, w: torch.Tensor | None,
                 p: torch.Tensor | None = None) -> torch.Tensor:
        """``out`` (the highlights-only result for ``linear``) times BT.2446A's expansion of the input's
        luminance (of the light clamped to [0, 1]) to the power of the frame's shoulder weight ``w``
        (1 at 18 % grey, 2.5 at SDR white), lowered on bright frames by :meth:`capped_weight` (which reads the
        detector's probabilities ``p``)."""
        self.last_gain = None
        if w is None:
            return out
        w = w.to(out.dtype).view(-1, 1, 1, 1)
        if not bool((w > 0).any()):
            return out
        w = self.capped_weight(linear, out, w, p)
        self.last = w.flatten()
        self.total += float(self.last.float().sum())
        self.frames += w.shape[0]
        self.gain_total += float(self.last_gain.float().sum()) if self.last_gain is not None else w.shape[0]
        if (out.device.type == "cpu" and out.dtype == torch.float32 and linear.dtype == torch.float32
                and not out.requires_grad):
            out = out.contiguous()
            lin = linear.contiguous()
            for i in range(out.shape[0]):  # one compiled pass per frame, the curve as a table of sqrt(Y)
                table = torch.exp(w[i, 0, 0, 0] * LOG_EXPANSION).numpy()
                luminance_gain(lin[i].numpy(), out[i].numpy(), np.asarray(BT709_WEIGHTS, np.float32), table)
            return out
        y = luminance(linear.clamp(0, 1), BT709_WEIGHTS).to(out.dtype)
        return out * torch.exp(w * torch.log(bt2446a_expansion(y)))


class HoldsGradedCurve:
    """Mixin for a model that holds a :class:`GradedCurve` as ``graded_curve`` (``hdrunet-auto``, ``brackets``): its
    ``average_cap`` is the curve's, so ``jobs.convert.set_average_cap`` (``--average-cap``) reaches it."""

    graded_curve: GradedCurve

    @property
    def average_cap(self) -> float:
        """The cap on a frame's mean max(R, G, B) under the BT.2446A curve (relative light; inf: none)."""
        return self.graded_curve.average_cap

    @average_cap.setter
    def average_cap(self, value: float) -> None:
        self.graded_curve.average_cap = value


class HoldsBlobLevel:
    """Mixin for a model that levels its clipped blobs (``hdrunet-auto``, ``brackets``): ``blob_level`` (None: off),
    the last frames' detector probabilities ``last_p`` and mask shift ``_last_shift``, which the rule reads."""

    blob_level: BlobLevel | None
    last_p: torch.Tensor | None
    _last_shift: torch.Tensor | None

    def level_blobs(self, linear: torch.Tensor, out: torch.Tensor,
                    bounds: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``out`` (the answer for ``linear`` after the curve) with each clipped blob's light scaled by the factor
        :class:`~hdrvid.models.blob_level.BlobLevel` reads from the picture, through the model's mask (``bounds``,
        per frame, and ``_last_shift``); unchanged when off, before a frame's detector ran, or in training."""
        if self.blob_level is None or self.last_p is None or out.requires_grad:
            return out
        return self.blob_level(linear, out, self.last_p, bounds, self._last_shift)

    def mean_blob_level(self) -> float | None:
        """Mean over the frames since the run started of the stops the per-blob level added where it acted
        (:meth:`BlobLevel.mean_stops`; None: off)."""
        return None if self.blob_level is None else self.blob_level.mean_stops()


def area_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """``F.interpolate(x, (size, size), mode="area")`` (adaptive average pooling: output row i averages input
    rows floor(i H / size) to ceil((i + 1) H / size) - 1, the same for columns) as two matrix products with
    pooling matrices built from the input's size, which ONNX expresses for any size (torch's adaptive pooling
    exports for fixed sizes only). The same means up to float summation order (test); used when tracing for
    export, while eager torch keeps ``F.interpolate``."""
    def pooling(n: torch.Tensor | int) -> torch.Tensor:  # (size, n): row i averages its bin
        i = torch.arange(size, device=x.device, dtype=torch.float32)[:, None]
        j = torch.arange(n, device=x.device, dtype=torch.float32)[None, :]  # type: ignore[arg-type]
        start, end = torch.floor(i * n / size), torch.ceil((i + 1) * n / size)
        return ((j >= start) & (j < end)).to(x.dtype) / (end - start).to(x.dtype)

    h, w = x.shape[-2:]
    return torch.matmul(torch.matmul(pooling(h), x), pooling(w).transpose(0, 1))


def pad_to_multiple(x: torch.Tensor, mult: int) -> torch.Tensor:
    """``x`` padded at the bottom and right to a multiple of ``mult`` by repeating its last row and column
    (``F.pad(mode="replicate")``), by gathering clamped indices: the padding follows the input's size in an
    ONNX graph (a traced ``F.pad`` keeps the traced size's amounts)."""
    h, w = x.shape[-2:]
    rows = torch.arange((h + mult - 1) // mult * mult, device=x.device).clamp(max=h - 1)
    cols = torch.arange((w + mult - 1) // mult * mult, device=x.device).clamp(max=w - 1)
    return x.index_select(-2, rows).index_select(-1, cols)


def _conv(cin: int, cout: int, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, padding=dilation, dilation=dilation),
                         nn.LeakyReLU(0.1, inplace=True))


class HDRUNet(HoldsGradedCurve, HoldsBlobLevel, nn.Module):
    field_channels = 3 + KNOTS + 1
    spatial_channels = 3
    """Only the log gains vary over the frame; the curve's knots and the gate are read as frame means, so the
    fast mode upsamples the first 3 channels and hands the others' means to ``apply_split`` (at 720p: ~4x
    less upsampling, no full-size copy of constants)."""
    exportable = True
    """Its parts (``field``, ``context``, ``field_tile``) export to ONNX for any frame size (the frame-wide
    branch's area resize and the U-Net's padding are built from the input's size: :func:`area_resize`,
    :func:`pad_to_multiple`); ``apply`` (the detector, the curve, the average-light cap) stays in torch."""
    cpu_bf16 = True
    """Validated in bf16 (``--precision auto`` picks it on CPUs with native bf16): on the validation views the
    largest change against fp32 is -0.05 dB PU21 (hard camera, unclipped pixels; see the model card)."""
    int8_keep_float = ("stem.0.0", "head")
    """Convolutions an int8 version of ``field_tile`` keeps in float (``--precision int8``,
    :mod:`hdrvid.export.quantize`): the first reads the clip mask's steep ramp, the head feeds a sigmoid into a gain
    of up to 64x. With them quantised the log gain moved by up to 0.72 on a real clip's frames, without them by
    0.09 (model card, session 46)."""
    receptive_radius = RECEPTIVE_RADIUS
    """Pixels of context each output pixel of the U-Net sees (``auto_params.RECEPTIVE_RADIUS``)."""

    @classmethod
    def sizes_of(cls, state: dict[str, torch.Tensor]) -> dict[str, Any]:
        """The U-Net's width and the context vector's length as a weights file holds them, where they are not the
        defaults (``registry.build`` then makes the model that fits: a distilled network, ``hdrunet-lite``, or a
        run's file trained with ``--model-arg width=N``, loads by ``--weights`` alone)."""
        out: dict[str, Any] = {}
        stem, film = state.get("stem.0.0.weight"), state.get("film.weight")
        if stem is not None and int(stem.shape[0]) != WIDTH:
            out["width"] = int(stem.shape[0])
        if film is not None and int(film.shape[1]) != CONTEXT:
            out["context"] = int(film.shape[1])
        return out

    def __init__(self, width: int = WIDTH, max_gain: float = MAX_GAIN, context: int = CONTEXT, curve: bool = True,
                 adaptive: bool = False, detector: bool = True) -> None:
        """``curve=False``: highlights only; every unclipped pixel stays exactly as decoded (the frame-wide
        inverse response is not applied; same weights). ``adaptive``: highlights, plus BT.2446 Method A's inverse
        curve in proportion to the shoulder detector's confidence that the frame was graded (needs
        ``curve=False``). ``detector=False``: no detector parameters (a frozen copy inside another model)."""
        super().__init__()
        if adaptive and (curve or not detector):
            raise ValueError("adaptive needs curve=False and the detector")
        self.use_curve = curve
        self.adaptive = adaptive
        if detector:
            self.shoulder = ShoulderDetector()
            self.shoulder.requires_grad_(False)  # trained on its own (tools/train_shoulder.py), never by the image loss
        self._shoulder = ShotMean()
        """Video: the shot's detector probability (the mean over its first frames, then held)."""
        self.last_shoulder: torch.Tensor | None = None
        """The frames' shoulder weights of the last call (adaptive)."""
        self.last_p: torch.Tensor | None = None
        """The frames' detector probabilities of the last call (adaptive; in video the shot's held mean)."""
        self.blob_level = BlobLevel() if BLOB_LEVEL and adaptive else None
        """Each clipped blob's level (:mod:`hdrvid.models.blob_level`), after the curve."""
        self._last_shift: torch.Tensor | None = None
        """The expansion mask's codec-block shift of the last apply (the blob level reads the same mask)."""
        self._shoulder_sum, self._shoulder_frames = 0.0, 0
        self.graded_curve = GradedCurve()
        """BT.2446A's curve on frames called graded, with the cap on their average light (``average_cap``)."""
        self.edge_gate = EDGE_GATE and adaptive
        self.deblock = DEBLOCK and adaptive
        self._mask_shift = MaskShift()
        w = width
        chans = [w, 2 * w, 3 * w, 4 * w, 6 * w]
        self.stem = nn.Sequential(_conv(4, chans[0]), _conv(chans[0], chans[0]))
        self.down = nn.ModuleList(nn.Sequential(_conv(chans[i], chans[i + 1], stride=2),
                                                _conv(chans[i + 1], chans[i + 1])) for i in range(4))
        self.bottleneck = nn.Sequential(_conv(chans[4], chans[4], dilation=2), _conv(chans[4], chans[4], dilation=4))
        self.film = nn.Linear(context, 2 * chans[4])
        self.up = nn.ModuleList(nn.Sequential(_conv(chans[i + 1] + chans[i], chans[i]), _conv(chans[i], chans[i]))
                                for i in reversed(range(4)))
        self.head = nn.Conv2d(chans[0], 3, 3, padding=1)
        # frame-wide branch: the whole frame at 64x64 -> a context vector
        self.glob = nn.Sequential(_conv(4, 16, 2), _conv(16, 32, 2), _conv(32, 48, 2), _conv(48, context, 2),
                                  nn.AdaptiveAvgPool2d(1))
        self.curve = nn.Sequential(nn.Linear(context, 64), nn.LeakyReLU(0.1), nn.Linear(64, KNOTS))
        # the gate: "was this frame graded / shot with an unknown response?" (trained with the camera's label);
        # the learned curve is applied in proportion, so camera footage keeps its decoded values exactly
        self.gate = nn.Sequential(nn.Linear(context + TAIL_EDGES + 1, 32), nn.LeakyReLU(0.1), nn.Linear(32, 1))
        self.log_gain = math.log(max_gain)
        # start as the identity curve and a ~1.6x gain in clipped pixels
        nn.init.zeros_(self.curve[2].weight)
        with torch.no_grad():
            self.curve[2].bias.copy_(self._identity_raw())
            y0 = math.log(1.6) / self.log_gain
            self.head.bias.fill_(math.log(y0 / (1 - y0)))
            self.gate[2].bias.fill_(-3.0)  # start confident that the frame is plain camera footage
        self.curve_alpha: float | None = None
        self._curve_state: torch.Tensor | None = None
        s = torch.linspace(KNEE, 1, KNOTS + 1)
        self.register_buffer("knots_x", s ** 2.2, persistent=False)  # knot positions in linear light

    @staticmethod
    def network_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``state`` without the shoulder detector's entries: what a copy built with ``detector=False`` loads."""
        return {k: v for k, v in state.items() if not k.startswith("shoulder.")}

    @staticmethod
    def _identity_raw() -> torch.Tensor:
        x = torch.linspace(KNEE, 1, KNOTS + 1) ** 2.2
        inc = (x[1:] - x[:-1]).clamp(min=1e-6)
        return torch.log(torch.expm1(inc))  # softplus^-1

    # --- inputs ---------------------------------------------------------------------------------------------

    @staticmethod
    def _signal(linear: torch.Tensor) -> torch.Tensor:
        return linear.clamp(1e-8, 1) ** (1 / SIGNAL_GAMMA)

    @staticmethod
    def clip_mask(signal: torch.Tensor) -> torch.Tensor:
        t = ((signal - CLIP_LO) / (CLIP_HI - CLIP_LO)).clamp(0, 1)
        return t * t * (3 - 2 * t)

    @staticmethod
    def alpha_mask(signal: torch.Tensor, bounds: tuple[Any, Any] | None = None) -> torch.Tensor:
        """Where the gains act: smoothstep from ALPHA_LO to ALPHA_HI, or over ``bounds`` (numbers or tensors
        that broadcast with ``signal``: :meth:`alpha_bounds`)."""
        lo, hi = bounds if bounds is not None else (ALPHA_LO, ALPHA_HI)
        t = ((signal - lo) / (hi - lo)).clamp(0, 1)
        return t * t * (3 - 2 * t)

    @staticmethod
    def shared_gains(signal: torch.Tensor, alpha: torch.Tensor, gains: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """The expansion's log gains in units of ``log_gain``: ``alpha * gains`` per channel (along ``dim``), each
        channel's mask pulled to the pixel's largest where its signal is near the brightest (:data:`NEUTRAL_LO`),
        so a near-white pixel expands as one with the network's own per-channel gains (a fully clipped pixel keeps
        its colour); continuous in the input."""
        t = ((signal.amax(dim, keepdim=True) - signal - NEUTRAL_LO) / (NEUTRAL_HI - NEUTRAL_LO)).clamp(0, 1)
        near = 1 - t * t * (3 - 2 * t)
        return (alpha + near * (alpha.amax(dim, keepdim=True) - alpha)) * gains

    def alpha_bounds(self, w: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(N,) lower and upper bounds of the expansion's mask per frame from the shoulder weights ``w``: the
        camera bounds at weight 0, the wide ones at 1 (None: not adaptive, the wide mask everywhere)."""
        if w is None:
            return None
        w = w.float()
        return (CAMERA_ALPHA_LO + (ALPHA_LO - CAMERA_ALPHA_LO) * w, CAMERA_ALPHA_HI + (ALPHA_HI - CAMERA_ALPHA_HI) * w)

    def _features(self, linear: torch.Tensor) -> torch.Tensor:
        s = self._signal(linear)
        return torch.cat([s, self.clip_mask(s).amax(1, keepdim=True)], 1)

    def active_mask(self, linear: torch.Tensor) -> torch.Tensor:
        """Where the output depends on the network: clipped pixels (every pixel when the curve is on)."""
        if self.use_curve:
            return torch.ones_like(linear[:, :1], dtype=torch.bool)
        return (linear.amax(1, keepdim=True) > CLIP_START_LINEAR)

    @property
    def active_threshold(self) -> float | None:
        """``active_mask`` is max(R, G, B) > this (the executor's fast path computes it so), or None (curve on)."""
        return None if self.use_curve else CLIP_START_LINEAR

    # --- parts ----------------------------------------------------------------------------------------------

    def context(self, linear: torch.Tensor) -> torch.Tensor:
        """The frame-wide vector, (N, C + TAIL_EDGES + 1, 1, 1): computed once per whole frame."""
        features = self._features(linear)
        # eager torch keeps its own adaptive pooling (bit for bit the shipped output: in bf16 the context is
        # sensitive to float summation order); a traced export takes the size-following form
        small = area_resize(features, 64) if torch.jit.is_tracing() else F.interpolate(features, (64, 64), mode="area")
        return torch.cat([self.glob(small), self.tail_shares(linear)[..., None, None]], 1)

    def tail_shares(self, linear: torch.Tensor) -> torch.Tensor:
        """(N, TAIL_EDGES + 1): log10 share of pixels (every 2nd row and column) whose max(R, G, B) signal
        reaches each level from the knee to white, the last at code ~254.5."""
        s = self._signal(linear[:, :, ::2, ::2]).amax(1).flatten(1)
        edges = torch.cat([torch.linspace(KNEE, 0.99, TAIL_EDGES, device=s.device), s.new_tensor([0.998])])
        share = (s[..., None] >= edges.to(s.dtype)).to(s.dtype).mean(1)
        return torch.log10(share + 1e-4)

    def gate_logit(self, ctx: torch.Tensor) -> torch.Tensor:
        """(N,): the gate's logit from the frame-wide vector (the context plus the tail shares)."""
        return self.gate(ctx.flatten(1)).squeeze(1)

    @staticmethod
    def gate_weight(logit: torch.Tensor) -> torch.Tensor:
        """Sigmoid, then exactly 0 below probability 0.25 and 1 above 0.75 (a confident "camera" leaves
        every recorded pixel exactly as decoded)."""
        t = ((torch.sigmoid(logit) - 0.25) / 0.5).clamp(0, 1)
        return t * t * (3 - 2 * t)

    def field_tile(self, linear: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        n, _, h, w = linear.shape
        x = pad_to_multiple(self._features(linear), 16)
        skips = [self.stem(x)]
        for d in self.down:
            skips.append(d(skips[-1]))
        ctx = context.flatten(1)
        scale, shift = self.film(ctx[:, :self.film.in_features]).chunk(2, 1)
        y = self.bottleneck(skips[-1]) * (1 + scale[..., None, None]) + shift[..., None, None]
        for i, u in enumerate(self.up):
            skip = skips[-2 - i]
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = u(torch.cat([y, skip], 1))
        gain = torch.sigmoid(self.head(y))[..., :h, :w]
        knots = torch.cat([self.knot_values(ctx), self.gate_weight(self.gate_logit(ctx))[:, None]], 1)
        return torch.cat([gain, knots[..., None, None].expand(n, KNOTS + 1, h, w)], 1)

    def field(self, linear: torch.Tensor) -> torch.Tensor:
        """(N, 3 + KNOTS + 1, H, W): the log-gain field in (0, 1), the learned curve's knot values and the
        gate's weight (constant channels)."""
        return self.field_tile(linear, self.context(linear))

    def knot_values(self, ctx: torch.Tensor) -> torch.Tensor:
        """(N, KNOTS): c at the knots 1..KNOTS (c at the knee = the knee), increasing."""
        return KNEE ** 2.2 + torch.cumsum(F.softplus(self.curve(ctx[:, :self.film.in_features])), 1)

    def inverse_response(self, linear: torch.Tensor, knots: torch.Tensor) -> torch.Tensor:
        """The identity below the knee, then piecewise-linear through (knots_x, [knee, knots]) per frame."""
        x = linear.clamp(0, 1)
        xs = self.knots_x.to(x.dtype)
        vals = torch.cat([torch.full_like(knots[:, :1], KNEE ** 2.2), knots.to(x.dtype)], 1)  # (N, K+1)
        idx = torch.searchsorted(xs, x.flatten(1).contiguous(), right=True).clamp(1, KNOTS).view_as(x)
        n = x.shape[0]
        flat = idx.view(n, -1)
        x0, x1 = xs[flat - 1].view_as(x), xs[flat].view_as(x)
        v0 = torch.gather(vals, 1, flat - 1).view_as(x)
        v1 = torch.gather(vals, 1, flat).view_as(x)
        t = ((x - x0) / (x1 - x0)).clamp(0, 1)
        return torch.where(x <= xs[0], x, v0 + t * (v1 - v0))

    # --- video: one inverse response that moves slowly --------------------------------------------------------

    def enable_temporal(self, alpha: float) -> None:
        """Video: the curve follows the frames through a first-order filter (weight ``alpha`` per frame), so
        the frame-wide mapping cannot pump; :meth:`reset_temporal` at scene cuts."""
        self.curve_alpha = alpha
        self._curve_state = None
        self._shoulder.reset()
        self.graded_curve.start(video=True)
        if self.blob_level is not None:
            self.blob_level.start(video=True)
        self._shoulder_sum, self._shoulder_frames = 0.0, 0

    def reset_temporal(self) -> None:
        self._curve_state = None
        self._shoulder.reset()
        self.graded_curve.cut()
        if self.blob_level is not None:
            self.blob_level.cut()

    # --- adaptive: BT.2446 Method A's inverse where the frame was graded ---------------------------------------

    def shoulder_weight(self, linear: torch.Tensor) -> torch.Tensor:
        """(N,) how much of the BT.2446A curve each frame gets: the detector's probability through a smoothstep
        from SHOULDER_LO to SHOULDER_HI (exactly 0 below, so an unsure detector keeps every recorded pixel
        exactly). In video one decision per shot: the mean probability over the shot's first SETTLE_FRAMES
        frames, then held until the next scene cut (a per-frame or slowly filtered weight made the picture
        breathe when a car drove through a parking-lot shot). Once the shot's decision is held the detector
        does not run."""
        if self._settled:
            p = self._shoulder.value.expand(linear.shape[0])  # type: ignore[union-attr]
        else:
            p = self.shoulder(linear)
            if self.curve_alpha is not None:
                p = self._shoulder.update(p)
        self.last_p = p.detach().flatten()
        t = ((p - SHOULDER_LO) / (SHOULDER_HI - SHOULDER_LO)).clamp(0, 1)
        return t * t * (3 - 2 * t)

    def graded_boost(self, linear: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor | None:
        """(N,) each frame's graded boost as a natural-log gain at full mask (:meth:`GradedCurve.boost`), or None.
        It multiplies all three channels of a pixel alike, by the expansion mask of its brightest channel
        (:meth:`boosted`): added to each channel's own gains it turned a bluish-white office wall, whose blue
        alone reached the mask, into purple blotches."""
        return self.graded_curve.boost(linear, w)

    @property
    def graded_boost_stops(self) -> float:
        """Stops the graded boost adds at full weight (0: off)."""
        return self.graded_curve.boost_stops

    @graded_boost_stops.setter
    def graded_boost_stops(self, value: float) -> None:
        self.graded_curve.boost_stops = value

    @property
    def last_boost(self) -> torch.Tensor | None:
        return self.graded_curve.last_boost

    def boosted(self, expanded: torch.Tensor, signal: torch.Tensor, bounds: tuple[Any, Any] | None,
                log_boost: torch.Tensor, dim: int = 1) -> torch.Tensor:
        """``expanded`` times exp(``log_boost`` x the expansion mask of each pixel's brightest channel), the same
        factor on every channel (``signal`` along ``dim``; ``bounds`` and ``log_boost`` broadcast with it)."""
        return expanded * torch.exp(log_boost * self.alpha_mask(signal.amax(dim, keepdim=True), bounds))

    def mean_curve_weight(self) -> float | None:
        """Mean weight of the BT.2446A curve as applied (after the average-light cap) since
        :meth:`enable_temporal` (None: not adaptive or nothing run)."""
        if not self.adaptive or not self._shoulder_frames:
            return None
        return self.graded_curve.total / self._shoulder_frames

    def mean_cap_gain(self) -> float | None:
        """Mean gain of the average-light cap on frames whose top code is empty (1: none) since
        :meth:`enable_temporal` (None: not adaptive or nothing run)."""
        if not self.adaptive or not self._shoulder_frames:
            return None
        return self.graded_curve.mean_gain(self._shoulder_frames)

    def mean_graded_boost(self) -> float | None:
        """Mean stops the graded boost added to clipped highlights over the frames since :meth:`enable_temporal`
        (None: not adaptive, the boost off, or nothing run)."""
        if not self.adaptive or not self.graded_boost_stops or not self._shoulder_frames:
            return None
        return self.graded_curve.boost_total / self._shoulder_frames

    def mean_shoulder_weight(self) -> float | None:
        """Mean weight of the BT.2446A curve over the frames since :meth:`enable_temporal` (None: not adaptive
        or nothing run): 0 = treated as camera footage throughout, 1 = as graded footage throughout."""
        return self._shoulder_sum / self._shoulder_frames if self.adaptive and self._shoulder_frames else None

    @property
    def shoulder_held(self) -> bool:
        """The shot's shoulder decision is held (:meth:`shoulder_weight`): the next frame is not analysed."""
        return not self.adaptive or self._settled

    @property
    def _settled(self) -> bool:
        """Video, and the shot's first SETTLE_FRAMES frames seen."""
        return self.curve_alpha is not None and self._shoulder.held

    def frame_weight(self, linear: torch.Tensor) -> torch.Tensor | None:
        """(N,) the frames' shoulder weights, counted for the report (once per frame: call it once per
        ``apply``); None when not adaptive."""
        if not self.adaptive:
            return None
        w = self.shoulder_weight(linear).detach()
        self.last_shoulder = w.flatten()
        self._shoulder_sum += float(self.last_shoulder.float().sum())
        self._shoulder_frames += w.shape[0]
        return w

    def _graded(self, linear: torch.Tensor, out: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        """``out`` (the highlights-only result for ``linear``) through BT.2446A's curve by the frames' shoulder
        weights ``w`` (:meth:`frame_weight`), lowered on bright frames by the average-light cap (:class:`GradedCurve`)."""
        return self.graded_curve(linear, out, w, self.last_p)

    def levelled(self, linear: torch.Tensor, out: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        """``out`` (the answer for ``linear`` after the curve) with each clipped blob's light scaled by the factor
        :class:`~hdrvid.models.blob_level.BlobLevel` reads from the picture (off when not ``hdrunet-auto`` or
        training)."""
        if self.blob_level is None or w is None:
            return out
        return self.level_blobs(linear, out, self.alpha_bounds(w))

    def finished(self, linear: torch.Tensor, out: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        """The answer from ``out`` (the expansion of ``linear`` before the curve): the edge gate, BT.2446A's curve
        under the average-light cap, the per-blob level, then the cap's gain on frames whose top code is empty."""
        return self.graded_curve.gained(self.levelled(linear, self._graded(linear, self.edge_gated(linear, out, w), w), w))

    @property
    def last_curve(self) -> torch.Tensor | None:
        """The curve weights of the last call after the average-light cap (adaptive)."""
        return self.graded_curve.last

    def edge_gated(self, linear: torch.Tensor, out: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
        """``out`` (the expansion of ``linear`` before the BT.2446A curve) through the edge gate
        (:func:`clip_edges.gate_expansion`), pulled to 1 on graded frames by the shoulder weights ``w``; in place."""
        if not self.edge_gate or out.requires_grad:
            return out
        weight = torch.zeros(linear.shape[0]) if w is None else w.detach().flatten().float().cpu()
        return gate_expansion(linear, out, weight, CLIP_START_LINEAR, SIGNAL_GAMMA)

    def mask_shift(self, linear: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor | None:
        """(N, 1, H, W) what the expansion mask adds to each channel's signal (:class:`deblock.MaskShift`: the
        pull of near-white codes towards a flat window's mean, on camera and graded frames alike; ``w``, the shoulder
        weights, only says the frames are ``hdrunet-auto``'s), or None (none anywhere, or off: not ``hdrunet-auto``,
        or training). Valid until the next call."""
        if not self.deblock or linear.requires_grad or w is None:
            return None
        shift = self._mask_shift(linear, torch.zeros(w.numel()), CLIP_START_LINEAR, SIGNAL_GAMMA)
        return None if shift is None else shift.to(linear.device)

    def _smoothed(self, knots: torch.Tensor) -> torch.Tensor:
        if self.curve_alpha is None:
            return knots
        out = []
        for k in knots:  # frames of a batch in order
            s = self._curve_state
            s = k if s is None else s + self.curve_alpha * (k - s)
            self._curve_state = s.detach()
            out.append(s)
        return torch.stack(out)

    def apply(self, linear: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
        return self.apply_split(linear, field[:, :3], field[:, 3:].mean((-2, -1)))

    def apply_split(self, linear: torch.Tensor, gains: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """``apply`` with the field's spatial channels (the log gains, (N, 3, H, W)) and the frame means of the
        others (knots and gate, (N, KNOTS + 1)) apart: the fast mode upsamples the gains only."""
        lin = linear.clamp(0, 1)
        state = self._smoothed(frame.to(lin.dtype))
        knots, g = state[:, :KNOTS], state[:, KNOTS:].view(-1, 1, 1, 1)
        # blended with the identity by the gate: a closed gate (g = 0) leaves every pixel exactly as decoded
        base = lin + g * (self.inverse_response(lin, knots) - lin) if self.use_curve else lin
        w = self.frame_weight(lin)
        bounds = self.alpha_bounds(w)
        if bounds is not None:
            bounds = (bounds[0].to(lin.dtype).view(-1, 1, 1, 1), bounds[1].to(lin.dtype).view(-1, 1, 1, 1))
        signal = self._signal(lin)
        shift = self._last_shift = self.mask_shift(lin, w)
        masked = signal if shift is None else signal + shift.to(lin.dtype)
        shared = self.shared_gains(signal, self.alpha_mask(masked, bounds), gains.to(lin.dtype))
        out = base * torch.exp(self.log_gain * shared)
        boost = self.graded_boost(lin, w)
        if boost is not None:
            out = self.boosted(out, masked, bounds, boost.to(lin.dtype).view(-1, 1, 1, 1))
        return self.finished(lin, out, w)

    @property
    def acts_where_clipped(self) -> bool:
        """Without the curve only clipped pixels change: the fast mode may use ``apply_where``."""
        return not self.use_curve

    def apply_where(self, linear: torch.Tensor, gains_at: Callable[..., torch.Tensor],
                    frame: torch.Tensor) -> torch.Tensor:
        """``apply_split`` computing the gains only where they act: without the curve, a pixel whose every
        channel is below the clip mask's start (signal 0.965) leaves exactly as decoded (exp(0) = 1), so the
        executor's fast mode reads the upsampled field at the clipped pixels only (``gains_at(n, rows, cols)``
        -> (len, 3)). Same output as ``apply_split`` on the fully upsampled field (tests)."""
        if self.use_curve:
            raise ValueError("apply_where needs the curve off (the curve changes every pixel): use apply_split")
        self._smoothed(frame.to(linear.dtype))  # the curve state follows the frames as in apply_split
        out = linear.clamp(0, 1)
        w = self.frame_weight(out)
        bounds = self.alpha_bounds(w)
        boost = self.graded_boost(out, w)
        shift = self._last_shift = self.mask_shift(out, w)
        n, rows, cols = (out.amax(1) > CLIP_START_LINEAR).nonzero(as_tuple=True)
        if len(rows):
            single = out.shape[0] == 1  # one flat gather / scatter per image (see engines.executor.pick)
            flat = rows * out.shape[-1] + cols
            lin = out[0].flatten(1).index_select(1, flat).T if single else out[n, :, rows, cols]
            at = None if bounds is None else (bounds[0].to(lin.dtype)[n, None], bounds[1].to(lin.dtype)[n, None])
            signal = self._signal(lin)
            masked = signal
            if shift is not None:  # gathered as the light is: (len, 1)
                at_px = shift[0].flatten(1).index_select(1, flat).T if single else shift[n, :, rows, cols]
                masked = signal + at_px.to(lin.dtype)
            alpha = self.alpha_mask(masked, at)
            shared = self.shared_gains(signal, alpha, gains_at(n, rows, cols).to(lin.dtype), dim=1)
            expanded = lin * torch.exp(self.log_gain * shared)
            if boost is not None:
                expanded = self.boosted(expanded, masked, at, boost.to(lin.dtype)[n, None])
            if single:
                out[0].view(out.shape[1], -1).index_copy_(1, flat, expanded.T.contiguous())
            else:
                out[n, :, rows, cols] = expanded
        lin = linear.clamp(0, 1)
        return self.finished(lin, out, w)

    def apply_guided(self, linear: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                     frame: torch.Tensor) -> torch.Tensor:
        """``apply_where`` for one float32 CPU frame whose gains are the executor's guided field, ``a * guide +
        b`` with the coefficient maps ``a``, ``b`` (1, 3, h, w) read bilinearly at each clipped pixel, in one
        compiled pass (``color.kernels.expand_clipped``; tests hold it to ``apply_where``)."""
        if self.use_curve:
            raise ValueError("apply_guided needs the curve off (the curve changes every pixel): use apply_split")
        self._smoothed(frame.to(linear.dtype))  # the curve state follows the frames as in apply_split
        # the detector reads the clamped frame only while it runs (a held decision reads nothing); the kernels
        # clamp the light themselves: no full-frame clamp per frame
        w = self.frame_weight(linear if self.shoulder_held else in_unit_range(linear))
        bounds = self.alpha_bounds(w)
        boost = self.graded_boost(linear, w)
        lo_hi = (ALPHA_LO, ALPHA_HI) if bounds is None else (float(bounds[0][0]), float(bounds[1][0]))
        shift = self._last_shift = self.mask_shift(linear, w)
        out = torch.from_numpy(expand_clipped(linear[0].numpy(), a[0].numpy(), b[0].numpy(), self.log_gain,
                                              CLIP_START_LINEAR, lo_hi, SIGNAL_GAMMA, (NEUTRAL_LO, NEUTRAL_HI),
                                              None if shift is None else shift[0, 0].numpy()))[None]
        if boost is not None:  # at the pixels the kernel expanded (every channel below its start: a factor of 1)
            flat = (linear[0].amax(0) > CLIP_START_LINEAR).flatten().nonzero().flatten()
            if len(flat):
                px = out[0].flatten(1).index_select(1, flat)
                signal = self._signal(linear[0].flatten(1).index_select(1, flat).clamp(0, 1))
                if shift is not None:
                    signal = signal + shift[0, 0].flatten()[flat]
                out[0].view(3, -1).index_copy_(1, flat, self.boosted(px, signal, lo_hi, boost.to(px.dtype)[0], dim=0))
        return self.finished(linear, out, w)

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return self.apply(linear, self.field(linear))


class WrapsBase:
    """Mixin for a model that holds a single-exposure model with BT.2446A's graded curve as ``base``
    (``hdrunet-2x`` and ``diffhdr-single`` an ``HDRUNet``, ``brackets-2x`` a ``BracketHDR``): its ``average_cap``
    and its per-run curve weights are the base's, so ``jobs.convert.set_average_cap`` and the run report reach
    them (None from a base that is not adaptive)."""

    base: Any

    def mean_shoulder_weight(self) -> float | None:
        return self.base.mean_shoulder_weight()

    def mean_curve_weight(self) -> float | None:
        return self.base.mean_curve_weight()

    def mean_cap_gain(self) -> float | None:
        return getattr(self.base, "mean_cap_gain", lambda: None)()

    def mean_graded_boost(self) -> float | None:
        return self.base.mean_graded_boost()

    def mean_blob_level(self) -> float | None:
        return getattr(self.base, "mean_blob_level", lambda: None)()

    @property
    def average_cap(self) -> float:
        return self.base.average_cap

    @average_cap.setter
    def average_cap(self, value: float) -> None:
        self.base.average_cap = value
