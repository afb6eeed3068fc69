"""hdrunet-auto with and without its per-blob level (the shipped rule, as `convert` runs it) on the validation views
(`eval`'s: 8 per scene, 384 px, five cameras), scored by `hdr_metrics`: clipped / unclipped / all-pixel PSNR-mu
per camera. python model_eval.py SEED [SEED ...] (no PU21-SSIM: the PSNR-mu figures are `eval`'s to the digit)"""
import math
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
from common import hdrunet_auto, scene_files, views_of

import hdrvid.jobs.evaluate as E
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.synth.camera import ALL_SETTINGS, shoot

files = scene_files("validation")
net, _ = hdrunet_auto(level=True)
hdrunet = net.model
rule = hdrunet.blob_level
assert rule is not None
res = {lab: {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS} for lab in ("off", "on")}
t0 = time.time()
for seed in (int(s) for s in sys.argv[1:]):
    for i, (_, img) in enumerate(views_of(files, seed)):
        for j, setting in enumerate(ALL_SETTINGS):
            shot = shoot(img, np.random.default_rng([seed, i, j]), setting)
            x = E.model_input(shot.signal, shot.nominal)
            for lab in ("off", "on"):
                hdrunet.blob_level = rule if lab == "on" else None
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
