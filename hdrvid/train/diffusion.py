"""Diffusion family (``diffhdr``): the merge family's data, trained with a noise schedule.

Data, validation samples and the temporal pairs are the multi-exposure family's
(:class:`hdrvid.train.merge.MergeFamily`); the regression start (the Kalantari-style merge inside the model)
is loaded from the shipped ``kalantari`` weights and frozen. One step: the residual r0 = (truth - estimate)
x ``RES_SCALE`` (mu-law domain), a timestep per example (the loop's ``ctx.timesteps``), x_t = sqrt(ab) r0 +
sqrt(1 - ab) eps; loss = min-SNR-weighted MSE(eps_hat, eps) + ``IMAGE_WEIGHT`` x ab x L1 between the output rebuilt from
eps_hat and the truth (the image-space loss), plus the temporal loss on consecutive outputs when training on
pairs (both items of a pair get the same timestep and noise: the same noise field every frame, as at run
time). Validation: the full K-step DDIM sampler (``VALIDATION_STEPS``) with a fixed noise field, scored with
the merge family's loss, so the number compares with the regression merges' validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from hdrvid.models import build
from hdrvid.models.diffhdr import RES_CLAMP, RES_SCALE, TIMESTEPS, alpha_bar, noise_field, predicted_x0
from hdrvid.train.adversarial import add_adversarial
from hdrvid.train.loop import GENERATOR, TrainConfig, TrainContext
from hdrvid.train.merge import MergeFamily

IMAGE_WEIGHT = 1.0
MIN_SNR = 5.0
"""Min-SNR-gamma weighting of the noise loss (Hang et al. 2023): low-noise steps, where the noise is nearly
invisible in x_t, do not dominate."""
VALIDATION_STEPS = 4


class DiffusionMergeFamily(MergeFamily):
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        base = getattr(model, "base")
        base.load_state_dict(build("kalantari").state_dict())  # the shipped regression merge, frozen
        base.requires_grad_(False)
        super().__init__(cfg, model, files, held)
        self.ab = torch.tensor(alpha_bar(), dtype=torch.float32)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], ctx: TrainContext) -> dict[str, torch.Tensor]:
        x, target = batch
        model = self.model
        n = x.shape[0]
        pairs = self.temporal and n % 2 == 0
        k = n // 2 if pairs else n
        t = ctx.timesteps(k, TIMESTEPS)
        eps = torch.randn((k, 3, *x.shape[-2:]), generator=ctx.generator).to(x.device)
        if pairs:  # one timestep and one noise field per pair (the same noise every frame at run time)
            t, eps = t.repeat_interleave(2), eps.repeat_interleave(2, 0)
        ab = self.ab.to(x.device)[t][:, None, None, None]
        with ctx.autocast():
            cond = model.condition(x)  # type: ignore[operator]
        cond = cond.float()
        base = cond[:, :3].detach()
        r0 = ((target - base) * RES_SCALE).clamp(-RES_CLAMP, RES_CLAMP)
        xt = ab.sqrt() * r0 + (1 - ab).sqrt() * eps
        with ctx.autocast():
            eps_hat = model.denoise(xt, t.float(), cond).float()  # type: ignore[operator]
        x0 = predicted_x0(xt, eps_hat, ab)
        y = model.finish(cond, x0)  # type: ignore[operator]
        snr = ab / (1 - ab)
        noise_loss = (torch.clamp(MIN_SNR / snr, max=1.0) * (eps_hat - eps) ** 2).mean()
        image_loss = (ab * (y - target).abs()).mean() / ab.mean()
        loss = noise_loss + IMAGE_WEIGHT * image_loss
        if pairs:
            dy, dt = y[1::2] - y[0::2], target[1::2] - target[0::2]
            loss = loss + self.cfg.temporal_weight * (ab[0::2] * (dy - dt).abs()).mean() / ab.mean()
        losses = {GENERATOR: loss, "noise": noise_loss.detach(), "image": image_loss.detach()}
        with ctx.autocast():
            return add_adversarial(losses, ctx.nets, y.float(), target, self.cfg.adversarial_weight)

    def validate(self, model: nn.Module, device: torch.device) -> float:
        vx, vt = self.val
        noise = noise_field(0, (1, 3, *vx.shape[-2:]))
        preds = []
        for i in range(0, len(vx), 8):
            xb = vx[i:i + 8].to(device)
            preds.append(model(xb, VALIDATION_STEPS, noise.expand(len(xb), -1, -1, -1).to(device)).float())
        return float(self._loss(torch.cat(preds), vt.to(device)))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "regression_start": "kalantari (shipped weights, frozen)",
                "validation_steps": VALIDATION_STEPS, "timesteps": TIMESTEPS,
                "residual_scale": RES_SCALE, "image_weight": IMAGE_WEIGHT}
