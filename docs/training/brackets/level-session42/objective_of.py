"""The blob study's validation objective (blobs-session39/fit.py) of per-blob level rule files, and of no level:
ALIGN=1 (the objective follows the metric's alignment: export_fit2.py) python objective_of.py RULE.json [RULE.json ...] -- VAL.pkl [VAL.pkl ...]"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))

import fit as F
import numpy as np
import torch
from analyse import load
from study import interp_cr, picture_psnr

from hdrvid.models.blob_level import BlobLevel
from hdrvid.synth.camera import ALL_SETTINGS

INTERP = interp_cr if os.environ.get("INTERP") == "cr" else F.interp

k = sys.argv.index("--")
vp, vb, grid = load(sys.argv[k + 1:])
X = F.features(vp, vb)


PSNR = picture_psnr(vp, vb, grid, INTERP, os.environ.get("ALIGN") == "1")


def by_camera(g):
    """The objective (minus the mean clipped PSNR-mu) and each camera's mean with the blobs scaled by 2^g."""
    ps = PSNR(g)
    return "%.4f  " % float(-ps.mean()) + " / ".join(
        "%.2f" % float(ps[[i for i, p in enumerate(vp) if p["setting"] == c]].mean()) for c in ALL_SETTINGS)


g0 = torch.zeros(X.shape[0])
print("no level:", by_camera(g0))
for path in sys.argv[1:k]:  # each rule's factors as the model computes them (its RANGE included)
    print(f"{path}:", by_camera(torch.from_numpy(BlobLevel(Path(path)).predict(X.numpy().astype(np.float64)))))
