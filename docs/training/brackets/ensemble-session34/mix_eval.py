"""Eval brackets with its field a mix of CF-Net's and the Debevec merge of the full stack (the session-34 experiment;
MIXW is CF-Net's weight, 1 - DEBEVEC_SHARE): MIXW=0.7 python mix_eval.py eval -m brackets --split validation ...
Written against 4d07ddd, before the ensemble shipped: on later code set DEBEVEC_SHARE = 0 first."""
import os, sys
import torch
from hdrvid.models import brackets as B

w = float(os.environ.get("MIXW", "0.5"))
orig = B.BracketHDR.field_tile

def field_tile(self, linear, context):
    a = orig(self, linear, context)
    signal = B.encode(linear)
    evs = list(B.STACK_EVS)
    frames = self.brackets(signal, evs, context) + [signal]
    hdr = B.debevec_stack(frames, evs + [0.0])
    d = torch.log(hdr.clamp(min=B.FLOOR)) - torch.log(linear.clamp(min=B.FLOOR))
    return w * a + (1 - w) * d

B.BracketHDR.field_tile = field_tile
from hdrvid.cli import main
sys.exit(main())
