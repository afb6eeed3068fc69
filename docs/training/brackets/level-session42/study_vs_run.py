"""Study against run, picture by picture (validation seed 0, srgb-mid): each picture's clipped PSNR-mu as `convert`
runs `brackets` with its level off and on, and what the blob study (the masked pickle, the shipped rule's factors by BlobLevel.predict, linear
interpolation on the grid) predicts; prints the pictures where the two differ by more than 0.3 dB.
python study_vs_run.py   (from the checkout; runs/mblobs-validation0.pkl from blob_study.py MASKED=1)"""
import math
import pickle
import sys

import numpy as np
import torch

sys.path.insert(0, "docs/training/hdrunet/blobs-session39")
import fit as F
from common import aligned, scene_files, shots

import hdrvid.jobs.evaluate as E
from hdrvid.engines.backends import backend_from_options
from hdrvid.runtime import EngineOptions

net = E.executor_for("brackets", None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None))
rule = net.model.blob_level
d = pickle.load(open("runs/mblobs-validation0.pkl", "rb")); pics, grid = d["pics"], d["grid"]
n = 0
for i, j, setting, shot, x in shots(scene_files("validation"), 0):
    if setting != "srgb-mid" or not shot.clipped.any(): continue
    out = {}
    for lv in (0, 1):
        net.model.blob_level = rule if lv else None
        pred, ref, k, mu, mref = aligned(net, shot, x)
        c = shot.clipped
        out[lv] = (-10 * math.log10(((mu(pred[c]) - mref[c]) ** 2).mean()), k)
    pi = [t for t, p in enumerate(pics) if p["i"] == i and p["j"] == j][0]
    bl = [b for b in d["blobs"] if b["pic"] == pi]
    p = pics[pi]
    e0 = p["err_rest"] + sum(b["errs"][8] for b in bl)
    g = torch.from_numpy(rule.predict(F.features(pics, bl).numpy().astype(np.float64))) if bl else torch.zeros(0)
    e1 = p["err_rest"] + float(F.interp(torch.tensor(np.array([b["errs"] for b in bl])), grid, g).sum()) if bl else e0
    st = lambda e: -10 * math.log10(e / (3 * p["nclip"]))
    if abs(out[1][0] - st(e1)) > 0.3: print(i, "runtime off %.2f on %.2f (k %.3f -> %.3f) | study off %.2f on %.2f" % (out[0][0], out[1][0], out[0][1], out[1][1], st(e0), st(e1)), flush=True)
    n += 1
    pass
