"""Eval-only: hdrunet-auto's expansion mask taken on a KxK box-blurred signal (whole-frame path only)."""
import sys
import torch.nn.functional as F
import hdrvid.models.hdrunet as h
K = int(sys.argv.pop(1))
_alpha = h.HDRUNet.alpha_mask
def alpha_mask(signal, bounds=None):
    if signal.dim() == 4:
        signal = F.avg_pool2d(signal, K, 1, K // 2, count_include_pad=False)
    return _alpha(signal, bounds)
h.HDRUNet.alpha_mask = staticmethod(alpha_mask)
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
