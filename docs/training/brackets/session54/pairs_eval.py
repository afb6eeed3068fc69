"""`brackets` on level_eval.py's protocol with stage 2's CF-Net run on several pairs of the generated stack
(-E/+E for each E in PAIRS, e.g. PAIRS=3,2), their fused light averaged in log (weights WEIGHTS, default equal),
then mixed with the Debevec merge of the stack by the shipped share. PAIRS=3 is the shipped model.
PAIRS=3,2 [WEIGHTS=0.5,0.5] [BLF=rule.json] [SPLIT=heldout] python pairs_eval.py SEED [SEED ...]
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

PAIRS = [float(e) for e in os.environ.get("PAIRS", "3").split(",")]
WEIGHTS = [float(w) for w in os.environ["WEIGHTS"].split(",")] if os.environ.get("WEIGHTS") else [1.0] * len(PAIRS)
WEIGHTS = [w / sum(WEIGHTS) for w in WEIGHTS]


orig_brackets, orig_fuse_pair = B.TwoStage.brackets, B.TwoStage.fuse_pair
_stack: dict = {}


def brackets(self, signal, evs, context=None):  # the shipped field_tile's stack, kept for fuse_pair
    out = orig_brackets(self, signal, evs, context)
    _stack.update(zip(evs, out))
    return out


def fuse_at(self, signal, under, over, e):
    gap = torch.full((signal.shape[0],), 2 * e, device=signal.device, dtype=signal.dtype)
    return self.fuse(under, over, gap, signal if self.fuse.middle else None)[-1] * 2.0 ** e


def fuse_pair(self, signal, under, over, upscale=1):  # the -3/+3 pair's place in the shipped field_tile
    if upscale != 1:
        return orig_fuse_pair(self, signal, under, over, upscale)
    return torch.exp(sum(w * torch.log(fuse_at(self, signal, _stack[-e], _stack[e], e).clamp(min=B.FLOOR))
                         for e, w in zip(PAIRS, WEIGHTS)))


B.TwoStage.brackets = brackets
B.TwoStage.fuse_pair = fuse_pair
print("pairs", PAIRS, "weights", WEIGHTS, "share", B.BracketHDR.debevec_share, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
