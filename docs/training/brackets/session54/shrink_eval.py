"""`brackets` on level_eval.py's protocol with the field's spread inside each clipped blob shrunk towards the blob's
mean (log light, the channels' mean): f' = m + SHRINK (f - m) where MODE=both, only above the mean where
MODE=peaks (SMALL=0.005: blobs below that share of the frame keep all their spread). Blobs: 8-connected components of max(R, G, B) >= CLIP (linear, the per-blob level's 0.953).
SHRINK=1 is the shipped model.
SHRINK=0.5 [MODE=both|peaks] [BLF=rule.json] [SPLIT=heldout] python shrink_eval.py SEED [SEED ...]"""
import os
import runpy
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

import hdrvid.models.brackets as B

B.BLOB_SPREAD = 1.0  # the model's own cut (session 54, what this study chose) off: SHRINK replaces it

S = float(os.environ.get("SHRINK", "1"))
MODE = os.environ.get("MODE", "both")
CLIP = float(os.environ.get("CLIP", "0.953"))
SMALL = float(os.environ.get("SMALL", "0"))  # blobs below this share of the frame keep their spread
orig_apply = B.BracketHDR.apply


def shrunk(linear, field):
    field = field.clone()
    for n in range(linear.shape[0]):
        clip = (linear[n].amax(0) >= CLIP).cpu().numpy().astype(np.uint8)
        if not clip.any():
            continue
        k, lab = cv2.connectedComponents(clip, connectivity=8)
        f = field[n].float().cpu().numpy()  # (3, H, W)
        g = f.mean(0)
        lab = lab.ravel()
        cnt = np.bincount(lab, minlength=k)
        mean = np.bincount(lab, weights=g.ravel(), minlength=k) / np.maximum(cnt, 1)
        m = mean[lab].reshape(g.shape)
        dev = g - m
        new = m + S * dev if MODE == "both" else np.where(dev > 0, m + S * dev, g)
        small = (cnt / lab.size < SMALL)[lab].reshape(g.shape)
        delta = np.where((clip > 0) & ~small, new - g, 0.0)
        field[n] += torch.from_numpy(delta).to(field.dtype).to(field.device)[None]
    return field


def apply(self, linear, field):
    return orig_apply(self, linear, shrunk(linear, field) if S != 1 else field)


B.BracketHDR.apply = apply
print("shrink", S, "mode", MODE, "clip", CLIP, "small", SMALL, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
