"""ExpandNet (Marnerides et al., Eurographics 2018), exactly as published: 456,899 parameters.

Three branches over the LDR input: local (two 3x3 convs, 128 features), dilated mid-level (four 3x3
convs with dilation 2, 64 features) and global (the input resized to 256x256, six stride-2 convs and a
4x4 conv to a 64-vector broadcast over the image); concatenated (256 features) and fused by two 1x1
convs with a sigmoid. SELU activations throughout.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _layer(n_in: int, n_out: int, k: int, s: int, p: int, d: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(n_in, n_out, k, s, p, d), nn.SELU(inplace=True))


class ExpandNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.local_net = nn.Sequential(_layer(3, 64, 3, 1, 1), _layer(64, 128, 3, 1, 1))
        self.mid_net = nn.Sequential(
            _layer(3, 64, 3, 1, 2, 2),
            _layer(64, 64, 3, 1, 2, 2),
            _layer(64, 64, 3, 1, 2, 2),
            nn.Conv2d(64, 64, 3, 1, 2, 2),
        )
        self.glob_net = nn.Sequential(
            _layer(3, 64, 3, 2, 1),
            _layer(64, 64, 3, 2, 1),
            _layer(64, 64, 3, 2, 1),
            _layer(64, 64, 3, 2, 1),
            _layer(64, 64, 3, 2, 1),
            _layer(64, 64, 3, 2, 1),
            nn.Conv2d(64, 64, 4, 1, 0),
        )
        self.end_net = nn.Sequential(_layer(256, 64, 1, 1, 0), nn.Conv2d(64, 3, 1, 1, 0), nn.Sigmoid())

    def global_features(self, x: torch.Tensor) -> torch.Tensor:
        """The (N, 64, 1, 1) global branch output; computed once per frame even when tiling."""
        resized = F.interpolate(x, (256, 256), mode="bilinear", align_corners=False)
        return self.glob_net(resized)

    def forward(self, x: torch.Tensor, glob: torch.Tensor | None = None) -> torch.Tensor:
        local = self.local_net(x)
        mid = self.mid_net(x)
        if glob is None:
            glob = self.global_features(x)
        b, _, h, w = local.shape
        fuse = torch.cat((local, mid, glob.expand(b, 64, h, w)), 1)
        return self.end_net(fuse)


class ExpandNetITM(nn.Module):
    """hdrvid's inverse tone mapping wrapper around the published ExpandNet (no extra parameters).

    Input: linear light in [0, 1] (the decoder has undone the file's transfer function). ExpandNet sees
    the signal re-encoded with gamma 1/2.2 (it was designed for display-encoded LDR) and its sigmoid
    output y is used as a per-channel log gain, applied only where the input was clipped:

        m_c   = smoothstep(0.94, 0.985, signal_c)     soft, per channel (codes ~240-251 of 255): a lone
                                                       clipped blue channel (sky) counts, and so do the
                                                       near-white codes 250-253 H.264 leaves
        out_c = linear_c * exp(ln(max_gain) * m_c * y_c)

    Pixels below the mask are returned exactly linearised, so the output stays proportional to the
    input's radiance wherever the camera recorded it; the network only fills in what clipping lost.
    """

    def __init__(self, max_gain: float = 128.0, initial_gain: float = 1.6) -> None:
        super().__init__()
        self.net = ExpandNet()
        self.log_gain = math.log(max_gain)
        # start near the best uniform gain for clipped pixels (about 1.5x on the training data) instead
        # of the sigmoid's 0.5 (11x), whose large early loss drives the sigmoid into saturation
        y0 = math.log(initial_gain) / self.log_gain
        with torch.no_grad():
            last = self.net.end_net[1]
            assert isinstance(last, nn.Conv2d)
            last.bias.fill_(math.log(y0 / (1 - y0)))

    receptive_radius = 8
    """Pixels of context each output pixel sees outside the global branch (mid branch: 4 convs, dilation 2)."""

    @staticmethod
    def clip_mask(signal: torch.Tensor) -> torch.Tensor:
        t = ((signal - 0.94) / (0.985 - 0.94)).clamp(0, 1)
        return t * t * (3 - 2 * t)

    @staticmethod
    def _signal(linear: torch.Tensor) -> torch.Tensor:
        return linear.clamp(1e-8, 1) ** (1 / 2.2)

    def active_mask(self, linear: torch.Tensor) -> torch.Tensor:
        """(N, 1, H, W) bool: where the output depends on the network at all (anywhere else the output is
        the exactly linearised input), so engines may skip tiles with no such pixel."""
        return self.clip_mask(self._signal(linear)).amax(1, keepdim=True) > 0

    # The model in parts, so that engines run only the network (``field``) and the pipeline can tile it
    # (``context`` once per frame, ``field_tile`` per tile) or run it at reduced resolution and apply the
    # upsampled field to the full-resolution frame (``apply``, cheap and per pixel).

    def context(self, linear: torch.Tensor) -> torch.Tensor:
        """The global branch, (N, 64, 1, 1): computed once per whole frame."""
        return self.net.global_features(self._signal(linear))

    def field_tile(self, linear: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        return self.net(self._signal(linear), context)

    def field(self, linear: torch.Tensor) -> torch.Tensor:
        """ExpandNet's sigmoid output y (N, 3, H, W) in (0, 1): the per-channel log-gain field."""
        return self.net(self._signal(linear))

    def apply(self, linear: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
        lin = linear.clamp(0, 1)
        m = self.clip_mask(self._signal(lin))
        return lin * torch.exp(self.log_gain * m * field.to(lin.dtype))

    def forward(self, linear: torch.Tensor) -> torch.Tensor:
        return self.apply(linear, self.field(linear))
