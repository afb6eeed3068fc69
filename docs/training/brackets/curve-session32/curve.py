"""Session 32: `--model brackets` with the default model's BT.2446A curve on frames called graded (eval only):

    python curve.py MODE eval -m brackets --split validation --views 4 --width 384 --graded $D --metric psnr_mu \
        --threads 1 --json OUT.json

MODE `curve`: after the blend and the edge gate, every pixel times BT.2446A's expansion of its luminance to the power
of the frame's shoulder weight (lowered by the average-light cap), as `hdrunet-auto` does (`HDRUNet._graded`);
`shipped`: today's code."""
import sys

import hdrvid.models.brackets as b
from hdrvid.models.hdrunet import HDRUNet

mode = sys.argv.pop(1)
if mode == "curve":
    _apply = b.BracketHDR.apply
    curve = HDRUNet(curve=False, adaptive=True)

    def apply(self, linear, field):  # type: ignore[no-untyped-def]
        out = _apply(self, linear, field)
        if out.requires_grad:
            return out
        w = self.last_shoulder.to(out.dtype)
        return curve._graded(linear.clamp(0, 1), out.contiguous(), w)

    b.BracketHDR.apply = apply
elif mode != "shipped":
    sys.exit(__doc__)
from hdrvid.cli import main  # noqa: E402

sys.argv[0] = "hdrvid"
main()
