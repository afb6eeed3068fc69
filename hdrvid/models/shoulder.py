"""Was this SDR picture graded (a shoulder rolls its highlights off) or recorded by a camera that clips at white?

Real SDR video is mostly graded: a tone curve with a shoulder compresses the bright tones before white, so the
inverse of the nominal transfer curve leaves them too dim, and an inverse tone curve (ITU-R BT.2446 Method A's)
is what brings them back. A camera that clips at white records every unclipped pixel exactly, and any curve
damages them. One picture tells the two apart by what the top of its histogram and its bright edges look like:

- the shape of the histogram of max(R, G, B) in the upper half of the code range: natural scenes' radiance is
  close to log-uniform, which is a density falling as 1/signal under any power-law encoding; a shoulder piles
  the bright tones up towards white instead, smoothly, while a clip piles them up on the last code;
- the saturation of bright pixels (grades roll saturation off before white; a per-channel clip shifts hue);
- the spatial gradient at each brightness band (a shoulder flattens gradients near white, a clip keeps them
  up to a hard edge).

:func:`features` computes these from the linear frame the model sees (hdrvid decodes with the nominal curve;
the codes are re-derived with a 2.2 power, the same for training and use), on a subsampled frame whose longer
side is about ``ANALYSIS_SIDE`` (so a 4K frame costs what a 256-px picture costs). :class:`ShoulderDetector`
is a small MLP on them, trained on the project's camera simulation (``hdrvid.synth.camera``: the "graded" and
"consumer" settings are the shoulder class) with the validation split by scene.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from hdrvid.models.shoulder_arrays import ANALYSIS_SIDE, BANDS, FEATURES, HIST_BINS, SIGNAL_GAMMA  # noqa: F401
from hdrvid.models.shoulder_arrays import features as frame_features


def features(linear: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) linear light (1.0 = SDR white) -> (N, FEATURES) float32 (:func:`shoulder_arrays.features` on
    each frame: the torch-free path reads the same numbers)."""
    frames = linear.detach().float().cpu().numpy()
    return torch.from_numpy(np.stack([frame_features(f) for f in frames])).to(linear.device)


class ShoulderDetector(nn.Module):
    """features -> logit of "this picture has a shoulder" (graded SDR, or a camera with an unknown response).
    The features are clamped to the range seen in training (``lo``, ``hi``) first: footage unlike the training
    pictures (sharper, darker) is judged as the nearest training picture, not by the MLP's extrapolation."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.register_buffer("lo", torch.full((FEATURES,), -1e9))
        self.register_buffer("hi", torch.full((FEATURES,), 1e9))
        self.register_buffer("mean", torch.zeros(FEATURES))
        self.register_buffer("std", torch.ones(FEATURES))
        self.net = nn.Sequential(nn.Linear(FEATURES, hidden), nn.GELU(), nn.Linear(hidden, 1))

    adopts_width = True
    """Loading a state dict rebuilds the MLP at the width of the weights given (see ``_load_from_state_dict``)."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # type: ignore[no-untyped-def]
        """A file's detector may be wider than the default (an ensemble's hidden units side by side, session 49):
        the MLP takes the width of the weights it is given (frozen as it was)."""
        w = state_dict.get(prefix + "net.0.weight")
        if w is not None and w.dim() == 2 and w.shape[0] != self.net[0].out_features:
            frozen = not self.net[0].weight.requires_grad
            self.net = nn.Sequential(nn.Linear(FEATURES, w.shape[0]), nn.GELU(), nn.Linear(w.shape[0], 1))
            self.net.requires_grad_(not frozen)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def logit_of(self, feats: torch.Tensor) -> torch.Tensor:
        x = torch.maximum(torch.minimum(feats, self.hi), self.lo)
        return self.net((x - self.mean) / self.std).squeeze(1)

    def forward(self, x: torch.Tensor, precomputed: bool = False) -> torch.Tensor:
        """(N,) probability that each frame of linear light ``x`` (N, 3, H, W) has a shoulder (``precomputed``:
        ``x`` is already :func:`features`)."""
        return torch.sigmoid(self.logit_of(x if precomputed else features(x).to(self.mean.device)))
