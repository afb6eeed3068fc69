"""A PatchGAN discriminator (Isola et al. 2017) for adversarial training on tone-mapped HDR.

It sees tone-mapped pictures in [0, 1] (mu-law of radiance) and scores overlapping patches (one logit per
~34x34 receptive field), so it judges texture and highlights, not the frame's composition. Spectral norm
keeps it from overpowering the generator on small CPU batches. Used only in training; never shipped.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    def __init__(self, in_channels: int = 3, features: int = 32, layers: int = 3) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        ch = in_channels
        for i in range(layers):
            out = features * 2**i
            mods += [spectral_norm(nn.Conv2d(ch, out, 4, stride=2 if i < layers - 1 else 1, padding=1)),
                     nn.LeakyReLU(0.2, inplace=True)]
            ch = out
        mods.append(spectral_norm(nn.Conv2d(ch, 1, 4, padding=1)))
        self.net = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) tone-mapped pictures -> (N, 1, h, w) patch logits."""
        return self.net(x)
