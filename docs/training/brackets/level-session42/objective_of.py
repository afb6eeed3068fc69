"""The blob study's validation objective (blobs-session39/fit.py) of per-blob level rule files, and of no level:
ALIGN=1 (the objective follows the metric's alignment: export_fit2.py) python objective_of.py RULE.json [RULE.json ...] -- VAL.pkl [VAL.pkl ...]"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))

import fit as F
import numpy as np
import torch
from analyse import load
from interp import interp_cr

from hdrvid.synth.camera import ALL_SETTINGS

INTERP = interp_cr if os.environ.get("INTERP") == "cr" else F.interp

k = sys.argv.index("--")
vp, vb, grid = load(sys.argv[k + 1:])
X = F.features(vp, vb)


def by_camera(g):
    """Mean clipped PSNR-mu per camera with the blobs scaled by 2^g (the objective's interpolation)."""
    errs = torch.tensor(np.array([b["errs"] for b in vb]), dtype=torch.float64)
    pic = torch.tensor([b["pic"] for b in vb])
    g = g.double()
    if os.environ.get("ALIGN") == "1":  # the metric's k follows the levelled blobs (export_fit2.py)
        frac = torch.tensor([b["frac"] for b in vb], dtype=torch.float64)
        g = g + torch.zeros(len(vp), dtype=torch.float64).index_add(0, pic, -frac * g)[pic]
    e = torch.tensor([p["err_rest"] for p in vp], dtype=torch.float64).index_add(0, pic, INTERP(errs, grid, g))
    ps = -10 * torch.log10(e.clamp(min=1e-30) / torch.tensor([3.0 * p["nclip"] for p in vp], dtype=torch.float64))
    return "%.4f  " % float(-ps.mean()) + " / ".join(
        "%.2f" % float(ps[[i for i, p in enumerate(vp) if p["setting"] == c]].mean()) for c in ALL_SETTINGS)


g0 = torch.zeros(X.shape[0])
print("no level:", by_camera(g0))
for path in sys.argv[1:k]:
    d = json.load(open(path))
    z = (X - torch.tensor(d["mean"])) / torch.tensor(d["std"])
    h = torch.tanh(z @ torch.tensor(d["w1"]).T + torch.tensor(d["b1"]))
    g = (h @ torch.tensor(d["w2"]) + d["b2"]).clamp(-1.0, 2.0)  # blob_level.RANGE, as the model applies it
    print(f"{path}:", by_camera(g))
