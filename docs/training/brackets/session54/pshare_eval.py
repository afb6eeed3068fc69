"""`brackets` on level_eval.py's protocol with stage 2's Debevec share set by the detector's call on the whole
frame: SHARE_CAM on frames it calls camera footage, SHARE_GR on frames it calls graded, between by the shoulder
weight (hdrunet-auto's smoothstep of p). SHARE_CAM=SHARE_GR=0.1 is the shipped model.
SHARE_CAM=0.1 SHARE_GR=0.4 [BLF=rule.json] [SPLIT=heldout] python pshare_eval.py SEED [SEED ...]
SPREAD=1 (the default): the blob spread of session 53's model, which these figures were measured on; SPREAD=0.5 as shipped since session 54."""
import os
import runpy
import sys
from pathlib import Path

import torch

import hdrvid.models.brackets as B

# the rule shipped in sessions 53-54 (session 52's refit), as measured; session 55 ships its own refit
os.environ.setdefault("BLF", str(Path(__file__).resolve().parents[1] / "session52" / "rule_mean.json"))

B.BLOB_SPREAD = float(os.environ.get("SPREAD", "1"))  # session 53's model, as measured (0.5: as shipped since 54)

S_CAM = float(os.environ.get("SHARE_CAM", "0.1"))
S_GR = float(os.environ.get("SHARE_GR", "0.1"))


def context(self, linear):
    c = self.gen.context(B.encode(linear))
    with torch.no_grad():
        p = self.shoulder(B.in_unit_range(linear).float())
    w = B._smoothstep(p, B.SHOULDER_LO, B.SHOULDER_HI)
    return torch.cat([c, w.reshape(-1, 1).to(c.dtype)], 1)


def field_tile(self, linear, context):
    w, context = context[:, -1], context[:, :-1]
    signal = B.encode(linear)
    floor = torch.log(linear.clamp(min=B.FLOOR))
    evs = list(B.STACK_EVS)
    stack = self.brackets(signal, evs, context)
    fused = self.fuse_pair(signal, stack[evs.index(-self.ev)], stack[evs.index(self.ev)])
    merged = B.debevec_merge(stack + [signal], evs + [0.0])
    share = (S_CAM + (S_GR - S_CAM) * w.float()).view(-1, 1, 1, 1).to(fused.dtype)
    return (1 - share) * torch.log(fused.clamp(min=B.FLOOR)) + share * torch.log(merged.clamp(min=B.FLOOR)) - floor


B.BracketHDR.context = context
B.BracketHDR.field_tile = field_tile
print("share camera", S_CAM, "graded", S_GR, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
