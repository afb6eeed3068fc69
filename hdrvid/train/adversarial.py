"""The adversarial half of a family's step (``--adversarial``): a patch discriminator on tone-mapped HDR,
the non-saturating loss, one discriminator step per generator step (the loop orders the two updates)."""

from __future__ import annotations

import torch
from torch import nn

from hdrvid.models.discriminator import PatchDiscriminator
from hdrvid.train.loop import DISCRIMINATOR, GENERATOR, TrainConfig
from hdrvid.train.losses import get_loss


def discriminator_for(cfg: TrainConfig, channels: int = 3) -> dict[str, nn.Module]:
    """The extra network a family adds to ``networks()`` when adversarial training is on."""
    return {DISCRIMINATOR: PatchDiscriminator(channels)} if cfg.adversarial else {}


def add_adversarial(losses: dict[str, torch.Tensor], nets: dict[str, nn.Module], fake: torch.Tensor,
                    real: torch.Tensor, weight: float) -> dict[str, torch.Tensor]:
    """Add the generator's adversarial term and the discriminator's loss. ``fake`` and ``real`` are
    tone-mapped pictures in [0, 1]; the discriminator sees ``fake`` detached for its own loss."""
    disc = nets.get(DISCRIMINATOR)
    if disc is None:
        return losses
    g_adv = get_loss("gan_generator")(disc(fake.float()))
    d_loss = get_loss("gan_discriminator")(disc(real.float()), disc(fake.detach().float()))
    out = dict(losses)
    out["content"] = losses[GENERATOR].detach()
    out["adversarial"] = g_adv.detach()
    out[GENERATOR] = losses[GENERATOR] + weight * g_adv
    out[DISCRIMINATOR] = d_loss
    return out
