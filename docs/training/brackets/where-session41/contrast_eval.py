"""`brackets` with its fused light's log gain reshaped inside the clipped areas, l' = max(0, GAMMA * l - B) where l > 0
(near-white pixels darker, the brightest brighter: where_err.py found brackets too bright at 1-2x the picture's white
and too dark above 4x), on cap_eval's validation views: GAMMA=1.4 B=0.3 python contrast_eval.py SEED ..."""
import os, runpy, sys
from pathlib import Path
import torch
import hdrvid.models.brackets as B
G, OFF = float(os.environ.get("GAMMA", 1.0)), float(os.environ.get("B", 0.0))
orig = B.BracketHDR.field_tile


def field_tile(self, linear, context):
    f = orig(self, linear, context)
    return torch.where(f > 0, (G * f - OFF).clamp(min=0), f)


B.BracketHDR.field_tile = field_tile
print("gamma", G, "offset", OFF, flush=True)
os.environ.setdefault("MODEL", "brackets")
os.environ.setdefault("CAPS", "250")
sys.argv = [str(Path(__file__).resolve().parents[2] / "hdrunet/cap-session40/cap_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
