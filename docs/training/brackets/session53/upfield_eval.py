"""`brackets` with its field made from the picture upsampled UP times (bilinear, linear light) and area-reduced back
to the picture's size: the generator and fusion network run at half the upsampled size, so at the picture's own
size for UP=2 (they run at half resolution as trained). On level_eval.py's protocol:
BLF=runs/rule_s42.json UP=2 python upfield_eval.py SEED [SEED ...]   (as session 53 measured it, on `2f46b94`'s
model: session 42's rule, read before the cap's gain, and the Debevec share at 0.3, which SHARE changes)"""
import os
import runpy
import sys
from pathlib import Path

import torch.nn.functional as F

import hdrvid.engines.executor as X
import hdrvid.models.brackets as B

UP = int(os.environ.get("UP", "2"))
B.BracketHDR.debevec_share = float(os.environ.get("SHARE", "0.3"))
B.LEVEL_READS_GAINED = False
orig = X.Executor._field


def upsampled_field(self, x, active):
    big = F.interpolate(x, scale_factor=UP, mode="bilinear", align_corners=False).clamp(0, 1)
    act = None if active is None else F.interpolate(active, scale_factor=UP, mode="nearest")
    return F.avg_pool2d(orig(self, big, act), UP)


X.Executor._field = upsampled_field
print("field from the picture upsampled", UP, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
