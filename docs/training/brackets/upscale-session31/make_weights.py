"""How the shipped brackets-2x.pt was made (session 31): brackets' networks as the base, hdrunet-2x's super-
resolution network (session 30: one residual for R, G, B, bounded at 2 in log light) as `sr`, unchanged.

usage: python docs/training/brackets/upscale-session31/make_weights.py OUT.pt
"""
import sys

import torch

from hdrvid.models.registry import weights_dir
from hdrvid.models.superres import Brackets2x

b = torch.load(weights_dir() / "brackets.pt", weights_only=True)
h = torch.load(weights_dir() / "hdrunet-2x.pt", weights_only=True)
state = {**{"base." + k: v for k, v in b.items()}, **{k: v for k, v in h.items() if k.startswith("sr.")}}
Brackets2x(**Brackets2x.sizes_of(state)).load_state_dict(state, strict=True)
torch.save(state, sys.argv[1])
