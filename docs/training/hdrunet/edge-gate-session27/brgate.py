"""Eval-only: --model brackets with hdrunet-auto's edge gate (weight 0: no detector) on its output."""
import sys
import torch
import hdrvid.models.brackets as b
from hdrvid.models.hdrunet import HDRUNet
_gate = HDRUNet(width=4, context=8, curve=False, adaptive=True)
_apply = b.BracketHDR.apply
def apply(self, linear, field):
    out = _apply(self, linear, field)
    return _gate.edge_gated(linear.clamp(0, 1), out.clone(), torch.zeros(linear.shape[0]))
b.BracketHDR.apply = apply
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
