"""hdrunet-auto as shipped with its average cap at several values (nits at the default level), on the validation
views (`eval`'s: 8 per scene, 384 px, five cameras): clipped / unclipped / all-pixel PSNR-mu per camera.
python cap_eval.py SEED [SEED ...]   environment: CAPS=320,280,250 (nits), MODEL=brackets (default hdrunet-auto),
LEVEL=0 (the model's per-blob level off), SPLIT=heldout (the held-out panoramas; reported, never chosen on),
BLF=rule.json (the per-blob level's parameters read from another file; session 43)"""
import os, sys, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "blobs-session39"))
from common import DATA, hdrunet_auto, scene_files, score, shots
import hdrvid.jobs.evaluate as E
from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.synth.camera import ALL_SETTINGS

caps = [float(c) for c in os.environ.get("CAPS", "320,280,250").split(",")]
from hdrvid.io.images import list_hdr
from hdrvid.train.data import split
files = split(list_hdr(DATA))[1] if os.environ.get("SPLIT") == "heldout" else scene_files("validation")
print(len(files), "scenes", flush=True)
MODEL = os.environ.get("MODEL", "hdrunet-auto")
if MODEL == "hdrunet-auto":
    net, _ = hdrunet_auto(level=True)
else:
    from hdrvid.engines.backends import backend_from_options
    from hdrvid.runtime import EngineOptions
    net = E.executor_for(MODEL, None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None))
model = net.model
holder = getattr(model, "base", model)  # diffhdr-single and the 2x models carry the level in their base
if os.environ.get("LEVEL") == "0":
    holder.blob_level = None
elif os.environ.get("BLF"):
    from hdrvid.models.blob_level import BlobLevel
    holder.blob_level = BlobLevel(Path(os.environ["BLF"]).resolve())
    print("blob level file", os.environ["BLF"], flush=True)
print(MODEL, "level", getattr(holder, "blob_level", None) is not None, flush=True)
res = {c: {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS} for c in caps}
t0 = time.time()
for seed in (int(s) for s in sys.argv[1:]):
    for _, _, setting, shot, x in shots(files, seed):
        for c in caps:
            model.average_cap = c / (203.0 * LEVEL_GAIN["bt2446a"])
            with torch.inference_mode():
                pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            score(res[c][setting], pred, shot)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
for region in ("clipped", "unclipped", "all"):
    for c in caps:
        print(f"{c:5.0f} {region:9s}", " / ".join(f"{np.mean(res[c][s][region]):.2f}" for s in ALL_SETTINGS))
