"""Losses, registered by name (``LOSSES``), so families and options refer to them by value."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

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
