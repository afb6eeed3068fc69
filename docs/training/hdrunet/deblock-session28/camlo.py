"""Eval-only: hdrunet-auto's camera mask lower bound CAMERA_ALPHA_LO = LO (signal)."""
import sys
import hdrvid.models.hdrunet as h
h.CAMERA_ALPHA_LO = float(sys.argv.pop(1))
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
