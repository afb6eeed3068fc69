"""`brackets` with the average-light cap's gain applied before the per-blob level reads the answer (the order the
blob study saw: its features come from the finished, gained output), on cap_eval's validation views.
ORDER=gain-first|shipped  BLF=rule.json  python order_eval.py SEED [SEED ...]   (level_eval.py's protocol)
Multiplying by the frame's gain and by a blob's factor commute, so only what the rule reads changes."""
import os
import runpy
import sys
from pathlib import Path

import hdrvid.models.brackets as B

if os.environ.get("ORDER", "gain-first") == "gain-first" and not getattr(B, "LEVEL_READS_GAINED", False):
    orig = B.BracketHDR.level_blobs

    def level_after_gain(self, linear, out, bounds):
        if B.GRADED_CURVE and not out.requires_grad:
            out = self.graded_curve.gained(out)
            self.graded_curve.last_gain = None  # apply's own gained() is then a no-op
        return orig(self, linear, out, bounds)

    B.BracketHDR.level_blobs = level_after_gain
print("order", os.environ.get("ORDER", "gain-first"), flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
