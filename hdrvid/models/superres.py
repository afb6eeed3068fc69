"""2x super-resolution of the default model's HDR output, guided by the picture (``--upscale 2``, issue 15).

``hdrunet-2x`` = the default single-exposure model (``hdrunet-auto``) at the input's size, then a small
residual network that adds what bicubic upscaling of its output misses. The network (EDSR-style residual
blocks at the input resolution, an ESPCN pixel-shuffle head) works in a log encoding of radiance:

    out = D(E(bicubic(base)) + r),   E(x) = log(x + 0.001),   D = E^-1

or, in a file trained with ``log_start`` (since session 45), the estimate upscaled in that encoding itself:

    out = D(bicubic(E(base)) + r)

(bicubic upscaling of linear light spills an expanded highlight's light onto its dark neighbours and blurs the
8-bit picture's edges in the units the metric reads least; in the log encoding alone it scores +0.82 dB over
bicubic upscaling on validation, more than session 38's network on the linear start: model card, "Session 45").

and sees the picture's own signal (its 8-bit detail: edges and texture that the HDR estimate inherited,
smoothed, from the fast mode and the upsampling), the log-encoded estimate and the clip mask. ``r`` is detail
only: it averages to zero over the four output pixels of each input pixel, so the level of every input pixel
stays what the base model made it. Its head starts at zero, so an untrained network gives exactly bicubic
upscaling of ``hdrunet-auto``'s output, the reference the issue measures ``--upscale 2`` against.

Parts for the engines: ``refine(linear, base)`` (the network and the composition above; ``base`` is the
estimate at the input's size, computed in the pipeline by ``hdrunet-auto``'s own executor in its fast mode
and sparse tiles). The whole model (``forward``) runs the frozen ``hdrunet-auto`` at full resolution first.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.errors import ModelError
from hdrvid.models.brackets import BracketHDR
from hdrvid.models.hdrunet import HDRUNet, WrapsBase

EPS = 1e-3
"""E(x) = log(x + EPS): relative detail (a residual scales light, it never pushes a dark pixel below 0; a first
run in log(1 + x), nearly linear in the shadows, clamped 1 % of real pixels to black there)."""
MAX_RESIDUAL = 0.25
"""|r| is bounded by about twice this (tanh, then the local level removed): light x0.6..x1.6 at most. The bound of
a weights file without a ``sr.bound`` value (sessions 12-29); a file trained with another bound carries it."""
LEVEL_WINDOW = 5
"""The residual loses its local level: the box mean over LEVEL_WINDOW x LEVEL_WINDOW input pixels of its 2x2
block means (a smooth high-pass: a constant or a ramp is removed exactly, any level over a 5x5 neighbourhood
nearly). 1 = zero over each output 2x2 block (each input pixel keeps the base model's level exactly: the
session-12 network, which therefore cannot remove the camera's noise or a codec's blocks at the input's own pixel
scale). 5 lets it change single input pixels (denoise, deblock) while the level of every 5x5 neighbourhood
stays (nearly) the base model's."""


def encode(x: torch.Tensor) -> torch.Tensor:
    return torch.log(x.clamp(min=0) + EPS)


def decode(e: torch.Tensor) -> torch.Tensor:
    return (torch.exp(e) - EPS).clamp(min=0)


def feature(x: torch.Tensor) -> torch.Tensor:
    """The estimate as the network sees it: E(x) shifted and scaled to about [0, 1] (64x white -> 1.1)."""
    return (encode(x) - math.log(EPS)) / 10.0


def local_level(sub: torch.Tensor, window: int) -> torch.Tensor:
    """(N, 3, 4, H, W) sub-pixels -> the local level each must lose: the box mean over ``window`` x ``window``
    input pixels (edges replicated) of the 2x2 block means; ``window`` 1 is the block mean itself.
    (Not ``itmo.box_filter``: that one averages only the window's part inside the frame, where the shipped weights
    were trained with replicated edges, and its CPU path runs OpenCV, which an ONNX export cannot trace.)"""
    m = sub.mean(2, keepdim=True)
    if window <= 1:
        return m
    n, c, _, h, w = m.shape
    pad = window // 2
    flat = F.pad(m.reshape(n, c, h, w).float(), (pad, pad, pad, pad), mode="replicate")
    # the box as sums of shifted views, rows then columns: ~1.2 ms on a 360x640 map here, where avg_pool2d takes
    # ~5 ms on the CPU (the same sums to 2e-7)
    rows = flat[..., :, 0:w].clone()
    for i in range(1, window):
        rows = rows + flat[..., :, i:i + w]
    box = rows[..., 0:h, :]
    for i in range(1, window):
        box = box + rows[..., i:i + h, :]
    return (box / (window * window)).to(sub.dtype).reshape(n, c, 1, h, w)


def bicubic2x(x: torch.Tensor) -> torch.Tensor:
    """What the target is measured against: bicubic upscaling of linear light, negatives clipped."""
    return F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False).clamp(min=0)


class _Block(nn.Module):
    """conv - ReLU - conv, residual (EDSR's block without batch norm)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(width, width, 3, padding=1)
        self.c2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.c2(F.relu(self.c1(x)))


class SuperRes(nn.Module):
    """(linear picture, its HDR estimate) at (H, W) -> the upscaled estimate at (2H, 2W)."""

    def __init__(self, width: int = 32, blocks: int = 6, level_window: int = LEVEL_WINDOW,
                 max_residual: float = MAX_RESIDUAL, shared: bool = False, log_start: bool = False) -> None:
        super().__init__()
        self.shared = bool(shared)
        self.log_start = bool(log_start)
        if self.log_start:  # in the weights file (files without it start from bicubic upscaling of linear light)
            self.register_buffer("log_start_flag", torch.tensor(1))
        if self.shared:  # in the weights file (files without it have a residual per channel)
            self.register_buffer("shared_residual", torch.tensor(1))
        self.level_window = int(level_window)
        if self.level_window != 1:  # in the weights file (files without it are the block-mean form)
            self.register_buffer("level", torch.tensor(self.level_window))
        self.max_residual = float(max_residual)
        if self.max_residual != MAX_RESIDUAL:  # in the weights file (files without it have the first bound)
            self.register_buffer("bound", torch.tensor(self.max_residual))
        self.head = nn.Conv2d(9, width, 3, padding=1)  # signal, E(estimate), clip mask (3 each)
        self.body = nn.Sequential(*[_Block(width) for _ in range(blocks)], nn.Conv2d(width, width, 3, padding=1))
        self.tail = nn.Conv2d(width, 3 * 4, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        nn.init.zeros_(self.tail.weight)  # starts as bicubic upscaling of the estimate, exactly
        nn.init.zeros_(self.tail.bias)

    def residual(self, linear: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        """(N, 3, 2H, 2W) in E units (log light), bounded, and without a local level (:func:`local_level`: zero
        over each input pixel's four output pixels, or a ``level_window``-pixel box high-pass): detail only. The network cannot move the level the
        base model chose (a first run without this learned to darken graded shots towards scene radiance, which
        is the base model's decision to make)."""
        lin = linear.clamp(0, 1)
        signal = HDRUNet._signal(lin)
        mask = HDRUNet.clip_mask(signal)
        feat = self.head(torch.cat([signal, feature(base), mask], 1))
        feat = feat + self.body(feat)
        sub = self.tail(feat)  # (N, 12, H, W): the four sub-pixels of each channel
        n, _, h, w = sub.shape
        sub = sub.view(n, 3, 4, h, w)
        if self.shared:  # one residual for the three channels: detail in light, never a colour fringe at an edge
            sub = sub.mean(1, keepdim=True).expand(n, 3, 4, h, w)
        sub = sub - local_level(sub, self.level_window)
        r = self.max_residual * torch.tanh(sub / self.max_residual)
        r = r - local_level(r, self.level_window)  # (again after the bound, which is not linear)
        return self.shuffle(r.reshape(n, 12, h, w))

    def start(self, base: torch.Tensor) -> torch.Tensor:
        """What the residual refines, in E units: the estimate upscaled bicubically, in linear light or (``log_start``)
        in E itself. The untrained network (its head at zero) returns exactly this."""
        if self.log_start:
            return F.interpolate(encode(base.float()), scale_factor=2, mode="bicubic", align_corners=False)
        return encode(bicubic2x(base.float()))

    def forward(self, linear: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        return decode(self.start(base) + self.residual(linear, base).float())


def sr_sizes_of(state: dict[str, torch.Tensor], model: str, base: str) -> dict[str, Any]:
    """:class:`SuperRes`'s width, depth, level window, bound and shared flag as ``model``'s weights file holds them
    (under ``sr.``), checked; a file without the network (``base``'s own, given to ``--upscale 2``) is refused."""
    head = state.get("sr.head.weight")
    if head is None:
        raise ModelError(f"not a {model} weights file (no super-resolution network in it: a {base} file?); pass the "
                         f"file `hdrvid train -m {model}` writes, or drop --weights")
    blocks = sum(1 for k in state if k.startswith("sr.body.") and k.endswith(".c1.weight"))
    level = state.get("sr.level")
    window = 1 if level is None else int(level)
    if window not in range(1, 16, 2):
        raise ModelError(f"{model} weights hold sr.level = {window}: the level window must be an odd number "
                         "of input pixels from 1 to 15 (a damaged or foreign file; use the shipped weights)")
    bound = state.get("sr.bound")
    max_residual = MAX_RESIDUAL if bound is None else float(bound)
    if not 0.05 <= max_residual <= 4.0:
        raise ModelError(f"{model} weights hold sr.bound = {max_residual:g}: the residual's bound must be "
                         "0.05-4 (log light; a damaged or foreign file; use the shipped weights)")
    return {"width": int(head.shape[0]), "blocks": blocks, "level_window": window, "max_residual": max_residual,
            "shared": "sr.shared_residual" in state, "log_start": "sr.log_start_flag" in state}


class _SuperResolved(nn.Module):
    """A 1x model (``base``, run first at the input's size by its own executor) and :class:`SuperRes` on the frame
    and its estimate. One linear frame in (the single-exposure models' conventions), relative radiance out at twice
    the size. Subclasses set ``base_model`` and build ``base``."""

    upscale = 2
    superres = True
    """Runs as base model + ``refine`` part (:class:`hdrvid.engines.superres.SuperResExecutor`)."""
    name = ""
    """The model's registry name (in its weights file's errors)."""
    base_model = ""
    """The estimate's registry name (its executor computes ``base`` in the pipeline)."""
    exportable = True  # the ``refine`` part; the base runs on torch
    family = "superres"
    base: nn.Module

    def __init__(self, width: int, blocks: int, level_window: int, max_residual: float, shared: bool,
                 log_start: bool = False) -> None:
        super().__init__()
        self.sr = SuperRes(width, blocks, level_window, max_residual, shared, log_start)

    @property
    def refine_features(self) -> int:
        """Channels of the refining network's feature maps (the executor sizes its tiles by them)."""
        return int(self.sr.head.out_channels)

    @property
    def receptive_radius(self) -> int:
        """Input pixels around an input pixel that its four output pixels depend on (in ``refine``): a 3x3
        convolution each for the head, 2 per block, the body's last and the tail, and the local level taken twice
        (after the network and after the bound), ``level_window // 2`` each. Tiles with this much around them give
        the whole frame's numbers (``engines.superres``)."""
        convs = 3 + 2 * (len(self.sr.body) - 1)
        return convs + 2 * (self.sr.level_window // 2)

    @classmethod
    def sizes_of(cls, state: dict[str, torch.Tensor]) -> dict[str, Any]:
        """The network's width and depth as a weights file holds them (``registry.build`` makes the model that
        fits: a wider network trained with ``model_kwargs`` loads by ``--weights`` alone)."""
        return sr_sizes_of(state, cls.name, cls.base_model)

    def example_input(self, h: int = 64, w: int = 96) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        x = torch.rand((1, 3, h, w), generator=g) ** 2.2
        x[..., h // 4:h // 2, w // 3:w // 2] = 1.0  # a clipped patch
        return x

    def refine(self, linear: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        return self.sr(linear, base)

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return self.sr(linear, self.base(linear))

    # the base's per-shot state (hdrunet-auto's or brackets' shoulder weight)
    def enable_temporal(self, alpha: float) -> None:
        self.base.enable_temporal(alpha)  # type: ignore[operator]

    def reset_temporal(self) -> None:
        self.base.reset_temporal()  # type: ignore[operator]


class HDRUNet2x(WrapsBase, _SuperResolved):
    """``hdrunet-2x`` (``--upscale 2`` with the default model): ``hdrunet-auto`` then :class:`SuperRes`."""

    name = "hdrunet-2x"
    base_model = "hdrunet-auto"
    cpu_bf16 = True
    """``--precision auto`` runs it in bf16 on CPUs that compute bf16 natively: validation PSNR-mu and PU21 the
    same as fp32 to 0.01 dB (model card)."""

    def __init__(self, width: int = 32, blocks: int = 6, level_window: int = LEVEL_WINDOW,
                 max_residual: float = MAX_RESIDUAL, shared: bool = False, log_start: bool = False) -> None:
        super().__init__(width, blocks, level_window, max_residual, shared, log_start)
        self.base = HDRUNet(curve=False, adaptive=True)


class Brackets2x(WrapsBase, _SuperResolved):
    """``brackets-2x`` (``--model brackets --upscale 2``): the two-stage ``brackets`` model (synthetic bracket,
    coupled-feedback fusion, blended into the clipped pixels) at the input's size, then :class:`SuperRes` on the
    picture and that estimate (the super-resolution branch CF-Net's 2x variant lacked: brackets card, session 31)."""

    name = "brackets-2x"
    base_model = "brackets"
    cpu_bf16 = True
    """``--precision auto`` runs the network in bf16 on CPUs that compute bf16 natively (``brackets`` itself stays in
    fp32): validation PSNR-mu as fp32's to 0.01 dB (brackets card, session 31)."""

    def __init__(self, width: int = 32, blocks: int = 6, level_window: int = LEVEL_WINDOW,
                 max_residual: float = MAX_RESIDUAL, shared: bool = False, log_start: bool = False) -> None:
        super().__init__(width, blocks, level_window, max_residual, shared, log_start)
        self.base = BracketHDR()

    def mean_blend_weight(self) -> float | None:
        return self.base.mean_blend_weight()
