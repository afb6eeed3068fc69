"""Multi-exposure family (learned alternating-exposure merges: ``ahdr``, ``kalantari``).

Samples: three consecutive alternating-exposure frames with motion. Each sample renders frames t-1, t, t+1
of a :class:`hdrvid.synth.alternating.Scene` over a training image (random cycle, phase, camera path,
objects, clipping share, noise, H.264 strength), shoots them through the camera model and H.264, decodes
them as hdrvid's decoder would (BT.709 inverse OETF), computes the DIS flows the pipeline computes, and crops
a patch. The target is the ground-truth radiance of frame t, normalised and mu-law compressed exactly as the
networks' output. Samples are rendered up front into a pool (an eighth re-rendered every 100 batches), so
the CPU spends most of its time on gradient steps. Validation: fixed samples from validation images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hdrvid.color.transfer import bt709_inverse_oetf
from hdrvid.errors import InputError
from hdrvid.models.cycle import fit_cycle, relative_evs
from hdrvid.models.merge import DISFlow, FlowPair
from hdrvid.models.merge_nets import MU, pack
from hdrvid.synth.alternating import Scene, SynthConfig, exposure_scale, realistic_config, shoot_frame
from hdrvid.synth.camera import expose_for_clipping, h264_roundtrip
from hdrvid.train.adversarial import add_adversarial, discriminator_for
from hdrvid.train.data import load_images, validation_split
from hdrvid.train.loop import GENERATOR, TrainConfig, TrainContext
from hdrvid.train.losses import get_loss

TRAIN_CYCLES = ((-2.0, 2.0), (-2.0, 2.0), (-2.0, 0.0, 2.0), (-2.0, 0.0, 2.0), (-3.0, 3.0), (-1.5, 1.5),
                (-3.0, 0.0, 3.0), (-2.0, 1.0))


@dataclass
class RawSample:
    ref: np.ndarray
    ev_ref: float
    neighbours: list[tuple[np.ndarray, float, FlowPair]]
    ev_min: float
    gt: np.ndarray  # (3, H, W) radiance at EV 0 scale


_dis: DISFlow | None = None


def raw_pair(img: np.ndarray, rng: np.random.Generator, size: tuple[int, int] = (256, 144),
             donor: np.ndarray | None = None) -> tuple[RawSample, RawSample]:
    """Two consecutive references (frames t and t+1, each with its neighbours) of one realistic clip
    (``realistic_config``: ratios 4-16, clipping in every exposure, other camera responses, blur, H.264),
    radiometrically self-calibrated as the pipeline does, for the temporal loss."""
    global _dis
    exposures = 2 if rng.random() < 0.5 else 3
    cfg = realistic_config(rng, exposures, 24, size, int(rng.integers(0, 1 << 30)))
    cycle = cfg.exposures
    scene = Scene(img, cfg, donor)
    t = int(rng.integers(1, cfg.frames - 5))
    idx = list(range(t - 1, t + 5))  # 6 frames: two whole 3-exposure cycles for the calibration, as the pipeline
    hdr = [scene.frame(i) for i in idx]
    k = np.float32(exposure_scale(hdr[1], cfg))
    phase = int(rng.integers(0, len(cycle)))
    evs = [cycle[(i + phase) % len(cycle)] for i in idx]
    pics = []
    for h_, ev in zip(hdr, evs):
        code = shoot_frame(h_ * k, ev, rng, cfg.noise, cfg.response)
        if rng.random() < 0.8:
            code = h264_roundtrip(code, cfg.crf)
        lin = np.asarray(bt709_inverse_oetf(code.astype(np.float32) / 255), np.float32)
        pics.append(np.ascontiguousarray(lin.transpose(2, 0, 1)))
    try:  # the calibration the pipeline applies (from these frames; 1.0 when they cannot tell)
        g = fit_cycle(relative_evs([q[:, ::2, ::2] for q in pics]), cycle).response_power
    except InputError:
        g = 1.0
    if g != 1.0:
        pics = [np.power(np.clip(q, 0, None), np.float32(g)) for q in pics]
    if _dis is None:
        _dis = DISFlow("medium")
    flows = {(a, b): _dis.pair(pics[a], evs[a], pics[b], evs[b]) for a, b in ((1, 0), (1, 2), (2, 3))}
    flows[(2, 1)] = FlowPair(flows[(1, 2)].ba, flows[(1, 2)].ab)
    out = []
    for r in (1, 2):
        nb = [(pics[n], evs[n], flows[(r, n)]) for n in (r - 1, r + 1)]
        out.append(RawSample(pics[r], evs[r], nb, min(cycle), np.ascontiguousarray((hdr[r] * k).transpose(2, 0, 1))))
    return out[0], out[1]


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


def to_tensors(kind: str, s: RawSample, patch: int, rng: np.random.Generator,
               at: tuple[int, int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``at``: the crop's corner (the same for both references of a pair); random otherwise."""
    x = pack(kind, s.ref, s.ev_ref, s.neighbours, s.ev_min)
    target = np.log1p(MU * np.clip(s.gt, 0, None) * np.float32(2.0**s.ev_min)) / np.log1p(MU)
    h, w = x.shape[1:]
    y0, x0 = at if at is not None else (int(rng.integers(0, h - patch + 1)), int(rng.integers(0, w - patch + 1)))
    xs = torch.from_numpy(np.ascontiguousarray(x[:, y0:y0 + patch, x0:x0 + patch]))
    ts = torch.from_numpy(np.ascontiguousarray(np.minimum(target, 1)[:, y0:y0 + patch, x0:x0 + patch]).astype(np.float32))
    return xs, ts


class MergeFamily:
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        self.cfg = cfg
        self.model = model
        self.kind: str = model.kind  # type: ignore[assignment]
        self.train_files, self.val_files = validation_split(files)
        self.held = held
        self.images = load_images(self.train_files, cfg.procedural, cfg.seed, size=(480, 270))
        if not self.images:
            raise ValueError("no training images")
        val_images = load_images(self.val_files, 0, cfg.seed) or load_images([], 4, cfg.seed + 99, size=(480, 270))
        t0 = time.perf_counter()
        rng = np.random.default_rng([cfg.seed, 7])
        self.temporal = cfg.temporal_weight > 0
        vrng = np.random.default_rng([cfg.seed, 1234])
        if self.temporal:  # realistic clips, two consecutive references per sample
            self.pairs = [raw_pair(self._image(rng), rng, donor=self._image(rng)) for _ in range(cfg.samples // 2)]
            val = []
            for i in range(max(1, cfg.validation // 2)):
                a, b = raw_pair(val_images[i % len(val_images)], vrng, donor=val_images[(i + 1) % len(val_images)])
                val += self._pair_tensors(a, b, vrng)
        else:
            self.pool = [raw_sample(self._image(rng), rng) for _ in range(cfg.samples)]
            val = [to_tensors(self.kind, raw_sample(val_images[i % len(val_images)], vrng), cfg.patch, vrng)
                   for i in range(cfg.validation)]
        self.val = torch.stack([v[0] for v in val]), torch.stack([v[1] for v in val])
        self.data_seconds = round(time.perf_counter() - t0, 1)
        self.batches = 0
        self.loss = get_loss("l1")

    def _image(self, rng: np.random.Generator) -> np.ndarray:
        return self.images[int(rng.integers(0, len(self.images)))]

    def _pair_tensors(self, a: RawSample, b: RawSample, rng: np.random.Generator) -> list[tuple[torch.Tensor, torch.Tensor]]:
        h, w = a.ref.shape[1:]
        at = (int(rng.integers(0, h - self.cfg.patch + 1)), int(rng.integers(0, w - self.cfg.patch + 1)))
        return [to_tensors(self.kind, a, self.cfg.patch, rng, at), to_tensors(self.kind, b, self.cfg.patch, rng, at)]

    def _loss(self, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """L1 on mu-law radiance; with the temporal loss, items come in consecutive pairs (t, t+1) and the
        change from one output to the next must match the truth's change (a merge that alternates with the
        exposure of its reference frame is penalised; true motion and light changes are not)."""
        loss = self.loss(y, t)
        if self.temporal:
            dy, dt = y[1::2] - y[0::2], t[1::2] - t[0::2]
            loss = loss + self.cfg.temporal_weight * (dy - dt).abs().mean()
        return loss

    def networks(self) -> dict[str, nn.Module]:
        return {GENERATOR: self.model, **discriminator_for(self.cfg)}

    def batch(self, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        self.batches += 1
        if self.temporal:
            if self.batches % 100 == 0:
                for _ in range(max(1, len(self.pairs) // 8)):
                    self.pairs[int(rng.integers(0, len(self.pairs)))] = raw_pair(self._image(rng), rng,
                                                                                  donor=self._image(rng))
            items = []
            for _ in range(max(1, self.cfg.batch // 2)):
                items += self._pair_tensors(*self.pairs[int(rng.integers(0, len(self.pairs)))], rng)
            return torch.stack([b[0] for b in items]), torch.stack([b[1] for b in items])
        if self.batches % 100 == 0:  # refresh an eighth of the pool: fresh motion, exposures and noise
            for _ in range(len(self.pool) // 8):
                self.pool[int(rng.integers(0, len(self.pool)))] = raw_sample(self._image(rng), rng)
        items = [to_tensors(self.kind, self.pool[int(rng.integers(0, len(self.pool)))], self.cfg.patch, rng)
                 for _ in range(self.cfg.batch)]
        return torch.stack([b[0] for b in items]), torch.stack([b[1] for b in items])

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], ctx: TrainContext) -> dict[str, torch.Tensor]:
        x, t = batch
        with ctx.autocast():
            y = self.model(x)
        losses = {GENERATOR: self._loss(y.float(), t)}
        with ctx.autocast():  # the output and target are already mu-law tone-mapped radiance
            return add_adversarial(losses, ctx.nets, y.float(), t, self.cfg.adversarial_weight)

    def validate(self, model: nn.Module, device: torch.device) -> float:
        vx, vt = self.val
        pred = torch.cat([model(vx[i:i + 8].to(device)).float() for i in range(0, len(vx), 8)])
        return float(self._loss(pred, vt.to(device)))

    def describe(self) -> dict[str, Any]:
        return {"temporal_weight": self.cfg.temporal_weight,
                "clips": "realistic pairs" if self.temporal else "semi-synthetic triples",
                "train_images": [f.stem for f in self.train_files],
                "validation_images": [f.stem for f in self.val_files], "held_out": [f.stem for f in self.held],
                "procedural": self.cfg.procedural, "data_seconds": self.data_seconds}
