"""Other starting points for `--upscale 2` than bicubic upscaling of the base's output (session 45 study).

    python start_eval.py SEED [OUT.json]

evaluate()'s `--upscale 2` protocol (validation, 8 views a scene, 192 px, five cameras, the picture seed SEED): for
each shot the base (`hdrunet-auto` at the input's size, as `hdrunet-2x` runs it) and, scored against the full-size
truth with `hdr_metrics` (all / clipped / unclipped PSNR-mu):
  bicubic   bicubic2x(base)                      (issue 15's reference)
  shipped   hdrunet-2x: bicubic2x(base) * exp(r)  (r: the shipped network's residual)
  gainlin   bicubic2x(x) * exp(bicubic(log(base / x)))   (the picture and the model's gain upscaled apart)
  gainsig   the same with the picture upscaled in its gamma signal (-bil: the gain bilinear)
  logbase   the base upscaled in the network's log encoding; gammabase: in a 1/2.2 power
  *+r       each of those with the shipped network's residual on top (trained on `bicubic`'s start)
"""
import json
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from hdrvid.engines.backends import backend_from_options
from hdrvid.io.images import read_hdr
from hdrvid.jobs.evaluate import eval_files, executor_for, model_input, panorama_views
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.models.hdrunet import SIGNAL_GAMMA
from hdrvid.models.superres import bicubic2x, decode, encode
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS, shoot

torch.set_num_threads(1)
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"),
     Path("../shared/hdri-train/blender-world")]
seed = int(sys.argv[1])
out = Path(sys.argv[2]) if len(sys.argv) > 2 else None
E = 1e-4


def up(t):
    return F.interpolate(t, scale_factor=2, mode="bicubic", align_corners=False)


def starts(x, base):
    g = torch.log((base + E) / (x + E))
    ug = torch.exp(up(g))
    s = x.clamp(0, 1) ** (1 / SIGNAL_GAMMA)
    ugl = torch.exp(F.interpolate(g, scale_factor=2, mode="bilinear", align_corners=False))
    sig_up = up(s).clamp(0, 1) ** SIGNAL_GAMMA
    return {"bicubic": bicubic2x(base),
            "gainlin": up(x).clamp(min=0) * ug,
            "gainsig": sig_up * ug,
            "gainsig-bil": sig_up * ugl,
            "logbase": decode(up(encode(base))),
            "gammabase": up(base.clamp(min=0) ** (1 / SIGNAL_GAMMA)).clamp(min=0) ** SIGNAL_GAMMA}


ex = executor_for("hdrunet-auto", None, EngineOptions(backend=backend_from_options("torch", "cpu", "fp32", 1),
                                                      infer_scale=None), 2)
sr = ex.model.sr.float().eval()
files = eval_files(D, "validation", False)
pictures = []
for i, f in enumerate(files):
    pictures += [(f.stem, v) for v in panorama_views(read_hdr(f), 8, 192, [seed, i, 99])]
scores = {}
t0 = time.time()
for i, (_, img) in enumerate(pictures):
    img = img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2]
    small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    for j, setting in enumerate(ALL_SETTINGS):
        shot = shoot(small, np.random.default_rng([seed, i, j]), setting)
        x = model_input(shot.signal, shot.nominal)
        target = img * np.float32(shot.exposure)
        clipped = cv2.resize(shot.clipped.astype(np.uint8), img.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
        with torch.inference_mode():
            base = ex.base.infer(x).float()
            r = sr.residual(x, base).float()
            preds = {}
            for k, v in starts(x, base).items():
                v = v.clamp(min=0)
                preds[k] = v
                preds[k + "+r"] = decode(encode(v) + r)
        preds["shipped"] = preds.pop("bicubic+r")
        for k, y in preds.items():
            pred = y[0].permute(1, 2, 0).double().numpy()
            for region, mask in (("all", None), ("clipped", clipped), ("unclipped", ~clipped)):
                if mask is not None and not mask.any():
                    continue
                v = hdr_metrics(pred, target, mask)["psnr_mu"]
                if math.isfinite(v):
                    scores.setdefault(k, {}).setdefault(setting, {}).setdefault(region, []).append(v)
table = {k: {s: {r: float(np.mean(v)) for r, v in d.items()} for s, d in sv.items()} for k, sv in scores.items()}
ref = np.mean([table["bicubic"][s]["all"] for s in ALL_SETTINGS])
for k, sv in table.items():
    m = np.mean([sv[s]["all"] for s in ALL_SETTINGS])
    print(f"{k:10s} " + " ".join(f"{sv[s]['all']:.2f}" for s in ALL_SETTINGS) + f"  mean {m:.3f} ({m - ref:+.3f})"
          + "  clipped " + " ".join(f"{sv[s].get('clipped', float('nan')):.2f}" for s in ALL_SETTINGS)
          + "  unclipped " + " ".join(f"{sv[s]['unclipped']:.2f}" for s in ALL_SETTINGS))
print(f"({time.time() - t0:.0f} s)")
if out:
    out.write_text(json.dumps(table, indent=1))
