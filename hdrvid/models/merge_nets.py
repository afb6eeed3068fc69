"""Learned merges for alternating-exposure video: an AHDRNet-style and a Kalantari-style network.

Both see three pictures, the reference frame t and its neighbours t-1 and t+1 (the other exposure(s)),
packed into one tensor by :func:`pack` (so one ONNX input carries everything). Per picture:

- ``s``: the display-encoded picture (gamma 2.2), 3 channels;
- ``h``: its radiance estimate ``linear * 2**-ev``, normalised by the white of the shortest exposure in
  the cycle and mu-law compressed (mu = 5000), 3 channels: the HDR-domain view AHDRNet also feeds;
- for neighbours, ``ahdr`` gets them already aligned (DIS flow + warp, outside the network) plus the
  flow-consistency mask; ``kalantari`` gets them unaligned plus the DIS flow and refines the flow itself
  (a small CNN predicts a residual flow; warping by ``grid_sample`` inside the network).

Output head (both; Kalantari et al. 2017's "weight and image estimator"): per-pixel softmax weights over
the three aligned radiance estimates plus a bounded correction in the mu-law domain, so the output is
built from measured radiance wherever some picture measured it, and the network only has to decide
whom to trust (and fill in what none measured). The output is mu-law radiance in [0, 1] (normalised as
the inputs); :func:`unpack_output` turns it back into radiance at EV 0 scale.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.models.merge import FlowPair, flow_consistency, warp

MU = 5000.0


def mu_law(x: torch.Tensor) -> torch.Tensor:
    return torch.log1p(MU * x.clamp(min=0)) / math.log1p(MU)


def inverse_mu_law(t: torch.Tensor) -> torch.Tensor:
    return (torch.exp(t * math.log1p(MU)) - 1) / MU  # not expm1: ONNX has no such operator


# --- input packing (numpy, outside the network) ----------------------------------------------------------

def _views(lin: np.ndarray, ev: float, ev_min: float, out: np.ndarray) -> None:
    """Writes the picture's 6 views (display-encoded, mu-law radiance) into ``out`` (6, H, W)."""
    s, h = out[:3], out[3:6]
    np.clip(lin, 0, 1, out=s)
    np.power(s, np.float32(1 / 2.2), out=s)
    np.clip(lin, 0, None, out=h)
    np.multiply(h, np.float32(MU * 2.0 ** (ev_min - ev)), out=h)
    np.log1p(h, out=h)
    np.multiply(h, np.float32(1 / math.log1p(MU)), out=h)


def pack(kind: str, ref: np.ndarray, ev_ref: float, neighbours: list[tuple[np.ndarray, float, object]],
         ev_min: float) -> np.ndarray:
    """(C, H, W) network input. ``neighbours``: (picture, ev, FlowPair) for t-1 and t+1 (one may be
    missing at the ends of a clip: the other is used twice; with none, the reference stands in).
    Written into one preallocated array (at 1280x720 the concatenations and copies cost more than the
    arithmetic)."""
    nb = list(neighbours)
    if not nb:
        zero = np.zeros(ref.shape[1:] + (2,), np.float32)
        nb = [(ref, ev_ref, FlowPair(zero, zero))]
    if len(nb) == 1:
        nb = nb * 2
    out = np.empty((channels(kind),) + ref.shape[1:], np.float32)
    _views(ref, ev_ref, ev_min, out[:6])
    c = 6
    for pic, ev, flows in nb:
        assert isinstance(flows, FlowPair)
        if kind == "ahdr":
            _views(warp(pic, flows.ab), ev, ev_min, out[c:c + 6])
            c += 6
        else:
            _views(pic, ev, ev_min, out[c:c + 6])
            out[c + 6:c + 8] = flows.ab.transpose(2, 0, 1)
            c += 8
        out[c] = flow_consistency(flows.ab, flows.ba)
        c += 1
    assert c == out.shape[0]
    return out


def channels(kind: str) -> int:
    return 6 + 2 * (7 if kind == "ahdr" else 9)


# --- shared head -----------------------------------------------------------------------------------------

class WeightImageHead(nn.Module):
    """Features -> softmax weights over 3 radiance estimates + a bounded mu-law correction."""

    def __init__(self, features: int, correction: float = 0.1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(features, 3 + 3, 3, padding=1)
        self.correction = correction
        with torch.no_grad():
            self.conv.weight.mul_(0.1)
            self.conv.bias.zero_()
            self.conv.bias[0] = 1.0  # start by trusting the reference a little more

    def forward(self, feats: torch.Tensor, radiances: list[torch.Tensor]) -> torch.Tensor:
        out = self.conv(feats)
        w = torch.softmax(out[:, :3], 1)
        merged = sum(w[:, i:i + 1] * radiances[i] for i in range(3))
        return (mu_law(merged) + self.correction * torch.tanh(out[:, 3:])).clamp(0, 1)


def _radiance(h: torch.Tensor) -> torch.Tensor:
    return inverse_mu_law(h)


# --- AHDRNet style ---------------------------------------------------------------------------------------

class DRDB(nn.Module):
    """Dilated residual dense block (Yan et al. 2019): dense 3x3 dilated convs, 1x1 fusion, residual."""

    def __init__(self, features: int, growth: int, layers: int = 4, dilation: int = 2) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(features + i * growth, growth, 3, padding=dilation, dilation=dilation) for i in range(layers))
        self.fuse = nn.Conv2d(features + layers * growth, features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for conv in self.convs:
            feats.append(F.relu(conv(torch.cat(feats, 1))))
        return x + self.fuse(torch.cat(feats, 1))


def example_input(kind: str, h: int = 64, w: int = 96, seed: int = 0) -> torch.Tensor:
    """A fixed plausible packed input (for export parity): views in [0, 1], small flows, masks of 1."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand((1, channels(kind), h, w), generator=g)
    if kind == "kalantari":
        for base in (6, 15):
            x[:, base + 6:base + 8] = (x[:, base + 6:base + 8] - 0.5) * 4  # flows of up to 2 px
            x[:, base + 8] = 1.0
    return x


class AHDRMerge(nn.Module):
    """Attention-guided merge (Yan et al., CVPR 2019), slimmed for CPU: 32 features, 3 DRDBs."""

    kind = "ahdr"

    def example_input(self, h: int = 64, w: int = 96) -> torch.Tensor:
        return example_input(self.kind, h, w)

    def __init__(self, features: int = 32, growth: int = 16, blocks: int = 3) -> None:
        super().__init__()
        self.enc_ref = nn.Conv2d(6, features, 3, padding=1)
        self.enc_nb = nn.Conv2d(7, features, 3, padding=1)
        self.att = nn.Sequential(nn.Conv2d(2 * features, 2 * features, 3, padding=1), nn.LeakyReLU(0.1),
                                 nn.Conv2d(2 * features, features, 3, padding=1), nn.Sigmoid())
        self.merge_in = nn.Conv2d(3 * features, features, 3, padding=1)
        self.blocks = nn.ModuleList(DRDB(features, growth) for _ in range(blocks))
        self.fuse = nn.Sequential(nn.Conv2d(blocks * features, features, 1), nn.Conv2d(features, features, 3, padding=1))
        self.head = WeightImageHead(features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ref, n1, n2 = x[:, :6], x[:, 6:13], x[:, 13:20]
        f_ref = F.leaky_relu(self.enc_ref(ref), 0.1)
        feats = [f_ref]
        for nb in (n1, n2):
            f = F.leaky_relu(self.enc_nb(nb), 0.1)
            feats.append(f * self.att(torch.cat([f_ref, f], 1)))
        z = self.merge_in(torch.cat(feats, 1))
        outs = []
        for block in self.blocks:
            z = block(z)
            outs.append(z)
        z = F.leaky_relu(self.fuse(torch.cat(outs, 1)) + f_ref, 0.1)
        return self.head(z, [_radiance(ref[:, 3:6]), _radiance(n1[:, 3:6]), _radiance(n2[:, 3:6])])


# --- Kalantari style -------------------------------------------------------------------------------------

def flow_warp(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp by a pixel flow (N, 2, H, W) with bilinear sampling, borders replicated."""
    n, _, h, w = img.shape
    ys = torch.arange(h, dtype=img.dtype, device=img.device).view(1, h, 1).expand(n, h, w)
    xs = torch.arange(w, dtype=img.dtype, device=img.device).view(1, 1, w).expand(n, h, w)
    # sizes stay symbolic when traced (no Python max/int here, or ONNX would bake in the example's size)
    gx = (xs + flow[:, 0]) * 2.0 / (w - 1) - 1
    gy = (ys + flow[:, 1]) * 2.0 / (h - 1) - 1
    grid = torch.stack([gx, gy], -1)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)


class FlowRefine(nn.Module):
    """Residual flow at half resolution from (ref views, DIS-warped neighbour views, DIS flow)."""

    def __init__(self, features: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(6 + 6 + 2, features, 5, padding=2), nn.LeakyReLU(0.1),
            nn.Conv2d(features, features, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(features, features, 3, padding=2, dilation=2), nn.LeakyReLU(0.1),
            nn.Conv2d(features, 2, 3, padding=1))
        with torch.no_grad():
            last = self.net[-1]
            assert isinstance(last, nn.Conv2d)
            last.weight.mul_(0.01)
            last.bias.zero_()

    def forward(self, ref: torch.Tensor, warped: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        x = torch.cat([ref, warped, flow / 8.0], 1)
        small = F.avg_pool2d(x, 2)
        d = self.net(small) * 4.0
        return F.interpolate(d, size=flow.shape[-2:], mode="bilinear", align_corners=False) * 2.0


class KalantariMerge(nn.Module):
    """Kalantari & Ramamoorthi 2017/2019 style: classical flow refined by a CNN, then a merge CNN
    (7x7, 5x5, 3x3 layers) with a weight-and-image estimator head."""

    kind = "kalantari"

    def example_input(self, h: int = 64, w: int = 96) -> torch.Tensor:
        return example_input(self.kind, h, w)

    def __init__(self, features: int = 48) -> None:
        super().__init__()
        self.refine = FlowRefine()
        self.merge = nn.Sequential(
            nn.Conv2d(6 * 3 + 2, features, 7, padding=3), nn.ReLU(),
            nn.Conv2d(features, features, 5, padding=2), nn.ReLU(),
            nn.Conv2d(features, features // 2, 3, padding=1), nn.ReLU())
        self.head = WeightImageHead(features // 2)

    def align(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """(reference views, the two neighbours' views warped by the refined flow, their masks)."""
        ref = x[:, :6]
        aligned, masks = [], []
        for k in range(2):
            base = 6 + 9 * k
            views, flow, mask = x[:, base:base + 6], x[:, base + 6:base + 8], x[:, base + 8:base + 9]
            warped = flow_warp(views, flow)
            flow = flow + self.refine(ref, warped, flow)
            aligned.append(flow_warp(views, flow))
            masks.append(mask)
        return ref, aligned, masks

    def merge_aligned(self, ref: torch.Tensor, aligned: list[torch.Tensor], masks: list[torch.Tensor]) -> torch.Tensor:
        """The merge CNN and head on what :meth:`align` returned."""
        z = self.merge(torch.cat([ref, *aligned, *masks], 1))
        return self.head(z, [_radiance(ref[:, 3:6]), _radiance(aligned[0][:, 3:6]), _radiance(aligned[1][:, 3:6])])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge_aligned(*self.align(x))


def unpack_output(out: torch.Tensor, ev_min: float) -> torch.Tensor:
    """Network output (mu-law, normalised) -> radiance at EV 0 scale."""
    return inverse_mu_law(out) * (2.0 ** -ev_min)
