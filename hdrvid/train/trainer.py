"""``hdrvid train``: train a model on HDR images through the camera simulation, on CPU or GPU.

Adam with cosine decay, EMA of the weights (0.999, with the usual warm-up (1 + t) / (10 + t) so the random
initialisation is forgotten), augmentation (random-scale crops, flips, 90-degree
rotations, exposure through the simulated camera), the model's published loss (ExpandNet: L1 plus
cosine similarity of RGB vectors, here on log(1 + HDR)), bf16 autocast on CPU, checkpoints every
``checkpoint_every`` steps and resume from the last one, a loss curve PNG and the run's config JSON.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from hdrvid.errors import InputError
from hdrvid.io.images import list_hdr
from hdrvid.models.registry import get
from hdrvid.synth.camera import shoot
from hdrvid.train.data import HDRPool, split


@dataclass
class TrainConfig:
    model: str = "expandnet"
    data: list[str] = field(default_factory=list)
    out: str = "runs/expandnet"
    steps: int = 2000
    batch: int = 8
    patch: int = 128
    lr: float = 3e-4
    ema: float = 0.999
    cosine_weight: float = 5.0
    bf16: bool = True
    device: str = "cpu"
    procedural: int = 40
    highlight_focus: float = 0.85
    """Share of crops required to contain clipping highlights (retry up to 8 times)."""
    checkpoint_every: int = 100
    seed: int = 0
    threads: int | None = None
    samples: int = 600
    """Multi-exposure models: rendered samples held in memory (an eighth re-rendered every 100 steps)."""
    validation: int = 48
    minutes: float | None = None
    """Stop after this many minutes of training (the schedule still spans ``steps``)."""
    """Multi-exposure models: fixed validation samples from validation images (never trained on)."""


def expandnet_loss(pred: torch.Tensor, target: torch.Tensor, cosine_weight: float) -> torch.Tensor:
    """ExpandNet's loss: L1 + lambda * (1 - cosine similarity of RGB vectors), on log(1 + HDR)."""
    p, t = torch.log1p(pred.clamp(min=0)), torch.log1p(target.clamp(min=0))
    cos = F.cosine_similarity(p, t, dim=1, eps=1e-6)
    return (p - t).abs().mean() + cosine_weight * (1 - cos).mean()


def optimise(model: torch.nn.Module, opt: torch.optim.Optimizer, sched: Any, loss: torch.Tensor,
             ema: dict[str, torch.Tensor], step: int, ema_decay: float) -> None:
    """One optimiser step, then the EMA of the weights, with the usual warm-up so the average forgets the
    random initialisation (else ema_decay^steps of it remains)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()
    with torch.no_grad():
        decay = min(ema_decay, (1 + step) / (10 + step))
        for k, v in model.state_dict().items():
            if v.dtype.is_floating_point:
                ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
            else:
                ema[k].copy_(v)


def save_checkpoint(path: Path, model: torch.nn.Module, ema: dict[str, torch.Tensor], opt: torch.optim.Optimizer,
                    sched: Any, step: int, losses: list[tuple[int, float]], **extra: Any) -> None:
    """Everything needed to resume, written to a temporary file and renamed (a crash leaves the last one)."""
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "ema": ema, "optimizer": opt.state_dict(),
                "scheduler": sched.state_dict(), "step": step,
                "losses": torch.tensor(losses, dtype=torch.float64), **extra}, tmp)
    tmp.replace(path)


def make_batch(pool: HDRPool, cfg: TrainConfig, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ts = [], []
    for _ in range(cfg.batch):
        want_highlights = rng.random() < cfg.highlight_focus
        for _attempt in range(8):
            shot = shoot(pool.crop(cfg.patch, rng), rng)
            if not want_highlights or shot.clipped.mean() > 0.01:
                break
        xs.append(shot.linear)
        ts.append(shot.target)
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2).contiguous()
    t = torch.from_numpy(np.stack(ts)).permute(0, 3, 1, 2).contiguous()
    return x, t


def plot_curve(losses: list[tuple[int, float]], png: Path) -> None:
    """Loss curve (log scale) drawn with OpenCV: no plotting library needed."""
    w, h, pad = 640, 360, 40
    img = np.full((h, w, 3), 255, np.uint8)
    if len(losses) >= 2:
        steps = np.array([s for s, _ in losses], np.float64)
        vals = np.log10(np.maximum([v for _, v in losses], 1e-6))
        k = max(1, len(vals) // 50)
        smooth = np.convolve(vals, np.ones(k) / k, mode="valid")
        xs = pad + (steps[: len(smooth)] - steps[0]) / max(1, steps[-1] - steps[0]) * (w - 2 * pad)
        lo, hi = float(smooth.min()), float(smooth.max()) + 1e-9
        ys = h - pad - (smooth - lo) / (hi - lo) * (h - 2 * pad)
        cv2.polylines(img, [np.stack([xs, ys], 1).astype(np.int32)], False, (200, 80, 0), 2, cv2.LINE_AA)
        cv2.putText(img, f"loss {10**hi:.3g}", (4, pad - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        cv2.putText(img, f"{10**lo:.3g}", (4, h - pad + 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
        cv2.putText(img, f"step {int(steps[-1])}", (w - 120, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1)
    cv2.rectangle(img, (pad, pad), (w - pad, h - pad), (0, 0, 0), 1)
    cv2.imwrite(str(png), img)


def train(cfg: TrainConfig, progress: bool = True) -> dict[str, Any]:
    spec = get(cfg.model)
    if not spec.learned:
        raise InputError(f"model {cfg.model!r} is classical: nothing to train")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    files, held = split(list_hdr([Path(d) for d in cfg.data]))
    if not files and cfg.procedural == 0:
        raise InputError("no training images left after holding out the evaluation set")
    torch.manual_seed(cfg.seed)
    model = spec.factory(**spec.factory_kwargs).to(cfg.device)
    if spec.kind == "multi-exposure":
        from hdrvid.train.merge_train import train_merge

        return train_merge(cfg, model, files, held, progress)
    pool = HDRPool.load(files, procedural=cfg.procedural, seed=cfg.seed)
    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps))))
    step, losses = 0, []
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():  # resume
        state = torch.load(ckpt, map_location=cfg.device, weights_only=True)
        model.load_state_dict(state["model"])
        ema = state["ema"]
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step = int(state["step"])
        losses = [(int(s), float(v)) for s, v in state["losses"].tolist()]
    rng = np.random.default_rng([cfg.seed, step])  # a resumed run draws new data, deterministically
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, unit="step", desc=f"train {cfg.model}")
    t0 = time.perf_counter()
    model.train()
    while step < cfg.steps:
        x, t = make_batch(pool, cfg, rng)
        x, t = x.to(cfg.device), t.to(cfg.device)
        with torch.autocast(torch.device(cfg.device).type, dtype=torch.bfloat16, enabled=cfg.bf16):
            y = model(x)
        loss = expandnet_loss(y.float(), t, cfg.cosine_weight)
        step += 1
        optimise(model, opt, sched, loss, ema, step, cfg.ema)
        losses.append((step, float(loss)))
        if bar is not None:
            bar.set_postfix(loss=f"{float(loss):.4f}", lr=f"{sched.get_last_lr()[0]:.2e}")
            bar.update(1)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            save_checkpoint(ckpt, model, ema, opt, sched, step, losses)
            torch.save(ema, out / f"{cfg.model}.pt")
            plot_curve(losses, out / "loss.png")
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - t0
    summary = {"model": cfg.model, "steps": step, "seconds_this_run": round(seconds, 1),
               "final_loss": float(np.mean([v for _, v in losses[-50:]])) if losses else None,
               "weights": str(out / f"{cfg.model}.pt"), "train_images": len(files), "held_out": [f.stem for f in held],
               "procedural": cfg.procedural}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
