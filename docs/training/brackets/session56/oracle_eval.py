"""What a perfect shoulder detector would be worth: `cap_eval.py`'s run (the validation views, the model as shipped,
cap 250) with the detector's probability replaced by the camera's true class on some cameras.
python oracle_eval.py SEED [SEED ...]   MODEL=brackets|hdrunet-auto (default brackets);
ORACLE=camera: p = 0 on the clip-at-white cameras (srgb-mid, hard, broadcast), the detector elsewhere;
ORACLE=all: also p = 1 on the consumer camera and graded pictures (the detector's training classes);
ORACLE=none: the detector as shipped (the reference, same code path).
ONLY=consumer: that camera alone; PERPIC=out.pkl: each picture's (seed, view, camera, p, clipped PSNR-mu).
CAPSURE=3,5: the average-light cap keeps the curve's shape from these logits of p (``GradedCurve.sure_bounds``; brackets
ships 3,5 since this session, hdrunet-auto 4.5,6.5).
LOHI=0.5,0.8 (brackets only): the smoothstep that turns p into the shoulder weight over these bounds
(``brackets.SHOULDER_BOUNDS``; 0.6,0.95 before this session, 0.75,0.99 since)."""
import os
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))
from common import as_shipped, hdrunet_auto, row, scene_files, score, shots, table  # noqa: E402

from hdrvid.color.levels import LEVEL_GAIN  # noqa: E402

MODEL = os.environ.get("MODEL", "brackets")
ORACLE = os.environ.get("ORACLE", "camera")
if MODEL == "hdrunet-auto":
    net, _ = hdrunet_auto(level=True)
else:
    net = as_shipped(MODEL)
model = net.model
holder = getattr(model, "base", model)
if os.environ.get("CAPSURE"):
    holder.graded_curve.sure_bounds = tuple(float(v) for v in os.environ["CAPSURE"].split(","))
    print("cap sure over logits", holder.graded_curve.sure_bounds, flush=True)
if os.environ.get("LOHI"):
    import hdrvid.models.brackets as B
    B.SHOULDER_BOUNDS = tuple(float(v) for v in os.environ["LOHI"].split(","))
    print("shoulder weight over", *B.SHOULDER_BOUNDS, flush=True)
detector = holder.shoulder
TRUTH = {"srgb-mid": 0.0, "hard": 0.0, "broadcast": 0.0, "consumer": 1.0, "graded": 1.0}
current = {"setting": None}


def forced(x, *a, **k):
    current["calls"] = current.get("calls", 0) + 1
    p = detector.__class__.forward(detector, x, *a, **k)
    current["p"] = float(p.flatten()[0])
    s = current["setting"]
    if ORACLE == "camera" and TRUTH[s] == 0.0 or ORACLE == "all":
        return torch.full_like(p, TRUTH[s])
    return p


detector.forward = forced
files = scene_files("validation")
print(MODEL, "oracle", ORACLE, len(files), "scenes", flush=True)
res = table()
ONLY = os.environ.get("ONLY")
perpic = []
t0 = time.time()
model.average_cap = 250 / (203.0 * LEVEL_GAIN["bt2446a"])
for seed in (int(s) for s in sys.argv[1:]):
    for view, _, setting, shot, x in shots(files, seed):
        if ONLY and setting != ONLY:
            continue
        current["setting"] = setting
        with torch.inference_mode():
            pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
        n = len(res[setting]["clipped"])
        score(res[setting], pred, shot)
        if len(res[setting]["clipped"]) > n:
            perpic.append((seed, view, setting, current.get("p"), res[setting]["clipped"][-1]))
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
print("detector calls", current.get("calls", 0))
if os.environ.get("PERPIC"):
    import pickle
    pickle.dump(perpic, open(os.environ["PERPIC"], "wb"))
for region in ("clipped", "unclipped", "all"):
    print(f"{region:9s}", row(res, region))
