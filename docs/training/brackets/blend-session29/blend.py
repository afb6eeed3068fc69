"""Session 29's blend-mask variants of `--model brackets`, each as a setting of the shipped code (eval only):

    python blend.py MODE eval -m brackets --split validation --views 4 --width 384 --graded $D --metric psnr_mu \
        --threads 1 --json OUT.json

MODE: `wide` (sessions 7-28: codes ~246-252.5 on every frame, no edge gate), `camera` (codes ~252.5-254.5 on every
frame, no gate), `adaptive` (by the shoulder detector's weight, no gate), `shipped` (adaptive + the edge gate and the
codec-block filter), `forced-camera` (as shipped, every frame called camera footage: a stress look on real clips)."""
import sys

import torch

import hdrvid.models.brackets as b

mode = sys.argv.pop(1)
if mode == "wide":
    b.EDGE_GATE = False
    b.BracketHDR.shoulder_weight = lambda self, lin: torch.ones(lin.shape[0])
elif mode == "camera":
    b.EDGE_GATE = False
    b.BracketHDR.shoulder_weight = lambda self, lin: torch.zeros(lin.shape[0])
elif mode == "adaptive":
    b.EDGE_GATE = False
elif mode == "forced-camera":
    b.BracketHDR.shoulder_weight = lambda self, lin: torch.zeros(lin.shape[0])
elif mode != "shipped":
    sys.exit(__doc__)
from hdrvid.cli import main  # noqa: E402

sys.argv[0] = "hdrvid"
main()
