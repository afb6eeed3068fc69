import sys
import hdrvid.models.hdrunet as h
h.EDGE_GATE = False
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
