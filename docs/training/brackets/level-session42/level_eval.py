"""`brackets` as shipped (edge ring included) with its per-blob level rule read from another file, on cap_eval's
validation views: BLF=path/to/rule.json python level_eval.py SEED  (CAPS=250 unless given; BLF unset: as shipped)"""
import os
import runpy
import sys
from pathlib import Path

import hdrvid.models.brackets as B

if os.environ.get("BLF"):
    B.BLOB_LEVEL_FILE = Path(os.environ["BLF"]).resolve()
print("blob level file", B.BLOB_LEVEL_FILE, flush=True)
os.environ.setdefault("MODEL", "brackets")
os.environ.setdefault("CAPS", "250")
sys.argv = [str(Path(__file__).resolve().parents[2] / "hdrunet/cap-session40/cap_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
