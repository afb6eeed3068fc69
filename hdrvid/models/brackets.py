"""Single picture -> synthetic bracket -> fused HDR: the DrTMO + CF-Net two-stage design (issue 15).

Stage 1, :class:`BracketNet` (after DrTMO, Endo et al. 2017): from one 8-bit picture, the same picture at
another exposure (EV as an input, so one network makes any bracket), in the picture's own encoding. DrTMO
uses two 3D-deconvolution decoders of 174 M parameters; here one small EV-conditioned 2D U-Net. Its output
keeps DrTMO's residual before the sigmoid, around the exposure shift a camera with the nominal curve would
make::

    out = sigmoid(logit(base) + r(s, ev)),   base = enc(min(1, 2^ev * dec(s)))

so a perfect nominal camera needs ``r = 0`` and the network learns what differs: unknown responses,
shoulders, and above all the clipped regions (at -3 EV a blown sky is a flat grey in ``base``; ``r`` paints
it). The U-Net runs at half resolution (the residual is smooth; the detail comes through ``base``).
Training adds a monotonicity penalty (an up-exposure never darker than the picture, a down-exposure never
brighter) - see :mod:`hdrvid.train.brackets`.

Stage 2, :class:`CFNet` (after CF-Net, Deng et al. 2021): fuses an under/over pair into linear radiance
(relative to the under exposure's white), not a display-referred fused picture. Two branches, one per
exposure, each a feature extractor and a feedback block; over ``iterations`` passes each branch's block sees
its own input features, its previous state and the *other* branch's previous state (the coupled feedback).
Every pass has an output (trained with a loss each, as CF-Net does). The output is a classical merge of the
pair refined by the network (``base * exp(head)``): under where the over exposure clipped, over (scaled by
the pair's EV gap, an input) in the shadows. ``upscale=2`` is the joint fusion + 2x super-resolution
variant: the branches run at input resolution and a pixel-shuffle head doubles it; with ``upscale=1`` they
run at half resolution and the same head restores it (the CPU cost is then the same for both).

:class:`BracketHDR` is what ``--model brackets`` runs: the picture, its brackets at -E and +E from stage 1,
fused by stage 2 (since session 34 averaged in log light with the Debevec merge of the whole -3..+3 EV stack,
:data:`DEBEVEC_SHARE`), blended into the decoded picture only where it clipped (HDRCNN's mask), so every recorded
pixel stays exactly as decoded. Since session 29 the mask follows the default model's: on frames the shoulder
detector (``hdrunet-auto``'s, :mod:`hdrvid.models.shoulder`, frozen, copied into this model's file) calls camera
footage it starts at code ~252.5 instead of ~246 (a camera that clips at white recorded the codes below
exactly), reads near-white codes through the codec-block filter (:mod:`hdrvid.models.deblock`), and each clipped
area's expansion goes through the edge gate (:mod:`hdrvid.models.clip_edges`).
:class:`BracketHDR2x` is the same with the 2x fusion network (its output is used everywhere: no mask).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.lazy import cv2
from hdrvid.models.blob_level import CLIP_LINEAR, BlobLevel
from hdrvid.models.clip_edges import gate_expansion
from hdrvid.models.deblock import MaskShift
from hdrvid.models.hdrunet import (
    CLIP_START_LINEAR,
    SIGNAL_GAMMA,
    GradedCurve,
    HoldsBlobLevel,
    HoldsGradedCurve,
    ShotMean,
    in_unit_range,
)
from hdrvid.models.merge import GAMMA, weighted_merge
from hdrvid.models.shoulder import ShoulderDetector

EPS = 1.0 / 1024
FLOOR = 1e-4
"""Linear values below this are treated as this in the log-gain field (code ~0.3: noise, not light)."""
CONTEXT = 48


def encode(linear: torch.Tensor) -> torch.Tensor:
    """Linear light -> the picture's code domain (sRGB curve; hdrvid decodes 8-bit sources to linear first)."""
    x = linear.clamp(0, 1)
    return torch.where(x <= 0.0031308, 12.92 * x, 1.055 * x.clamp(min=0.0031308) ** (1 / 2.4) - 0.055)


def decode(signal: torch.Tensor) -> torch.Tensor:
    s = signal.clamp(0, 1)
    return torch.where(s <= 0.04045, s / 12.92, ((s + 0.055) / 1.055) ** 2.4)


def _logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(EPS, 1 - EPS)
    return torch.log(p) - torch.log1p(-p)


BLEND = (0.965, 0.99)
"""The blend mask's smoothstep on max(R, G, B) in the picture's code domain on frames called graded (shoulder
weight 1), codes ~246 to ~252.5: the networks' own input mask (:func:`clip_mask`) and the whole blend up to
session 28."""
CAMERA_BLEND = (0.99, 0.998)
"""The blend mask on frames called camera footage (shoulder weight 0), codes ~252.5 to ~254.5: the default model's
camera mask. Between the two by the weight. Chosen on validation over the wide mask everywhere and this one
everywhere (session 29, card)."""
DEBLOCK = True
"""On frames called camera footage the blend mask reads near-white codes moved towards their window's mean by the
window's flatness (the default model's :class:`deblock.MaskShift`), so a near-white area's codec blocks do not
switch the narrow camera mask block by block; none on graded frames. Chosen on validation and Big Buck Bunny's
sky (session 29, card)."""
EDGE_GATE = True
"""Each clipped area's expansion through the default model's edge gate (:func:`clip_edges.gate_expansion`), pulled
to 1 on frames called graded. Chosen on validation (session 29, card)."""
EDGE_RING: tuple[float, float] | None = (0.5, 12.0)
"""(floor, width): each clipped area's expansion also lowered on its outer ring (:func:`clip_edges.ring_exponents`:
the log gain times 0.5 on the outermost pixels, rising to all of it 12 pixels inside, at the edge gate's working size
of 384 px across), on frames called camera footage (pulled to 1 on graded ones, as the gate is:
:data:`EDGE_RING_WEIGHTED`). The generator runs at half resolution and its field is smoother than the clipped areas,
so its inner gains spilled onto the edge pixels, whose truth is barely above white (session 41, card: the validation
views' clipped error by distance to the edge; chosen on validation among 0.7 / 6, 0.5 / 8 and 0.5 / 12, weighted or
not). None: no ring (sessions 29-40)."""
EDGE_RING_WEIGHTED = True
"""The ring pulled to 1 by the frame's shoulder weight, as the edge gate is (False: on every frame; on graded
frames it cost the graded pictures 0.2 dB on validation)."""
GRADED_CURVE = True
"""The default model's treatment of graded frames (:class:`hdrunet.GradedCurve`) by each frame's shoulder weight: its
BT.2446A curve with the average-light cap (``--average-cap``), and its graded boost on the fused light: graded footage
gets the same tones from ``brackets`` as from the default model, the fused light adding the highlights. Validation
(session 32, card): consumer and graded pictures +1.0 / +4.1 dB clipped PSNR-mu; camera pictures the detector calls
graded pay the curve's cost, as with the default model."""
SHOULDER_BOUNDS = (0.75, 0.99)
"""The frame's shoulder weight (blend mask, edge gate, BT.2446A curve) is a smoothstep of the detector's probability
over these bounds: ``hdrunet-auto``'s 0.6 .. 0.95 until session 56. ``brackets`` keeps a recorded frame's codes
unless the detector is surer, since its false graded calls on camera frames cost it more. With
:data:`CAP_SURE_BOUNDS`; chosen on validation (card, session 56)."""
CAP_SURE_BOUNDS = (3.0, 5.0)
"""Logits of the detector's probability (p 0.953 .. 0.993) over which the average-light cap comes to keep the
BT.2446A curve's shape with one gain on the frame instead of lowering the curve's weight
(:func:`auto_arrays.cap_sure`; ``hdrunet-auto``'s 4.5 .. 6.5 until session 56). On the consumer camera's pictures
the detector gives 0.95-0.999 (already the full shoulder weight), p = 1 gained ``brackets`` 1.3 dB clipped PSNR-mu
each (``hdrunet-auto`` 0.15), and this cap is what reads p there (card, session 56)."""
BLOB_LEVEL = True
"""Each clipped blob of the fused light scaled by a per-blob level (:class:`blob_level.BlobLevel`, the default model's
rule refitted on this model's own answers: :data:`BLOB_LEVEL_FILE`) through the blend's own mask, after the curve.
Chosen on validation (session 40, card); fitted again in sessions 42 and 52 (the latter shipped in session 53, read
as :data:`LEVEL_READS_GAINED` says)."""
BLOB_LEVEL_FILE = Path(__file__).parent / "weights" / "brackets-blob-level.json"
LEVEL_READS_GAINED = True
"""The per-blob level reads (and scales) the finished answer, after the average-light cap's one gain on the frame
(:meth:`hdrunet.GradedCurve.gained`), as the blob study its rule is fitted on reads it (session 53; the gain and a
blob's factor multiply, so only what the rule reads changes: on three draws of the validation views the cap dims
68 % of the consumer camera's pictures, by 0.9 stops on average, a third of the graded ones and 1 % of the others).
False: the level reads the answer before the gain, as ``hdrunet-auto``'s rule, fitted before the gain existed,
does (sessions 48-52 here)."""


def _smoothstep(x: torch.Tensor, lo: torch.Tensor | float, hi: torch.Tensor | float) -> torch.Tensor:
    t = ((x - lo) / (hi - lo)).clamp(0, 1)
    return t * t * (3 - 2 * t)


def clip_mask(signal: torch.Tensor) -> torch.Tensor:
    """Where a picture clipped (any channel; smoothstep between codes ~246 and ~252.5), (N, 1, H, W)."""
    return _smoothstep(signal.amax(1, keepdim=True), 0.965, 0.99)


def blend_bounds(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 1, 1, 1) lower and upper bounds of the blend mask from the frames' shoulder weights ``w`` (N,):
    :data:`CAMERA_BLEND` at 0, :data:`BLEND` at 1, linear between."""
    w = w.reshape(-1, 1, 1, 1)
    return (CAMERA_BLEND[0] + (BLEND[0] - CAMERA_BLEND[0]) * w, CAMERA_BLEND[1] + (BLEND[1] - CAMERA_BLEND[1]) * w)


def blend(linear: torch.Tensor, hdr: torch.Tensor,
          bounds: tuple[torch.Tensor | float, torch.Tensor | float] = BLEND,
          shift: torch.Tensor | None = None) -> torch.Tensor:
    """The picture ``--model brackets`` writes: ``hdr`` (the fused radiance, the picture's white = 1) in the
    pixels the picture clipped, blended by the smoothstep of max(R, G, B) in the code domain (plus ``shift``,
    (N, 1, H, W), where given: :class:`deblock.MaskShift`) over ``bounds`` (:func:`blend_bounds`; the default is
    :func:`clip_mask`'s); every recorded pixel stays ``linear``."""
    lo, hi = bounds
    signal = encode(linear).amax(1, keepdim=True)
    if shift is not None:
        signal = signal + shift.to(signal.device, signal.dtype)
    a = _smoothstep(signal, lo, hi)
    return linear * (1 - a) + hdr * a


BLOB_SPREAD = 0.5
"""How much of the field's spread inside each clipped blob ``apply`` keeps (session 54; 1: all of it, as sessions 7-53
shipped it). Inside each 8-connected blob of pixels whose brightest channel reaches the per-blob level's
``CLIP_LINEAR``, a pixel's log gain (the channels' mean) moves towards the blob's mean, ``m + BLOB_SPREAD (g - m)``;
the channels keep their differences, and the per-blob level then scales the blob as a whole. The generator and CF-Net
put bright patches inside large clipped surfaces (a white ceiling, a wall) that the truth does not hold, which the
per-blob level cannot remove because it scales a blob as one. Chosen on five draws of the validation views among 1,
0.7, 0.5, 0.25 and 0: clipped PSNR-mu +0.14 / +0.12 / +0.06 / +0.12 dB in the four cameras (card, "Session 54")."""

DEBEVEC_SHARE = 0.1
"""``brackets``' stage 2 is an ensemble of its two stage-2 methods on the same synthetic stack: the per-channel log gain
of CF-Net's fused -3/+3 EV pair x (1 - share) plus that of the Debevec merge of the whole -3..+3 EV stack (the
picture included) x share (session 34 chose 0.3 on validation among 0, 0.3, 0.5 and 0.7: the learned fusion is the
better estimate on exact sRGB cameras, the merge, which applies the response the generator learned to every
frame, on unknown responses; session 53 chose 0.1 among 0, 0.1, 0.2 and 0.3 on five draws of the validation views,
after the per-blob level, edge ring and detector that came since: clipped PSNR-mu +0.20 / +0.05 / +0.08 / -0.07 and
graded -0.07 against 0.3, card). 0: CF-Net alone (sessions 7-33)."""

RECEPTIVE_RADIUS = 128
"""Pixels of context an output pixel of the two stages sees besides the frame-wide vector (measured in
``tests/test_brackets.py``), rounded up."""


def _conv(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1), nn.LeakyReLU(0.1, inplace=True))


class BracketNet(nn.Module):
    """One picture (code domain) + an EV -> that exposure of the picture (code domain). About 0.2 M parameters."""

    def __init__(self, width: int = 24, levels: int = 3) -> None:
        super().__init__()
        chans = [width * (i + 1) for i in range(levels + 1)]
        self.chans = chans
        self.stem = nn.Sequential(_conv(5, chans[0], stride=2), _conv(chans[0], chans[0]))
        self.down = nn.ModuleList(nn.Sequential(_conv(chans[i], chans[i + 1], stride=2), _conv(chans[i + 1], chans[i + 1]))
                                  for i in range(levels))
        # frame-wide view: the picture at 1/8 size -> a context vector (one per frame, whatever the tiling)
        self.glob = nn.Sequential(_conv(4, 16, 2), _conv(16, 32, 2), _conv(32, CONTEXT, 2), nn.AdaptiveAvgPool2d(1),
                                  nn.Flatten())
        self.film = nn.Sequential(nn.Linear(CONTEXT + 8, 64), nn.LeakyReLU(0.1), nn.Linear(64, 2 * chans[-1]))
        self.up = nn.ModuleList(nn.Sequential(_conv(chans[i + 1] + chans[i], chans[i]), _conv(chans[i], chans[i]))
                                for i in reversed(range(levels)))
        self.head = nn.Conv2d(chans[0], 3, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    @staticmethod
    def _ev_code(ev: torch.Tensor) -> torch.Tensor:
        e = ev[:, None] / 3
        return torch.cat([e, e.abs(), (e > 0).float(), (e < 0).float(),
                          torch.sin(math.pi * e), torch.cos(math.pi * e), e * e, e.clamp(-1, 1)], 1)

    @staticmethod
    def base(signal: torch.Tensor, ev: torch.Tensor) -> torch.Tensor:
        """What a camera with the nominal curve records at ``ev`` stops more exposure."""
        return encode(decode(signal) * torch.pow(2.0, ev)[:, None, None, None])

    def context(self, signal: torch.Tensor) -> torch.Tensor:
        """The frame-wide vector (N, CONTEXT), from the whole picture at 1/8 size."""
        small = F.avg_pool2d(signal, 8, ceil_mode=True)
        return self.glob(torch.cat([small, clip_mask(small)], 1))

    def forward(self, signal: torch.Tensor, ev: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """``signal`` (N, 3, H, W) in [0, 1]; ``ev`` (N,) stops -> (N, 3, H, W) in [0, 1]. ``context``: the
        frame's vector when ``signal`` is a tile of it (computed from ``signal`` otherwise)."""
        h, w = signal.shape[-2:]
        context = self.context(signal) if context is None else context
        ev_map = (ev / 3)[:, None, None, None].expand(-1, 1, h, w)
        x = self.stem(torch.cat([signal, clip_mask(signal), ev_map], 1))
        skips = [x]
        for d in self.down:
            x = d(x)
            skips.append(x)
        scale, shift = self.film(torch.cat([context, self._ev_code(ev)], 1)).chunk(2, 1)
        x = x * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        for i, u in enumerate(self.up):
            skip = skips[-2 - i]
            x = u(torch.cat([F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip], 1))
        r = F.interpolate(self.head(x), size=(h, w), mode="bilinear", align_corners=False)
        return torch.sigmoid(_logit(self.base(signal, ev)) + r)


class _Feedback(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(3 * width, width), _conv(width, width), _conv(width, width))

    def forward(self, feat: torch.Tensor, own: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
        return own + self.body(torch.cat([feat, own, other], 1))


def merge_base(under: torch.Tensor, over: torch.Tensor, gap: torch.Tensor) -> torch.Tensor:
    """Classical merge of an under/over pair (code domain) in linear radiance relative to the under exposure's
    white: the over exposure (divided by 2^gap) where it did not clip, the under exposure elsewhere."""
    lu = decode(under)
    lo = decode(over) / torch.pow(2.0, gap)[:, None, None, None]
    w = 1 - clip_mask(over)
    return w * lo + (1 - w) * lu


class CFNet(nn.Module):
    """Coupled-feedback fusion of an under/over pair (+ the EV gap) into linear radiance, optionally 2x larger.
    ``middle=True``: both branches also see the picture the pair was made from (CF-Net's optional middle
    frame; the 2x network uses it, since its recorded detail is what super-resolution has to work with)."""

    def __init__(self, width: int = 24, iterations: int = 3, upscale: int = 1, middle: bool = False) -> None:
        super().__init__()
        if upscale not in (1, 2):
            raise ValueError("upscale must be 1 or 2")
        self.upscale = upscale
        self.iterations = iterations
        self.middle = middle
        stride = 2 if upscale == 1 else 1
        cin = 5 + (3 if middle else 0)
        self.extract = nn.ModuleList(nn.Sequential(_conv(cin, width, stride), _conv(width, width)) for _ in range(2))
        self.feedback = nn.ModuleList(_Feedback(width) for _ in range(2))
        self.head = nn.Sequential(_conv(2 * width, 4 * width), nn.PixelShuffle(2), nn.Conv2d(width, 3, 3, padding=1))
        nn.init.zeros_(self.head[2].weight)
        nn.init.zeros_(self.head[2].bias)

    def forward(self, under: torch.Tensor, over: torch.Tensor, gap: torch.Tensor,
                middle: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Code-domain pair (N, 3, H, W), ``gap`` (N,) EV between them (and the ``middle`` picture when the
        network takes it) -> one estimate per feedback pass, each (N, 3, H * upscale, W * upscale) linear
        radiance relative to the under exposure's white."""
        h, w = under.shape[-2:]
        g = (gap / 6)[:, None, None, None].expand(-1, 1, h, w)
        extra = [middle] if self.middle and middle is not None else []
        if self.middle and middle is None:
            raise ValueError("this fusion network takes the middle picture too")
        feats = [self.extract[0](torch.cat([under, clip_mask(under), g, *extra], 1)),
                 self.extract[1](torch.cat([over, clip_mask(over), g, *extra], 1))]
        base = merge_base(under, over, gap).clamp(min=1e-6)
        size = (h * self.upscale, w * self.upscale)
        if self.upscale != 1:
            base = F.interpolate(base, size=size, mode="bicubic", align_corners=False).clamp(min=1e-6)
        states = feats
        outs = []
        for _ in range(self.iterations):
            states = [self.feedback[0](feats[0], states[0], states[1]), self.feedback[1](feats[1], states[1], states[0])]
            r = self.head(torch.cat(states, 1))
            if self.upscale == 1:  # (half resolution inside; odd sizes come back exactly)
                r = F.interpolate(r, size=size, mode="bilinear", align_corners=False)
            outs.append(base * torch.exp(r.clamp(-8, 8)))
        return outs


class TwoStage(nn.Module):
    """The three networks (one weights file): the bracket generator and the 1x and 2x fusion networks."""

    family = "brackets"
    exportable = True

    @classmethod
    def sizes_of(cls, state: dict[str, torch.Tensor]) -> dict[str, Any]:
        """Whether the 1x fusion network of a weights file takes the middle picture (its first convolution's
        input channels), so ``registry.build`` makes the model that fits the file (``--weights`` alone)."""
        first = state.get("fuse.extract.0.0.0.weight")
        return {"fuse_middle": True} if first is not None and int(first.shape[1]) == 8 else {}

    def __init__(self, ev: float = 3.0, width: int = 24, fusion_width: int = 16, fuse_middle: bool = False) -> None:
        """``fuse_middle``: the 1x fusion network also sees the picture the pair was made from (CF-Net's optional
        middle frame, as ``fuse2x`` does)."""
        super().__init__()
        self.ev = float(ev)
        self.gen = BracketNet(width)
        self.fuse = CFNet(fusion_width, upscale=1, middle=fuse_middle)
        self.fuse2x = CFNet(fusion_width, upscale=2, middle=True)
        self.shoulder = ShoulderDetector()
        """``hdrunet-auto``'s detector (graded or camera footage), frozen: its trained values travel in this model's
        file (copied from ``hdrunet.pt``; ``hdrvid.train.brackets`` loads them before any training)."""
        self.shoulder.requires_grad_(False)

    def brackets(self, signal: torch.Tensor, evs: list[float], context: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The picture (code domain) at each EV in ``evs``."""
        n = signal.shape[0]
        context = self.gen.context(signal) if context is None else context
        return [self.gen(signal, torch.full((n,), float(e), device=signal.device, dtype=signal.dtype), context)
                for e in evs]

    def fused(self, signal: torch.Tensor, upscale: int = 1, context: torch.Tensor | None = None) -> torch.Tensor:
        """Stage 1 at -E/+E, then stage 2: radiance relative to the picture's white (``upscale`` times larger)."""
        under, over = self.brackets(signal, [-self.ev, self.ev], context)
        return self.fuse_pair(signal, under, over, upscale)

    def fuse_pair(self, signal: torch.Tensor, under: torch.Tensor, over: torch.Tensor, upscale: int = 1) -> torch.Tensor:
        """Stage 2 on the picture's -E/+E pair: radiance relative to the picture's white."""
        gap = torch.full((signal.shape[0],), 2 * self.ev, device=signal.device, dtype=signal.dtype)
        net = self.fuse2x if upscale == 2 else self.fuse
        return net(under, over, gap, signal if net.middle else None)[-1] * 2.0 ** self.ev


class BracketHDR(HoldsGradedCurve, HoldsBlobLevel, TwoStage):
    """``--model brackets``: bracket synthesis at -E and +E, fusion, and mask blending into the picture.

    Built in parts for hdrvid's executor: ``field`` is the per-channel log gain of the fused radiance over the
    decoded picture (so the fast mode runs both stages at reduced size and brings the gain back with the
    guided filter), ``apply`` blends ``x * exp(field)`` into the clipped pixels only; every recorded pixel
    stays exactly as decoded."""

    receptive_radius = RECEPTIVE_RADIUS
    cpu_bf16 = True
    """Validated in bf16 (``--precision auto`` picks it on CPUs with native bf16; session 34): on the validation views
    clipped PSNR-mu within 0.04 dB of fp32 in every camera, the same mean (card, "Session 34"); the field ~1.75x faster."""

    def __init__(self, **kw: float) -> None:
        super().__init__(**kw)
        self.video = False
        self._shot = ShotMean()
        """Video: the shot's detector probability (the mean over its first SETTLE_FRAMES frames, then held)."""
        self.last_shoulder: torch.Tensor | None = None
        """The frames' shoulder weights of the last ``apply``."""
        self._mask_shift = MaskShift()
        self._weight_sum, self._weight_frames = 0.0, 0
        self.graded_curve = GradedCurve(sure_bounds=CAP_SURE_BOUNDS)
        """``hdrunet-auto``'s BT.2446A curve by the shoulder weight, with its average-light cap, and its graded boost
        (:data:`GRADED_CURVE`; session 32)."""
        self.blob_level = BlobLevel(BLOB_LEVEL_FILE) if BLOB_LEVEL else None
        """Each clipped blob's level (:data:`BLOB_LEVEL`), after the curve."""
        self.last_p: torch.Tensor | None = None
        """The frames' detector probabilities of the last ``apply`` (the per-blob level reads them)."""
        self._last_shift: torch.Tensor | None = None
        """The blend mask's codec-block shift of the last ``apply`` (None: none)."""

    def mean_blend_weight(self) -> float | None:
        """The blend's mean shoulder weight over the frames applied so far (for the run report), or None."""
        return self._weight_sum / self._weight_frames if self._weight_frames else None

    def mean_shoulder_weight(self) -> float | None:
        """The BT.2446A curve's mean weight over the frames (the blend's shoulder weight; the run report), or None."""
        return self.mean_blend_weight() if GRADED_CURVE else None

    def mean_curve_weight(self) -> float | None:
        """The curve's mean weight as applied, after the average-light cap (the run report), or None."""
        return self.graded_curve.total / self._weight_frames if GRADED_CURVE and self._weight_frames else None

    def mean_cap_gain(self) -> float | None:
        """The average-light cap's mean gain on frames whose top code is empty (the run report), or None."""
        return self.graded_curve.mean_gain(self._weight_frames) if GRADED_CURVE and self._weight_frames else None

    def mean_graded_boost(self) -> float | None:
        """Mean stops the graded boost added to the fused light over the frames (the run report), or None."""
        if not GRADED_CURVE or not self.graded_curve.boost_stops or not self._weight_frames:
            return None
        return self.graded_curve.boost_total / self._weight_frames

    def enable_temporal(self, alpha: float) -> None:
        """Video: one graded-or-camera decision per shot, as ``hdrunet-auto`` makes it (:meth:`reset_temporal` at
        scene cuts), and one average-light factor on the curve per shot."""
        self.video = True
        self._shot.reset()
        self.graded_curve.start(video=True)
        if self.blob_level is not None:
            self.blob_level.start(video=True)

    def reset_temporal(self) -> None:
        self._shot.reset()
        self.graded_curve.cut()
        if self.blob_level is not None:
            self.blob_level.cut()

    def shoulder_weight(self, linear: torch.Tensor) -> torch.Tensor:
        """(N,) how graded each frame looks: the detector's probability through ``hdrunet-auto``'s smoothstep
        (0 below :data:`SHOULDER_BOUNDS`' lower one: camera footage); in video the shot's first SETTLE_FRAMES frames' mean, then held."""
        if self.video and self._shot.held:
            p = self._shot.value.expand(linear.shape[0])  # type: ignore[union-attr]
        else:
            with torch.no_grad():
                p = self.shoulder(in_unit_range(linear).float())
            if self.video:
                p = self._shot.update(p)
        self.last_p = p.detach().flatten()
        return _smoothstep(p, *SHOULDER_BOUNDS)

    def blended(self, linear: torch.Tensor, hdr: torch.Tensor, graded_boost: bool = False) -> torch.Tensor:
        """:func:`blend` with the mask each frame's shoulder weight gives (:func:`blend_bounds`); with
        ``graded_boost`` (``apply``; training's composite reads the plain blend), the fused light of frames called
        graded whose top code is nearly empty raised by the default model's graded boost
        (:meth:`hdrunet.GradedCurve.boost`)."""
        w = self.shoulder_weight(linear).to(linear.device, linear.dtype)
        self.last_shoulder = w.detach()
        self._weight_sum += float(w.detach().float().sum())
        self._weight_frames += int(w.numel())
        if graded_boost and GRADED_CURVE:
            boost = self.graded_curve.boost(linear, w)
            if boost is not None:
                hdr = hdr * torch.exp(boost.to(hdr.dtype).view(-1, 1, 1, 1))
        self._last_shift = None
        if bool((w >= 1).all()):  # graded: the wide mask as numbers (bit for bit the sessions 7-28 blend)
            return blend(linear, hdr)
        shift = None
        if DEBLOCK and not hdr.requires_grad:  # (training's composite reads the plain signal, as hdrunet's)
            shift = self._mask_shift(linear, w.flatten().float().cpu(), CLIP_START_LINEAR, SIGNAL_GAMMA)
        self._last_shift = shift
        return blend(linear, hdr, blend_bounds(w), shift)

    def context(self, linear: torch.Tensor) -> torch.Tensor:
        return self.gen.context(encode(linear))

    debevec_share = DEBEVEC_SHARE
    """The Debevec merge's share of the field (:data:`DEBEVEC_SHARE`)."""

    def field_tile(self, linear: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        """Per-channel log gain of the fused light over the picture: CF-Net's fused -3/+3 EV pair, and with
        ``debevec_share`` the Debevec merge of the whole stack mixed in (one generator pass over all six EVs)."""
        signal = encode(linear)
        share = float(self.debevec_share)
        floor = torch.log(linear.clamp(min=FLOOR))
        if not share:
            return torch.log(self.fused(signal, context=context).clamp(min=FLOOR)) - floor
        evs = list(STACK_EVS)
        stack = self.brackets(signal, evs, context)
        fused = self.fuse_pair(signal, stack[evs.index(-self.ev)], stack[evs.index(self.ev)])
        merged = debevec_merge(stack + [signal], evs + [0.0])
        return mixed_log_light(fused, merged, share) - floor

    def field(self, linear: torch.Tensor) -> torch.Tensor:
        return self.field_tile(linear, self.context(linear))

    def active_mask(self, linear: torch.Tensor) -> torch.Tensor:
        """Where the output depends on the networks: the clipped pixels."""
        return clip_mask(encode(linear)) > 0

    def apply(self, linear: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
        """The fused light, each clipped blob keeping :data:`BLOB_SPREAD` of its spread (:func:`kept_spread`),
        blended into the clipped pixels (:meth:`blended`), through ``hdrunet-auto``'s edge gate and, on frames called
        graded, its graded boost and BT.2446A curve (all outside training, whose loss reads the plain blend)."""
        if BLOB_SPREAD != 1 and not field.requires_grad:
            field = kept_spread(linear, field, BLOB_SPREAD)
        hdr = linear.clamp(min=FLOOR) * torch.exp(field.clamp(max=12))
        out = self.blended(linear, hdr, graded_boost=not hdr.requires_grad)
        if out.requires_grad:
            return out
        w = self.last_shoulder.flatten().float().cpu()  # type: ignore[union-attr]
        if EDGE_GATE:
            out = gate_expansion(linear.clamp(0, 1), out, w, CLIP_START_LINEAR, SIGNAL_GAMMA, EDGE_RING,
                                  EDGE_RING_WEIGHTED)
        if GRADED_CURVE:
            out = self.graded_curve(linear, out, self.last_shoulder, self.last_p)
            if LEVEL_READS_GAINED:
                out = self.graded_curve.gained(out)
        # through the blend's mask: its bounds are codes in the sRGB domain, the level's smoothstep reads
        # linear ** (1 / SIGNAL_GAMMA); at these codes the two differ by less than 0.1 of a code value
        out = self.level_blobs(linear, out, blend_bounds(w))
        return self.graded_curve.gained(out) if GRADED_CURVE and not LEVEL_READS_GAINED else out

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return self.apply(linear, self.field(linear))


class BracketHDR2x(TwoStage):
    """``--model brackets --upscale 2``: the joint fusion + 2x super-resolution network, whose output is used
    everywhere (it is trained on every pixel: super-resolution of the recorded ones, reconstruction of the
    clipped ones). Runs on whole frames."""

    upscale = 2

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return self.fused(encode(linear), upscale=2)


STACK_EVS = (-3.0, -2.0, -1.0, 1.0, 2.0, 3.0)
WRONG_WAY_TOLERANCE = 2.0 / 255
"""A pixel moves the wrong way when an up-exposure is darker than the frame below it by more than this
(or a down-exposure brighter than the frame above it)."""
WRONG_WAY_SHARE = 0.05
"""DrTMO's rule: a synthetic frame in which more than this share of pixels moves the wrong way is dropped,
with every frame beyond it."""


def stack_choice(signal: torch.Tensor, stack: list[torch.Tensor], evs: tuple[float, ...] = STACK_EVS) -> tuple[int, int]:
    """How many down- and up-exposures of a synthetic stack to keep (DrTMO's rule, from EV 0 outwards)."""
    keep = []
    for direction in (-1, 1):
        frames = [f for e, f in sorted(zip(evs, stack), key=lambda p: abs(p[0])) if e * direction > 0]
        prev, kept = signal, 0
        for f in frames:
            wrong = (prev - f) * direction > WRONG_WAY_TOLERANCE  # brighter exposure darker, or the reverse
            if float(wrong.any(1).float().mean()) > WRONG_WAY_SHARE:
                break
            prev, kept = f, kept + 1
        keep.append(kept)
    return keep[0], keep[1]


def debevec_stack(frames: list[torch.Tensor], evs: list[float]) -> torch.Tensor:
    """Debevec & Malik's weighted merge of a stack (code domain, known sRGB response): radiance relative to EV
    0's white, by the alternating merge's own :func:`hdrvid.models.merge.weighted_merge` (well-exposedness
    weights, shortest/longest exposure where no frame is well exposed). Runs on the CPU in numpy."""
    out = []
    for n in range(frames[0].shape[0]):
        lins = [decode(f[n]).float().cpu().numpy() for f in frames]
        out.append(torch.from_numpy(weighted_merge(lins, evs)))
    return torch.stack(out).to(frames[0].device)


def kept_spread(linear: torch.Tensor, field: torch.Tensor, keep: float) -> torch.Tensor:
    """``field`` (N, 3, H, W), per-channel log gains over ``linear``, with its spread inside each clipped blob cut to
    ``keep`` (:data:`BLOB_SPREAD`): in each 8-connected blob of pixels whose brightest channel reaches
    ``CLIP_LINEAR``, every channel moves by ``(keep - 1) (g - m)``, ``g`` the pixel's mean over the channels and ``m``
    the blob's mean of ``g``. Pixels outside the blobs keep their gains; a new tensor."""
    out = field.clone()
    clip = (linear.amax(1) >= CLIP_LINEAR).cpu().numpy().astype(np.uint8)
    for n in range(field.shape[0]):
        at = np.flatnonzero(clip[n])  # the clipped pixels only: a few percent of a frame
        if not len(at):
            continue
        count, labels = cv2.connectedComponents(clip[n], connectivity=8)
        lab = labels.ravel()[at]
        flat = out[n].reshape(out.shape[1], -1)  # a view of the clone
        where = torch.from_numpy(at).to(field.device)
        g = flat.index_select(1, where).float().mean(0).cpu().numpy().astype(np.float64)
        means = np.bincount(lab, weights=g, minlength=count) / np.maximum(np.bincount(lab, minlength=count), 1)
        delta = torch.from_numpy((keep - 1.0) * (g - means[lab])).to(device=field.device, dtype=field.dtype)
        flat.index_add_(1, where, delta.expand(out.shape[1], -1))
    return out


def mixed_log_light(fused: torch.Tensor, merged: torch.Tensor, share: float) -> torch.Tensor:
    """Stage 2's light in log: CF-Net's fused pair and the Debevec merge of the stack (both relative to the
    picture's white) mixed by ``share`` (:data:`DEBEVEC_SHARE`); ``BracketHDR.field_tile`` and the joint training
    stage's composite both mix through here."""
    return (1 - share) * torch.log(fused.clamp(min=FLOOR)) + share * torch.log(merged.clamp(min=FLOOR))


def debevec_merge(frames: list[torch.Tensor], evs: list[float]) -> torch.Tensor:
    """:func:`debevec_stack` in torch, batched and exportable (the same arithmetic as
    :func:`hdrvid.models.merge.weighted_merge` on the decoded frames: well-exposedness hat weights on the gamma-2.2
    signal, the shortest/longest exposure where no frame is well exposed). Frames (N, 3, H, W) code domain ->
    radiance relative to EV 0's white."""
    lins = [decode(f).float() for f in frames]
    num = torch.zeros_like(lins[0])
    den = torch.zeros_like(lins[0][:, :1])
    for lin, ev in zip(lins, evs):
        sig = lin.clamp(0, 1) ** (1 / GAMMA)
        top = 1 - _smoothstep(sig.amax(1, keepdim=True), 0.86, 0.97)
        bottom = _smoothstep(sig.mean(1, keepdim=True), 0.0, 0.08)
        w = top * bottom
        num = num + w * (lin * 2.0**-ev)
        den = den + w
    short, long_ = min(range(len(evs)), key=lambda i: evs[i]), max(range(len(evs)), key=lambda i: evs[i])
    bright = lins[short].clamp(0, 1).amax(1, keepdim=True) ** (1 / GAMMA) > 0.5
    fb = torch.where(bright, lins[short] * 2.0 ** -evs[short], lins[long_] * 2.0 ** -evs[long_])
    alpha = (den / 1e-2).clamp(0, 1)
    return alpha * num / den.clamp(min=1e-6) + (1 - alpha) * fb


class BracketDebevec(BracketHDR):
    """``--model brackets-debevec``: the classical stage 2. The generator's stack at -3..+3 EV, merged with the
    known (sRGB) response by Debevec's weighted average, after DrTMO's rule has dropped frames that move the
    wrong way. In video the choice of frames is made once per shot (at the first frame and after each scene
    cut) so it cannot flip from frame to frame; a still picture gets its own choice."""

    exportable = False
    """The stack choice is data-dependent state: torch only."""
    cpu_bf16 = False
    """Not validated in bf16 (fp32 under ``--precision auto``)."""

    def __init__(self, **kw: float) -> None:
        super().__init__(**kw)
        self._choice: tuple[int, int] | None = None
        self.choices: list[tuple[int, int]] = []
        """Every stack choice made (down, up), for reports and tests."""

    def enable_temporal(self, alpha: float) -> None:
        super().enable_temporal(alpha)
        self._choice = None

    def reset_temporal(self) -> None:
        super().reset_temporal()
        self._choice = None

    def context(self, linear: torch.Tensor) -> torch.Tensor:
        ctx = super().context(linear)
        if self._choice is None or not self.video:
            signal = encode(linear)
            self._choice = stack_choice(signal, self.brackets(signal, list(STACK_EVS), ctx))
            self.choices.append(self._choice)
        down, up = self._choice
        return torch.cat([ctx, ctx.new_tensor([[down, up]]).expand(ctx.shape[0], 2)], 1)

    def field_tile(self, linear: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        down, up = int(context[0, -2]), int(context[0, -1])
        evs = [e for e in STACK_EVS if -down <= e <= up]
        signal = encode(linear)
        frames = self.brackets(signal, evs, context[:, :-2]) + [signal]
        hdr = debevec_stack(frames, evs + [0.0])
        return torch.log(hdr.clamp(min=FLOOR)) - torch.log(linear.clamp(min=FLOOR))
