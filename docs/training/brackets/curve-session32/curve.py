"""Session 32: `--model brackets` with the default model's BT.2446A curve on frames called graded (eval only):

    python curve.py MODE eval -m brackets --split validation --views 4 --width 384 --graded $D --metric psnr_mu \
        --threads 1 --json OUT.json

MODE `curve`: after the blend and the edge gate, every pixel times BT.2446A's expansion of its luminance to the power
of the frame's shoulder weight (lowered by the average-light cap), as `hdrunet-auto` does (`HDRUNet._graded`; shipped
since this session); `boost`: also `hdrunet-auto`'s graded boost (one more stop, x the shoulder weight x its gate on
the share of pixels at the top code) on the fused light before the blend; `shipped`: today's code."""
import sys

import torch

import hdrvid.models.brackets as b
from hdrvid.models.hdrunet import HDRUNet

mode = sys.argv.pop(1)
if mode == "curve":  # (shipped since: the wrapper applies it a second time now)
    _apply = b.BracketHDR.apply
    curve = HDRUNet(curve=False, adaptive=True)

    def apply(self, linear, field):  # type: ignore[no-untyped-def]
        out = _apply(self, linear, field)
        if out.requires_grad:
            return out
        w = self.last_shoulder.to(out.dtype)
        return curve._graded(linear.clamp(0, 1), out.contiguous(), w)

    b.BracketHDR.apply = apply
elif mode == "boost":
    _blended = b.BracketHDR.blended
    booster = HDRUNet(curve=False, adaptive=True)

    def blended(self, linear, hdr, graded_boost=False):  # type: ignore[no-untyped-def]
        # (shipped since as `blended(..., graded_boost=True)` from `apply`: this wrapper now stands in for it)
        if not hdr.requires_grad:
            w = self.shoulder_weight(linear).to(linear.device, linear.dtype)
            boost = booster.graded_boost(linear, w)
            if boost is not None:
                hdr = hdr * torch.exp(boost.to(hdr.dtype).view(-1, 1, 1, 1))
        return _blended(self, linear, hdr)

    b.BracketHDR.blended = blended
elif mode != "shipped":
    sys.exit(__doc__)
from hdrvid.cli import main  # noqa: E402

sys.argv[0] = "hdrvid"
main()
