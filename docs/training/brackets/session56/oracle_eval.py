"""What a perfect shoulder detector would be worth: `cap_eval.py`'s run (the validation views, the model as shipped,
cap 250) with the detector's probability replaced by the camera's true class on some cameras.
python oracle_eval.py SEED [SEED ...]   MODEL=brackets|hdrunet-auto (default brackets);
ORACLE=camera: p = 0 on the clip-at-white cameras (srgb-mid, hard, broadcast), the detector elsewhere;
ORACLE=all: also p = 1 on the consumer camera and graded pictures (the detector's training classes);
ORACLE=none: the detector as shipped (the reference, same code path).
ONLY=consumer: that camera alone; PERPIC=out.pkl: each picture's (seed, view, camera, p, clipped PSNR-mu).
CAPSURE=3,5: the average-light cap keeps the curve's shape from these logits of p (shipped 4.5,6.5; auto_params).
LOHI=0.5,0.8 (brackets only): the smoothstep that turns p into the shoulder weight over these bounds (shipped 0.6,0.95)."""
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))
from common import hdrunet_auto, scene_files, score, shots  # noqa: E402

import hdrvid.jobs.evaluate as E  # noqa: E402
from hdrvid.color.levels import LEVEL_GAIN  # noqa: E402
from hdrvid.synth.camera import ALL_SETTINGS  # noqa: E402

MODEL = os.environ.get("MODEL", "brackets")
ORACLE = os.environ.get("ORACLE", "camera")
if MODEL == "hdrunet-auto":
    net, _ = hdrunet_auto(level=True)
else:
    from hdrvid.engines.backends import backend_from_options
    from hdrvid.runtime import EngineOptions
    net = E.executor_for(MODEL, None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1),
                                                    infer_scale=None))
model = net.model
if os.environ.get("CAPSURE"):
    import hdrvid.models.auto_params as AP
    import hdrvid.models.hdrunet as H
    from hdrvid.models.auto_arrays import smoothstep
    SURE = tuple(float(v) for v in os.environ["CAPSURE"].split(","))

    def cap_sure(p: float) -> float:
        if not p > 0:
            return 0.0
        if p >= 1:
            return 1.0
        return smoothstep((math.log(p / (1 - p)) - SURE[0]) / (SURE[1] - SURE[0]))
    H.cap_sure = cap_sure
    print("cap sure over logits", SURE, "shipped", AP.CAP_SURE_LO, AP.CAP_SURE_HI, flush=True)
if os.environ.get("LOHI"):
    import hdrvid.models.brackets as B
    B.SHOULDER_LO, B.SHOULDER_HI = (float(v) for v in os.environ["LOHI"].split(","))
    print("shoulder weight over", B.SHOULDER_LO, B.SHOULDER_HI, flush=True)
holder = getattr(model, "base", model)
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
res = {s: {r: [] for r in ("clipped", "unclipped", "all")} for s in ALL_SETTINGS}
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
    print(f"{region:9s}", " / ".join(f"{np.mean(res[s][region]):.2f}" if res[s][region] else "-" for s in ALL_SETTINGS))
