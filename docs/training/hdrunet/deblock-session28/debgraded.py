"""The mask shift on every frame, graded ones included (weight ignored)."""
import sys
import torch
import hdrvid.models.hdrunet as h
from hdrvid.models.deblock import MaskShift
_call = MaskShift.__call__
MaskShift.__call__ = lambda self, lin, w, *a, **k: _call(self, lin, torch.zeros_like(w), *a, **k)
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
