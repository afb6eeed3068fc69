"""hdrvid with one part of hdrunet-auto's video path changed, for the flicker study of session 38:

    python ablate.py MODE [VALUE] convert IN OUT -f exr ...

MODE: field-ema K (the network's field through a per-frame exponential mean, weight K on the new frame),
field-flat (the guided upsampling's coefficients replaced by the box-smoothed field: no guide), mask-deblock-all
(the codec-block filter of the mask on graded frames too), mask-from LO (the graded mask starts at signal LO,
shipped 0.965), no-mask-temporal (with temporal_mask.diff applied: its filter off)."""
import sys

import torch

mode = sys.argv.pop(1)
if mode == "field-ema":
    import hdrvid.engines.executor as ex

    k, state, orig = float(sys.argv.pop(1)), {}, ex.Executor._field

    def field(self, small, active):
        f, p = orig(self, small, active), state.get("f")
        if p is not None and p.shape == f.shape:
            f = p + k * (f - p)
        state["f"] = f.clone()
        return f

    ex.Executor._field = field
elif mode == "field-flat":
    import hdrvid.engines.executor as ex

    def flat(field, guide_small, r, eps):
        mean = ex.box_filter(field, r)
        return torch.zeros_like(mean), ex.box_filter(mean, r)

    ex.guided_coefficients = flat
elif mode == "mask-deblock-all":
    import hdrvid.models.deblock as d

    orig_call = d.MaskShift.__call__
    d.MaskShift.__call__ = lambda self, linear, weight, *a, **k: orig_call(self, linear, torch.zeros_like(weight), *a, **k)
elif mode == "mask-from":
    import hdrvid.models.hdrunet as h

    h.ALPHA_LO = float(sys.argv.pop(1))
    h.CLIP_START_LINEAR = h.ALPHA_LO ** h.SIGNAL_GAMMA * (1 - 1e-5)
elif mode == "no-mask-temporal":
    import hdrvid.models.deblock as d

    d.MaskShift.start_video = lambda self: None
else:
    raise SystemExit(f"unknown mode {mode}")

from hdrvid.cli import run  # noqa: E402

sys.argv = ["hdrvid", *sys.argv[1:]]
run()
