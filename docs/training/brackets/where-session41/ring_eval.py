"""`brackets` as shipped with its edge ring (`brackets.EDGE_RING`) set from the environment, on cap_eval's validation
views: RING=0.5,8 (floor, width; "none": no ring), WEIGHTED=1|0 (pulled to 1 on graded frames or not; default: as shipped) python ring_eval.py SEED ...  (CAPS=250 unless given)"""
import os, runpy, sys
from pathlib import Path
import hdrvid.models.brackets as B
ring = os.environ.get("RING", "")
if ring:
    B.EDGE_RING = None if ring == "none" else tuple(float(v) for v in ring.split(","))
if os.environ.get("WEIGHTED"):
    B.EDGE_RING_WEIGHTED = os.environ["WEIGHTED"] == "1"
print("ring", B.EDGE_RING, "weighted", B.EDGE_RING_WEIGHTED, flush=True)
os.environ.setdefault("MODEL", "brackets")
os.environ.setdefault("CAPS", "250")
sys.argv = [str(Path(__file__).resolve().parents[2] / "hdrunet/cap-session40/cap_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
