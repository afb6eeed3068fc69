"""Force hdrunet-auto to treat every frame as camera footage (shoulder weight 0): the mask filter fully on.
usage: camdeb.py on|off convert ..."""
import sys
import torch
import hdrvid.models.hdrunet as h
if sys.argv.pop(1) == "off":
    h.DEBLOCK = False
h.HDRUNet.shoulder_weight = lambda self, lin: torch.zeros(lin.shape[0])
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
