"""Clipped PSNR-mu per camera (mean over pictures) of hdrunet-auto as shipped, with each blob scaled by the oracle's
best factor, and with one oracle factor per picture. python analyse.py VAL.pkl [VAL2.pkl ...]"""
import pickle
import sys

import numpy as np

from hdrvid.synth.camera import ALL_SETTINGS


def load(paths):
    pics, blobs = [], []
    for p in paths:
        d = pickle.load(open(p, "rb"))
        off = len(pics)
        pics += d["pics"]
        for b in d["blobs"]:
            b = dict(b); b["pic"] += off; blobs.append(b)
    return pics, blobs, d["grid"]

def psnr_table(pics, blobs, grid, choose):
    """choose(blob) -> grid index; returns {setting: mean clipped psnr}."""
    err = np.array([p["err_rest"] for p in pics])
    for b in blobs:
        err[b["pic"]] += b["errs"][choose(b)]
    ps = -10 * np.log10(np.maximum(err, 1e-30) / (3 * np.array([p["nclip"] for p in pics])))
    out = {}
    for s in ALL_SETTINGS:
        sel = [i for i, p in enumerate(pics) if p["setting"] == s]
        out[s] = float(np.mean(ps[sel]))
    return out

if __name__ == "__main__":
    pics, blobs, grid = load(sys.argv[1:])
    g0 = int(np.argmin(np.abs(grid)))
    rows = {"shipped": psnr_table(pics, blobs, grid, lambda b: g0),
            "blob oracle": psnr_table(pics, blobs, grid, lambda b: int(np.argmin(b["errs"])))}
    # one factor per picture
    tot = {}
    for b in blobs:
        tot.setdefault(b["pic"], np.zeros(len(grid)))
        tot[b["pic"]] += b["errs"]
    best = {k: int(np.argmin(v)) for k, v in tot.items()}
    rows["picture oracle"] = psnr_table(pics, blobs, grid, lambda b: best[b["pic"]])
    for k, v in rows.items():
        print(f"{k:16s}", " / ".join(f"{v[s]:.2f}" for s in ALL_SETTINGS))
    print("blobs", len(blobs), "pictures", len(pics))
