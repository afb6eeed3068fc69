"""Losses, registered by name (``LOSSES``), so families and options refer to them by value."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from hdrvid.metrics.hdr import MU

LossFn = Callable[..., torch.Tensor]
LOSSES: dict[str, LossFn] = {}


def register_loss(name: str) -> Callable[[LossFn], LossFn]:
    def add(fn: LossFn) -> LossFn:
        if name in LOSSES:
            raise ValueError(f"loss {name!r} is registered twice")
        LOSSES[name] = fn
        return fn

    return add


def get_loss(name: str) -> LossFn:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; known losses: {', '.join(sorted(LOSSES))}") from None


@register_loss("expandnet")
def expandnet_loss(pred: torch.Tensor, target: torch.Tensor, cosine_weight: float = 5.0) -> torch.Tensor:
    """ExpandNet's loss: L1 + lambda * (1 - cosine similarity of RGB vectors), on log(1 + HDR)."""
    p, t = torch.log1p(pred.clamp(min=0)), torch.log1p(target.clamp(min=0))
    cos = F.cosine_similarity(p, t, dim=1, eps=1e-6)
    return (p - t).abs().mean() + cosine_weight * (1 - cos).mean()


@register_loss("psnr-mu")
def psnr_mu_loss(pred: torch.Tensor, target: torch.Tensor, clipped: torch.Tensor) -> torch.Tensor:
    """What ``hdrvid eval`` scores in clipped pixels, as a loss: per picture, the mean squared error of the
    mu-law encoding (the metric's mu) over the truth's maximum in the ``clipped`` pixels (N, 1, H, W bool:
    the camera's clip mask, any channel at code 250 or above), then 10 log10 of it averaged over the pictures
    that have such pixels (the mean PSNR in dB, negated); pictures without clipped pixels add nothing.
    Squared error, not L1: the metric rewards the mean of the log radiance a clipped region may hold, L1 its
    median (too dim where a few clipped regions are far brighter than most)."""
    top = target.detach().flatten(1).amax(1).clamp(min=1e-6)[:, None, None, None]
    scale = torch.log1p(torch.tensor(MU))
    mu = lambda v: torch.log1p(MU * v.clamp(min=0) / top) / scale
    mask = clipped.to(pred.dtype)
    count = mask.flatten(1).sum(1) * pred.shape[1]
    err = ((mu(pred) - mu(target)) ** 2 * mask).flatten(1).sum(1)
    has = count > 0
    if not has.any():
        return pred.sum() * 0.0
    return 10 * torch.log10(err[has] / count[has] + 1e-8).mean()


@register_loss("l1")
def l1_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1; on mu-law compressed radiance it is AHDRNet's and Kalantari's loss."""
    return (pred - target).abs().mean()


@register_loss("gan_generator")
def gan_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: -log D(G(x)) (Goodfellow et al. 2014)."""
    return F.softplus(-fake_logits).mean()


@register_loss("gan_discriminator")
def gan_discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-log D(real) - log(1 - D(fake))."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
