"""Measure a flip self-ensemble of the 2x super-resolution residual (not product code):
    python tta_eval.py N -- hdrvid eval args...   (N = 1, 2 or 4 flips; 8 adds transposes)"""
import sys

import torch

from hdrvid.models import superres as S

n = int(sys.argv[1])
orig = S.SuperRes.residual

def tta(self, linear, base):
    outs = []
    ops = [((), False), ((3,), False), ((2,), False), ((2, 3), False)][:min(n, 4)]
    if n == 8:
        ops += [(d, True) for d, _ in ops]
    for dims, tr in ops:
        l, b = linear, base
        if tr:
            l, b = l.transpose(2, 3), b.transpose(2, 3)
        if dims:
            l, b = l.flip(dims), b.flip(dims)
        r = orig(self, l, b)
        if dims:
            r = r.flip(dims)
        if tr:
            r = r.transpose(2, 3)
        outs.append(r.float())
    return torch.stack(outs).mean(0)

S.SuperRes.residual = tta
from hdrvid.cli import main

sys.argv = ["hdrvid"] + sys.argv[3:]
main()
