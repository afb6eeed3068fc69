"""The one training loop. A model family plugs in data and a small ``step()``; the loop owns the rest.

BasicSR's ``optimize_parameters`` is the pattern: the family computes losses for one batch, the loop does
everything a run needs around it, the same way for every model:

- optimisers: Adam for the ``generator`` (the model that ships) and, when the family has one, for the
  ``discriminator``; a cosine learning-rate schedule over ``steps`` for each;
- the update order of an adversarial step: generator loss backward and step first, then the discriminator's
  gradients are cleared (the generator's loss reached them through ``D(fake)``) and its own loss stepped;
- a timestep per example (``TrainContext.timesteps``) for families trained with a noise schedule;
- EMA of the generator's weights (0.999 with the (1 + t) / (10 + t) warm-up, so the random initialisation is
  forgotten), kept on a copy of the generator (``copy.deepcopy``: whatever arguments built it);
- device and autocast: models and batches are moved to ``device``; bf16 autocast on that device's type;
- a wall-clock deadline (``minutes``) as well as a step budget; a run stopped by either resumes later;
- the run folder: ``config.json``, ``checkpoint.pt`` (everything to resume; written atomically),
  ``<model>.pt`` (the EMA weights of the best validation score, or the latest without validation),
  ``validation.json``, ``loss.png`` and ``summary.json``.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import torch
from torch import nn

from hdrvid.errors import InputError
from hdrvid.io.atomic import AtomicFile, write_text_atomic
from hdrvid.io.images import write_png
from hdrvid.io.report import Report
from hdrvid.machine import native_bf16

log = logging.getLogger("hdrvid")

GENERATOR = "generator"
DISCRIMINATOR = "discriminator"


@dataclass
class TrainConfig:
    """Everything ``hdrvid train`` can be told (one run folder per config)."""

    model: str = "expandnet"
    data: list[str] = field(default_factory=list)
    out: str = "runs/expandnet"
    steps: int = 2000
    batch: int = 8
    patch: int = 128
    lr: float = 3e-4
    lr_discriminator: float = 1e-4
    ema: float = 0.999
    cosine_weight: float = 5.0
    loss: str = ""
    """Single-exposure models: the content loss, "expandnet" (the default: L1 + cosine on log(1 + HDR)) or
    "psnr-mu" (the metric's mu-law encoding, squared error in clipped pixels, per picture in dB)."""
    bf16: bool = True
    device: str = "cpu"
    procedural: int = 40
    highlight_focus: float = 0.85
    """Share of crops required to contain clipping highlights (retry up to 8 times)."""
    graded_share: float = 0.4
    """Single-exposure models: share of training pictures made as graded SDR (tone curve with a shoulder)
    instead of a clip-at-white camera."""
    checkpoint_every: int = 100
    seed: int = 0
    threads: int | None = None
    samples: int = 600
    """Multi-exposure models: rendered samples held in memory (an eighth re-rendered every 100 steps)."""
    validation: int = 48
    """Fixed validation samples, rendered from validation images (never trained on)."""
    minutes: float | None = None
    """Stop after this many minutes of training (the schedule still spans ``steps``); resume continues."""
    adversarial: bool = False
    """Add a patch discriminator on tone-mapped output (non-saturating loss, one D step per G step)."""
    adversarial_weight: float = 0.01
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    """Overrides of the registered factory's arguments (tiny models in tests)."""
    sharpen_share: float = 0.0
    """Super-resolution family: share of training shots through ``synth.camera.sharpened`` (edges as real footage
    has them)."""
    temporal_weight: float = 0.0
    """Merge models: > 0 trains on realistic clips in consecutive pairs with this weight on the temporal loss
    (the change between consecutive outputs must match the truth's)."""
    sampler_weight: float = 0.0
    """Diffusion merge: > 0 adds the loss of the deterministic few-step sampler the model runs with (its
    default temperature; 2 or 4 DDIM steps, gradients through every step) on top of the noise-schedule
    losses, with this weight (``--sampler-weight``)."""
    stage: str = ""
    """Models trained in stages (``brackets``: generator, fusion, fusion-2x): the part that learns."""
    init: str | None = None
    """Start a new run from these weights (fine-tuning); parts of the model they do not cover (a new head)
    start from their initialisation and are listed in the log. Ignored when the run resumes."""
    teacher: str = ""
    """Single-exposure models: a shipped model (registry name, its own weights) whose output the model also learns
    to match (distillation: a smaller network for the CPU fast mode, issue 17)."""
    teacher_weight: float = 1.0
    """Weight of the distillation loss: mean |log(1 + y) - log(1 + teacher's y)| over every pixel."""

    def __post_init__(self) -> None:
        for name in ("steps", "batch", "patch", "checkpoint_every", "samples", "validation"):
            if getattr(self, name) < 1:
                raise InputError(f"--{name.replace('_', '-')} must be at least 1, not {getattr(self, name)}")
        if self.loss not in ("", "expandnet", "psnr-mu"):
            raise InputError(f"--loss {self.loss}: choose expandnet or psnr-mu")
        if self.procedural < 0:
            raise InputError(f"--procedural must be >= 0, not {self.procedural}")
        if not self.lr > 0 or not self.lr_discriminator > 0:
            raise InputError(f"--lr must be positive, not {self.lr}")
        if not 0 <= self.ema < 1:
            raise InputError(f"--ema must be in [0, 1), not {self.ema}")
        if self.init is not None and not Path(self.init).is_file():
            raise InputError(f"--init {self.init}: no such weights file")
        if not self.sampler_weight >= 0:
            raise InputError(f"--sampler-weight must be >= 0, not {self.sampler_weight}")
        if not self.temporal_weight >= 0:
            raise InputError(f"--temporal-weight must be >= 0, not {self.temporal_weight}")
        if not self.teacher_weight >= 0:
            raise InputError(f"--teacher-weight must be >= 0, not {self.teacher_weight}")
        if self.minutes is not None and not self.minutes > 0:
            raise InputError(f"--minutes must be positive, not {self.minutes}")
        if not (self.device == "cpu" or self.device.startswith("cuda") or self.device == "meta"):
            raise InputError(f"--device must be cpu or cuda[:N], not {self.device!r}")


@dataclass
class TrainContext:
    """What a family's ``step`` is given besides its batch."""

    step: int
    device: torch.device
    autocast: Callable[[], AbstractContextManager[Any]]
    generator: torch.Generator
    """Seeded random numbers on the CPU for anything the step samples (timesteps, noise)."""
    nets: dict[str, nn.Module] = field(default_factory=dict)
    """The networks being trained (``generator``, and ``discriminator`` when adversarial)."""

    def timesteps(self, n: int, count: int) -> torch.Tensor:
        """One timestep per example, uniform in [0, count): (n,) int64 on the training device."""
        return torch.randint(0, count, (n,), generator=self.generator).to(self.device)


class Family(Protocol):
    """A model family: its networks, its data, one step's losses, a validation score."""

    def networks(self) -> dict[str, nn.Module]:
        """``generator`` (the shipped model) and, optionally, ``discriminator``."""
        ...

    def batch(self, rng: np.random.Generator) -> Any:
        """One training batch (tensors on the CPU, any nesting of tuples/lists/dicts)."""
        ...

    def step(self, batch: Any, ctx: TrainContext) -> dict[str, torch.Tensor]:
        """Losses keyed by the optimiser they drive (``generator``, ``discriminator``); other keys are logged."""
        ...

    def validate(self, model: nn.Module, device: torch.device) -> float | None:
        """Validation loss of ``model`` (EMA weights, eval mode; lower is better), or None."""
        ...

    def describe(self) -> dict[str, Any]:
        """Data facts for the summary (images trained on, validation and held-out names)."""
        ...


@dataclass
class TrainSummary(Report):
    model: str
    steps: int
    stopped_by: str
    seconds_this_run: float
    final_loss: float | None
    best_validation: float | None
    weights: str
    data: dict[str, Any]
    precision: str = "fp32"
    """What the steps ran in: "bf16" (autocast) or "fp32" (``--fp32``, or a CPU without native bf16)."""

    def __str__(self) -> str:
        best = f", best validation {self.best_validation:.4g}" if self.best_validation is not None else ""
        return (f"{self.model}: step {self.steps} ({self.stopped_by}) in {self.seconds_this_run:.0f} s, "
                f"loss {self.final_loss if self.final_loss is None else round(self.final_loss, 5)}{best}; "
                f"weights {self.weights}")

    def __getitem__(self, key: str) -> Any:
        d = self.as_dict()
        return d[key] if key in d else self.data[key]


def to_device(batch: Any, device: torch.device) -> Any:
    """Tensors anywhere in a (nested) batch moved to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _cosine(steps: int) -> Callable[[int], float]:
    return lambda s: 0.5 * (1 + math.cos(math.pi * min(1.0, s / steps)))


class TrainLoop:
    def __init__(self, cfg: TrainConfig, family: Family) -> None:
        self.cfg = cfg
        self.family = family
        self.device = torch.device(cfg.device)
        nets = family.networks()
        if GENERATOR not in nets:
            raise ValueError("a training family must provide a 'generator' network")
        self.nets = {k: v.to(self.device) for k, v in nets.items()}
        self.opts = {k: torch.optim.Adam(v.parameters(), lr=cfg.lr if k == GENERATOR else cfg.lr_discriminator,
                                         betas=(0.9, 0.999) if k == GENERATOR else (0.5, 0.999))
                     for k, v in self.nets.items()}
        self.scheds = {k: torch.optim.lr_scheduler.LambdaLR(o, _cosine(cfg.steps)) for k, o in self.opts.items()}
        self.ema = {k: v.detach().clone() for k, v in self.generator.state_dict().items()}
        self.shadow = copy.deepcopy(self.generator).eval()  # the EMA weights are evaluated in this copy
        self.step = 0
        self.losses: list[tuple[int, float]] = []
        self.scores: list[dict[str, float]] = []
        self.best = float("inf")
        self.out = Path(cfg.out)

    @property
    def generator(self) -> nn.Module:
        return self.nets[GENERATOR]

    # --- state -------------------------------------------------------------------------------------------------

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoint.pt"

    @property
    def weights_path(self) -> Path:
        return self.out / f"{self.cfg.model}.pt"

    def save(self) -> None:
        state = {"models": {k: v.state_dict() for k, v in self.nets.items()}, "ema": self.ema,
                 "optimizers": {k: o.state_dict() for k, o in self.opts.items()},
                 "schedulers": {k: s.state_dict() for k, s in self.scheds.items()},
                 "step": self.step, "best": self.best,
                 "losses": torch.tensor(self.losses, dtype=torch.float64).reshape(-1, 2)}
        with AtomicFile(self.checkpoint_path, durable=True) as f:
            torch.save(state, f.path)

    def resume(self) -> bool:
        if not self.checkpoint_path.is_file():
            return False
        state = torch.load(self.checkpoint_path, map_location=self.device, weights_only=True)
        if "models" not in state:
            raise InputError(f"{self.checkpoint_path}: a checkpoint from an older hdrvid; start a new --out folder")
        for k, net in self.nets.items():
            net.load_state_dict(state["models"][k])
            self.opts[k].load_state_dict(state["optimizers"][k])
            self.scheds[k].load_state_dict(state["schedulers"][k])
        self.ema = state["ema"]
        self.step = int(state["step"])
        self.best = float(state["best"])
        self.losses = [(int(s), float(v)) for s, v in state["losses"].tolist()]
        scores = self.out / "validation.json"
        self.scores = json.loads(scores.read_text()) if scores.is_file() else []
        return True

    def initialise(self, weights: Path) -> None:
        """Fine-tuning: the generator (and its EMA copy) from ``weights``; new parameters keep their init."""
        if not weights.is_file():
            raise InputError(f"--init {weights}: no such weights file")
        state = torch.load(weights, map_location=self.device, weights_only=True)
        for name, module in self.generator.named_modules():  # a frozen part that takes the file's width (the
            if getattr(module, "adopts_width", False):           # shoulder detector, session 49) loads it first
                part = {k[len(name) + 1:]: v for k, v in state.items() if k.startswith(name + ".")}
                if part:
                    module.load_state_dict(part)
        own = self.generator.state_dict()
        params = {k for k, _ in self.generator.named_parameters()}
        # scalar buffers are the model's configuration (hdrunet-2x's sr.bound, sr.level, sr.shared_residual): the run's
        # own (its --model-arg), never the file's (a session-30 run trained at bound 4 carried its init's bound 2)
        config = {k for k, v in own.items() if k not in params and v.dim() == 0 and k in state and
                  not torch.equal(state[k].to(v.dtype), v)}
        fits = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape and k not in config}
        widened = {k: _widened(own[k], v) for k, v in state.items()
                   if k in params and k not in fits and _widens(own[k], v)}
        if not fits:
            raise InputError(f"--init {weights}: none of its tensors fit model {self.cfg.model!r}")
        new = sorted(k for k in own if k not in fits and k not in widened and k not in config)
        self.generator.load_state_dict({**own, **fits, **widened})
        self.ema = {k: v.detach().clone() for k, v in self.generator.state_dict().items()}
        log.info("initialised from %s (%d tensors; widened: %s; new: %s; the run's own configuration: %s)", weights,
                 len(fits), ", ".join(sorted(widened)) or "none", ", ".join(new) or "none",
                 ", ".join(sorted(config)) or "none")

    # --- one step ------------------------------------------------------------------------------------------------

    @property
    def uses_bf16(self) -> bool:
        """bf16 autocast (``bf16``, i.e. no ``--fp32``) where it pays: a GPU, or a CPU that computes bf16 natively
        (:func:`hdrvid.machine.native_bf16`); on other CPUs it is emulated and a step ~27x slower (session 45), so
        those train in fp32."""
        if not self.cfg.bf16 or self.device.type not in ("cpu", "cuda"):
            return False
        return self.device.type == "cuda" or native_bf16()

    def autocast(self) -> AbstractContextManager[Any]:
        return torch.autocast(self.device.type, dtype=torch.bfloat16) if self.uses_bf16 else nullcontext()

    def optimise(self, losses: dict[str, torch.Tensor]) -> None:
        for name in (GENERATOR, DISCRIMINATOR):
            if name not in self.nets or name not in losses:
                continue
            opt = self.opts[name]
            opt.zero_grad(set_to_none=True)  # (clears what the generator's loss left in the discriminator)
            losses[name].backward()
            opt.step()
            self.scheds[name].step()
        with torch.no_grad():
            decay = min(self.cfg.ema, (1 + self.step) / (10 + self.step))
            trained = {n for n, p in self.generator.named_parameters() if p.requires_grad}
            for k, v in self.generator.state_dict().items():
                if v.dtype.is_floating_point and k in trained:  # (frozen parts and buffers copied: exact, no drift)
                    self.ema[k].mul_(decay).add_(v.detach(), alpha=1 - decay)
                else:
                    self.ema[k].copy_(v)

    def validate_and_save(self) -> None:
        self.shadow.load_state_dict(self.ema)
        with torch.inference_mode():
            score = self.family.validate(self.shadow, self.device)
        recent = float(np.mean([v for _, v in self.losses[-50:]])) if self.losses else float("nan")
        entry: dict[str, float] = {"step": self.step, "train_loss": recent}
        if score is not None:
            entry["validation"] = score
        self.scores.append(entry)
        if score is None or score < self.best:
            self.best = score if score is not None else self.best
            with AtomicFile(self.weights_path) as f:
                torch.save({k: v.detach().cpu() for k, v in self.ema.items()}, f.path)
        self.save()
        plot_curve(self.losses, self.out / "loss.png")
        write_text_atomic(self.out / "validation.json", json.dumps(self.scores, indent=2) + "\n")

    # --- the run -------------------------------------------------------------------------------------------------

    def run(self, progress: bool = False) -> TrainSummary:
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(self.out / "config.json", json.dumps(asdict(cfg), indent=2, default=str) + "\n")
        if not self.resume() and cfg.init:
            self.initialise(Path(cfg.init))
        rng = np.random.default_rng([cfg.seed, self.step])  # a resumed run draws new data, deterministically
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.step)
        t0 = time.perf_counter()
        deadline = t0 + 60 * cfg.minutes if cfg.minutes else None
        stopped_by = "steps"
        for net in self.nets.values():
            net.train()
        if cfg.bf16 and not self.uses_bf16 and self.device.type == "cpu":
            log.info("this CPU has no native bf16 (emulated, a step would be ~27x slower): training in fp32")
        for _ in _progress(progress, cfg.steps, self.step, f"train {cfg.model}"):
            if self.step >= cfg.steps:
                break
            if deadline is not None and time.perf_counter() >= deadline:
                stopped_by = "deadline"
                break
            batch = to_device(self.family.batch(rng), self.device)
            ctx = TrainContext(self.step, self.device, self.autocast, gen, self.nets)
            losses = self.family.step(batch, ctx)
            self.step += 1
            self.optimise(losses)
            self.losses.append((self.step, float(losses[GENERATOR].detach())))
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                self.validate_and_save()
        if not self.scores or self.scores[-1]["step"] != self.step:
            self.validate_and_save()  # stopped between checkpoints (deadline): nothing is lost
        summary = TrainSummary(
            model=cfg.model, steps=self.step, stopped_by=stopped_by,
            seconds_this_run=round(time.perf_counter() - t0, 1),
            final_loss=float(np.mean([v for _, v in self.losses[-50:]])) if self.losses else None,
            best_validation=self.best if math.isfinite(self.best) else None, weights=str(self.weights_path),
            data=self.family.describe(), precision="bf16" if self.uses_bf16 else "fp32")
        write_text_atomic(self.out / "summary.json", json.dumps(summary.as_dict(), indent=2) + "\n")
        return summary


def _widens(own: torch.Tensor, theirs: torch.Tensor) -> bool:
    """A convolution of the run's model that takes more input channels than the file's and is otherwise the same
    (e.g. a network given one more input picture: ``--model-arg fuse_middle=true`` on ``brackets``)."""
    return (own.dim() == 4 and theirs.dim() == 4 and own.shape[1] > theirs.shape[1]
            and own.shape[0] == theirs.shape[0] and own.shape[2:] == theirs.shape[2:])


def _widened(own: torch.Tensor, theirs: torch.Tensor) -> torch.Tensor:
    """The file's weights on their input channels, zero on the new ones: the network starts as the file's (the new
    inputs change nothing until training finds a use for them)."""
    out = torch.zeros_like(own)
    out[:, : theirs.shape[1]] = theirs.to(own.dtype)
    return out


def _progress(enabled: bool, total: int, initial: int, desc: str) -> Iterator[None]:
    """Yields until the loop breaks; draws a tqdm bar when asked."""
    bar = None
    if enabled:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=initial, unit="step", desc=desc)
    try:
        while True:
            yield None
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()


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
    write_png(png, img)
