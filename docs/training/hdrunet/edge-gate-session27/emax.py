import sys
import hdrvid.models.clip_edges as c
c.EDGE_MAX = float(sys.argv.pop(1))
from hdrvid.cli import main
sys.argv[0] = "hdrvid"
main()
