"""Every learned single-exposure model as shipped (no setting changed; `hdrvid eval`'s engine on one thread) on
cap_eval.py's pictures: `eval`'s views (8 per scene, 384 px), five cameras, clipped / unclipped / all-pixel PSNR-mu
only (no SSIM: `seed_eval.py` spends most of its time there). Issue 15's first target is against the best of these
per camera, not only `hdrunet-auto`.
MODELS=hdrunet,hdrunet-lite [SPLIT=heldout] python single_eval.py SEED [SEED ...]"""
import os
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))
from common import DATA, as_shipped, row, scene_files, score, shots, table  # noqa: E402

from hdrvid.io.images import list_hdr  # noqa: E402
from hdrvid.train.data import split  # noqa: E402

files = split(list_hdr(DATA))[1] if os.environ.get("SPLIT") == "heldout" else scene_files("validation")
models = os.environ.get("MODELS", "hdrunet,hdrunet-graded,hdrunet-lite,expandnet").split(",")
nets = {m: as_shipped(m) for m in models}
print(len(files), "scenes", models, flush=True)
res = {m: table() for m in models}
t0 = time.time()
for seed in (int(s) for s in sys.argv[1:]):
    for _, _, setting, shot, x in shots(files, seed):
        for m, net in nets.items():
            with torch.inference_mode():
                pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            score(res[m][setting], pred, shot)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
for region in ("clipped", "unclipped", "all"):
    for m in models:
        print(f"{m:15s} {region:9s}", row(res[m], region))
