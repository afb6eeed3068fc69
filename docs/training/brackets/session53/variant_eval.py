"""`brackets` on level_eval.py's protocol with the per-blob level applied as the blob study scored it:
ORDER=gain-first (default; what the model does itself since session 53, `brackets.LEVEL_READS_GAINED`) the
average-light cap's gain before the level reads the answer (the study's features come
from the finished output; the two multiplications commute, so only what the rule reads changes); ORDER=shipped as
sessions 48-52 shipped it.  LEVEL_LO=CODE (e.g. 250): the level acts through the blend's mask raised to start at this 8-bit code at
the lowest (its upper bound at least CODE + 2.5), so pixels the metric counts as recorded (codes below 250) keep
the blend's answer, as the unmasked study assumed.
SHARE=0.2: stage 2's Debevec share (`brackets.DEBEVEC_SHARE`, 0.3 since session 34).
BLF=rule.json ORDER=... LEVEL_LO=... SHARE=... python variant_eval.py SEED [SEED ...]"""
import os
import runpy
import sys
from pathlib import Path

import torch

import hdrvid.models.brackets as B

# the rule session 53 shipped (session 52's refit), as measured; session 55 ships its own refit
os.environ.setdefault("BLF", str(Path(__file__).resolve().parents[1] / "session52" / "rule_mean.json"))
B.BLOB_SPREAD = float(os.environ.get("SPREAD", "1"))  # session 53's model (0.5: as shipped since 54)

ORDER = os.environ.get("ORDER", "gain-first")
LO = os.environ.get("LEVEL_LO")
orig = B.BracketHDR.level_blobs


SHIPPED_FIRST = getattr(B, "LEVEL_READS_GAINED", False)  # since session 53 the model itself reads the gained answer
if ORDER == "shipped" and SHIPPED_FIRST:
    B.LEVEL_READS_GAINED = False  # back to sessions 48-52's order


def level(self, linear, out, bounds):
    if ORDER == "gain-first" and not SHIPPED_FIRST and B.GRADED_CURVE and not out.requires_grad:
        out = self.graded_curve.gained(out)
        self.graded_curve.last_gain = None  # apply's own gained() is then a no-op
    if LO:
        lo = torch.clamp(bounds[0], min=float(LO) / 255.0)
        bounds = (lo, torch.maximum(bounds[1], lo + 2.5 / 255.0))
    return orig(self, linear, out, bounds)


B.BracketHDR.level_blobs = level
if os.environ.get("SHARE"):
    B.BracketHDR.debevec_share = float(os.environ["SHARE"])
print("order", ORDER, "level from code", LO, "share", B.BracketHDR.debevec_share, flush=True)
sys.argv = [str(Path(__file__).resolve().parents[1] / "level-session42/level_eval.py")] + sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
