"""Force hdrunet-auto to treat every frame as camera footage (shoulder weight 0): the mask filter fully on.
usage: camdeb.py on|off convert ...  (session 27's camera.py with the edge gate as shipped, the filter set here)"""
import runpy
import sys
from pathlib import Path

import hdrvid.models.hdrunet as h

if sys.argv.pop(1) == "off":
    h.DEBLOCK = False
sys.argv.insert(1, "gate")
runpy.run_path(str(Path(__file__).resolve().parents[1] / "edge-gate-session27" / "camera.py"), run_name="__main__")
