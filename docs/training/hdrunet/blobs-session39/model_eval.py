"""hdrunet-auto with and without its per-blob level (the shipped rule, as `convert` runs it) on the validation views
(`eval`'s: 8 per scene, 384 px, five cameras), scored by `hdr_metrics`: clipped / unclipped / all-pixel PSNR-mu
per camera. python model_eval.py SEED [SEED ...] (no PU21-SSIM: the PSNR-mu figures are `eval`'s to the digit)"""
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
import hdrvid.jobs.evaluate as E
from hdrvid.engines.backends import backend_from_options
from hdrvid.io.images import list_hdr, read_hdr
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS, shoot
from hdrvid.train.data import split, validation_split

ROOT = Path(__file__).resolve().parents[5] / "shared" / "hdri-train"
files = validation_split(split(list_hdr([ROOT / "pmndrs-1k", ROOT / "polyhaven-1k", ROOT / "blender-world"]))[0])[1]
engine = EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None)
net = E.executor_for("hdrunet-auto", None, engine)
model = net.model
rule = model.blob_level
assert rule is not None
res = {lab: {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS} for lab in ("off", "on")}
t0 = time.time()
for seed in (int(s) for s in sys.argv[1:]):
    pictures = []
    for i, f in enumerate(files):
        pictures += [(f.stem, v) for v in E.panorama_views(read_hdr(f), 8, 384, [seed, i, 99])]
    for i, (_, img) in enumerate(pictures):
        for j, setting in enumerate(ALL_SETTINGS):
            shot = shoot(img, np.random.default_rng([seed, i, j]), setting)
            x = E.model_input(shot.signal, shot.nominal)
            for lab in ("off", "on"):
                model.blob_level = rule if lab == "on" else None
                with torch.inference_mode():
                    pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
                for region, mask in (("all", None), ("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
                    if mask is not None and not mask.any():
                        continue
                    v = hdr_metrics(pred, shot.target, mask, ssim=False)["psnr_mu"]
                    if math.isfinite(v):
                        res[lab][setting][region].append(v)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
for region in ("clipped", "unclipped", "all"):
    for lab in ("off", "on"):
        print(f"{lab:4s} {region:9s}", " / ".join(f"{np.mean(res[lab][s][region]):.2f}" for s in ALL_SETTINGS))
