"""Training the learned merges (``hdrvid train --model ahdr|kalantari``).

Samples come from :mod:`hdrvid.train.merge_data`: a pool rendered up front and refreshed an eighth at a
time, so the CPU spends most of its time on gradient steps. A fixed validation set, rendered from
validation images that are neither trained on nor in the held-out evaluation set, picks the EMA
checkpoint that is shipped (``<model>.pt``); every validation score is kept in ``validation.json``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from hdrvid.io.images import read_hdr
from hdrvid.synth.scenes import procedural_scenes
from hdrvid.train.merge_data import merge_loss, raw_sample, to_tensors


def validation_split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Every 7th training image validates (deterministic by sorted name)."""
    files = sorted(files, key=lambda f: f.stem)
    return [f for i, f in enumerate(files) if i % 7 != 3], [f for i, f in enumerate(files) if i % 7 == 3]


def _images(files: list[Path], procedural: int, seed: int) -> list[np.ndarray]:
    imgs = [np.clip(read_hdr(f), 0, None) for f in files]
    if procedural:
        imgs += procedural_scenes(procedural, size=(480, 270), seed=seed)
    return imgs


def train_merge(cfg: Any, model: nn.Module, files: list[Path], held: list[Path], progress: bool) -> dict[str, Any]:
    from hdrvid.train.trainer import optimise, plot_curve, save_checkpoint

    kind = model.kind  # type: ignore[attr-defined]
    out = Path(cfg.out)
    train_files, val_files = validation_split(files)
    imgs = _images(train_files, cfg.procedural, cfg.seed)
    val_imgs = _images(val_files, 0, cfg.seed) or _images([], 4, cfg.seed + 99)
    rng = np.random.default_rng([cfg.seed, 7])
    t_data = time.perf_counter()
    pool = [raw_sample(imgs[int(rng.integers(0, len(imgs)))], rng) for _ in range(cfg.samples)]
    vrng = np.random.default_rng([cfg.seed, 1234])
    val = [to_tensors(kind, raw_sample(val_imgs[i % len(val_imgs)], vrng), cfg.patch, vrng)
           for i in range(cfg.validation)]
    vx, vt = torch.stack([v[0] for v in val]), torch.stack([v[1] for v in val])
    data_seconds = time.perf_counter() - t_data

    ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / cfg.steps))))
    step, losses, scores = 0, [], []
    best = float("inf")
    ckpt = out / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, map_location=cfg.device, weights_only=True)
        model.load_state_dict(state["model"])
        ema = state["ema"]
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step = int(state["step"])
        best = float(state["best"])
        losses = [(int(s), float(v)) for s, v in state["losses"].tolist()]
        if (out / "validation.json").is_file():
            scores = json.loads((out / "validation.json").read_text())
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, initial=step, unit="step", desc=f"train {cfg.model}")
    shadow = type(model)().eval()
    t0 = time.perf_counter()
    deadline = t0 + 60 * cfg.minutes if getattr(cfg, "minutes", None) else None
    model.train()
    while step < cfg.steps and (deadline is None or time.perf_counter() < deadline):
        batch = [to_tensors(kind, pool[int(rng.integers(0, len(pool)))], cfg.patch, rng) for _ in range(cfg.batch)]
        x, t = torch.stack([b[0] for b in batch]), torch.stack([b[1] for b in batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            y = model(x)
        loss = merge_loss(y.float(), t)
        step += 1
        optimise(model, opt, sched, loss, ema, step, cfg.ema)
        losses.append((step, float(loss.detach())))
        if bar is not None:
            bar.set_postfix(loss=f"{float(loss):.4f}")
            bar.update(1)
        if step % 100 == 0:  # refresh an eighth of the pool: fresh motion, exposures and noise
            for _ in range(len(pool) // 8):
                pool[int(rng.integers(0, len(pool)))] = raw_sample(imgs[int(rng.integers(0, len(imgs)))], rng)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps:
            shadow.load_state_dict(ema)
            with torch.inference_mode():
                v = float(merge_loss(torch.cat([shadow(vx[i:i + 8]) for i in range(0, len(vx), 8)]), vt))
            scores.append({"step": step, "val_l1_mu": v, "train_l1_mu": float(np.mean([q for _, q in losses[-50:]]))})
            if v < best:
                best = v
                torch.save(ema, out / f"{cfg.model}.pt")
            save_checkpoint(ckpt, model, ema, opt, sched, step, losses, best=best)
            plot_curve(losses, out / "loss.png")
            (out / "validation.json").write_text(json.dumps(scores, indent=2) + "\n")
    if bar is not None:
        bar.close()
    summary = {"model": cfg.model, "steps": step, "seconds_this_run": round(time.perf_counter() - t0, 1),
               "data_seconds": round(data_seconds, 1), "best_val_l1_mu": best, "weights": str(out / f"{cfg.model}.pt"),
               "train_images": [f.stem for f in train_files], "validation_images": [f.stem for f in val_files],
               "held_out": [f.stem for f in held], "procedural": cfg.procedural, "config": asdict(cfg)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
