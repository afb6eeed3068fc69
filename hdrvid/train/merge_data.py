"""Training samples for the learned merges: three consecutive alternating-exposure frames with motion.

Each sample renders frames t-1, t, t+1 of a :class:`hdrvid.synth.alternating.Scene` over a training
image (random cycle, phase, camera path, objects, clipping share, noise, H.264 strength), shoots them
through the camera model and H.264, decodes them as hdrvid's decoder would (BT.709 inverse OETF),
computes the DIS flows the pipeline computes, and crops a patch. The target is the ground-truth
radiance of frame t, normalised and mu-law compressed exactly as the networks' output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hdrvid.color.transfer import bt709_inverse_oetf
from hdrvid.models.merge import DISFlow, FlowPair
from hdrvid.models.merge_nets import MU, pack
from hdrvid.synth.alternating import Scene, SynthConfig, shoot_frame
from hdrvid.synth.camera import expose_for_clipping, h264_roundtrip

TRAIN_CYCLES = ((-2.0, 2.0), (-2.0, 2.0), (-2.0, 0.0, 2.0), (-2.0, 0.0, 2.0), (-3.0, 3.0), (-1.5, 1.5),
                (-3.0, 0.0, 3.0), (-2.0, 1.0))


@dataclass
class RawSample:
    ref: np.ndarray
    ev_ref: float
    neighbours: list[tuple[np.ndarray, float, FlowPair]]
    ev_min: float
    gt: np.ndarray  # (3, H, W) radiance at EV 0 scale


_dis = None


def raw_sample(img: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (256, 144)) -> RawSample:
    global _dis
    cycle = TRAIN_CYCLES[int(rng.integers(0, len(TRAIN_CYCLES)))]
    cfg = SynthConfig(exposures=cycle, frames=24, size=size, pan=float(rng.uniform(0, 4)),
                      zoom=float(rng.uniform(0, 0.2)), shake=float(rng.uniform(0, 2.5)),
                      objects=int(rng.integers(0, 4)), object_speed=float(rng.uniform(0, 8)),
                      seed=int(rng.integers(0, 1 << 30)))
    scene = Scene(img, cfg)
    t = int(rng.integers(1, cfg.frames - 1))
    hdr = [scene.frame(i) for i in (t - 1, t, t + 1)]
    k = np.float32(expose_for_clipping(hdr[1], float(rng.uniform(0.02, 0.15))))
    phase = int(rng.integers(0, len(cycle)))
    evs = [cycle[(i + phase) % len(cycle)] for i in (t - 1, t, t + 1)]
    crf = int(rng.integers(14, 27))
    noise = float(rng.uniform(0.3, 1.6))
    pics = []
    for h_, ev in zip(hdr, evs):
        code = shoot_frame(h_ * k, ev, rng, noise)
        if rng.random() < 0.8:
            code = h264_roundtrip(code, crf)
        lin = np.asarray(bt709_inverse_oetf(code.astype(np.float32) / 255), np.float32)
        pics.append(np.ascontiguousarray(lin.transpose(2, 0, 1)))
    if _dis is None:
        _dis = DISFlow("medium")
    neighbours = [(pics[i], evs[i], _dis.pair(pics[1], evs[1], pics[i], evs[i])) for i in (0, 2)]
    gt = np.ascontiguousarray((hdr[1] * k).transpose(2, 0, 1))
    return RawSample(pics[1], evs[1], neighbours, min(cycle), gt)


def to_tensors(kind: str, s: RawSample, patch: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = pack(kind, s.ref, s.ev_ref, s.neighbours, s.ev_min)
    target = np.log1p(MU * np.clip(s.gt, 0, None) * np.float32(2.0**s.ev_min)) / np.log1p(MU)
    h, w = x.shape[1:]
    y0, x0 = int(rng.integers(0, h - patch + 1)), int(rng.integers(0, w - patch + 1))
    xs = torch.from_numpy(np.ascontiguousarray(x[:, y0:y0 + patch, x0:x0 + patch]))
    ts = torch.from_numpy(np.ascontiguousarray(np.minimum(target, 1)[:, y0:y0 + patch, x0:x0 + patch]).astype(np.float32))
    return xs, ts


def merge_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L1 on mu-law compressed radiance (AHDRNet's and Kalantari's loss)."""
    return (pred - target).abs().mean()
