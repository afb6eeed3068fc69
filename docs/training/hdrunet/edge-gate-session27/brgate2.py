"""Eval-only: --model brackets with hdrunet-auto's edge gate on its output, spared on frames hdrunet-auto's
shoulder detector calls graded (s + (1 - s) w, as the default model does)."""
import sys
import torch
import hdrvid.models.brackets as b
from hdrvid.models import build
_auto = build("hdrunet-auto").eval()
_apply = b.BracketHDR.apply
def apply(self, linear, field):
    out = _apply(self, linear, field)
    lin = linear.clamp(0, 1)
    with torch.inference_mode():
        w = _auto.shoulder_weight(lin.float())
    return _auto.edge_gated(lin, out.clone(), w)
b.BracketHDR.apply = apply
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
