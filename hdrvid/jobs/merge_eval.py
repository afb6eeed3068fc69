"""``hdrvid eval --mode alternating``: merges scored against ground truth on semi-synthetic clips.

For each held-out HDR image and each exposure cycle, a clip with camera and object motion is rendered
(:mod:`hdrvid.synth.alternating`), written as H.264 and decoded again by hdrvid's own decoder; the cycle's
phase is measured as ``convert --mode alternating`` does. Every merge runs through the same pipeline
stage convert uses. Per clip: PSNR-mu and PU21-PSNR over all frames (one log-luminance scale factor per
frame, as in :mod:`hdrvid.metrics.hdr`), the output's temporal flicker against the ground truth's
(:mod:`hdrvid.metrics.flicker`, in PQ), and merge time per frame. ``reference`` is the reference frame
alone (its radiance, no merge).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hdrvid.color.transfer import pq_inverse_eotf
from hdrvid.errors import InputError
from hdrvid.io.images import list_hdr, read_hdr
from hdrvid.io.report import Report
from hdrvid.jobs.evaluate import diffusion_options
from hdrvid.jobs.merge_stills import kalantari_scene, merge_stills
from hdrvid.metrics.flicker import FlickerMeter
from hdrvid.metrics.hdr import hdr_metrics, luminance
from hdrvid.models.merge import radiance
from hdrvid.pipeline.alternating import AlternatingMerge, Cycle, fit_cycle, make_merger, relative_evs
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder
from hdrvid.pipeline.frame import Frame
from hdrvid.runtime import EngineOptions
from hdrvid.synth.alternating import SynthConfig, frames_hdr, realistic_config, synth_alternating
from hdrvid.synth.views import perspective_view
from hdrvid.train.data import split, validation_split

CYCLES = ((-2.0, 2.0), (-2.0, 0.0, 2.0))


class ReferenceOnly:
    name, needs_flow = "reference", False

    def merge(self, ref: np.ndarray, ev_ref: float, neighbours: Any) -> np.ndarray:
        return radiance(ref, ev_ref)


def decode_all(path: Path) -> list[Frame]:
    dec = VideoDecoder(path, DecodeOptions())
    try:
        return list(dec)
    finally:
        dec.close()


def run_merge(merger: Any, frames: list[Frame], cycle: Cycle) -> tuple[list[np.ndarray], float]:
    stage = AlternatingMerge(merger, cycle)
    out: list[np.ndarray] = []
    t0 = time.perf_counter()
    for f in frames:
        copy = Frame(index=f.index, pts=f.pts, time_base=f.time_base, data=f.data.clone())
        out += [g.data.numpy() for g in stage.process(copy)]
    out += [g.data.numpy() for g in stage.flush()]
    return out, (time.perf_counter() - t0) / max(1, len(frames))


def _pq(rel: np.ndarray) -> np.ndarray:
    return np.asarray(pq_inverse_eotf(np.clip(luminance(rel) * 203.0, 0, 10000)), np.float32)


def log_flicker(preds: list[np.ndarray], gts: list[np.ndarray]) -> tuple[float, float]:
    """(signed, unsigned) flicker against the truth, from the frame-to-frame change of mean log2 luminance:
    signed = mean |change| of the output minus that of the truth (0 ideal, > 0 pumps); unsigned = mean
    |change of the output - change of the truth| per transition."""
    lo = np.array([np.log2(np.maximum(luminance(p.transpose(1, 2, 0)), 1e-6)).mean() for p in preds])
    lt = np.array([np.log2(np.maximum(luminance(g), 1e-6)).mean() for g in gts])
    do, dt = np.diff(lo), np.diff(lt)
    if not len(do):
        return float("nan"), float("nan")
    return float(np.abs(do).mean() - np.abs(dt).mean()), float(np.abs(do - dt).mean())


def clip_scale(preds: list[np.ndarray], gts: list[np.ndarray]) -> float:
    """One factor for the whole clip (least squares in log luminance over every frame): a merge whose
    brightness alternates from frame to frame is not forgiven by a per-frame scale."""
    num, count = 0.0, 0
    for p, g in zip(preds, gts):
        yp, yg = luminance(p.transpose(1, 2, 0)), luminance(g)
        ok = (yp > 1e-8) & (yg > 1e-8)
        num += float(np.sum(np.log(yg[ok]) - np.log(yp[ok])))
        count += int(ok.sum())
    return float(np.exp(num / count)) if count else 1.0


def score_clip(preds: list[np.ndarray], gts: list[np.ndarray],
               clipped: list[np.ndarray] | None = None) -> dict[str, float]:
    """``clipped``: per frame, (H, W) bool where the reference frame was clipped (for the clipped-pixel PSNR).
    The prediction is scaled by one factor per clip (:func:`clip_scale`), then scored frame by frame."""
    k = np.float32(clip_scale(preds, gts))
    preds = [p * k for p in preds]
    ms = [hdr_metrics(p.transpose(1, 2, 0), g, align=False) for p, g in zip(preds, gts)]
    mc = [hdr_metrics(p.transpose(1, 2, 0), g, m, align=False)
          for p, g, m in zip(preds, gts, clipped or []) if m.any()]
    signed, unsigned = log_flicker(preds, gts)
    meter = FlickerMeter(warp=True)
    for p, g in zip(preds, gts):
        ph = p.transpose(1, 2, 0)
        meter.add(_pq(g), _pq(ph), luminance(g), luminance(ph))
    fl = meter.summary()
    return {"psnr_mu": float(np.mean([m["psnr_mu"] for m in ms])),
            "pu21_psnr": float(np.mean([m["pu21_psnr"] for m in ms])),
            "psnr_mu_clipped": float(np.mean([m["psnr_mu"] for m in mc])) if mc else float("nan"),
            "flicker_log_ratio": fl["log_change_ratio"] or float("nan"),
            "flicker_warp_ratio": fl["warp_error_ratio"] or float("nan"),
            "flicker_signed": signed, "flicker_unsigned": unsigned}


def clip_source(img: np.ndarray, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A rectilinear (pinhole) view of a panorama with room for the camera to move, or the picture as is."""
    if img.shape[1] != 2 * img.shape[0]:
        return img
    w, h = size
    yaw, pitch = float(rng.uniform(-np.pi, np.pi)), np.radians(float(rng.uniform(-15, 30)))
    fov = np.radians(float(rng.uniform(55, 90)))
    return perspective_view(img, yaw, pitch, fov, (round(1.7 * w), round(1.7 * h)))


def _merger(label: str, engine: Any, weights: dict[str, Path]) -> Any:
    """``name``, or for a diffusion merge ``name@K`` (K DDIM steps), ``name@K:T`` (and noise scale T) or
    ``name@K:T:S`` (and the chain started at S of the schedule)."""
    name, _, spec = label.partition("@")
    kwargs: dict[str, Any] = {}
    if spec:
        engine = diffusion_options(label, spec, engine or EngineOptions())
    if name in weights:
        kwargs["weights"] = weights[name]
    return make_merger(name, engine=engine, **kwargs)


def evaluate_alternating(merges: list[str], data: list[Path], cycles: tuple[tuple[float, ...], ...] = CYCLES,
                         frames: int = 24, size: tuple[int, int] = (480, 270), seed: int = 0,
                         all_images: bool = False, engine: Any = None, realistic: bool = False,
                         split_name: str = "held-out", weights: dict[str, Path] | None = None) -> AlternatingEvalReport:
    """Merges are names (``--merge`` choices); a diffusion merge may be given as NAME@K[:T[:S]] (K DDIM steps,
    noise scale T, the chain started at S of the schedule).
    ``weights``: merge name -> weights file instead of the shipped one. ``realistic``: clips drawn by :func:`hdrvid.synth.alternating.realistic_config` (exposure ratios 4-16,
    areas clipped in every exposure, objects cut from another scene, motion blur, other camera responses,
    H.264 crf 18-26) from rectilinear views; ``cycles`` then only gives the number of exposures (the EVs are
    drawn). ``split_name``: "held-out" or "validation" (what merges and checkpoints are chosen on)."""
    files = list_hdr(data)
    if not all_images:
        train_files, held = split(files)
        files = (validation_split(train_files)[1] if split_name == "validation" else held) or files
    lab = (lambda c: f"{len(c)} exposures") if realistic else _label
    names = list(dict.fromkeys(["reference", "debevec", "flowmerge", *merges]))
    mergers = {n: ReferenceOnly() if n == "reference" else _merger(n, engine, weights or {}) for n in names}
    per: dict[str, dict[str, list[dict[str, float]]]] = {n: {lab(c): [] for c in cycles} for n in names}
    timing: dict[str, list[float]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="hdrvid-alt-") as tmp:
        for i, f in enumerate(files):
            img = read_hdr(f)
            for j, cyc in enumerate(cycles):
                clip_seed = seed * 1000 + i * 10 + j
                donor = None
                cfg = SynthConfig(exposures=cyc, frames=frames, size=size, seed=clip_seed)
                if realistic:
                    rng = np.random.default_rng([clip_seed, 13])
                    cfg = realistic_config(rng, len(cyc), frames, size, clip_seed)
                    img = clip_source(read_hdr(f), size, rng)
                    donor = clip_source(read_hdr(files[(i + 1) % len(files)]), size, rng)
                    cyc = cfg.exposures
                video = Path(tmp) / f"{f.stem}-{j}.mp4"
                synth_alternating(img, video, None, cfg, donor)
                gt_iter, _ = frames_hdr(img, cfg, donor)
                gts = list(gt_iter)
                decoded = decode_all(video)
                pics = [d.data.numpy()[:, ::2, ::2] for d in decoded[:18]]
                cycle = fit_cycle(relative_evs(pics), cyc)
                for n, m in mergers.items():
                    preds, sec = run_merge(m, decoded, cycle)
                    clipped = [d.data.numpy().max(0) ** (1 / 2.2) >= 0.98 for d in decoded]
                    per[n][lab(cycles[j])].append(score_clip(preds, gts, clipped))
                    timing[n].append(sec)
    table = {n: {c: {k: float(np.nanmean([s[k] for s in v])) for k in v[0]} if v else {} for c, v in cv.items()}
             for n, cv in per.items()}
    return AlternatingEvalReport(
        images=[f.stem for f in files], cycles=[lab(c) for c in cycles], merges=names, scores=table,
        ms_per_frame={n: round(1000 * float(np.mean(t)), 1) for n, t in timing.items()}, size=list(size), frames=frames)


def _label(cycle: tuple[float, ...]) -> str:
    return "/".join(f"{v:+g}" for v in cycle)


@dataclass
class AlternatingEvalReport(Report):
    """``hdrvid eval --mode alternating``: scores per merge and exposure cycle, and the time per frame."""

    images: list[str]
    cycles: list[str]
    merges: list[str]
    scores: dict[str, dict[str, dict[str, float]]]
    ms_per_frame: dict[str, float]
    size: list[int]
    frames: int
    note: str = "semi-synthetic clips (real HDR images, simulated camera and object motion, H.264)"

    def __str__(self) -> str:
        cycles = self.cycles
        cols = (("psnr_mu", "PSNR-mu"), ("psnr_mu_clipped", "clipped"), ("pu21_psnr", "PU21"),
                ("flicker_signed", "flicker"), ("flicker_unsigned", "|flicker|"), ("flicker_warp_ratio", "warp"))
        head = f"{'merge':<12}" + "".join(f"{c + ' ' + name:>19}" for c in cycles for _, name in cols) + f"{'ms/frame':>10}"
        lines = [head]
        for n in self.merges:
            s = self.scores[n]
            row = f"{n:<12}" + "".join(
                f"{s[c].get(k, float('nan')):>19.{4 if k.startswith('flicker_') and k != 'flicker_warp_ratio' else 2}f}"
                for c in cycles for k, _ in cols)
            lines.append(row + f"{self.ms_per_frame[n]:>10.1f}")
        lines.append(f"({len(self.images)} images, {self.frames} frames at {self.size[0]}x{self.size[1]}; flicker = "
                     f"mean |change of mean log2 luminance| minus the truth's (0 ideal), |flicker| = per transition; "
                     f"warp = output/ground-truth warping error; clipped = PSNR-mu where the reference frame clipped; "
                     f"{self.note})")
        return "\n".join(lines)


@dataclass
class KalantariEvalReport(Report):
    """``hdrvid eval --dataset kalantari``: scores per merge over still brackets with ground truth."""

    scenes: list[str]
    merges: list[str]
    scores: dict[str, dict[str, float]]
    alignment: str = "one least-squares factor in log luminance per image (see hdrvid.metrics.hdr)"

    def __str__(self) -> str:
        lines = [f"{'merge':<12}{'PSNR-mu':>10}{'PSNR-L':>10}{'PU21-PSNR':>11}{'PU21-SSIM':>11}"]
        for n in self.merges:
            s = self.scores[n]
            lines.append(f"{n:<12}{s['psnr_mu']:>10.2f}{s['psnr_l']:>10.2f}{s['pu21_psnr']:>11.2f}"
                         f"{s['pu21_ssim']:>11.4f}")
        lines.append(f"({len(self.scenes)} scenes)")
        return "\n".join(lines)


def evaluate_kalantari(merges: list[str], folders: list[Path], engine: Any = None) -> KalantariEvalReport:
    """Still brackets in the Kalantari 2017 layout: each folder is a scene, or holds scene folders."""
    scenes = []
    for folder in folders:
        cands = [folder] if (folder / "exposure.txt").is_file() else sorted(p for p in folder.iterdir() if p.is_dir())
        scenes += [c for c in cands if (c / "exposure.txt").is_file()]
    if not scenes:
        raise InputError(f"no Kalantari-layout scenes (folders with exposure.txt) under {', '.join(map(str, folders))}")
    names = list(dict.fromkeys(["debevec", "flowmerge", *merges]))
    scores: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    with tempfile.TemporaryDirectory(prefix="hdrvid-kal-") as tmp:
        for scene in scenes:
            _, _, gt_path = kalantari_scene(scene)
            if gt_path is None:
                raise InputError(f"{scene}: no HDRImg.hdr ground truth")
            gt = read_hdr(gt_path)
            for n in names:
                out = Path(tmp) / f"{scene.name}-{n}.exr"
                merge_stills([scene], out, method=n, engine=engine)
                scores[n].append(hdr_metrics(read_hdr(out), gt))
    table = {n: {k: float(np.mean([s[k] for s in v])) for k in v[0]} for n, v in scores.items()}
    return KalantariEvalReport(scenes=[s.name for s in scenes], merges=names, scores=table)
