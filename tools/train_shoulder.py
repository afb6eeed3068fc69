"""Train the shoulder detector of ``hdrunet-auto`` (``hdrvid.models.shoulder``) and write it into hdrunet.pt.

    python tools/train_shoulder.py --data ../shared/hdri-train [--per-scene 240] [--seed 3] [--out FILE]

Pictures: rectilinear views (256-512 px wide, 3:2 or 16:9, yaw any, pitch -15..30 deg, field of view 45-90 deg)
of the training panoramas (the project's training split minus the validation scenes, as every model's
training), each shot by one of the five simulated cameras in turn, graded ones three times as often
(``SCHEDULE``, ``hdrvid.synth.camera``); label 1 for the
cameras with a shoulder ("graded", "consumer"), 0 for the clip-at-white ones. The same on the validation
scenes (60 views each, another seed) gives the accuracy table printed at the end, per camera. The features are
clamped to the training range at use, so footage unlike the training pictures cannot push the MLP into
extrapolation. Without ``--out`` nothing is written.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
from pathlib import Path

import numpy as np
import torch

from hdrvid.errors import HdrvidError
from hdrvid.io.images import list_hdr, read_hdr
from hdrvid.models.hdrunet import SHOULDER_HI, SHOULDER_LO
from hdrvid.models.registry import load_state_dict
from hdrvid.models.shoulder import ShoulderDetector, features
from hdrvid.synth.camera import ALL_SETTINGS, GRADED, shoot
from hdrvid.synth.views import perspective_view
from hdrvid.train.data import split, validation_split

SHOULDER = {"consumer", "graded"}
SCHEDULE = (*ALL_SETTINGS, GRADED, GRADED)
"""The cameras in turn: graded pictures three times as often as each camera, since their grades vary most (the
project's luminance operators, S-curves and the per-channel film curves); the loss weighs the clip-at-white
cameras up when asked (``--camera-weight``; 4/3 makes both classes count equally)."""


def scene_pictures(i: int, f: Path, per_scene: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    torch.set_num_threads(1)
    pano = np.clip(read_hdr(f), 0, None)
    feats, settings = [], []
    for j in range(per_scene):
        rng = np.random.default_rng([seed, i, j])
        w = int(rng.choice([256, 256, 384, 512]))
        yaw = float(rng.uniform(-math.pi, math.pi))
        pitch = math.radians(float(rng.uniform(-15, 30)))
        fov = math.radians(float(rng.uniform(45, 90)))
        size = (w, w * 2 // 3) if rng.random() < 0.7 else (w, w * 9 // 16)
        setting = SCHEDULE[j % len(SCHEDULE)]
        shot = shoot(perspective_view(pano, yaw, pitch, fov, size), rng, setting)
        lin = torch.from_numpy(shot.linear.transpose(2, 0, 1).copy())[None]
        feats.append(features(lin)[0].numpy())
        settings.append(setting)
    print(f"{i + 1} {f.stem}", flush=True)
    return feats, settings


def pictures(files: list[Path], per_scene: int, seed: int, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    jobs = [(i, f, per_scene, seed) for i, f in enumerate(files)]
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            done = pool.starmap(scene_pictures, jobs)
    else:
        done = [scene_pictures(*j) for j in jobs]
    return np.stack([x for fs, _ in done for x in fs]), np.array([s for _, ss in done for s in ss])


def fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, steps: int = 4000, seed: int = 0) -> ShoulderDetector:
    """One MLP; the loss weighs each picture by ``weights``."""
    torch.manual_seed(seed)
    det = ShoulderDetector()
    with torch.no_grad():
        det.lo.copy_(torch.from_numpy(x.min(0)))
        det.hi.copy_(torch.from_numpy(x.max(0)))
        det.mean.copy_(torch.from_numpy(x.mean(0)))
        det.std.copy_(torch.from_numpy(x.std(0) + 1e-3))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    weight = torch.from_numpy(weights.astype(np.float32))
    opt = torch.optim.AdamW(det.net.parameters(), 3e-3, weight_decay=1e-2)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(0, len(xt), (512,), generator=gen)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(det.logit_of(xt[idx]), yt[idx], weight=weight[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return det.eval()


def ensemble(dets: list[ShoulderDetector]) -> ShoulderDetector:
    """One detector whose logit is the mean of ``dets``' logits (their hidden units side by side, the output layer
    divided by their number); the feature range and normalisation are the first's (the same data: identical)."""
    n = len(dets)
    one = ShoulderDetector(sum(d.net[0].out_features for d in dets))
    state = {k: v for k, v in dets[0].state_dict().items() if not k.startswith("net.")}
    state["net.0.weight"] = torch.cat([d.net[0].weight for d in dets])
    state["net.0.bias"] = torch.cat([d.net[0].bias for d in dets])
    state["net.2.weight"] = torch.cat([d.net[2].weight for d in dets], 1) / n
    state["net.2.bias"] = sum(d.net[2].bias for d in dets) / n
    one.load_state_dict({k: v.detach().clone() for k, v in state.items()})
    return one.eval()


def calibrate(det: ShoulderDetector, xv: np.ndarray, sv: np.ndarray, rate: float) -> float:
    """Shift ``det``'s output bias so that ``rate`` of the validation pictures from the clip-at-white cameras get
    p > SHOULDER_LO (the curve starts there); returns the shift."""
    with torch.no_grad():
        logits = det.logit_of(torch.from_numpy(xv)).numpy()
        cams = ~np.isin(sv, list(SHOULDER))
        shift = math.log(SHOULDER_LO / (1 - SHOULDER_LO)) - float(np.quantile(logits[cams], 1 - rate))
        det.net[2].bias += shift
    return shift


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True, help="the hdri-train folder (pmndrs-1k, polyhaven-1k, "
                                                               "blender-world are used)")
    ap.add_argument("--per-scene", type=int, default=240)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--camera-weight", type=float, default=1.0, help="loss weight of the clip-at-white cameras")
    ap.add_argument("--consumer-weight", type=float, default=1.0, help="loss weight of the consumer camera")
    ap.add_argument("--ensemble", type=int, default=1, help="fit this many MLPs (seeds 0..N-1) and average their logits")
    ap.add_argument("--false-call-rate", type=float, help="shift the output so that this share of the validation's "
                                                           "clip-at-white pictures gets p > SHOULDER_LO")
    ap.add_argument("--val-per-scene", type=int, default=60)
    ap.add_argument("--workers", type=int, default=1, help="processes making the pictures")
    ap.add_argument("--cache", type=Path, help="keep the pictures' features in this .npz (made once, then reused: "
                                               "refitting with another --camera-weight takes seconds)")
    ap.add_argument("--out", type=Path, help="hdrunet weights file to write the detector into")
    a = ap.parse_args()
    try:
        # checked before the minutes of work: the data is there, the weights file is a plain tensor file
        files = list_hdr([a.data / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")])
        state = load_state_dict(a.out, None) if a.out else None
    except HdrvidError as e:
        sys.exit(f"train_shoulder: error: {e}")
    torch.set_num_threads(1)
    train, _ = split(files)
    tr, va = validation_split(train)
    if a.cache and a.cache.exists():
        try:
            with np.load(a.cache) as z:
                xt, st, xv, sv = z["xt"], z["st"], z["xv"], z["sv"]
        except (OSError, ValueError, KeyError) as e:
            sys.exit(f"train_shoulder: error: {a.cache}: not a features cache this tool wrote ({e}); delete it")
    else:
        xt, st = pictures(tr, a.per_scene, a.seed, a.workers)
        xv, sv = pictures(va, a.val_per_scene, a.seed + 8, a.workers)
        if a.cache:
            tmp = a.cache.with_name(a.cache.name + ".part.npz")
            np.savez(tmp, xt=xt, st=st, xv=xv, sv=sv)
            tmp.replace(a.cache)  # whole or not at all
    y = np.array([s in SHOULDER for s in st], np.float32)
    w = np.where(y > 0.5, np.where(st == "consumer", a.consumer_weight, 1.0), a.camera_weight)
    dets = [fit(xt, y, w, seed=k) for k in range(a.ensemble)]
    det = dets[0] if len(dets) == 1 else ensemble(dets)
    if a.false_call_rate is not None:
        print(f"output shifted by {calibrate(det, xv, sv, a.false_call_rate):+.4f} (--false-call-rate {a.false_call_rate})")
    with torch.no_grad():
        pv = det(torch.from_numpy(xv), precomputed=True).numpy()
    yv = np.array([s in SHOULDER for s in sv])
    print(f"validation accuracy {np.mean((pv > 0.5) == yv):.3f} ({len(yv)} pictures, {len(va)} scenes)")
    for s in ALL_SETTINGS:
        p = pv[sv == s]
        print(f"  {s:10s} mean p {p.mean():.2f}  p > 0.5: {np.mean(p > 0.5):.2f}  "
              f"no curve (p < {SHOULDER_LO}): {np.mean(p < SHOULDER_LO):.2f}  "
              f"full curve (p > {SHOULDER_HI}): {np.mean(p > SHOULDER_HI):.2f}")
    if a.out and state is not None:
        state = {k: v for k, v in state.items() if not k.startswith("shoulder.")}
        state.update({f"shoulder.{k}": v.clone() for k, v in det.state_dict().items()})
        tmp = a.out.with_name(a.out.name + ".part")
        torch.save(state, tmp)
        tmp.replace(a.out)  # written whole or not at all
        print(f"wrote the detector into {a.out}")


if __name__ == "__main__":
    main()
