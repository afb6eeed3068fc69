"""Two-stage family (issue 15): bracket synthesis (DrTMO-style) and pair fusion (CF-Net-style), one at a time.

The model is :class:`hdrvid.models.brackets.BracketHDR`; ``--stage`` says which of its networks learns (the
others are frozen and copied unchanged into the weights file, so the stages train one after the other into
one file with ``--init``):

- ``generator`` (:class:`BracketNet`): a camera shot (the single-exposure family's cameras: four clip-at-white
  settings and graded SDR, with noise and codecs) and the same camera at -3..+3 EV without noise or codec
  (``Shot.render``), all in the code domain the model works in (the shot decoded with its nominal curve,
  re-encoded with sRGB). Loss: L1 (clipped pixels weighted up) + a monotonicity penalty over the stack
  ordered by EV with the picture itself at 0 (an up-exposure darker than the one below it, or a
  down-exposure brighter than the one above it, costs its difference).
- ``fusion`` / ``fusion-2x`` (:class:`CFNet`): an under/over pair at +-E (E in 1..3) and the truth in
  radiance relative to the under exposure's white; the pair is the true camera bracket or, half the time,
  the frozen generator's bracket of the shot (what ``convert --model brackets`` fuses). Loss: L1 in mu-law
  (over 64x the picture's white) on every feedback pass (weights 1/4, 1/2, 1), clipped pixels weighted up.
  ``fusion-2x`` shoots a 2x area-downscaled copy of the crop and learns the full-size truth; it also sees the
  shot itself (the middle frame).
- ``joint`` (the generator and ``fusion`` together, end to end): the generator's stack of the shot, whose -3 and
  +3 EV pictures are the pair ``fusion`` fuses, with the fusion loss flowing back into the generator; the
  generator's own loss (every EV, monotonicity) is kept beside it (weight ``JOINT_GENERATOR_WEIGHT``) so the
  stack that ``hdrvid brackets`` writes stays a bracket. With ``--loss psnr-mu`` the metric's own loss is added
  (weight ``JOINT_PSNR_MU_WEIGHT``) on what ``convert --model brackets`` outputs: the fused radiance, mixed
  with the Debevec merge of the generated stack by the model's ``debevec_share`` (since session 35; sessions
  25-34 scored the fused pair alone), blended into the decoded picture by the clip mask (``BracketHDR.apply``),
  scored in the camera's clipped pixels.

Validation: a fixed batch from the validation images, scored with the stage's loss (final pass only; the joint
stage with ``--loss psnr-mu``: that loss alone, in dB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from hdrvid.color.transfer import DECODERS
from hdrvid.errors import InputError
from hdrvid.models.brackets import (
    BracketHDR,
    CFNet,
    TwoStage,
    blend,
    clip_mask,
    debevec_merge,
    decode,
    encode,
    mixed_log_light,
)
from hdrvid.models.merge_nets import mu_law
from hdrvid.models.registry import build
from hdrvid.synth.camera import Shot, shoot
from hdrvid.train.data import HDRPool, load_images, validation_split
from hdrvid.train.loop import GENERATOR, TrainConfig, TrainContext
from hdrvid.train.losses import psnr_mu_loss

STAGES = ("generator", "fusion", "fusion-2x", "joint")
EVS = (-3.0, -2.0, -1.0, 1.0, 2.0, 3.0)
MONOTONE_WEIGHT = 2.0
CLIPPED_WEIGHT = 4.0
JOINT_GENERATOR_WEIGHT = 0.5
JOINT_PSNR_MU_WEIGHT = 0.2
"""``--loss psnr-mu`` (joint stage): weight of the metric's loss (dB) beside the fusion L1. Measured on
training batches with the session-24 weights, the gradient norm of the metric's loss is 40-200 against 0.2-0.4
for the fusion L1, so at 0.2 the metric leads and the L1 keeps the earlier feedback passes in check. Chosen on the
validation eval (session 25, brackets card): 0.05 and 0.2 scored within 0.02 dB of each other; 0.2 shipped."""


def code_domain(codes: np.ndarray, nominal: str) -> np.ndarray:
    """8-bit codes as the model sees them: decoded with the nominal curve, re-encoded with sRGB, (3, H, W)."""
    lin = torch.from_numpy(np.asarray(DECODERS[nominal](codes.astype(np.float32) / 255), np.float32))
    return encode(lin).permute(2, 0, 1).contiguous().numpy()


def _shot(pool: HDRPool, size: int, cfg: TrainConfig, rng: np.random.Generator, down: bool) -> tuple[Shot, np.ndarray]:
    """A shot (with highlights most of the time) and the crop's full-size radiance."""
    want = rng.random() < cfg.highlight_focus
    for _ in range(8):
        hdr = pool.crop(size, rng)
        small = cv2.resize(hdr, (size // 2, size // 2), interpolation=cv2.INTER_AREA) if down else hdr
        shot = shoot(small, rng, graded_share=cfg.graded_share)
        if not want or shot.clipped.mean() > 0.01:
            break
    return shot, hdr


class BracketFamily:
    def __init__(self, cfg: TrainConfig, model: nn.Module, files: list[Path], held: list[Path]) -> None:
        if not isinstance(model, TwoStage):
            raise TypeError("the bracket family trains the two-stage brackets models")
        self.stage = cfg.stage or "generator"
        if self.stage not in STAGES:
            raise InputError(f"--stage {self.stage}: not a stage of {cfg.model}; use one of {', '.join(STAGES)}")
        if cfg.loss not in ("", "psnr-mu"):
            raise InputError(f"--loss {cfg.loss}: {cfg.model} takes only --loss psnr-mu (with --stage joint)")
        if cfg.loss and self.stage != "joint":
            raise InputError(f"--loss {cfg.loss}: only the joint stage of {cfg.model} takes it; use --stage joint or "
                             f"leave --loss out for the {self.stage} stage")
        self.cfg = cfg
        self.model = model
        # the frozen shoulder detector is hdrunet-auto's (sha-checked): a run from scratch or from a file made before
        # the detector was part of this model never saves an untrained one
        model.shoulder.load_state_dict(build("hdrunet-auto").shoulder.state_dict())  # type: ignore[union-attr]
        trained = {"generator": [model.gen], "fusion": [model.fuse], "fusion-2x": [model.fuse2x],
                   "joint": [model.gen, model.fuse]}[self.stage]
        for p in model.parameters():
            p.requires_grad_(False)
        for net in trained:
            for p in net.parameters():
                p.requires_grad_(True)
        self.train_files, self.val_files = validation_split(files)
        self.held = held
        self.pool = HDRPool.load(self.train_files, procedural=cfg.procedural, seed=cfg.seed)
        val_images = load_images(self.val_files, 0, cfg.seed) or load_images([], 4, cfg.seed + 99)
        vrng = np.random.default_rng([cfg.seed, 4321])
        val_pool = HDRPool(val_images, [str(i) for i in range(len(val_images))])
        self.val = [self._sample(val_pool, vrng) for _ in range(max(1, cfg.validation // cfg.batch))]

    def networks(self) -> dict[str, nn.Module]:
        return {GENERATOR: self.model}

    # --- data -----------------------------------------------------------------------------------------------

    def _sample(self, pool: HDRPool, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        cfg = self.cfg
        if self.stage in ("generator", "joint"):  # joint: also the radiance, relative to the +3 EV picture's white
            xs, ts, rs, ms = [], [], [], []
            for _ in range(cfg.batch):
                shot, _ = _shot(pool, cfg.patch, cfg, rng, down=False)
                assert shot.render is not None
                xs.append(code_domain(shot.signal, shot.nominal))
                ts.append(np.stack([code_domain(shot.render(2.0**e), shot.nominal) for e in EVS]))
                if self.stage == "joint":
                    rs.append(np.ascontiguousarray(shot.target.transpose(2, 0, 1)) * np.float32(2.0**-EVS[-1]))
                    ms.append(shot.clipped[None])
            out = {"signal": torch.from_numpy(np.stack(xs)), "stack": torch.from_numpy(np.stack(ts))}
            if rs:
                out.update(truth=torch.from_numpy(np.stack(rs)), ev=torch.tensor(EVS[-1]),
                           clipped=torch.from_numpy(np.stack(ms)))
            return out
        down = self.stage == "fusion-2x"
        e = float(rng.integers(1, 4))
        xs, us, os_, ts = [], [], [], []
        for _ in range(cfg.batch):
            shot, hdr = _shot(pool, cfg.patch, cfg, rng, down=down)
            assert shot.render is not None
            xs.append(code_domain(shot.signal, shot.nominal))
            us.append(code_domain(shot.render(2.0**-e), shot.nominal))
            os_.append(code_domain(shot.render(2.0**e), shot.nominal))
            truth = hdr * np.float32(shot.exposure) if down else shot.target
            ts.append(np.ascontiguousarray(truth.transpose(2, 0, 1)) * np.float32(2.0**-e))
        return {"signal": torch.from_numpy(np.stack(xs)), "under": torch.from_numpy(np.stack(us)),
                "over": torch.from_numpy(np.stack(os_)), "truth": torch.from_numpy(np.stack(ts)),
                "ev": torch.tensor(e)}

    def batch(self, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        return self._sample(self.pool, rng)

    # --- losses -----------------------------------------------------------------------------------------------

    @staticmethod
    def _stack(model: TwoStage, s: torch.Tensor) -> torch.Tensor:
        """The generator's pictures of ``s`` at every EV of ``EVS``: (N, len(EVS), 3, H, W)."""
        n, k = s.shape[0], len(EVS)
        evs = torch.tensor(EVS, device=s.device).repeat(n)
        return model.gen(s.repeat_interleave(k, 0), evs).float().view(n, k, *s.shape[1:])

    def _generator_loss(self, model: TwoStage, b: dict[str, torch.Tensor], out: torch.Tensor | None = None
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """Stage 1's loss on the generated stack ``out`` (made here when not given)."""
        s, stack = b["signal"], b["stack"]
        out = self._stack(model, s) if out is None else out
        w = 1 + CLIPPED_WEIGHT * clip_mask(s)[:, None]
        l1 = (w * (out - stack).abs()).mean()
        mid = len(EVS) // 2
        ordered = torch.cat([out[:, :mid], s[:, None], out[:, mid:]], 1)  # darkest .. brightest
        violation = F.relu(ordered[:, :-1] - ordered[:, 1:]).mean()
        return l1 + MONOTONE_WEIGHT * violation, violation

    def _joint_loss(self, model: TwoStage, b: dict[str, torch.Tensor], every_pass: bool = True
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(total, fusion loss or with ``--loss psnr-mu`` the metric's, monotonicity violation): the generator's
        stack, its -3/+3 EV pictures fused with gradients flowing back through the generator, plus the
        generator's own loss."""
        stack = self._stack(model, b["signal"])
        gen_loss, violation = self._generator_loss(model, b, stack)
        b = {**b, "under": stack[:, 0], "over": stack[:, -1]}
        fusion, final = self._fusion_loss(model, b, generated=False, every_pass=every_pass, net=model.fuse)
        total = fusion + JOINT_GENERATOR_WEIGHT * gen_loss
        if self.cfg.loss == "psnr-mu":
            merged = None
            if float(getattr(model, "debevec_share", 0.0)):  # the shipped field: the stack's merge mixed in
                merged = debevec_merge(list(stack.unbind(1)) + [b["signal"]], list(EVS) + [0.0])
            metric = psnr_mu_loss(self._composite(model, b["signal"], final, float(b["ev"]), merged), b["truth"],
                                  b["clipped"])
            return total + JOINT_PSNR_MU_WEIGHT * metric, metric, violation
        return total, fusion, violation

    @staticmethod
    def _composite(model: TwoStage, signal: torch.Tensor, fused: torch.Tensor, ev: float,
                   merged: torch.Tensor | None = None) -> torch.Tensor:
        """What ``BracketHDR.apply`` outputs before its edge gate (the model's own blend, with the mask its
        shoulder detector picks for the picture), in the fused radiance's units (the under exposure's white).
        ``merged``: the Debevec merge of the generated stack (relative to the picture's white), mixed with the
        fused pair in log light by the model's ``debevec_share`` as ``BracketHDR.field_tile`` mixes them."""
        linear, hdr = decode(signal), fused.float() * 2.0**ev
        if merged is not None:
            share = float(model.debevec_share)  # type: ignore[attr-defined]
            hdr = torch.exp(mixed_log_light(hdr, merged.float(), share))
        out = model.blended(linear, hdr) if isinstance(model, BracketHDR) else blend(linear, hdr)
        return out * 2.0**-ev

    def _fusion_loss(self, model: TwoStage, b: dict[str, torch.Tensor], generated: bool,
                     every_pass: bool = True, net: CFNet | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(the fusion loss, the final pass's radiance relative to the under exposure's white)."""
        if net is None:
            net = model.fuse2x if self.stage == "fusion-2x" else model.fuse
        e = float(b["ev"])
        under, over = b["under"], b["over"]
        n = under.shape[0]
        if generated:
            with torch.no_grad():
                under, over = model.brackets(b["signal"], [-e, e])
        outs = net(under, over, torch.full((n,), 2 * e, device=under.device), b["signal"] if net.middle else None)
        scale = 2.0**e / 64.0  # under-relative -> the picture's white, then mu-law over 64x
        truth = mu_law((b["truth"] * scale).clamp(min=0))
        mask = clip_mask(b["signal"])
        if mask.shape[-2:] != truth.shape[-2:]:
            mask = F.interpolate(mask, size=truth.shape[-2:], mode="bilinear", align_corners=False)
        w = 1 + CLIPPED_WEIGHT * mask
        passes = outs if every_pass else outs[-1:]
        weights = [0.5 ** (len(passes) - 1 - i) for i in range(len(passes))]
        loss = sum(wt * (w * (mu_law((o.float() * scale).clamp(min=0)) - truth).abs()).mean()
                   for wt, o in zip(weights, passes)) / sum(weights)
        return loss, outs[-1]

    def step(self, batch: dict[str, torch.Tensor], ctx: TrainContext) -> dict[str, torch.Tensor]:
        with ctx.autocast():
            if self.stage == "joint":
                loss, fusion, violation = self._joint_loss(self.model, batch)
                name = "psnr_mu_loss" if self.cfg.loss == "psnr-mu" else "fusion"
                return {GENERATOR: loss, name: fusion.detach(), "monotonicity": violation.detach()}
            if self.stage == "generator":
                loss, violation = self._generator_loss(self.model, batch)
                return {GENERATOR: loss, "monotonicity": violation.detach()}
            generated = bool(torch.rand((), generator=ctx.generator) < 0.5)
            return {GENERATOR: self._fusion_loss(self.model, batch, generated)[0]}

    def validate(self, model: nn.Module, device: torch.device) -> float:
        assert isinstance(model, TwoStage)
        total = 0.0
        for b in self.val:
            b = {k: v.to(device) for k, v in b.items()}
            if self.stage == "joint":  # the fusion stage's own score (final pass), so the two compare
                total += float(self._joint_loss(model, b, every_pass=False)[1])
            elif self.stage == "generator":
                total += float(self._generator_loss(model, b)[0])
            else:
                total += float(self._fusion_loss(model, b, generated=True, every_pass=False)[0])
        return total / len(self.val)

    def describe(self) -> dict[str, Any]:
        return {"stage": self.stage, "train_images": len(self.train_files),
                "validation_images": [f.stem for f in self.val_files], "held_out": [f.stem for f in self.held],
                "procedural": self.cfg.procedural}
