"""`--upscale 2` on one draw of the validation views (8 per scene, 192 px, five cameras), session 36's protocol:

    python up_eval.py SEED OUT.json [WEIGHTS]

`hdrunet-auto` (or $MODEL, e.g. brackets) at 2x, with WEIGHTS for its 2x file if given, beside `hdrunet-auto+bicubic`
(bicubic upscaling of the best single-exposure output), one thread."""
import json
import os
import sys
import time
from pathlib import Path

import torch

from hdrvid.engines.backends import backend_from_options
from hdrvid.jobs.evaluate import evaluate
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS

torch.set_num_threads(1)
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"),
     Path("../shared/hdri-train/blender-world")]
seed, out = int(sys.argv[1]), Path(sys.argv[2])
MODEL = os.environ.get("MODEL", "hdrunet-auto")
weights = {MODEL: Path(sys.argv[3])} if len(sys.argv) > 3 else None
t = time.time()
rep = evaluate([MODEL] + (["hdrunet-auto"] if MODEL != "hdrunet-auto" else []), D, settings=tuple(ALL_SETTINGS), width=192,
               split_name="validation", views=8, seed=seed, weights=weights, upscale=2,
               engine=EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None))
out.write_text(rep.model_dump_json(indent=1) if hasattr(rep, "model_dump_json") else json.dumps(rep.__dict__, default=str))
s = rep.scores if hasattr(rep, "scores") else json.loads(out.read_text())["scores"]
mean = {m: sum(v[c]["all/psnr_mu"] for c in v) / len(v) for m, v in s.items()}
print(f"seed {seed}: " + ", ".join(f"{m} {v:.3f}" for m, v in mean.items())
      + f"; gain {mean[MODEL] - mean['hdrunet-auto+bicubic']:+.3f} ({time.time() - t:.0f} s)", flush=True)
