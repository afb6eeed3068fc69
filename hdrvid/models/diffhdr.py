"""DiffHDR-style conditional diffusion merge (Yan et al., TCSVT), sized for a CPU and few DDIM steps.

Parts (the reference design's names):

- **Regression start.** The chain starts from the estimate of the project's Kalantari-style merge (frozen,
  its shipped weights inside this model): the diffusion models the *residual* between the truth and that
  estimate, in the networks' mu-law radiance domain, scaled by ``RES_SCALE`` (a residual bridge in the
  InDI/ResShift family). x_T is pure noise on the residual, i.e. "the regression estimate plus noise".
- **Feature condition generator (FCG).** The reference frame's views and the two neighbours aligned by the
  merge's refined flow are encoded; AHDRNet-style attention of each neighbour against the reference gates
  its features (what the flow still got wrong is suppressed instead of ghosting); a fusion conv gives the
  condition features. Computed **once per frame** (:meth:`DiffHDRMerge.condition`), not once per step.
- **Domain feature alignment (DFA).** At every level of the denoiser the condition features are mapped to
  per-pixel scale and shift (spatial feature transform: ``feat * (1 + scale) + shift``).
- **Denoiser.** A small U-Net (three levels) conditioned on the timestep (sinusoidal embedding) and,
  through DFA, on the condition; its head estimates the clean residual and :meth:`DiffHDRMerge.denoise`
  returns the noise that implies (the DDIM update needs the noise). The head starts at zero: the chain
  starts and, untrained, ends at the regression estimate (with eps-prediction from scratch a 1-hour CPU run
  was still 50 % worse than that estimate after 300 steps).
- **Sampling.** Deterministic DDIM (eta = 0) over K steps of a cosine schedule
  (:func:`ddim_timesteps`, :func:`ddim_step`); the K-step loop runs in the engine layer around the
  ``condition`` and ``denoise`` parts (:mod:`hdrvid.engines.diffusion`), so ONNX Runtime and TensorRT run
  it; the noise field comes from a seed and is the same for every frame of a clip.
- **Sliding-window noise estimation (SWNE)** is the engine's windowed evaluation of ``denoise`` with
  feathered averaging (``--tile``), for frames larger than memory allows.

The training loss (``hdrvid.train.diffusion``) is the noise loss plus an image-space L1 on the x0 rebuilt
from the predicted noise, in the mu-law (tone-mapped) domain, as DiffHDR does against colour shifts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.models.hdrunet import HDRUNet, WrapsBase
from hdrvid.models.merge_nets import KalantariMerge, example_input

TIMESTEPS = 1000
RES_SCALE = 8.0
"""The residual (truth - regression estimate, mu-law) is multiplied by this before diffusion: its spread on
training crops is then ~0.3-1, comparable with the unit noise."""
RES_CLAMP = 4.0
ALPHA_BAR_MIN = 0.02
"""The schedule's last alpha-bar: the chain's start keeps a trace of signal, so even one step is stable."""


def alpha_bar(timesteps: int = TIMESTEPS) -> np.ndarray:
    """Cosine schedule (Nichol & Dhariwal 2021), rescaled to end at ``ALPHA_BAR_MIN``: (timesteps,) float64."""
    s = 0.008
    t = np.arange(timesteps + 1, dtype=np.float64) / timesteps
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    ab = f[1:] / f[0]
    return ALPHA_BAR_MIN + (1 - ALPHA_BAR_MIN) * ab


def top_timestep(start: float = 1.0, timesteps: int = TIMESTEPS) -> int:
    """The timestep a chain started at ``start`` (SDEdit's strength, in (0, 1]; 1 = the schedule's end) begins
    at: round(start x (timesteps - 1))."""
    if not 0 < start <= 1:
        raise ValueError(f"start must be in (0, 1], not {start}")
    return int(round(start * (timesteps - 1)))


def ddim_timesteps(steps: int, timesteps: int = TIMESTEPS, start: float = 1.0) -> list[int]:
    """``steps`` timesteps from ``top_timestep(start)`` down to the first, evenly spaced (DDIM's sub-sequence;
    a ``start`` below 1 spreads them over the schedule's low-noise part, as SDEdit's strength does)."""
    if steps < 1:
        raise ValueError("steps must be at least 1")
    return sorted({int(round(v)) for v in np.linspace(top_timestep(start, timesteps), 0, steps)}, reverse=True)


def predicted_x0(x: torch.Tensor, eps: torch.Tensor, ab: float | torch.Tensor) -> torch.Tensor:
    """The clean residual implied by x_t and a noise estimate at alpha-bar ``ab`` (a number, or per example
    (N, 1, 1, 1)), clamped to the residual's range."""
    a = torch.as_tensor(ab, dtype=x.dtype, device=x.device)
    return ((x - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-RES_CLAMP, RES_CLAMP)


def ddim_step(x: torch.Tensor, eps: torch.Tensor, ab_t: float, ab_prev: float) -> torch.Tensor:
    """One deterministic DDIM update (eta = 0) from alpha-bar ``ab_t`` to ``ab_prev`` (1.0: the end)."""
    x0 = predicted_x0(x, eps, ab_t)
    return x0 if ab_prev >= 1.0 else math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps


def noise_field(seed: int, shape: tuple[int, ...], scale: float = 1.0) -> torch.Tensor:
    """The starting noise of a clip: standard normal of ``shape`` from ``seed``, times ``scale``."""
    return scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of (N,) float timesteps -> (N, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    a = t.float()[:, None] * freqs[None]
    return torch.cat([torch.sin(a), torch.cos(a)], 1)


class DFA(nn.Module):
    """Domain feature alignment: condition features -> per-pixel scale and shift (SFT) at one level."""

    def __init__(self, cond: int, features: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(cond, features, 1), nn.LeakyReLU(0.1), nn.Conv2d(features, 2 * features, 1))
        with torch.no_grad():
            last = self.net[-1]
            assert isinstance(last, nn.Conv2d)
            last.weight.mul_(0.1)
            last.bias.zero_()

    def forward(self, feat: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        scale, shift = self.net(cond).chunk(2, 1)
        return feat * (1 + scale) + shift


class ResBlock(nn.Module):
    """conv - timestep bias - act - DFA - conv, residual."""

    def __init__(self, features: int, cond: int, temb: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(features, features, 3, padding=1)
        self.temb = nn.Linear(temb, features)
        self.dfa = DFA(cond, features)
        self.conv2 = nn.Conv2d(features, features, 3, padding=1)

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x) + self.temb(temb)[:, :, None, None]
        h = self.dfa(F.silu(h), cond)
        return x + self.conv2(F.silu(h))


class Denoiser(nn.Module):
    """U-Net: (x_t, t, condition) -> the clean residual x0; three levels (1, 1/2, 1/4). The model turns it
    into the predicted noise (:meth:`DiffHDRMerge.denoise`)."""

    def __init__(self, cond: int, features: tuple[int, int, int] = (24, 48, 64), temb: int = 64) -> None:
        super().__init__()
        f0, f1, f2 = features
        self.temb_dim = temb
        self.temb = nn.Sequential(nn.Linear(temb, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.inp = nn.Conv2d(3 + 3, f0, 3, padding=1)  # x_t and the regression estimate
        self.enc0 = ResBlock(f0, cond, temb)
        self.down1 = nn.Conv2d(f0, f1, 3, stride=2, padding=1)
        self.enc1 = ResBlock(f1, cond, temb)
        self.down2 = nn.Conv2d(f1, f2, 3, stride=2, padding=1)
        self.mid = ResBlock(f2, cond, temb)
        self.up2 = nn.Conv2d(f2, f1, 3, padding=1)
        self.dec1 = ResBlock(f1, cond, temb)
        self.up1 = nn.Conv2d(f1, f0, 3, padding=1)
        self.dec0 = ResBlock(f0, cond, temb)
        self.out = nn.Conv2d(f0, 3, 3, padding=1)
        with torch.no_grad():  # starts at "no residual": the chain's output is the regression estimate
            self.out.weight.zero_()
            self.out.bias.zero_()

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        temb = self.temb(timestep_embedding(t, self.temb_dim))
        c0 = cond[:, 3:]  # the condition features at each level (sizes match the strided convs: ceil(n / 2))
        c1 = F.avg_pool2d(c0, 2, ceil_mode=True)
        c2 = F.avg_pool2d(c1, 2, ceil_mode=True)
        h0 = self.enc0(self.inp(torch.cat([x, cond[:, :3]], 1)), temb, c0)
        h1 = self.enc1(F.silu(self.down1(h0)), temb, c1)
        h2 = self.mid(F.silu(self.down2(h1)), temb, c2)
        u1 = F.interpolate(h2, size=h1.shape[-2:], mode="bilinear", align_corners=False)
        d1 = self.dec1(h1 + F.silu(self.up2(u1)), temb, c1)
        u0 = F.interpolate(d1, size=h0.shape[-2:], mode="bilinear", align_corners=False)
        d0 = self.dec0(h0 + F.silu(self.up1(u0)), temb, c0)
        return self.out(d0)


class FCG(nn.Module):
    """Feature condition generator: attention-gated features of the reference and its aligned neighbours."""

    def __init__(self, features: int = 16) -> None:
        super().__init__()
        self.enc_ref = nn.Conv2d(6 + 3, features, 3, padding=1)  # views + the regression estimate
        self.enc_nb = nn.Conv2d(6 + 1, features, 3, padding=1)  # aligned views + flow-consistency mask
        self.att = nn.Sequential(nn.Conv2d(2 * features, features, 3, padding=1), nn.LeakyReLU(0.1),
                                 nn.Conv2d(features, features, 3, padding=1), nn.Sigmoid())
        self.fuse = nn.Sequential(nn.Conv2d(3 * features, features, 3, padding=1), nn.LeakyReLU(0.1),
                                  nn.Conv2d(features, features, 3, padding=1))

    def forward(self, ref: torch.Tensor, base: torch.Tensor, aligned: list[torch.Tensor],
                masks: list[torch.Tensor]) -> torch.Tensor:
        f_ref = F.leaky_relu(self.enc_ref(torch.cat([ref, base], 1)), 0.1)
        gated = []
        for a, m in zip(aligned, masks):
            f = F.leaky_relu(self.enc_nb(torch.cat([a, m], 1)), 0.1)
            gated.append(f * self.att(torch.cat([f_ref, f], 1)))
        return self.fuse(torch.cat([f_ref, *gated], 1))


class DiffHDRMerge(nn.Module):
    """The alternating-exposure ``diffhdr``: Kalantari-style packed input (see ``merge_nets.pack``) in,
    mu-law radiance out (the learned merges' conventions). Parts for the engines: ``condition(x)`` ->
    (N, 3 + features, H, W) [regression estimate, condition features]; ``denoise(x_t, t, condition)`` ->
    predicted noise; ``finish(condition, residual)`` -> output."""

    kind = "kalantari"  # input packing (hdrvid.models.merge_nets.pack)
    diffusion = True
    exportable = True
    single = False

    def __init__(self, features: int = 16, unet: tuple[int, int, int] = (24, 48, 64), steps: int = 2,
                 noise_scale: float = 0.0, start: float = 1.0) -> None:
        """``steps``, ``noise_scale`` and ``start``: the defaults chosen on the validation split (the model
        card)."""
        super().__init__()
        top_timestep(start)  # checks the range
        self.start = start
        """Where in the schedule the chain starts (SDEdit's strength; 1 = its end): training draws timesteps
        up to ``top_timestep(start)`` only, and the sampler spreads its steps below it."""
        self.base = KalantariMerge()
        self.fcg = FCG(features)
        self.denoiser = Denoiser(features, unet)
        self.steps = steps
        """Default number of DDIM steps (``--steps``)."""
        self.noise_scale = noise_scale
        """Default temperature of the starting noise (``--noise-scale``): 1 samples the learned distribution
        (detail that no exposure recorded, at some cost in fidelity); 0 starts exactly at the regression
        estimate and refines it deterministically."""
        self.register_buffer("schedule", torch.tensor(alpha_bar(), dtype=torch.float32), persistent=False)

    def example_input(self, h: int = 64, w: int = 96) -> torch.Tensor:
        return example_input("kalantari", h, w)

    def condition(self, x: torch.Tensor) -> torch.Tensor:
        ref, aligned, masks = self.base.align(x)
        base = self.base.merge_aligned(ref, aligned, masks)
        return torch.cat([base, self.fcg(ref, base, aligned, masks)], 1)

    def denoise(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Predicted noise. The U-Net's head estimates the clean residual x0 and the noise follows from the
        forward process, eps = (x_t - sqrt(ab) x0) / sqrt(1 - ab) (in float32): a zero head predicts
        "no residual", so an untrained or undecided denoiser leaves the regression estimate as it is."""
        x0 = self.denoiser(x, t, cond).float()
        ab = self.schedule[t.long()].view(-1, 1, 1, 1)
        return (x.float() - ab.sqrt() * x0) / (1 - ab).sqrt()

    @staticmethod
    def residual_target(cond: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """What the diffusion learns: (truth - estimate) x ``RES_SCALE`` in mu-law."""
        return ((target - cond[:, :3]) * RES_SCALE).clamp(-RES_CLAMP, RES_CLAMP)

    @staticmethod
    def finish(cond: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return (cond[:, :3] + residual / RES_SCALE).clamp(0, 1)

    def forward(self, x: torch.Tensor, steps: int | None = None, noise: torch.Tensor | None = None) -> torch.Tensor:
        """The whole sampler in torch (training validation, tests); the pipeline runs the same loop in
        ``hdrvid.engines.diffusion`` around the exported parts. ``noise``: (N, 3, H, W), default seed 0."""
        cond = self.condition(x)
        if noise is None:
            noise = noise_field(0, (x.shape[0], 3, *x.shape[-2:]), self.noise_scale).to(x.device)
        return self.finish(cond, sample(lambda r, t: self.denoise(r, t, cond), noise, steps or self.steps,
                                        start=self.start))


LOG_WHITE = math.log1p(64.0)
"""The single-exposure model encodes radiance as log(1 + x) / LOG_WHITE (64x reference white -> 1)."""


class SingleFCG(nn.Module):
    """The single-exposure condition generator: the frame itself (signal and clip mask) and the regression
    estimate, through dilated convolutions (a ~15-pixel context around each pixel)."""

    def __init__(self, features: int = 16) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(9, features, 3, padding=1), nn.LeakyReLU(0.1),
                                 nn.Conv2d(features, features, 3, padding=2, dilation=2), nn.LeakyReLU(0.1),
                                 nn.Conv2d(features, features, 3, padding=4, dilation=4), nn.LeakyReLU(0.1),
                                 nn.Conv2d(features, features, 3, padding=1))

    def forward(self, signal: torch.Tensor, alpha: torch.Tensor, base: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([signal, alpha, base], 1))


class DiffHDRSingle(WrapsBase, nn.Module):
    """The single-exposure ``diffhdr`` (``convert --model diffhdr``): one linear frame in, relative radiance
    out (the single-exposure models' conventions). The regression start is the shipped ``hdrunet`` (curve
    off); the diffusion models the log ratio truth / estimate **in clipped pixels only**:

        out = base * exp(alpha * r),   alpha = hdrunet's clip mask (per channel, codes ~246-252.5)

    so every pixel the camera recorded leaves exactly as hdrunet leaves it (as decoded). Parts for the
    engines: ``condition(x, base)`` -> (N, 6 + features, H, W) [log-encoded estimate, alpha, features]
    (``base`` is the regression estimate, run by its own executor in the pipeline: hdrunet's fast mode and
    sparse tiles); ``denoise`` and the DDIM loop are the merge's."""

    diffusion = True
    exportable = True
    single = True
    """Single exposure (``--model``), not a merge (``--merge``)."""
    base_model = "hdrunet"
    """The regression start's registry name (its executor computes ``base`` in the pipeline)."""

    def __init__(self, features: int = 16, unet: tuple[int, int, int] = (24, 48, 64), steps: int = 2,
                 noise_scale: float = 0.0, auto_base: bool = False, start: float = 1.0) -> None:
        """``auto_base``: the regression start is ``hdrunet-auto`` (the default model: hdrunet plus BT.2446A's
        curve on graded shots, its shoulder detector included) instead of ``hdrunet``. ``start``: as the
        merge's."""
        super().__init__()
        top_timestep(start)
        self.start = start
        self.auto_base = auto_base
        self.base = HDRUNet(curve=False, adaptive=True) if auto_base else HDRUNet(curve=False, detector=False)
        self.base_model = "hdrunet-auto" if auto_base else "hdrunet"
        self.fcg = SingleFCG(features)
        self.denoiser = Denoiser(features + 3, unet)
        self.steps = steps
        self.noise_scale = noise_scale
        self.register_buffer("schedule", torch.tensor(alpha_bar(), dtype=torch.float32), persistent=False)

    def example_input(self, h: int = 64, w: int = 96) -> torch.Tensor:
        g = torch.Generator().manual_seed(0)
        x = torch.rand((1, 3, h, w), generator=g) ** 2.2
        x[..., h // 4:h // 2, w // 3:w // 2] = 1.0  # a clipped patch
        return x

    def condition(self, x: torch.Tensor, base: torch.Tensor | None = None) -> torch.Tensor:
        """``base``: the regression estimate of ``x`` (None: run the model's own hdrunet on the frame)."""
        lin = x.clamp(0, 1)
        if base is None:
            base = self.base(lin)
        signal = HDRUNet._signal(lin)
        alpha = HDRUNet.clip_mask(signal)
        enc = torch.log1p(base.float().clamp(min=0)) / LOG_WHITE
        return torch.cat([enc, alpha, self.fcg(signal, alpha, enc)], 1)

    denoise = DiffHDRMerge.denoise

    # hdrunet-auto's per-shot state (the shoulder weight) lives in the base
    def enable_temporal(self, alpha: float) -> None:
        if self.auto_base:
            self.base.enable_temporal(alpha)

    def reset_temporal(self) -> None:
        if self.auto_base:
            self.base.reset_temporal()

    @staticmethod
    def residual_target(cond: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """What the diffusion learns: log(truth / estimate) where the frame is clipped, 0 elsewhere."""
        base = torch.expm1(cond[:, :3] * LOG_WHITE)
        r = torch.log((target.clamp(min=0) + 1e-3) / (base + 1e-3))
        return torch.where(cond[:, 3:6] > 0, r, torch.zeros_like(r)).clamp(-RES_CLAMP, RES_CLAMP)

    @staticmethod
    def finish(cond: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        base = torch.expm1(cond[:, :3].float() * LOG_WHITE)
        return base * torch.exp(cond[:, 3:6].float() * residual)

    forward = DiffHDRMerge.forward


def sample(denoise: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], noise: torch.Tensor, steps: int,
           schedule: np.ndarray | None = None, start: float = 1.0) -> torch.Tensor:
    """DDIM from noise on the residual (= the regression estimate plus noise) at ``top_timestep(start)`` down
    to t = 0: the residual to add to the estimate. ``denoise(residual, t (N,) float) -> eps``."""
    ab = alpha_bar() if schedule is None else schedule
    ts = ddim_timesteps(steps, len(ab), start)
    r = math.sqrt(1 - ab[ts[0]]) * noise
    for i, t in enumerate(ts):
        prev = float(ab[ts[i + 1]]) if i + 1 < len(ts) else 1.0
        eps = denoise(r, torch.full((noise.shape[0],), float(t), device=noise.device))
        r = ddim_step(r, eps.float(), float(ab[t]), prev)
    return r
