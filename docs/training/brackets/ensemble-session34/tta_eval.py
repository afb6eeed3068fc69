"""Eval with a self-ensemble on a model's field (session-34 experiment, not shipped): TTA=flip (2 passes) or flipshift (4)."""
import os, sys
import torch
import torch.nn.functional as F
from hdrvid.models import brackets, hdrunet

mode = os.environ.get("TTA", "flip")

def wrap(cls):
    orig = cls.field_tile
    def shifted(self, x, ctx):
        y = orig(self, F.pad(x, (1, 0, 1, 0), mode="replicate"), ctx)
        return y[..., 1:, 1:]
    def field_tile(self, linear, context):
        outs = [orig(self, linear, context), orig(self, linear.flip(-1), context).flip(-1)]
        if mode == "flipshift":
            outs += [shifted(self, linear, context), shifted(self, linear.flip(-1), context).flip(-1)]
        return sum(outs) / len(outs)
    cls.field_tile = field_tile

for name in os.environ.get("TTA_MODELS", "brackets").split(","):
    wrap({"brackets": brackets.BracketHDR, "hdrunet": hdrunet.HDRUNet}[name])
from hdrvid.cli import main
sys.exit(main())
