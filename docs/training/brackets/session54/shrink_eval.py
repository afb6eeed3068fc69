"""`brackets` on level_eval.py's protocol with the field's spread inside each clipped blob shrunk towards the blob's
mean (log light, the channels' mean): f' = m + SHRINK (f - m) where MODE=both, only above the mean where
MODE=peaks, towards the blob's mean at the pixel's distance from the blob's edge where MODE=profile (SMALL=0.005: blobs below that share of the frame keep all their spread). Blobs: 8-connected components of max(R, G, B) >= CLIP (linear, the per-blob level's 0.953).
SHRINK=1 is the shipped model.
SHRINK=0.5 [MODE=both|peaks|profile] [BLF=rule.json] [SPLIT=heldout] python shrink_eval.py SEED [SEED ...]"""
import os
import runpy
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

import hdrvid.models.brackets as B

# the rule shipped in sessions 53-54 (session 52's refit), as measured; session 55 ships its own refit
os.environ.setdefault("BLF", str(Path(__file__).resolve().parents[1] / "session52" / "rule_mean.json"))

B.BLOB_SPREAD = 1.0  # the model's own cut (session 54, what this study chose) off: SHRINK replaces it

S = float(os.environ.get("SHRINK", "1"))
MODE = os.environ.get("MODE", "both")
CLIP = float(os.environ.get("CLIP", "0.953"))
NBINS = int(os.environ.get("NBINS", "7"))  # MODE=profile: distance bins 0-2, 2-4, ... 64+ px
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
        if MODE == "profile":  # the blob's mean at each distance from its edge (bins of 2^k px at 384 across)
            d = cv2.distanceTransform(clip, cv2.DIST_L2, 3) * (384.0 / clip.shape[1])
            b = np.clip(np.floor(np.log2(np.maximum(d, 1.0))), 0, NBINS - 1).astype(np.int64).ravel()
            key = lab * NBINS + b
            kc = np.bincount(key, minlength=k * NBINS)
            m = (np.bincount(key, weights=g.ravel(), minlength=k * NBINS) / np.maximum(kc, 1))[key].reshape(g.shape)
        dev = g - m
        new = np.where(dev > 0, m + S * dev, g) if MODE == "peaks" else m + S * dev
        small = (cnt / lab.size < SMALL)[lab].reshape(g.shape)
        delta = np.where((clip > 0) & ~small, new - g, 0.0)
        field[n] += torch.from_numpy(delta).to(field.dtype).to(field.device)[None]
    return field


def apply(self, linear, field):
    if S == 1:
        return orig_apply(self, linear, field)
    plain = MODE == "both" and not SMALL and CLIP == B.CLIP_LINEAR  # the shipped cut: the model's own function
    return orig_apply(self, linear, B.kept_spread(linear, field, S) if plain else shrunk(linear, field))


B.BracketHDR.apply = apply
print("shrink", S, "mode", MODE, "clip", CLIP, "small", SMALL, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
