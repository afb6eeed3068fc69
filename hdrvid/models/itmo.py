"""Classical, parameter-free inverse tone mapping (the baseline learned models must beat).

In the spirit of Akyuz et al. 2007 (a linear expansion is already a good HDR) and Kovaleski & Oliveira
2014 (boost only the highlights, through a smooth, edge-aware brightness-enhancement map):

1. the input is already linear light (the decoder undoes the transfer function);
2. a highlight mask rises smoothly from 0 just below clipping (signal 0.94) to 1 at clipping, on
   max(R,G,B) so that a single clipped channel (a saturated blue sky) counts too, read through the codec-block
   filter of ``hdrunet-auto``'s camera mask (flat areas read their window's mean: a near-white wall's H.264 blocks
   do not become bright and dim squares);
3. inside the mask the enhancement grows with the local share of clipped pixels (a dome from a region's
   edge to its centre: no flat plateau), and it never leaves the mask (no halo into the neighbours);
4. each pixel is multiplied by 1 + (gain - 1) * map. Pixels below clipping are untouched, so
   well-exposed regions (and merely bright ones) stay exactly linearised;
5. the expansion is scaled down where it would lift a frame's average light (mean max(R, G, B)) above
   ``--average-cap`` (:class:`hdrvid.models.arrays.ItmoCap`; in video held over neighbouring frames).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.operators import BT709_WEIGHTS, bt2446a_inverse_curve, luminance
from hdrvid.models.arrays import (
    ITMO_AVERAGE_CAP,
    ITMO_GAIN,
    ITMO_LARGE_GAIN,
    ITMO_RADIUS_FRACTION,
    ITMO_REGION_FRACTION,
    ITMO_THRESHOLD,
    HoldsItmoCap,
    ItmoCap,
    box_mean,
    itmo_block_shift,
    itmo_floor,
)


def box_filter(x: torch.Tensor, r: int) -> torch.Tensor:
    """Mean over a (2r+1)^2 window with edge clamping (the window's part inside the frame): for a float32 CPU
    tensor outside autograd OpenCV's box filter plane by plane (``arrays.box_mean``; 8x faster at 320x180),
    otherwise (autograd, GPUs) :func:`box_filter_cumsum`, the same means up to float rounding (test)."""
    if x.device.type != "cpu" or x.dtype != torch.float32 or (x.requires_grad and torch.is_grad_enabled()):
        return box_filter_cumsum(x, r)
    planes = x.detach().reshape(-1, *x.shape[-2:]).contiguous().numpy()
    return torch.from_numpy(np.stack([box_mean(p, r) for p in planes])).reshape(x.shape)


def box_filter_cumsum(x: torch.Tensor, r: int) -> torch.Tensor:
    """:func:`box_filter` in torch, O(1) per pixel via cumulative sums (differentiable, any device)."""
    def along(t: torch.Tensor, dim: int) -> torch.Tensor:
        n = t.shape[dim]
        c = torch.cumsum(t, dim)
        zero = torch.zeros_like(c.narrow(dim, 0, 1))
        c = torch.cat([zero, c], dim)
        idx = torch.arange(n, device=t.device)
        hi = (idx + r + 1).clamp(max=n)
        lo = (idx - r).clamp(min=0)
        s = c.index_select(dim, hi) - c.index_select(dim, lo)
        shape = [1] * t.dim()
        shape[dim] = n
        return s / (hi - lo).to(t.dtype).view(shape)

    return along(along(x, -1), -2)


def square_max(x: torch.Tensor, r: int) -> torch.Tensor:
    """Max over a (2r+1)^2 window (edges: the window's part inside the frame), as two 1-D passes: the same
    as one square max-pool (the max of a rectangle is the max of its rows' maxima) at O(r) instead of O(r^2)
    per pixel (at 720p: 7 ms instead of 240 ms)."""
    k = 2 * r + 1
    return F.max_pool2d(F.max_pool2d(x, (1, k), stride=1, padding=(0, r)), (k, 1), stride=1, padding=(r, 0))


class ClassicalITMO(HoldsItmoCap, nn.Module):
    """Highlight expansion on linear input; output relative linear light (1.0 = reference white).

    Only pixels at the edge of clipping expand (smoothstep on max(R',G',B') between signal 0.94 and 0.99,
    codes ~240-252), so bright but recorded pixels (a white wall, a floor in the sun, a pale sky) stay
    where the camera put them, and the expansion never spreads into unclipped neighbours (no halo).
    Inside a clipped region the gain rises from its edge to its centre (a dome from the local share of
    clipped pixels; no flat plateau), and how far it rises depends on the region's size: small compact
    regions are light sources and speculars (up to ``gain``), large ones are mostly overexposed sky, walls
    and windows (up to ``large_gain``), so a clipped wall is not pushed to the mastering peak.
    """

    def __init__(self, gain: float = ITMO_GAIN, large_gain: float = ITMO_LARGE_GAIN, threshold: float = ITMO_THRESHOLD,
                 radius_fraction: float = ITMO_RADIUS_FRACTION, region_fraction: float = ITMO_REGION_FRACTION,
                 average_cap: float = ITMO_AVERAGE_CAP) -> None:
        super().__init__()
        self.cap = ItmoCap(average_cap)
        """The average-light cap (``average_cap``: relative light, ``inf`` off; video: held over nearby frames)."""
        self.gain = gain
        self.large_gain = large_gain
        self.threshold = threshold
        self.radius_fraction = radius_fraction
        self.region_fraction = region_fraction

    def expansion_map(self, x: torch.Tensor) -> torch.Tensor:
        """The per-pixel gain minus one."""
        signal = x.amax(1, keepdim=True).clamp(1e-8, 1) ** (1 / 2.2)
        shift = itmo_block_shift(x.detach(), float(itmo_floor(self.threshold)))
        if shift is not None:
            signal = signal + shift.to(signal)
        t = ((signal - self.threshold) / (0.99 - self.threshold)).clamp(0, 1)
        mask = t * t * (3 - 2 * t)  # smoothstep
        h, w = x.shape[-2:]
        side = max(h, w)
        big = max(2, round(self.region_fraction * side))
        # how large the clipped region around each pixel is (0: a lamp, 1: a wall), at quarter resolution
        f = 4 if min(h, w) >= 64 else 1
        small = F.avg_pool2d(mask, f) if f > 1 else mask
        rq = max(1, big // f)
        size = box_filter(small, rq).clamp(0, 1)
        label = square_max(size * small, rq)  # one label per region
        dome = box_filter(small, max(1, rq // 3)).clamp(0, 1).sqrt()
        if f > 1:
            label = F.interpolate(label, size=(h, w), mode="bilinear", align_corners=False)
            dome = F.interpolate(dome, size=(h, w), mode="bilinear", align_corners=False)
        spot = box_filter(mask, max(1, round(self.radius_fraction * side / 4))).clamp(0, 1).sqrt()
        depth = spot * (1 - label) + dome * label
        return mask * depth * ((self.gain - 1) - (self.gain - self.large_gain) * label)

    def capped(self, x: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        """``m`` (the expansion map of ``x``, (N, 1, H, W)) times each frame's cap factor, frames in order
        (:class:`ItmoCap`, the numpy path's sums). Not in an exported graph (ONNX, a trace: the cap is state
        between frames), so ``--backend onnxruntime`` / ``tensorrt`` run ``itmo`` without it."""
        if (not np.isfinite(self.cap.average_cap) or x.requires_grad or m.requires_grad or torch.jit.is_tracing()
                or torch.onnx.is_in_onnx_export()):
            return m
        peak = x.detach()[..., ::4, ::4].amax(1).float().cpu().numpy()
        grid_gain = m.detach()[:, 0, ::4, ::4].float().cpu().numpy()
        factors = [self.cap.frame_factor(peak[i], grid_gain[i]) for i in range(x.shape[0])]
        if all(f == 1.0 for f in factors):
            return m
        return m * torch.tensor(factors, dtype=m.dtype, device=m.device).view(-1, 1, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clamp(min=0)
        return x * (1 + self.capped(x, self.expansion_map(x)))


class Linearise(nn.Module):
    """No expansion: the linearised input itself (plain transcode, and the "linearisation" baseline)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class BT2446AInverse(nn.Module):
    """ITU-R BT.2446 Method A's inverse tone mapping (as libplacebo offers it): SDR luminance through the
    standard's expansion curve to a ``peak_nits`` HDR display, colour by the luminance ratio. SDR white
    lands at the peak (1000 nits by design of the standard); output relative to ``reference_white``, by default
    the SDR white of hdrvid's default ``--level bt2446a`` (1.96 x 203 nits), so an HDR10 output at that level
    has the standard's nits (18 % grey at 72, white at 1000; ``--level bt2408`` halves them)."""

    def __init__(self, peak_nits: float = 1000.0, reference_white: float = 203.0 * LEVEL_GAIN["bt2446a"]) -> None:
        super().__init__()
        self.scale = peak_nits / reference_white

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.clamp(min=0)
        y = luminance(x, BT709_WEIGHTS)
        hdr = bt2446a_inverse_curve(y.clamp(0, 1)) * self.scale
        return x * (hdr / y.clamp(min=1e-6))
