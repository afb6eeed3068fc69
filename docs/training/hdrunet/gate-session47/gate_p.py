"""The network's own "graded" gate (``HDRUNet.gate_logit`` on the frame-wide context, trained with the camera label in
session 4) beside the shoulder detector's p, per validation picture of session 36/38's detector studies (the same
views and camera draws: ``detector-session36/study_threshold.py``'s seeds), to see whether it tells the detector's
false "graded" calls on clip-at-white cameras from the consumer and graded pictures.

    python docs/training/hdrunet/gate-session47/gate_p.py SEED OUT.json
"""
import json
import sys
import time
from pathlib import Path

import torch

import hdrvid.jobs.evaluate as E
from hdrvid.models import build
from hdrvid.synth.camera import ALL_SETTINGS

torch.set_num_threads(1)
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"),
     Path("../shared/hdri-train/blender-world")]
seed, out_path = int(sys.argv[1]), Path(sys.argv[2])
model = build("hdrunet-auto").eval()
pictures = E.eval_pictures(E.eval_files(D, "validation"), 8, 384, seed)  # the studies' pictures
recs = []
t0 = time.time()
for i, (scene, img) in enumerate(pictures):
    for j, setting in enumerate(ALL_SETTINGS):
        shot, x = E.eval_shot(img, seed, i, j, setting)
        with torch.inference_mode():
            ctx = model.context(x)
            gate = float(torch.sigmoid(model.gate_logit(ctx))[0])
            p = float(model.shoulder(x.clamp(0, 1))[0])
        recs.append({"scene": scene, "i": i, "setting": setting, "gate": gate, "p": p})
    if i % 8 == 7:
        print(i, "%.0f s" % (time.time() - t0), flush=True)
out_path.write_text(json.dumps(recs))
