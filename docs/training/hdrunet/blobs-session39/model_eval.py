"""hdrunet-auto with and without its per-blob level (the shipped rule, as `convert` runs it) on the validation views
(`eval`'s: 8 per scene, 384 px, five cameras), scored by `hdr_metrics`: clipped / unclipped / all-pixel PSNR-mu
per camera. python model_eval.py SEED [SEED ...] (no PU21-SSIM: the PSNR-mu figures are `eval`'s to the digit)"""
import sys
import time

import numpy as np
import torch

torch.set_num_threads(1)
from common import hdrunet_auto, scene_files, score, shots

from hdrvid.synth.camera import ALL_SETTINGS

files = scene_files("validation")
net, _ = hdrunet_auto(level=True)
hdrunet = net.model
rule = hdrunet.blob_level
assert rule is not None
res = {lab: {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS} for lab in ("off", "on")}
t0 = time.time()
for seed in (int(s) for s in sys.argv[1:]):
    for _, _, setting, shot, x in shots(files, seed):
        for lab in ("off", "on"):
            hdrunet.blob_level = rule if lab == "on" else None
            with torch.inference_mode():
                pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            score(res[lab][setting], pred, shot)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
for region in ("clipped", "unclipped", "all"):
    for lab in ("off", "on"):
        print(f"{lab:4s} {region:9s}", " / ".join(f"{np.mean(res[lab][s][region]):.2f}" for s in ALL_SETTINGS))
