"""The K-step DDIM loop around a diffusion model's two engine parts.

``condition`` runs once per frame (the regression estimate and the condition features); ``denoise`` runs
K times. A single-exposure model's regression estimate comes from its own executor (``base``: hdrunet in
its fast mode) and enters ``condition`` as a second input. The noise field is drawn once per clip from ``seed`` (times ``noise_scale``) at the first frame's
size and reused for every frame (a static scene gives identical frames; nothing moves with the noise).
With ``window`` > 0 the denoiser is evaluated on p x p windows on a grid of stride r = 3p/4 and the noise estimates are averaged
per pixel with feathered weights (DiffHDR's sliding-window noise estimation), so frames of any size run
with bounded memory and without seams.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch
from torch import nn

from hdrvid.engines.base import Engine
from hdrvid.errors import BackendError
from hdrvid.models.diffhdr import alpha_bar, noise_field, sample, top_timestep

DIFFUSION_PARTS = ("condition", "denoise")


class BaseExecutor(Protocol):
    """What runs a single-exposure model's regression start (an :class:`hdrvid.engines.executor.Executor`)."""

    name: str

    @property
    def active_share(self) -> float | None: ...

    def infer(self, x: torch.Tensor) -> torch.Tensor: ...

    def close(self) -> None: ...
MAX_STEPS = 100


class DiffusionExecutor:
    def __init__(self, model: nn.Module, engines: dict[str, Engine], steps: int | None = None, seed: int = 0,
                 window: int = 0, noise_scale: float | None = None, base: BaseExecutor | None = None,
                 start: float | None = None) -> None:
        missing = [p for p in DIFFUSION_PARTS if p not in engines]
        if missing:
            raise BackendError(f"no engine for diffusion part(s) {missing}")
        self.steps = int(steps if steps is not None else getattr(model, "steps", 4))
        if not 1 <= self.steps <= MAX_STEPS:
            raise BackendError(f"--steps must be between 1 and {MAX_STEPS}, not {self.steps}")
        self.noise_scale = float(noise_scale if noise_scale is not None else getattr(model, "noise_scale", 1.0))
        if not 0 <= self.noise_scale <= 2:
            raise BackendError(f"--noise-scale must be between 0 and 2, not {self.noise_scale}")
        if window and window < 32:
            raise BackendError(f"--tile {window} is too small for the denoiser's windows; use 32 or more (128+ is best)")
        self.model = model.eval()
        self.engines = engines
        self.base = base
        self.seed = seed
        self.window = window
        self.schedule = alpha_bar()
        self.start = float(start if start is not None else getattr(model, "start", 1.0))  # (both checked)
        self.noise: torch.Tensor | None = None
        self.name = f"{engines['denoise'].name} ddim {self.steps} noise {self.noise_scale:g}"
        if self.start < 1:
            self.name += f" from t={top_timestep(self.start)}"
        if window:
            self.name += f" window {window}"
        if base is not None:
            self.name += f" from {base.name}"

    def _noise(self, shape: tuple[int, ...]) -> torch.Tensor:
        """(1, 3, H, W) standard normal from the seed; drawn once (at the largest size asked) and cropped."""
        h, w = shape[-2:]
        if self.noise is None or self.noise.shape[-2] < h or self.noise.shape[-1] < w:
            self.noise = noise_field(self.seed, (1, 3, h, w), self.noise_scale)
        return self.noise[..., :h, :w]

    def _denoise(self, r: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        engine = self.engines["denoise"]
        h, w = r.shape[-2:]
        p = self.window
        if not p or (h <= p and w <= p):
            return engine.infer(r, t, cond)
        return sliding_windows(lambda a, c: engine.infer(a, t, c), r, cond, p, max(1, 3 * p // 4))

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        if self.base is not None:
            cond = self.engines["condition"].infer(x, self.base.infer(x).float())
        else:
            cond = self.engines["condition"].infer(x)
        noise = self._noise(x.shape).expand(x.shape[0], -1, -1, -1)
        r = sample(lambda a, t: self._denoise(a, t, cond), noise, self.steps, self.schedule, self.start)
        return self.model.finish(cond, r)  # type: ignore[operator]

    @property
    def active_share(self) -> float | None:
        """Share of tiles the regression start's sparse path ran its network on (None: not sparse); the
        diffusion itself runs on every pixel."""
        return getattr(self.base, "active_share", None) if self.base is not None else None

    def close(self) -> None:
        for e in self.engines.values():
            e.close()
        if self.base is not None:
            self.base.close()


def _ramp(n: int, p: int, start: bool, end: bool) -> torch.Tensor:
    """1-D feathering weights for a window of length n: linear ramps of p/4 at inner edges."""
    f = max(1, p // 4)
    w = torch.ones(n)
    ramp = (torch.arange(f, dtype=torch.float32) + 0.5) / f
    if not start:
        w[:min(f, n)] = ramp[:min(f, n)]
    if not end:
        w[-min(f, n):] = torch.minimum(w[-min(f, n):], ramp.flip(0)[-min(f, n):])
    return w


def _starts(size: int, p: int, stride: int) -> list[int]:
    if size <= p:
        return [0]
    s = list(range(0, size - p, stride))
    return s + [size - p]


def sliding_windows(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: torch.Tensor, cond: torch.Tensor, p: int, stride: int) -> torch.Tensor:
    """Sliding-window evaluation: ``fn(x_window, cond_window)`` on p x p windows on a grid of ``stride``,
    outputs averaged per pixel with feathered weights (ramps only at inner edges, so the frame's border
    keeps full weight)."""
    n, _, h, w = x.shape
    out = torch.zeros((n, 3, h, w))
    acc = torch.zeros((1, 1, h, w))
    ys, xs = _starts(h, p, stride), _starts(w, p, stride)
    for y0 in ys:
        for x0 in xs:
            y1, x1 = min(h, y0 + p), min(w, x0 + p)
            wy = _ramp(y1 - y0, p, y0 == 0, y1 == h)
            wx = _ramp(x1 - x0, p, x0 == 0, x1 == w)
            wt = (wy[:, None] * wx[None, :])[None, None]
            e = fn(x[..., y0:y1, x0:x1], cond[..., y0:y1, x0:x1])
            out[..., y0:y1, x0:x1] += wt * e.float()
            acc[..., y0:y1, x0:x1] += wt
    return out / acc
