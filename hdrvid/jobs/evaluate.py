"""``hdrvid eval``: simulate cameras on held-out HDR images, run models, score them.

Every model sees exactly what ``hdrvid convert photo.png out.exr`` would give it: the 8-bit picture
decoded by the same function the image reader uses (sRGB, or BT.709 for the broadcast setting), through
the same registry and weights. Baselines are always measured in the same run: ``none`` (exact
linearisation) and ``itmo`` (classical expansion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from hdrvid.errors import OptionError
from hdrvid.io.images import list_hdr, read_hdr
from hdrvid.io.report import Report
from hdrvid.metrics.hdr import hdr_metrics, highlight_level
from hdrvid.models import for_single_exposure, get
from hdrvid.pipeline.decoder import linearise
from hdrvid.pipeline.inference import boost_expansion
from hdrvid.runtime import EngineOptions, make_executor
from hdrvid.synth.camera import ALL_SETTINGS, SETTINGS, Shot, shoot
from hdrvid.synth.views import perspective_view
from hdrvid.train.data import split, validation_split

REGIONS = ("all", "clipped", "unclipped")
METRICS = ("psnr_mu", "psnr_l", "pu21_psnr", "pu21_ssim", "pq_psnr", "delta_e_itp")
SCORES = (*METRICS, "highlight_level")
"""What ``--metric`` may show: the per-region metrics and the highlight level (clipped pixels only)."""


def model_input(signal: np.ndarray, nominal: str) -> torch.Tensor:
    """8-bit RGB -> the (1, 3, H, W) linear tensor hdrvid's image reader would hand the model."""
    lin = linearise(signal.astype(np.float32) / 255.0, nominal, "bt709")
    return torch.from_numpy(np.ascontiguousarray(lin.transpose(2, 0, 1)))[None]


def parse_label(label: str) -> tuple[str, float]:
    """``name[@scale][~boost]`` -> (``name[@scale]``, boost): ``~1.5`` scores the model at --highlight-boost 1.5."""
    name, _, boost = label.partition("~")
    try:
        return name, float(boost) if boost else 1.0
    except ValueError:
        raise OptionError(f"-m {label}: the part after ~ must be a --highlight-boost number") from None


BICUBIC = "+bicubic"
"""``eval --upscale 2`` label suffix: the model at 1x, upscaled bicubically (the reference of its 2x variant)."""


ENSEMBLE = "+"
"""``-m A+B``: the geometric mean of the models' outputs (an ensemble scored as one model; hdrunet card, session 34)."""


class Ensemble:
    """Runs every member on the frame and returns the geometric mean of their outputs (equal weights)."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        logs = [torch.log(m.infer(x).float().clamp(min=1e-6)) for m in self.members]
        return torch.exp(torch.stack(logs).mean(0))


def is_ensemble(label: str) -> bool:
    return ENSEMBLE in (label[: -len(BICUBIC)] if label.endswith(BICUBIC) else label)


def executor_for(label: str, weights: Path | None, engine: EngineOptions, upscale: int = 1) -> Any:
    """``name`` or ``name@scale`` (the fast mode at that --infer-scale); engine options apply to learned models.
    ``upscale=2``: a model's super-resolution variant where it has one (the others, and ``name+bicubic``, are
    upscaled by the caller). ``A+B``: an :class:`Ensemble` of the models (each with its own shipped weights)."""
    if label.endswith(BICUBIC):
        label, upscale = label[: -len(BICUBIC)], 1
    if ENSEMBLE in label:
        if not all(label.split(ENSEMBLE)):
            raise OptionError(f"-m {label}: an ensemble names a model on each side of +, e.g. hdrunet-auto+brackets")
        return Ensemble([executor_for(part, None, engine, upscale) for part in label.split(ENSEMBLE)])
    name, _, scale = parse_label(label)[0].partition("@")
    name = for_single_exposure(name)
    if upscale != 1 and get(name).upscaled:
        up = get(name).upscaled or name
        infer_scale = 1.0  # whole-frame networks run at full resolution
        if get(up).base:  # a variant refining its base model's output runs that model as at 1x (-m NAME@scale)
            infer_scale = float(scale) if scale else (engine.infer_scale or 1.0)
        return make_executor(up, weights, replace(engine, infer_scale=infer_scale))
    if not get(name).learned:
        return make_executor(name)
    if get(name).kind == "diffusion":
        opts = diffusion_options(label, scale, replace(engine, infer_scale=engine.infer_scale or 1.0))
        return make_executor(name, weights, opts)
    opts = replace(engine, infer_scale=float(scale) if scale else (engine.infer_scale or 1.0))
    return make_executor(name, weights, opts)


def diffusion_options(label: str, spec: str, engine: EngineOptions) -> EngineOptions:
    """A diffusion model given as NAME@K[:T[:S]] (``spec`` = "K[:T[:S]]", may be empty): K DDIM steps, noise
    scale T, the chain started at S of the schedule."""
    if not spec:
        return engine
    steps, _, rest = spec.partition(":")
    noise, _, start = rest.partition(":")
    try:
        return replace(engine, steps=int(steps), noise_scale=float(noise) if noise else None,
                       diffusion_start=float(start) if start else None)
    except ValueError:
        raise OptionError(f"-m {label}: give a diffusion model as NAME@STEPS[:NOISE[:START]], e.g. diffhdr@4:0 "
                          f"or diffhdr@4:0:0.25") from None


def eval_files(data: list[Path], split_name: str = "held-out", all_images: bool = False) -> list[Path]:
    """The images scored: the validation split, or the held-out panoramas (a folder of the user's own images
    is all held out), or every image."""
    files = list_hdr(data)
    if all_images:
        return files
    train_files, held = split(files)
    return (validation_split(train_files)[1] if split_name == "validation" else held) or files


def eval_shot(img: np.ndarray, seed: int, i: int, j: int, setting: str) -> tuple[Shot, torch.Tensor]:
    """Picture ``i`` through camera ``setting`` (the ``j``-th ``evaluate`` scores) as ``evaluate`` shoots it, with
    the draws ``[seed, i, j]``: (the shot, the model's input). Studies that score ``evaluate``'s pictures use it."""
    shot = shoot(img, np.random.default_rng([seed, i, j]), setting)
    return shot, model_input(shot.signal, shot.nominal)


def eval_pictures(files: list[Path], views: int, width: int, seed: int) -> list[tuple[str, np.ndarray]]:
    """The pictures ``evaluate`` scores, (scene name, linear HDR) each: ``views`` rectilinear views of each panorama
    (``panorama_views``, seeds ``[seed, i, 99]``), or each image resized to ``width`` (also every image when
    ``views`` is 0)."""
    pictures: list[tuple[str, np.ndarray]] = []
    for i, f in enumerate(files):
        pano = read_hdr(f)
        if views and pano.shape[1] == 2 * pano.shape[0]:
            pictures += [(f.stem, v) for v in panorama_views(pano, views, width, [seed, i, 99])]
            continue
        img = pano
        if img.shape[1] != width:
            h = max(8, round(img.shape[0] * width / img.shape[1]))
            img = cv2.resize(img, (width, h), interpolation=cv2.INTER_AREA)
        pictures.append((f.stem, img))
    return pictures


def panorama_views(pano: np.ndarray, count: int, width: int, seed: list[int]) -> list[np.ndarray]:
    """``count`` rectilinear views of a panorama (width x 2/3 width; yaw any, pitch -15..30 deg, horizontal
    FOV 50-85 deg), drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        yaw, pitch = float(rng.uniform(-math.pi, math.pi)), math.radians(float(rng.uniform(-15, 30)))
        out.append(perspective_view(pano, yaw, pitch, math.radians(float(rng.uniform(50, 85))),
                                    (width, width * 2 // 3)))
    return out


def evaluate(models: list[str], data: list[Path], settings: tuple[str, ...] = SETTINGS, width: int = 512,
             seed: int = 0, weights: dict[str, Path] | None = None, all_images: bool = False,
             engine: EngineOptions = EngineOptions(), split_name: str = "held-out", views: int = 0,
             upscale: int = 1) -> EvalReport:
    """``split_name``: "held-out" (the project's held-out panoramas), or "validation" (every 7th training
    image: what checkpoints and settings are chosen on). ``views``: score this many rectilinear views of each
    panorama (width x 2/3 width, fixed seeds) instead of the whole resized panorama. ``upscale=2``: the
    cameras shoot the picture downscaled 2x (area) and every output is scored against the full-size truth;
    a model that does not upscale itself is upscaled bicubically (``brackets`` runs its 2x variant)."""
    files = eval_files(data, split_name, all_images)
    names = list(dict.fromkeys(["none", "itmo", *models]))
    if upscale != 1:  # beside each 2x variant, its model at 1x upscaled bicubically (what the variant must beat)
        names += [f"{n}{BICUBIC}" for n in models if not is_ensemble(n)
                  and get(for_single_exposure(parse_label(n)[0].partition("@")[0])).upscaled]
    nets = {n: executor_for(n, (weights or {}).get(n.partition("@")[0].partition("~")[0]) if not n.endswith(BICUBIC)
                            else None, engine, upscale) for n in names}
    scores: dict[str, dict[str, dict[str, list[float]]]] = {
        n: {s: {**{f"{r}/{m}": [] for r in REGIONS for m in METRICS}, "clipped/highlight_level": []}
            for s in settings} for n in names}
    pictures = eval_pictures(files, views, width, seed)
    for i, (_, img) in enumerate(pictures):
        if upscale != 1:
            img = img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2]
            small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
        for j, setting in enumerate(settings):
            shot, x = eval_shot(img if upscale == 1 else small, seed, i, j, setting)
            target, clipped = shot.target, shot.clipped
            if upscale != 1:
                target = img * np.float32(shot.exposure)
                clipped = cv2.resize(clipped.astype(np.uint8), img.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
            for n, net in nets.items():
                with torch.inference_mode():
                    y = boost_expansion(x, net.infer(x), parse_label(n)[1]) if upscale == 1 else net.infer(x)
                    if y.shape[-2:] != target.shape[:2]:  # bicubic upscaling of a model that does not upscale
                        y = F.interpolate(y, size=target.shape[:2], mode="bicubic", align_corners=False).clamp(min=0)
                    pred = y[0].permute(1, 2, 0).double().numpy()
                for region, mask in (("all", None), ("clipped", clipped), ("unclipped", ~clipped)):
                    if mask is not None and not mask.any():
                        continue
                    for k, v in hdr_metrics(pred, target, mask).items():
                        if math.isfinite(v):
                            scores[n][setting][f"{region}/{k}"].append(v)
                level = highlight_level(pred, target, clipped)
                if math.isfinite(level):
                    scores[n][setting]["clipped/highlight_level"].append(level)
    table = {n: {s: {k: (float(np.mean(v)) if v else None) for k, v in per.items()} for s, per in sv.items()}
             for n, sv in scores.items()}
    return EvalReport(images=[f.stem for f in files], settings=list(settings), models=names, scores=table,
                      split=split_name if not all_images else "all", views=views, upscale=upscale)


@dataclass
class EvalReport(Report):
    """``hdrvid eval`` (single exposure): scores per model, camera setting and region/metric."""

    images: list[str]
    settings: list[str]
    models: list[str]
    scores: dict[str, dict[str, dict[str, float | None]]]
    split: str = "held-out"
    views: int = 0
    upscale: int = 1
    alignment: str = "one least-squares factor in log luminance per image (see hdrvid.metrics.hdr)"

    def table(self, metric: str = "pu21_psnr") -> str:
        lines = []
        for region in REGIONS:
            if all(self.scores[n][s].get(f"{region}/{metric}") is None for n in self.models for s in self.settings):
                continue
            lines.append(f"{metric} ({region} pixels)".ljust(26) + "".join(s.rjust(12) for s in self.settings)
                         + "mean".rjust(10))
            for n in self.models:
                vals = [self.scores[n][s].get(f"{region}/{metric}") for s in self.settings]
                ok = [v for v in vals if v is not None]
                lines.append(f"  {n}".ljust(26) + "".join((f"{v:12.2f}" if v is not None else "           -")
                                                          for v in vals) + (f"{np.mean(ok):10.2f}" if ok else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return (f"{len(self.images)} images: {', '.join(self.images)}\n{self.table('pu21_psnr')}\n{self.table('psnr_mu')}"
                f"\n{self.table('highlight_level')}")


@dataclass
class StackReport(Report):
    """``hdrvid eval --stack``: the ``brackets`` generator's synthetic exposures against the camera's own."""

    images: list[str]
    settings: list[str]
    evs: list[float]
    psnr: dict[str, dict[str, float]]
    """"model" / "nominal" (a pure exposure shift of the picture, no network) -> EV -> PSNR in dB (code domain)."""
    psnr_clipped: dict[str, dict[str, float]]
    """The same over the pixels the picture clipped."""
    wrong_way: float
    """Share of pixels (any channel, 1/255 tolerance) that move the wrong way between neighbouring exposures."""

    def __str__(self) -> str:
        head = "EV".ljust(22) + "".join(f"{e:+g}".rjust(9) for e in self.evs)
        rows = [head]
        for region, table in (("all", self.psnr), ("clipped", self.psnr_clipped)):
            for k in ("nominal", "model"):
                rows.append(f"{k} ({region})".ljust(22) + "".join(f"{table[k][f'{e:+g}']:9.2f}" for e in self.evs))
        return "\n".join(rows) + f"\nmonotonicity violations: {100 * self.wrong_way:.3f}% of pixels"


def evaluate_stack(data: list[Path], weights: Path | None = None, width: int = 384, seed: int = 0,
                   views: int = 2, split_name: str = "validation",
                   settings: tuple[str, ...] = ALL_SETTINGS) -> StackReport:
    """Per-EV PSNR (8-bit code domain, the picture's own encoding) of the generator's -3..+3 EV exposures
    against the same camera at that exposure (``Shot.render``: no noise, no codec), beside a pure exposure
    shift, on rectilinear views of the validation (or held-out) panoramas."""
    from hdrvid.models import build
    from hdrvid.models.brackets import STACK_EVS, BracketNet, TwoStage
    from hdrvid.train.brackets import code_domain

    model = build("brackets", weights)
    assert isinstance(model, TwoStage)
    files = eval_files(data, split_name)
    evs = list(STACK_EVS)
    sq: dict[str, dict[float, list[float]]] = {k: {e: [] for e in evs} for k in ("model", "nominal", "model/c", "nominal/c")}
    wrong, total = 0.0, 0
    for i, f in enumerate(files):
        for img in panorama_views(read_hdr(f), views, width, [seed, i, 99]):
            for j, setting in enumerate(settings):
                shot = shoot(img, np.random.default_rng([seed, i, j, 7]), setting)
                assert shot.render is not None
                s = torch.from_numpy(code_domain(shot.signal, shot.nominal))[None]
                clipped = torch.from_numpy(shot.clipped)
                with torch.inference_mode():
                    stack = model.brackets(s, evs)
                for e, out in zip(evs, stack):
                    truth = torch.from_numpy(code_domain(shot.render(2.0**e), shot.nominal))[None]
                    nominal = BracketNet.base(s, torch.tensor([e]))
                    for k, y in (("model", out), ("nominal", nominal)):
                        d2 = ((y - truth) ** 2).mean(1)[0]
                        sq[k][e].append(float(d2.mean()))
                        if clipped.any():
                            sq[f"{k}/c"][e].append(float(d2[clipped].mean()))
                ordered = stack[:3] + [s] + stack[3:]
                for a, b in zip(ordered, ordered[1:]):
                    wrong += float(((a - b) > 1.0 / 255).any(1).float().mean())
                    total += 1

    def db(v: list[float]) -> float:
        return round(10 * math.log10(1 / max(float(np.mean(v)), 1e-12)), 2) if v else float("nan")

    return StackReport(images=[f.stem for f in files], settings=list(settings), evs=evs,
                       psnr={k: {f"{e:+g}": db(sq[k][e]) for e in evs} for k in ("model", "nominal")},
                       psnr_clipped={k: {f"{e:+g}": db(sq[f"{k}/c"][e]) for e in evs} for k in ("model", "nominal")},
                       wrong_way=round(wrong / max(total, 1), 5))
