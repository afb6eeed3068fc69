"""`brackets` on level_eval.py's protocol with LIFT stops added to every blob's per-blob level on frames the
detector calls graded (times hdrunet-auto's shoulder weight of the frame's p; LIFT_CAM stops on camera frames).
LIFT=0 LIFT_CAM=0 is the shipped model.
LIFT=0.2 [LIFT_CAM=0] [BLF=rule.json] [SPLIT=heldout] python lift_eval.py SEED [SEED ...]
SPREAD=1 (the default): the blob spread of session 53's model, which these figures were measured on; SPREAD=0.5 as shipped since session 54."""
import os
import runpy
import sys
from pathlib import Path

import numpy as np
import torch

import hdrvid.models.blob_level as BL
import hdrvid.models.brackets as B

# the rule shipped in sessions 53-54 (session 52's refit), as measured; session 55 ships its own refit
os.environ.setdefault("BLF", str(Path(__file__).resolve().parents[1] / "session52" / "rule_mean.json"))

B.BLOB_SPREAD = float(os.environ.get("SPREAD", "1"))  # session 53's model, as measured (0.5: as shipped since 54)

LIFT = float(os.environ.get("LIFT", "0"))
LIFT_CAM = float(os.environ.get("LIFT_CAM", "0"))
orig_stops, orig_predict = BL.BlobLevel.stops, BL.BlobLevel.predict
_w = [0.0]


def stops(self, lin, pred, p):
    _w[0] = float(B._smoothstep(torch.tensor(float(p)), B.SHOULDER_LO, B.SHOULDER_HI))
    return orig_stops(self, lin, pred, p)


def predict(self, features):
    return np.asarray(orig_predict(self, features)) + LIFT_CAM + (LIFT - LIFT_CAM) * _w[0]


BL.BlobLevel.stops = stops
BL.BlobLevel.predict = predict
print("lift graded", LIFT, "camera", LIFT_CAM, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
