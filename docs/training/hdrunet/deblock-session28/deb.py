"""Eval-only: hdrunet-auto's mask filter (hdrvid.models.deblock) at radius R, eps E codes (R 0: off)."""
import sys
import hdrvid.models.deblock as d
import hdrvid.models.hdrunet as h
R = int(sys.argv.pop(1)); E = float(sys.argv.pop(1))
d.DEBLOCK_RADIUS, d.DEBLOCK_EPS_CODES = R, E
h.DEBLOCK = R > 0
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
