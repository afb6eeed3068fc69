"""hdrvid eval's validation (8 views per scene, 384 px, five cameras incl. graded) with another seed (views and camera draws).
python seed_eval.py SEED MODEL[,MODEL...] OUT.json   (SPLIT=held-out: the held-out panoramas instead; session 40)"""
import json, os, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
from hdrvid.jobs.evaluate import evaluate
from hdrvid.runtime import EngineOptions
from hdrvid.engines.backends import backend_from_options
from hdrvid.synth.camera import ALL_SETTINGS
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"), Path("../shared/hdri-train/blender-world")]
seed = int(sys.argv[1]); models = sys.argv[2].split(",")
t = time.time()
rep = evaluate(models, D, settings=tuple(ALL_SETTINGS), width=384, split_name=os.environ.get("SPLIT", "validation"), views=8, seed=seed,
               engine=EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None))
Path(sys.argv[3]).write_text(rep.model_dump_json(indent=1) if hasattr(rep, "model_dump_json") else json.dumps(rep.__dict__, default=str))
print(rep.table("psnr_mu"), "%.0f s" % (time.time() - t), flush=True)
