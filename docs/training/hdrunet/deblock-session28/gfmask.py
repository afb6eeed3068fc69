"""Eval-only (the first sweep, before hdrvid.models.deblock): hdrunet-auto's expansion mask read on a self-guided
filter (He et al.; torch box means, whole-frame path only) of the signal at radius R px, eps = (E codes / 255)^2.
usage: gfmask.py MODE R E ARGS...   MODE: all (per channel, every frame), camera (per channel, pulled to the raw
signal by the shoulder weight), camera-max (the filter on max(R, G, B), its shift added to each channel)."""
import sys
import torch.nn.functional as F
import hdrvid.models.hdrunet as h
MODE = sys.argv.pop(1); R = int(sys.argv.pop(1)); E = float(sys.argv.pop(1))
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
        if MODE == "camera-max":
            m = signal.float().amax(1, keepdim=True)
            f = (signal.float() + guided(m) - m).to(signal.dtype)
        else:
            f = guided(signal.float()).to(signal.dtype)
        if MODE != "all" and bounds is not None:  # the shoulder weight from the mask's lower bound
            w = ((h.CAMERA_ALPHA_LO - bounds[0]) / (h.CAMERA_ALPHA_LO - h.ALPHA_LO)).clamp(0, 1)
            f = f + w * (signal - f)
        signal = f
    return _alpha(signal, bounds)
h.HDRUNet.alpha_mask = staticmethod(alpha_mask)
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
