"""Single-exposure family (ExpandNet and its successors): one 8-bit picture in, relative radiance out.

Data: random crops of HDR images (real scenes and procedural rooms) shot through the camera simulation
(:mod:`hdrvid.synth.camera`: four settings, clipping, noise, codecs); a share of crops is redrawn until
it holds clipped highlights. Loss: the model's published one (ExpandNet: L1 + cosine on log(1 + HDR)).
Validation: a fixed batch shot from the validation images (never trained on), scored with the same loss.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.errors import InputError
from hdrvid.models import build, get
from hdrvid.models.merge_nets import mu_law
from hdrvid.synth.camera import shoot
from hdrvid.train.adversarial import add_adversarial, discriminator_for
from hdrvid.train.data import HDRPool, load_images, validation_split
from hdrvid.train.loop import GENERATOR, TrainConfig, TrainContext
from hdrvid.train.losses import get_loss

UNKNOWN_RESPONSE = ("consumer", "graded")
"""Camera settings whose pictures are not the nominal curve of a clip-at-white camera: a model's gate (if it
has one) is trained to tell them apart, so the inverse response is learned for them and not applied to the
rest."""


def _shots(images: list[np.ndarray], count: int, cfg: TrainConfig, rng: np.random.Generator,
           pool: HDRPool | None = None) -> tuple[torch.Tensor, ...]:
    """(linear input, truth, label "unknown response", clip mask (N, 1, H, W))."""
    pool = pool or HDRPool(images, [str(i) for i in range(len(images))])
    xs, ts, labels, masks = [], [], [], []
    for _ in range(count):
        want_highlights = rng.random() < cfg.highlight_focus
        for _attempt in range(8):
            shot = shoot(pool.crop(cfg.patch, rng), rng, graded_share=cfg.graded_share)
            if not want_highlights or (shot.target.max(-1) > 1).mean() > 0.01:  # clipped or rolled off
                break
        xs.append(shot.linear)
        ts.append(shot.target)
        labels.append(float(shot.setting in UNKNOWN_RESPONSE))
        masks.append(shot.clipped)
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()
    t = torch.from_numpy(np.stack(ts)).permute(0, 3, 1, 2).contiguous()
    return x, t, torch.tensor(labels), torch.from_numpy(np.stack(masks))[:, None]


def tone_map(hdr: torch.Tensor) -> torch.Tensor:
    """Relative radiance -> [0, 1] for the discriminator (mu-law over 64x reference white)."""
    return mu_law(hdr.clamp(min=0) / 64.0)


GATE_WEIGHT = 0.05


class SingleExposureFamily:
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        self.cfg = cfg
        self.model = model
        self.train_files, self.val_files = validation_split(files)
        self.held = held
        self.pool = HDRPool.load(self.train_files, procedural=cfg.procedural, seed=cfg.seed)
        val_images = load_images(self.val_files, 0, cfg.seed) or load_images([], 4, cfg.seed + 99)
        self.val = _shots(val_images, cfg.validation, cfg, np.random.default_rng([cfg.seed, 1234]))
        self.loss = get_loss(cfg.loss or "expandnet")
        self.teacher = self._teacher(cfg)

    @staticmethod
    def _teacher(cfg: TrainConfig) -> nn.Module | None:
        """``--teacher NAME``: that shipped single-exposure model with its own weights, frozen, in eval mode."""
        if not cfg.teacher:
            return None
        if get(cfg.teacher).kind != "single-exposure":
            raise InputError(f"--teacher {cfg.teacher}: not a single-exposure model; use one whose output is "
                             "relative radiance from one picture (hdrunet, expandnet)")
        teacher = build(cfg.teacher).eval()
        teacher.requires_grad_(False)
        return teacher

    def distillation(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Mean |log(1 + y) - log(1 + teacher(x))| (the teacher in float32, no gradients)."""
        assert self.teacher is not None
        self.teacher.to(x.device)
        with torch.no_grad():
            yt = self.teacher(x.float()).float()
        return (torch.log1p(y.clamp(min=0)) - torch.log1p(yt.clamp(min=0))).abs().mean()

    def networks(self) -> dict[str, nn.Module]:
        return {GENERATOR: self.model, **discriminator_for(self.cfg)}

    def batch(self, rng: np.random.Generator) -> tuple[torch.Tensor, ...]:
        return _shots([], self.cfg.batch, self.cfg, rng, self.pool)

    def _gate_loss(self, model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor | None:
        """Models with a gate (hdrunet): binary cross-entropy of "unknown response" against the camera label."""
        if not hasattr(model, "gate_logit"):
            return None
        logit = model.gate_logit(model.context(x)).float()
        return F.binary_cross_entropy_with_logits(logit, labels.to(logit.device))

    def content_loss(self, y: torch.Tensor, t: torch.Tensor, clipped: torch.Tensor) -> torch.Tensor:
        """``--loss``: ExpandNet's (the default) or the metric's own (``psnr-mu``, clipped pixels)."""
        if self.cfg.loss == "psnr-mu":
            return self.loss(y, t, clipped)
        return self.loss(y, t, self.cfg.cosine_weight)

    def step(self, batch: tuple[torch.Tensor, ...], ctx: TrainContext) -> dict[str, torch.Tensor]:
        x, t, labels, clipped = batch
        with ctx.autocast():
            y = self.model(x)
        loss = self.content_loss(y.float(), t, clipped)
        if self.teacher is not None:
            loss = loss + self.cfg.teacher_weight * self.distillation(x, y.float())
        gate = self._gate_loss(self.model, x, labels)
        if gate is not None:
            loss = loss + GATE_WEIGHT * gate
        losses = {GENERATOR: loss}
        with ctx.autocast():
            return add_adversarial(losses, ctx.nets, tone_map(y.float()), tone_map(t), self.cfg.adversarial_weight)

    def validate(self, model: nn.Module, device: torch.device) -> float:
        x, t, labels, clipped = self.val
        total = 0.0
        for i in range(0, len(x), 8):
            xb = x[i:i + 8].to(device)
            y = model(xb).float()
            loss = self.content_loss(y, t[i:i + 8].to(device), clipped[i:i + 8].to(device))
            gate = self._gate_loss(model, xb, labels[i:i + 8])
            total += float(loss + (GATE_WEIGHT * gate if gate is not None else 0)) * len(y)
        return total / len(x)

    def describe(self) -> dict[str, Any]:
        return {"train_images": len(self.train_files), "validation_images": [f.stem for f in self.val_files],
                "held_out": [f.stem for f in self.held], "procedural": self.cfg.procedural,
                **({"teacher": self.cfg.teacher, "teacher_weight": self.cfg.teacher_weight} if self.teacher else {})}
