"""Diffusion families (``diffhdr``): a regression family's data, trained with a noise schedule.

Both versions of ``diffhdr`` train the same way; only the data and the regression start differ:

- the merge (:class:`DiffusionMergeFamily`): the multi-exposure family's data, validation samples and
  temporal pairs (:class:`hdrvid.train.merge.MergeFamily`); the regression start is the shipped
  ``kalantari``, frozen;
- single exposure (:class:`DiffusionSingleFamily`): the single-exposure family's pictures and cameras
  (:class:`hdrvid.train.single.SingleExposureFamily`); the regression start is the shipped ``hdrunet``
  (curve off), frozen.

One step (:func:`diffusion_step`): the residual r0 = ``model.residual_target(condition, truth)`` (merge:
(truth - estimate) x ``RES_SCALE`` in mu-law; single: log(truth / estimate) in clipped pixels), a timestep
per example (the loop's ``ctx.timesteps``, up to the model's ``top_timestep(start)``: the part of the schedule
its sampler runs), x_t = sqrt(ab) r0 + sqrt(1 - ab) eps; loss = min-SNR-weighted
MSE(eps_hat, eps) + ``IMAGE_WEIGHT`` x ab x the family's image loss between the output rebuilt from eps_hat
and the truth (the image-space loss: mu-law L1 for the merge, ExpandNet's log loss for single exposure),
plus the temporal loss on consecutive outputs when training on pairs (both items of a pair get the same
timestep and noise: the same noise field every frame, as at run time). Validation: the full K-step DDIM
sampler (``VALIDATION_STEPS``) with a fixed noise field at the model's default temperature, scored with the
family's own validation loss, so the number compares with the regression models' validation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hdrvid.models import build
from hdrvid.models.diffhdr import RES_SCALE, alpha_bar, noise_field, predicted_x0, sample, top_timestep
from hdrvid.train.adversarial import add_adversarial
from hdrvid.train.loop import GENERATOR, TrainConfig, TrainContext
from hdrvid.train.merge import MergeFamily
from hdrvid.train.single import SingleExposureFamily, tone_map

IMAGE_WEIGHT = 1.0
MIN_SNR = 5.0
"""Min-SNR-gamma weighting of the noise loss (Hang et al. 2023): low-noise steps, where the noise is nearly
invisible in x_t, do not dominate."""
VALIDATION_STEPS = 4

ImageLoss = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""(output, truth, per-example weight (N, 1, 1, 1)) -> the weighted image-space loss."""


def freeze_base(model: nn.Module, name: str) -> None:
    """Load the shipped regression model ``name`` into ``model.base`` and freeze it."""
    base = getattr(model, "base")
    state = build(name).state_dict()
    net_state = getattr(base, "network_state", None)  # hdrunet: its copy has no shoulder detector
    full = not hasattr(base, "network_state") or hasattr(base, "shoulder")  # hdrunet-auto: detector included
    base.load_state_dict(state if full else net_state(state))
    base.requires_grad_(False)


def timestep_count(model: nn.Module) -> int:
    """How many timesteps training draws from, 0 up to the one the model's sampler starts at
    (``top_timestep(model.start)``): the denoiser is taught the part of the schedule it is run on."""
    return top_timestep(float(getattr(model, "start", 1.0))) + 1


def diffusion_step(model: nn.Module, x: torch.Tensor, target: torch.Tensor, ctx: TrainContext, pairs: bool,
                   image_loss: ImageLoss, temporal_weight: float, schedule: torch.Tensor
                   ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """The losses of one diffusion step, the output rebuilt from the predicted noise, and the condition."""
    n = x.shape[0]
    k = n // 2 if pairs else n
    t = ctx.timesteps(k, timestep_count(model))
    eps = torch.randn((k, 3, *x.shape[-2:]), generator=ctx.generator).to(x.device)
    if pairs:  # one timestep and one noise field per pair (the same noise every frame at run time)
        t, eps = t.repeat_interleave(2), eps.repeat_interleave(2, 0)
    ab = schedule.to(x.device)[t][:, None, None, None]
    with torch.no_grad(), ctx.autocast():
        base = model.base(x) if getattr(model, "single", False) else None  # type: ignore[operator]
    with ctx.autocast():
        cond = model.condition(x) if base is None else model.condition(x, base.float())  # type: ignore[operator]
    cond = cond.float()
    r0 = model.residual_target(cond.detach(), target)  # type: ignore[operator]
    xt = ab.sqrt() * r0 + (1 - ab).sqrt() * eps
    with ctx.autocast():
        eps_hat = model.denoise(xt, t.float(), cond).float()  # type: ignore[operator]
    y = model.finish(cond, predicted_x0(xt, eps_hat, ab))  # type: ignore[operator]
    snr = ab / (1 - ab)
    noise_loss = (torch.clamp(MIN_SNR / snr, max=1.0) * (eps_hat - eps) ** 2).mean()
    img = image_loss(y, target, ab)
    loss = noise_loss + IMAGE_WEIGHT * img
    if pairs:
        dy, dt = y[1::2] - y[0::2], target[1::2] - target[0::2]
        loss = loss + temporal_weight * (ab[0::2] * (dy - dt).abs()).mean() / ab.mean()
    return {GENERATOR: loss, "noise": noise_loss.detach(), "image": img.detach()}, y, cond


SAMPLER_STEPS = (2, 4)
"""The step counts the sampler loss draws from (one per batch): the default and the count issue 14 scores."""


def sampler_output(model: nn.Module, cond: torch.Tensor, ctx: TrainContext) -> torch.Tensor:
    """The deterministic few-step sampler the pipeline runs (``model.noise_scale``'s starting noise, one field
    for the batch; 2 or 4 DDIM steps), differentiated through every step: the output the family's own loss then
    scores (``--sampler-weight``). The noise-schedule losses keep teaching the denoiser every timestep; this
    teaches it what the chain it is sampled with ends at."""
    steps = SAMPLER_STEPS[int(torch.randint(0, len(SAMPLER_STEPS), (1,), generator=ctx.generator))]
    scale = float(getattr(model, "noise_scale", 0.0))
    noise = scale * torch.randn((1, 3, *cond.shape[-2:]), generator=ctx.generator)
    with ctx.autocast():
        r = sample(lambda r, t: model.denoise(r, t, cond),  # type: ignore[operator]
                   noise.expand(cond.shape[0], -1, -1, -1).to(cond.device), steps,
                   start=float(getattr(model, "start", 1.0)))
    return model.finish(cond, r.float())  # type: ignore[operator]


def validate_sampler(model: nn.Module, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """The model's K-step sampler on validation inputs with a fixed noise field (seed 0) at the model's
    default temperature (what the pipeline runs; checkpoints are chosen on it)."""
    noise = noise_field(0, (1, 3, *x.shape[-2:]), float(getattr(model, "noise_scale", 1.0)))
    preds = []
    for i in range(0, len(x), 8):
        xb = x[i:i + 8].to(device)
        preds.append(model(xb, VALIDATION_STEPS, noise.expand(len(xb), -1, -1, -1).to(device)).float())
    return torch.cat(preds)


class DiffusionMergeFamily(MergeFamily):
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        freeze_base(model, "kalantari")
        super().__init__(cfg, model, files, held)
        self.ab = torch.tensor(alpha_bar(), dtype=torch.float32)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], ctx: TrainContext) -> dict[str, torch.Tensor]:
        x, target = batch
        pairs = self.temporal and x.shape[0] % 2 == 0
        losses, y, cond = diffusion_step(self.model, x, target, ctx, pairs,
                                         lambda y, t, ab: (ab * (y - t).abs()).mean() / ab.mean(),
                                         self.cfg.temporal_weight, self.ab)
        if self.cfg.sampler_weight > 0:  # through the same condition (its generator learns from both)
            chain = self._loss(sampler_output(self.model, cond, ctx), target)  # L1 + temporal, as validated
            losses = {**losses, GENERATOR: losses[GENERATOR] + self.cfg.sampler_weight * chain,
                      "sampler": chain.detach()}
        with ctx.autocast():
            return add_adversarial(losses, ctx.nets, y.float(), target, self.cfg.adversarial_weight)

    def validate(self, model: nn.Module, device: torch.device) -> float:
        vx, vt = self.val
        return float(self._loss(validate_sampler(model, vx, device), vt.to(device)))

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "regression_start": "kalantari (shipped weights, frozen)",
                "validation_steps": VALIDATION_STEPS, "timesteps": timestep_count(self.model),
                "residual_scale": RES_SCALE, "image_weight": IMAGE_WEIGHT,
                "sampler_steps": list(SAMPLER_STEPS) if self.cfg.sampler_weight > 0 else []}


class DiffusionSingleFamily(SingleExposureFamily):
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        freeze_base(model, getattr(model, "base_model", "hdrunet"))
        super().__init__(cfg, model, files, held)
        self.ab = torch.tensor(alpha_bar(), dtype=torch.float32)

    def _image_loss(self, y: torch.Tensor, t: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        per = torch.stack([self.loss(y[i:i + 1], t[i:i + 1], self.cfg.cosine_weight) for i in range(len(y))])
        w = ab.flatten()
        return (w * per).sum() / w.sum()

    def step(self, batch: tuple[torch.Tensor, ...], ctx: TrainContext) -> dict[str, torch.Tensor]:
        x, target = batch[:2]
        losses, y, _ = diffusion_step(self.model, x, target, ctx, False, self._image_loss, 0.0, self.ab)
        with ctx.autocast():
            return add_adversarial(losses, ctx.nets, tone_map(y.float()), tone_map(target), self.cfg.adversarial_weight)

    def validate(self, model: nn.Module, device: torch.device) -> float:
        x, t = self.val[:2]
        y = validate_sampler(model, x, device)
        t = t.to(device)
        return sum(float(self.loss(y[i:i + 8], t[i:i + 8], self.cfg.cosine_weight)) * len(y[i:i + 8])
                   for i in range(0, len(y), 8)) / len(y)

    def describe(self) -> dict[str, Any]:
        start = getattr(self.model, "base_model", "hdrunet")
        return {**super().describe(), "regression_start": f"{start} (shipped weights, frozen"
                                                          f"{', curve off' if start == 'hdrunet' else ''})",
                "validation_steps": VALIDATION_STEPS, "timesteps": timestep_count(self.model),
                "image_weight": IMAGE_WEIGHT}
