"""hdrunet-auto on the validation views (8 per scene, 384 px) in chosen cameras with one feature off at a time."""
import json, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from hdrvid.jobs.evaluate import evaluate
from hdrvid.runtime import EngineOptions
from hdrvid.engines.backends import backend_from_options
import hdrvid.models.hdrunet as H

D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"), Path("../shared/hdri-train/blender-world")]
settings = tuple(sys.argv[1].split(","))
variant = sys.argv[2]
orig = H.HDRUNet.shoulder_weight
if variant == "no-edge-gate":
    H.EDGE_GATE = False
elif variant == "no-deblock":
    H.DEBLOCK = False
elif variant == "camera":
    H.HDRUNet.shoulder_weight = lambda self, linear: torch.zeros(linear.shape[0])
elif variant == "graded":
    H.HDRUNet.shoulder_weight = lambda self, linear: torch.ones(linear.shape[0])
t = time.time()
rep = evaluate(["hdrunet-auto"], D, settings=settings, width=384, split_name="validation", views=8,
               engine=EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None))
out = {}
for name, by_setting in rep.scores.items():
    out[name] = {s: {k: round(v, 3) for k, v in d.items() if v is not None and k in ("clipped/psnr_mu", "unclipped/psnr_mu", "all/pu21_psnr")} for s, d in by_setting.items()}
print(variant, json.dumps(out), "%.0f s" % (time.time() - t), flush=True)
