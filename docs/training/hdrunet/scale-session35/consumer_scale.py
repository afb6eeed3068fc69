"""Consumer camera at two widths (same views): per picture clipped PSNR-mu of none / itmo / hdrunet-auto and
the default's shoulder weight (graded or camera footage)."""
import sys
from pathlib import Path

import numpy as np
import torch

from hdrvid.io.images import read_hdr
from hdrvid.jobs.evaluate import eval_files, executor_for, model_input, panorama_views
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS, shoot

torch.set_num_threads(1)
cam = sys.argv[1] if len(sys.argv) > 1 else "consumer"
data = [Path("../shared/hdri-train") / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]
files = eval_files(data, "validation")
j = ALL_SETTINGS.index(cam)
rows = []
for width, scale in ((384, 1.0), (1920, 1 / 6)):
    nets = {"none": executor_for("none", None, EngineOptions()), "itmo": executor_for("itmo", None, EngineOptions()),
            "auto": executor_for(f"hdrunet-auto@{scale}", None, EngineOptions())}
    pics = [v for i, f in enumerate(files) for v in panorama_views(read_hdr(f), 2, width, [0, i, 99])]
    for i, img in enumerate(pics):
        shot = shoot(img, np.random.default_rng([0, i, j]), cam)
        x = model_input(shot.signal, shot.nominal)
        r = {"w": width, "i": i, "clip%": float(shot.clipped.mean() * 100)}
        for s, net in nets.items():
            with torch.inference_mode():
                y = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            if shot.clipped.any():
                r[s] = hdr_metrics(y, shot.target, shot.clipped, ssim=False)["psnr_mu"]
            if s == "auto":
                m = net.model if hasattr(net, "model") else None
                w = getattr(m, "last_shoulder", None)
                r["shoulder"] = float(w.float().mean()) if w is not None else -1
        rows.append(r)
        print(r, flush=True)
