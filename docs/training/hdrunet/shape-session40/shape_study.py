"""Within-blob shape: per clipped blob, the squared mu-law error of hdrunet-auto (as shipped, per-blob level on)
scaled by 2^(g0 + s*t) for a grid of (g0, s), t = a profile inside the blob (0 at its edge, 1 deep inside).
python shape_study.py SEED OUT.pkl   (validation views as `hdrvid eval --views 8 --width 384`)"""
import pickle
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "blobs-session39"))
from common import aligned, hdrunet_auto, scene_files, shots

seed, out_path = int(sys.argv[1]), Path(sys.argv[2])
which = sys.argv[3] if len(sys.argv) > 3 else "validation"
G0 = np.arange(-2, 4.01, 0.25)
S = np.array([-1, 0, 0.5, 1, 2, 3, 4, 6])
PROFILES = ("rel", "abs8", "abs24")
net, state = hdrunet_auto(level=True)
pics, blobs = [], []
t0 = time.time()
for i, j, setting, shot, x in shots(scene_files(which), seed):
    if i % 8 == 7 and j == 0:
        print(i, "%.0f s" % (time.time() - t0), len(blobs), flush=True)
    if not shot.clipped.any() or shot.clipped.all():
        continue
    pred, _, k, mu, mref = aligned(net, shot, x)
    clip = shot.clipped
    n, lab = cv2.connectedComponents(clip.astype(np.uint8), connectivity=8)
    dist = cv2.distanceTransform(np.pad(clip.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1]
    pic = dict(i=i, j=j, setting=setting, p=state["p"], nclip=int(clip.sum()))
    err_rest = 0.0
    for b in range(1, n):
        m = lab == b
        area = int(m.sum())
        if area < 4:
            err_rest += float(((mu(pred[m]) - mref[m]) ** 2).sum())
            continue
        pb, rb, d = pred[m], mref[m], dist[m]
        ts = {"rel": d / d.max(), "abs8": np.minimum(d / 8, 1), "abs24": np.minimum(d / 24, 1)}
        errs = np.zeros((len(PROFILES), len(S), len(G0)))
        for a, prof in enumerate(PROFILES):
            t = ts[prof]
            for si, s in enumerate(S):
                f = 2.0 ** (G0[None, :] + s * t[:, None])  # (npix, nG0)
                e = (mu(pb[:, :, None] * f[:, None, :]) - rb[:, :, None]) ** 2
                errs[a, si] = e.sum((0, 1))
        blobs.append(dict(pic=len(pics), area=area, dmax=float(d.max()), errs=errs))
    pic.update(err_rest=err_rest)
    pics.append(pic)
tmp = out_path.with_suffix(".part")
pickle.dump(dict(pics=pics, blobs=blobs, g0=G0, s=S, profiles=PROFILES), open(tmp, "wb"))
tmp.replace(out_path)
