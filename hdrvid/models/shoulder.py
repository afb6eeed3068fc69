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

import torch
import torch.nn.functional as F
from torch import nn

ANALYSIS_SIDE = 256
"""The frame is analysed at about this longer side (area-averaged for the gradients, every k-th pixel for the
code histogram, which must keep exact codes)."""
HIST_BINS = 16
BANDS = ((100, 150), (150, 200), (200, 230), (230, 245), (245, 253), (253, 256))
FEATURES = 1 + HIST_BINS + 6 + 1 + 3 * len(BANDS) + 5
SIGNAL_GAMMA = 2.2


def _signal(linear: torch.Tensor) -> torch.Tensor:
    """Linear light -> the 8-bit-like signal in [0, 1] the features are taken on."""
    return linear.clamp(0, 1) ** (1 / SIGNAL_GAMMA)


def features(linear: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) linear light (1.0 = SDR white) -> (N, FEATURES) float32."""
    x = linear.float()
    n, _, h, w = x.shape
    step = max(1, round(max(h, w) / ANALYSIS_SIDE))
    sub = x[:, :, ::step, ::step]
    small = F.adaptive_avg_pool2d(x, (max(8, round(h / step)), max(8, round(w / step)))) if step > 1 else x
    out = []
    for i in range(n):
        codes = (_signal(sub[i]) * 255).round().flatten(1)  # (3, pixels): exact codes
        m = codes.amax(0)
        total = m.numel()
        f = []
        bright = max(int((m >= 128).sum()), 1)
        f.append(torch.log(torch.tensor(bright / total + 1e-4)))
        f += list(torch.histc(m, HIST_BINS, 128, 256) / bright)
        top = max(int((m >= 224).sum()), 1)
        f += [(m == k).sum() / top for k in range(250, 256)]
        f.append(torch.log((m >= 250).float().mean() + 1e-4))
        # how the top clips: one channel (hue shifts, a camera's per-channel clip) or all three at once
        hot = codes[:, m >= 250]
        k = max(hot.shape[1], 1)
        lo, at = hot.amin(0), (hot >= 254).sum(0)
        f += [(lo < 200).sum() / k, (lo >= 250).sum() / k, (at == 1).sum() / k, (at == 2).sum() / k,
              (at == 3).sum() / k]
        cs = _signal(small[i])  # gradients and saturation at the analysis scale
        ms = (cs.amax(0) * 255).round()[None]
        gx = F.conv2d(ms[None], _SOBEL_X, padding=1)[0, 0]
        gy = F.conv2d(ms[None], _SOBEL_X.transpose(-1, -2), padding=1)[0, 0]
        g = torch.sqrt(gx * gx + gy * gy)[1:-1, 1:-1].flatten()
        mg = ms[0, 1:-1, 1:-1].flatten()
        satg = ((cs.amax(0) - cs.amin(0)) / cs.amax(0).clamp(min=1 / 255))[1:-1, 1:-1].flatten()
        for lo_band, hi_band in BANDS:
            sel = (mg >= lo_band) & (mg < hi_band)
            if int(sel.sum()) >= 8:
                f += [satg[sel].mean(), torch.log(g[sel].median() + 1), torch.tensor(1.0)]
            else:
                f += [torch.tensor(0.0)] * 3
        out.append(torch.stack([torch.as_tensor(v, dtype=torch.float32, device=x.device) for v in f]))
    return torch.stack(out).to(linear.device)


_SOBEL_X = torch.tensor([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]]])


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

    def logit_of(self, feats: torch.Tensor) -> torch.Tensor:
        x = torch.maximum(torch.minimum(feats, self.hi), self.lo)
        return self.net((x - self.mean) / self.std).squeeze(1)

    def forward(self, x: torch.Tensor, precomputed: bool = False) -> torch.Tensor:
        """(N,) probability that each frame of linear light ``x`` (N, 3, H, W) has a shoulder (``precomputed``:
        ``x`` is already :func:`features`)."""
        return torch.sigmoid(self.logit_of(x if precomputed else features(x).to(self.mean.device)))
