"""Force hdrunet-auto to treat every frame as camera footage (shoulder weight 0): the edge gate fully on.
usage: camera.py gate|nogate convert ..."""
import sys
import torch
import hdrvid.models.hdrunet as h
if sys.argv.pop(1) == "nogate":
    h.EDGE_GATE = False
h.HDRUNet.shoulder_weight = lambda self, lin: torch.zeros(lin.shape[0])
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
