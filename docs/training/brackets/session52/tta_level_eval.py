"""`brackets` as shipped with a horizontal-flip self-ensemble of its field (session 34's `tta_eval.py` form), scored
by `level_eval.py` on cap_eval's validation views: python tta_level_eval.py SEED [SEED ...]"""
import runpy
import sys
from pathlib import Path

import hdrvid.models.brackets as B

orig = B.BracketHDR.field_tile


def field_tile(self, linear, context):
    return 0.5 * (orig(self, linear, context) + orig(self, linear.flip(-1), context).flip(-1))


B.BracketHDR.field_tile = field_tile
here = Path(__file__).resolve().parents[1] / "level-session42" / "level_eval.py"
sys.argv = [str(here)] + sys.argv[1:]
runpy.run_path(str(here), run_name="__main__")
