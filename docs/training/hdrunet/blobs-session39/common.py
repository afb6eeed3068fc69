"""What the session-39 study scripts share: the scenes, `eval`'s views of them, and `hdrunet-auto` run on one thread
with its detector's probability kept for each picture (``state["p"]``)."""
import math
import os
from pathlib import Path

import numpy as np
import torch

import hdrvid.jobs.evaluate as E
import hdrvid.models.hdrunet as H
from hdrvid.engines.backends import backend_from_options
from hdrvid.io.images import list_hdr
from hdrvid.metrics.hdr import MU, align_scale, hdr_metrics
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS
from hdrvid.train.data import split, validation_split

ROOT = Path(__file__).resolve().parents[5] / "shared" / "hdri-train"
DATA = [ROOT / "pmndrs-1k", ROOT / "polyhaven-1k", ROOT / "blender-world"]


def scene_files(which: str) -> list[Path]:
    """The validation split's scenes, or the training scenes (real ones: no rendered scene), never the held-out six."""
    train, val = validation_split(split(list_hdr(DATA))[0])
    return val if which == "validation" else [f for f in train if "rendered" not in f.stem]


def views_of(files: list[Path], seed: int) -> list[tuple[str, object]]:
    """`hdrvid eval`'s views (VIEWS a scene, default 8; 384 px) with picture seed ``seed``."""
    return E.eval_pictures(files, int(os.environ.get("VIEWS", 8)), 384, seed)


def shots(files: list[Path], seed: int):
    """Each of `eval`'s views (:func:`views_of`) through each camera as `eval` shoots it: (view index, camera index,
    camera, the shot, the model's input)."""
    for i, (_, img) in enumerate(views_of(files, seed)):
        for j, setting in enumerate(ALL_SETTINGS):
            yield i, j, setting, *E.eval_shot(img, seed, i, j, setting)


def score(res: dict, pred: np.ndarray, shot) -> None:
    """Append ``pred``'s PSNR-mu over all, the clipped and the unclipped pixels (as `hdr_metrics` scores them; a
    region the picture lacks is left out) to ``res["all"]``, ``res["clipped"]``, ``res["unclipped"]``."""
    for region, mask in (("all", None), ("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
        if mask is not None and not mask.any():
            continue
        v = hdr_metrics(pred, shot.target, mask, ssim=False)["psnr_mu"]
        if math.isfinite(v):
            res[region].append(v)


def aligned(net, shot, x):
    """The model's answer for ``x`` aligned to the shot's truth as `hdr_metrics` aligns it, and the mu-law the metric
    encodes with: (aligned answer, (H, W, 3) float64; the truth, clipped at 0; the factor k; mu(v) over the truth's
    peak; mu of the truth)."""
    with torch.inference_mode():
        y = net.infer(x)
    pred = np.clip(y[0].permute(1, 2, 0).double().numpy(), 0, None)
    ref = np.clip(shot.target.astype(np.float64), 0, None)
    k = align_scale(pred, ref)
    top = max(float(ref.max()), 1e-12)

    def mu(v):
        return np.log1p(MU * v / top) / math.log1p(MU)

    return pred * k, ref, k, mu, mu(ref)


def hdrunet_auto(level: bool) -> tuple[object, dict]:
    """`hdrunet-auto` (with or without its per-blob level) as `eval` runs it, and the dict its detector's
    probability is kept in."""
    torch.set_num_threads(1)
    H.BLOB_LEVEL = level
    net = E.executor_for("hdrunet-auto", None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1),
                                                             infer_scale=None))
    state: dict = {}
    orig = H.HDRUNet.shoulder_weight

    def kept(self, linear):
        w = orig(self, linear)
        state["p"] = float(self.shoulder(linear).flatten()[0])
        return w

    H.HDRUNet.shoulder_weight = kept
    return net, state


def as_shipped(name: str):
    """The model ``name`` as `eval` runs it (its executor: torch on one CPU thread, no inference scale), nothing
    changed: what the sessions-55/56 comparisons run (brackets/session55/single_eval.py, session56/oracle_eval.py)."""
    torch.set_num_threads(1)
    return E.executor_for(name, None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1),
                                                    infer_scale=None))


def table() -> dict:
    """An empty result table for :func:`score`: camera -> region -> per-picture PSNR-mu."""
    return {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS}


def row(res: dict, region: str) -> str:
    """One line of a :func:`table`: each camera's mean in ``region`` ("-" where no picture had it)."""
    return " / ".join(f"{np.mean(res[s][region]):.2f}" if res[s][region] else "-" for s in ALL_SETTINGS)


def brackets_without_level() -> tuple[object, dict]:
    """`brackets` as `eval` runs it, without its per-blob level (session 40 studies it), and a dict whose "p" is its
    detector's probability for the last picture (the model keeps it: ``BracketHDR.last_p``)."""
    net = as_shipped("brackets")
    net.model.blob_level = None

    class LastP(dict):
        def __getitem__(self, key):
            return float(net.model.last_p[0]) if key == "p" else super().__getitem__(key)

    return net, LastP()


def default_and_brackets() -> dict[str, object]:
    """`hdrunet-auto` and `brackets`, both as shipped (per-blob levels on) and as `eval` runs them on one thread, by
    name: what the per-picture comparisons of the two run (brackets/pictures-session49, brackets/session54)."""
    auto, _ = hdrunet_auto(level=True)
    return {"hdrunet-auto": auto, "brackets": as_shipped("brackets")}
