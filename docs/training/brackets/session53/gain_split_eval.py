"""`brackets` with two per-blob level rules split by the average-light cap: frames the cap dims (its gain below 1)
keep the shipped rule (session 42's, which reads the answer before the gain, as shipped); every other frame gets
NEW (default: session 52's refit; the cap's gain is 1 there, so the order does not matter). level_eval.py's
protocol:  NEW=runs/s52rule-mean.json OLD=runs/rule_s42.json python gain_split_eval.py SEED [SEED ...]
(`rule_s42.json`: `git show 2f46b94:hdrvid/models/weights/brackets-blob-level.json`); SHARE: stage 2's Debevec share,
0.3 unless given, as when it was measured."""
import os
import runpy
import sys
from pathlib import Path

import hdrvid.models.brackets as B
from hdrvid.models.blob_level import BlobLevel

B.BracketHDR.debevec_share = float(os.environ.get("SHARE", "0.3"))
B.LEVEL_READS_GAINED = False  # as measured (on the code before session 53's order): each rule reads the answer
# before the cap's gain, which for NEW changes nothing (its frames' gain is 1) and for session 42's rule is how it was fit
NEW = BlobLevel(Path(os.environ.get("NEW", "runs/s52rule-mean.json")).resolve())
OLD = BlobLevel(Path(os.environ.get("OLD", "runs/rule_s42.json")).resolve())  # session 42's rule (shipped to 52)
orig = B.BracketHDR.level_blobs
count = {"old": 0, "new": 0}


def level(self, linear, out, bounds):
    g = self.graded_curve.last_gain
    dimmed = g is not None and bool((g < 1).any())
    assert out.shape[0] == 1
    self.blob_level = OLD if dimmed else NEW
    count["old" if dimmed else "new"] += 1
    return orig(self, linear, out, bounds)


B.BracketHDR.level_blobs = level
print("new rule", os.environ.get("NEW", "runs/s52rule-mean.json"), "where the cap's gain is 1", flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    print("frames", count, flush=True)
