"""Super-resolution family (``hdrunet-2x``): the frozen default model's output at the input's size, the network
learns what bicubic upscaling of it misses.

Data: photograph-like views of the training scenes (pinhole views of the panoramas, crops of procedural rooms)
at ``--patch`` pixels and at most the panoramas' own pixel density (a 128-px view spans 45-95 degrees, i.e.
1.3-2.8 px per degree, against the 1k panoramas' 2.8: the truth holds real detail, not an interpolation of a
coarser grid), downscaled 2x by area and shot through the camera simulation (the four clip-at-white cameras
and graded SDR, noise and codecs); the truth is the full-size view at the shot's exposure. ``hdrunet-auto``
(shipped weights, frozen) makes the estimate from the small shot, as the pipeline does.

Loss: L1 between the mu-law encodings (mu = 5000, over each truth's own peak) of output and truth, the
encoding PSNR-mu scores; with ``--loss psnr-mu`` the metric itself (:func:`psnr_mu_all`: per picture the squared
error of that encoding over every pixel, in dB, averaged over the pictures, as ``hdrvid eval`` averages them).
Validation: a fixed set from the validation scenes with the same loss (bicubic upscaling of the estimate scores
``bicubic_validation`` on it: the network starts there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn

from hdrvid.errors import InputError
from hdrvid.metrics.hdr import MU
from hdrvid.models.superres import bicubic2x, decode
from hdrvid.synth.camera import sharpened, shoot
from hdrvid.train.data import HDRPool, load_images, validation_split
from hdrvid.train.diffusion import freeze_base
from hdrvid.train.loop import GENERATOR, TrainConfig, TrainContext
from hdrvid.train.losses import psnr_mu_loss


def mu_loss(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Mean |mu(pred) - mu(truth)| with each image normalised by its truth's peak (PSNR-mu's encoding)."""
    top = truth.flatten(1).amax(1).clamp(min=1e-6).view(-1, 1, 1, 1)
    enc = lambda v: torch.log1p(MU * v.clamp(min=0) / top) / np.log1p(MU)  # noqa: E731
    return (enc(pred) - enc(truth)).abs().mean()


def psnr_mu_all(pred: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """Minus the mean PSNR-mu over every pixel of each picture (dB; lower is better): ``psnr_mu_loss`` with every
    pixel counted."""
    return psnr_mu_loss(pred, truth, torch.ones_like(truth[:, :1], dtype=torch.bool))


def _pairs(pool: HDRPool, count: int, size: int, cfg: TrainConfig, rng: np.random.Generator,
           sharpen: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ts = [], []
    for _ in range(count):
        hdr = pool.crop(size, rng)
        small = cv2.resize(hdr, (size // 2, size // 2), interpolation=cv2.INTER_AREA)
        shot = shoot(small, rng, graded_share=cfg.graded_share)
        if sharpen and rng.random() < sharpen:
            shot = sharpened(shot, rng)
        xs.append(shot.linear)
        ts.append(hdr * np.float32(shot.exposure))
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()
    t = torch.from_numpy(np.stack(ts)).permute(0, 3, 1, 2).contiguous()
    return x, t


class SuperResFamily:
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        if not getattr(model, "superres", False):
            raise TypeError("the super-resolution family trains the 2x refiners (hdrunet-2x, brackets-2x)")
        if cfg.patch % 2:
            raise ValueError("--patch must be even (the shots are half its size)")
        if cfg.loss not in ("", "psnr-mu"):
            raise InputError(f"--loss {cfg.loss}: {cfg.model} takes only --loss psnr-mu (the metric over every pixel)")
        self.cfg = cfg
        self.loss = psnr_mu_all if cfg.loss == "psnr-mu" else mu_loss
        self.model = model
        self.sharpen = cfg.sharpen_share
        """``train --sharpen-share S``: this share of the training shots goes through
        :func:`hdrvid.synth.camera.sharpened`; the validation batch never (the set checkpoints were always chosen on)."""
        freeze_base(model, getattr(model, "base_model"))  # the shipped weights, sha-checked
        self.train_files, self.val_files = validation_split(files)
        self.held = held
        self.pool = HDRPool.load(self.train_files, procedural=cfg.procedural, seed=cfg.seed)
        val_images = load_images(self.val_files, 0, cfg.seed) or load_images([], 4, cfg.seed + 99)
        val_pool = HDRPool(val_images, [str(i) for i in range(len(val_images))])
        x, t = _pairs(val_pool, cfg.validation, cfg.patch, cfg, np.random.default_rng([cfg.seed, 2468]))
        with torch.no_grad():
            self.val = (x, self._base(x), t)
            self.bicubic_validation = float(self.loss(bicubic2x(self.val[1]), t))
            sr = getattr(self.model, "sr")  # where the network starts (its head at zero): bicubic, or in log light
            self.start_validation = float(self.loss(decode(sr.start(self.val[1])), t))

    def _base(self, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([getattr(self.model, "base")(x[i:i + 8]).float() for i in range(0, len(x), 8)])

    def networks(self) -> dict[str, nn.Module]:
        return {GENERATOR: self.model}

    def batch(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return _pairs(self.pool, self.cfg.batch, self.cfg.patch, self.cfg, rng, self.sharpen)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], ctx: TrainContext) -> dict[str, torch.Tensor]:
        x, t = batch
        base = self._base(x)
        with ctx.autocast():
            y = getattr(self.model, "refine")(x, base)
        return {GENERATOR: self.loss(y.float(), t)}

    def validate(self, model: nn.Module, device: torch.device) -> float:
        x, base, t = self.val
        total = 0.0
        for i in range(0, len(x), 8):
            y = getattr(model, "refine")(x[i:i + 8].to(device), base[i:i + 8].to(device)).float()
            total += float(self.loss(y, t[i:i + 8].to(device))) * len(y)
        return total / len(x)

    def describe(self) -> dict[str, Any]:
        return {"train_images": len(self.train_files), "validation_images": [f.stem for f in self.val_files],
                "held_out": [f.stem for f in self.held], "procedural": self.cfg.procedural,
                "base": getattr(self.model, "base_model"), "bicubic_validation": self.bicubic_validation,
                "start_validation": self.start_validation}
