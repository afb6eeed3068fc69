"""Eval-only: --model brackets with its blend mask read through hdrvid.models.deblock's flatness shift (every frame:
the model has no shoulder detector)."""
import sys
import torch
import hdrvid.models.brackets as b
from hdrvid.models.deblock import mask_shift
from hdrvid.models.hdrunet import CLIP_START_LINEAR, SIGNAL_GAMMA
def blend(linear, hdr):
    sig = b.encode(linear)
    shift = None if linear.requires_grad else mask_shift(linear, torch.zeros(linear.shape[0]), CLIP_START_LINEAR, SIGNAL_GAMMA)
    a = b.clip_mask(sig if shift is None else sig + shift.to(sig.dtype))
    return linear * (1 - a) + hdr * a
b.blend = blend
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
