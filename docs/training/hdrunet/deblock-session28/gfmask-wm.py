"""Eval-only: hdrunet-auto's expansion mask taken on a self-guided-filtered signal (He et al.), radius R px,
eps = (E codes / 255)^2 (whole-frame path only)."""
import sys
import torch.nn.functional as F
import hdrvid.models.hdrunet as h
R = int(sys.argv.pop(1)); E = float(sys.argv.pop(1))
EPS = (E / 255) ** 2
def box(x):
    return F.avg_pool2d(x, 2 * R + 1, 1, R, count_include_pad=False)
def guided(i):
    m = box(i); v = (box(i * i) - m * m).clamp(min=0)
    a = v / (v + EPS); b = m - a * m
    return box(a) * i + box(b)
_alpha = h.HDRUNet.alpha_mask
def alpha_mask(signal, bounds=None):
    if signal.dim() == 4 and R > 0:
        m = signal.float().amax(1, keepdim=True); f = (signal.float() + guided(m) - m).to(signal.dtype)
        if bounds is not None:  # the shoulder weight from the mask's lower bound: filter camera frames only
            w = ((h.CAMERA_ALPHA_LO - bounds[0]) / (h.CAMERA_ALPHA_LO - h.ALPHA_LO)).clamp(0, 1)
            f = f + w * (signal - f)
        signal = f
    return _alpha(signal, bounds)
h.HDRUNet.alpha_mask = staticmethod(alpha_mask)
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
