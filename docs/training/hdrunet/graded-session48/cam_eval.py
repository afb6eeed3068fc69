"""`cap-session40/cap_eval.py` (every camera, `convert`'s model, five draws) with the study patch of gatecap.py
(GATECAP=1). python cam_eval.py SEED [SEED ...] (cap_eval's environment, e.g. CAPS=250)"""
import runpy, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent))
import gatecap  # noqa: F401,E402
import det_patch  # noqa: F401,E402
here = Path(__file__).resolve().parent.parent / "cap-session40" / "cap_eval.py"
sys.argv = [str(here)] + sys.argv[1:]
runpy.run_path(str(here), run_name="__main__")
