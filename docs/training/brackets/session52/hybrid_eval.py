"""`brackets` with two per-blob level rules chosen per frame by its detector's probability: the session-52 refit
(runs/s52rule-mean.json, NEW) on frames with p < T, session 42's rule (OLD) on the rest; scored by level_eval.py.
NEW=... OLD=... T=0.5 python hybrid_eval.py SEED [SEED ...]"""
import os
import runpy
import sys
from pathlib import Path

import hdrvid.models.brackets as B
from hdrvid.models.blob_level import BlobLevel

T = float(os.environ.get("T", 0.5))


class Hybrid:
    def __init__(self):
        self.new, self.old = BlobLevel(Path(os.environ["NEW"]).resolve()), BlobLevel(Path(os.environ["OLD"]).resolve())

    def __call__(self, linear, out, p, bounds=None, shift=None):
        rule = self.new if float(p.flatten()[0]) < T else self.old
        return rule(linear, out, p, bounds, shift)

    def __getattr__(self, name):
        return getattr(self.new, name)


B.BlobLevel = lambda *a, **k: Hybrid()
print("hybrid", os.environ["NEW"], os.environ["OLD"], "T", T, flush=True)
here = Path(__file__).resolve().parents[1] / "level-session42" / "level_eval.py"
sys.argv = [str(here)] + sys.argv[1:]
runpy.run_path(str(here), run_name="__main__")
