"""`brackets` on level_eval.py's protocol with stage 2's CF-Net run on several pairs of the generated stack
(-E/+E for each E in PAIRS, e.g. PAIRS=3,2), their fused light averaged in log (weights WEIGHTS, default equal),
then mixed with the Debevec merge of the stack by the shipped share. PAIRS=3 is the shipped model.
PAIRS=3,2 [WEIGHTS=0.5,0.5] [BLF=rule.json] [SPLIT=heldout] python pairs_eval.py SEED [SEED ...]"""
import os
import runpy
import sys
from pathlib import Path

import torch

import hdrvid.models.brackets as B

PAIRS = [float(e) for e in os.environ.get("PAIRS", "3").split(",")]
WEIGHTS = [float(w) for w in os.environ["WEIGHTS"].split(",")] if os.environ.get("WEIGHTS") else [1.0] * len(PAIRS)
WEIGHTS = [w / sum(WEIGHTS) for w in WEIGHTS]


def fuse_at(self, signal, under, over, e):
    gap = torch.full((signal.shape[0],), 2 * e, device=signal.device, dtype=signal.dtype)
    return self.fuse(under, over, gap, signal if self.fuse.middle else None)[-1] * 2.0 ** e


def field_tile(self, linear, context):
    signal = B.encode(linear)
    share = float(self.debevec_share)
    floor = torch.log(linear.clamp(min=B.FLOOR))
    evs = list(B.STACK_EVS)
    stack = self.brackets(signal, evs, context)
    logf = sum(w * torch.log(fuse_at(self, signal, stack[evs.index(-e)], stack[evs.index(e)], e).clamp(min=B.FLOOR))
               for e, w in zip(PAIRS, WEIGHTS))
    merged = B.debevec_merge(stack + [signal], evs + [0.0])
    return (1 - share) * logf + share * torch.log(merged.clamp(min=B.FLOOR)) - floor


B.BracketHDR.field_tile = field_tile
print("pairs", PAIRS, "weights", WEIGHTS, "share", B.BracketHDR.debevec_share, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
