"""Per clipped blob: what scaling the default's output inside it would be worth (an oracle with the truth), and
features a run-time rule could read (the input around the blob, the model's own answer).

python blob_study.py SPLIT SEED OUT.npz   (SPLIT = train | validation; views as `hdrvid eval --views 8 --width 384`)
(MODEL=brackets in the environment: the same study of `brackets` without its level, session 40; MASKED=1 below)

For every picture and camera: hdrunet-auto's output, aligned to the truth as `hdr_metrics` aligns it (k fixed from
the output as shipped); the clipped pixels' squared mu-law error outside the blobs; per blob (8-connected clipped
pixels, at least MIN_PIX) its squared error for each scale on GRID and its features."""
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

torch.set_num_threads(1)
from common import aligned, brackets_without_level, hdrunet_auto, scene_files, views_of

import hdrvid.jobs.evaluate as E
from hdrvid.metrics.hdr import luminance
from hdrvid.synth.camera import ALL_SETTINGS, shoot

which, seed, out_path = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
GRID = np.linspace(-2, 8, 41)  # log2 scale
MIN_PIX = 4
# the study is of the model without its per-blob level (session 39 ships it; session 40 for brackets)
net, state = brackets_without_level() if os.environ.get("MODEL") == "brackets" else hdrunet_auto(level=False)
UNGAINED = os.environ.get("UNGAINED") == "1"
"""UNGAINED=1 (session 53): the model's own level, a feature, read before the average-light cap's gain, as
`BlobLevel` reads it at run time (the level acts before `GradedCurve.gained`); without it the features come from
the finished output, as sessions 39-52 read them."""
MASKED = os.environ.get("MASKED") == "1"
"""MASKED=1 (session 42): a blob's scale acts through the model's own mask, as the run-time rule applies it
(`BlobLevel` through `color.kernels.blob_gain`: camera frames from code ~252.5), not on all its clipped pixels: the
unmasked study scored pixels at codes 250-252.5 that the rule never moves (brackets card, session 42)."""
if MASKED:
    from hdrvid.color.kernels import blob_gain
    from hdrvid.models.blob_level import SIGNAL_GAMMA

    class MaskOf:
        """Stands where the per-blob level sits in the model: keeps the mask it would act through (log2 of the gain
        one stop everywhere gives), leaves the answer as it is."""
        mask = None

        def __call__(self, linear, out, p, bounds, shift):
            x = linear[0].detach().float().contiguous().numpy()
            ones = np.ones(x.shape, np.float32)
            blob_gain(x, ones, np.ones(x.shape[1:], np.float32), 1,
                      None if shift is None else shift[0, 0].float().contiguous().numpy(),
                      float(bounds[0].flatten()[0]), float(bounds[1].flatten()[0]), SIGNAL_GAMMA)
            MaskOf.mask = np.log2(ones[0]).astype(np.float64)
            return out

    holder = getattr(net.model, "base", net.model)
    holder.blob_level = MaskOf()
pictures = views_of(scene_files(which), seed)[::int(os.environ.get("STRIDE", 1))]  # STRIDE=2: every other view
K = np.ones((3, 3), np.uint8)
def ring(mask, r0, r1):
    a = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r1 + 1, 2 * r1 + 1)))
    b = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r0 + 1, 2 * r0 + 1))) if r0 else mask
    return (a > 0) & ~(b > 0)

pics, blobs = [], []
t0 = time.time()
for i, (scene, img) in enumerate(pictures):
    for j, setting in enumerate(ALL_SETTINGS):
        shot = shoot(img, np.random.default_rng([seed, i, j]), setting)
        if not shot.clipped.any() or shot.clipped.all():
            continue
        x = E.model_input(shot.signal, shot.nominal)
        pred, ref, k, mu, mref = aligned(net, shot, x)
        clip = shot.clipped
        lin = x[0].permute(1, 2, 0).numpy().astype(np.float64)
        ylin = luminance(lin)
        ypred = luminance(pred) / k
        gc = getattr(getattr(net.model, "base", net.model), "graded_curve", None)
        gain = 1.0 if gc is None or gc.last_gain is None else float(gc.last_gain.flatten()[0])
        if UNGAINED:  # the level reads the answer before the average-light cap's gain (as the model applies it)
            ypred = ypred / gain
        n, lab, stats, cents = cv2.connectedComponentsWithStats(clip.astype(np.uint8), connectivity=8)
        err_rest = 0.0
        hgt, wid = clip.shape
        unclipped = ~clip
        pic = dict(i=i, j=j, scene=scene, setting=setting, p=state["p"], nclip=int(clip.sum()), npix=clip.size,
                   frac_clip=float(clip.mean()), mean_lum=float(ylin.mean()), k=k, gain=gain)
        nb = 0
        for b in range(1, n):
            area = int(stats[b, cv2.CC_STAT_AREA])
            m = lab == b
            e1 = (mu(pred[m]) - mref[m]) ** 2
            if area < MIN_PIX:
                err_rest += float(e1.sum())
                continue
            pb, rb = pred[m], mref[m]
            if MASKED:
                mk = MaskOf.mask[m][:, None]
                errs = np.array([float(((mu(pb * 2.0 ** (g * mk)) - rb) ** 2).sum()) for g in GRID])
            else:
                errs = np.array([float(((mu(pb * 2.0 ** g) - rb) ** 2).sum()) for g in GRID])
            mu8 = m.astype(np.uint8)
            feats = {}
            for (r0, r1) in ((0, 2), (2, 6), (6, 16), (16, 40)):
                rg = ring(mu8, r0, r1) & unclipped
                feats[f"ring{r1}"] = float(ylin[rg].mean()) if rg.any() else float("nan")
                feats[f"ringfrac{r1}"] = float(rg.sum()) / max(area, 1)
            x0, y0, w0, h0 = stats[b, :4]
            feats.update(area=area, frac=area / clip.size, bw=int(w0), bh=int(h0),
                         border=int(x0 == 0 or y0 == 0 or x0 + w0 == wid or y0 + h0 == hgt),
                         cy=float(cents[b, 1]) / hgt, cx=float(cents[b, 0]) / wid,
                         pred_mean=float(np.log2(np.maximum(ypred[m], 1e-6)).mean()),
                         pred_max=float(np.log2(max(ypred[m].max(), 1e-6))),
                         lin_sat=float((lin[m].max(1) - lin[m].min(1)).mean() / max(lin[m].max(1).mean(), 1e-6)),
                         truth_mean=float(np.log2(max(luminance(ref[m]).mean() / k, 1e-9))))
            blobs.append(dict(pic=len(pics), errs=errs, **feats))
            nb += 1
        err_rest += float(((mu(pred[clip & (lab == 0)]) - mref[clip & (lab == 0)]) ** 2).sum())
        pic.update(err_rest=err_rest, nblobs=nb)
        pics.append(pic)
    if i % 8 == 7:
        print(i, len(pictures), "%.0f s" % (time.time() - t0), len(blobs), flush=True)

import pickle

tmp = out_path.with_suffix(".part")
with open(tmp, "wb") as fh:
    pickle.dump(dict(pics=pics, blobs=blobs, grid=GRID), fh)
tmp.replace(out_path)
