"""The per-blob level model fitted by fit.py (h=16, on train0.pkl) applied to hdrunet-auto's output on the validation
views and scored with `hdr_metrics` itself (its own alignment): clipped / unclipped / all-pixel PSNR-mu per camera,
shipped vs corrected. python blob_eval.py TRAIN.pkl SEED [SEED ...]"""
import sys
import time

import cv2
import numpy as np
import torch

torch.set_num_threads(1)
import fit as F
from analyse import load
from common import hdrunet_auto, scene_files, score, views_of

import hdrvid.jobs.evaluate as E
from hdrvid.metrics.hdr import luminance
from hdrvid.synth.camera import ALL_SETTINGS, shoot

tp, tb, grid = load([sys.argv[1]])
model = F.fit(tp, tb, grid, 16)
seeds = [int(s) for s in sys.argv[2:]]
net, state = hdrunet_auto(level=False)  # the model without its shipped per-blob level, as the study saw it
def ring(mask, r0, r1):
    a = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r1 + 1, 2 * r1 + 1)))
    b = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r0 + 1, 2 * r0 + 1))) if r0 else mask
    return (a > 0) & ~(b > 0)

def correct(lin, pred, p):
    clip = lin.max(-1) >= 0.953
    if not clip.any() or clip.all():
        return pred
    ylin, ypred = luminance(lin), luminance(pred)
    n, lab, stats, cents = cv2.connectedComponentsWithStats(clip.astype(np.uint8), connectivity=8)
    hgt, wid = clip.shape
    pic = dict(p=p, frac_clip=float(clip.mean()), mean_lum=float(ylin.mean()))
    blobs, masks = [], []
    for b in range(1, n):
        area = int(stats[b, cv2.CC_STAT_AREA])
        if area < 4:
            continue
        m = lab == b
        mu8 = m.astype(np.uint8)
        feats = {}
        for (r0, r1) in ((0, 2), (2, 6), (6, 16), (16, 40)):
            rg = ring(mu8, r0, r1) & ~clip
            feats[f"ring{r1}"] = float(ylin[rg].mean()) if rg.any() else float("nan")
        x0, y0, w0, h0 = stats[b, :4]
        feats.update(area=area, frac=area / clip.size, bw=int(w0), bh=int(h0), pic=0,
                     border=int(x0 == 0 or y0 == 0 or x0 + w0 == wid or y0 + h0 == hgt),
                     cy=float(cents[b, 1]) / hgt, cx=float(cents[b, 0]) / wid,
                     pred_mean=float(np.log2(np.maximum(ypred[m], 1e-6)).mean()),
                     pred_max=float(np.log2(max(ypred[m].max(), 1e-6))),
                     lin_sat=float((lin[m].max(1) - lin[m].min(1)).mean() / max(lin[m].max(1).mean(), 1e-6)))
        blobs.append(feats); masks.append(m)
    if not blobs:
        return pred
    g = model([pic], blobs).numpy()
    gain = np.ones(clip.shape)
    for m, gi in zip(masks, g):
        gain[m] = 2.0 ** float(np.clip(gi, -2, 8))
    return pred * gain[..., None]

files = scene_files("validation")
res = {lab: {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS} for lab in ("shipped", "blob")}
t0 = time.time()
for seed in seeds:
    for i, (_, img) in enumerate(views_of(files, seed)):
        for j, setting in enumerate(ALL_SETTINGS):
            shot = shoot(img, np.random.default_rng([seed, i, j]), setting)
            x = E.model_input(shot.signal, shot.nominal)
            with torch.inference_mode():
                y = net.infer(x)
            pred = y[0].permute(1, 2, 0).double().numpy()
            lin = x[0].permute(1, 2, 0).numpy().astype(np.float64)
            for lab, pr in (("shipped", pred), ("blob", correct(lin, pred, state["p"]))):
                score(res[lab][setting], pr, shot)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
for lab, per in res.items():
    for region in ("clipped", "unclipped", "all"):
        print(f"{lab:8s} {region:9s}", " / ".join(f"{np.mean(per[s][region]):.2f}" for s in ALL_SETTINGS))
