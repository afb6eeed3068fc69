"""Study patch (GATECAP=1): the average-light cap lowers the BT.2446A curve's weight only as far as the frame's top
code is full (the graded boost's gate g: 1 when the top code is empty, as a grade leaves it); where it is empty the
curve keeps its weight (w x (f + g (1 - f))) and the cap would be met by one gain on the frame, which aligned
metrics do not see. Imported for its effect. Written against the code before commit 626c607, which made this the
shipped behaviour: on later code it would apply the gate twice."""
import os
import torch
import hdrvid.models.hdrunet as H
from hdrvid.models.auto_arrays import top_gate

if os.environ.get("GATECAP") == "1":
    import hdrvid.models.auto_arrays as A
    if hasattr(A, "cap_factors"):  # the shipped code (commit 626c607 on) does this already
        raise SystemExit("GATECAP=1 is the study patch of the code before commit 626c607; this code already gates the cap")
    orig = H.GradedCurve.capped_weight

    def capped_weight(self, linear, out, w):
        capped = orig(self, linear, out, w)
        subs = linear[:, :, ::2, ::2].detach().float().cpu().numpy()
        g = torch.tensor([top_gate(s) for s in subs], dtype=capped.dtype).view(-1, 1, 1, 1)
        return capped + g * (w - capped)

    H.GradedCurve.capped_weight = capped_weight
    print("GATECAP on", flush=True)
