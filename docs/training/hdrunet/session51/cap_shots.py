"""Per-shot record of `hdrunet-auto` with its average-light cap at 250 nits and off, on the validation views (five
cameras): the detector's probability, the curve weight, the cap's factor on the weight and its gain, the share of
pixels at the top code, and clipped / unclipped / all PSNR-mu with the cap on and off. With these, a rule that picks
per frame between "the cap lowers the curve's weight" and "the cap is one gain on the frame" (invisible to the
aligned metric, so it scores as the cap off) can be scored without running the model again.
python cap_shots.py OUT.pkl SEED [SEED ...]   (MODEL=brackets: `brackets` instead of `hdrunet-auto`)"""
import math, os, pickle, sys, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "blobs-session39"))
from common import hdrunet_auto, scene_files, score, shots
import hdrvid.models.hdrunet as H
import hdrvid.models.auto_arrays as A
from hdrvid.color.levels import LEVEL_GAIN

files = scene_files("validation")
if os.environ.get("MODEL", "hdrunet-auto") == "brackets":  # as `convert` runs it, its per-blob level on
    from hdrvid.engines.backends import backend_from_options
    from hdrvid.runtime import EngineOptions
    import hdrvid.jobs.evaluate as E
    net = E.executor_for("brackets", None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1),
                                                         infer_scale=None))

    class LastP(dict):
        def get(self, key, default=None):
            return float(net.model.last_p[0]) if key == "p" else super().get(key, default)

    state = LastP()
else:
    net, state = hdrunet_auto(level=True)
model = net.model
rec: dict = {}
orig = A.cap_factors


def cap_factors(lin, out, w, cap, sub, sure=0.0):
    f, g = orig(lin, out, w, cap, sub, sure)
    top = float((np.maximum(np.maximum(sub[0], sub[1]), sub[2]) >= A.P.TOP_CODE_LINEAR).mean())
    rec.update(w=w, factor=f, gain=g, top=top, gate=A.top_gate(sub))
    return f, g


H.cap_factors = cap_factors
H.cap_sure = lambda p: 0.0  # "on" is the weight cap as before session 51 (the torch path reads cap_sure from here)
rows = []
t0 = time.time()
for seed in (int(s) for s in sys.argv[2:]):
    for i, j, setting, shot, x in shots(files, seed):
        row = dict(seed=seed, view=i, camera=setting)
        for name, cap in (("on", 250.0), ("off", 1e5)):
            model.average_cap = cap / (203.0 * LEVEL_GAIN["bt2446a"])
            rec.clear()
            with torch.inference_mode():
                pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            res = {r: [] for r in ("clipped", "unclipped", "all")}
            score(res, pred, shot)
            row.update({f"{r}_{name}": (res[r][0] if res[r] else math.nan) for r in res})
            row.update({f"{k}_{name}": v for k, v in rec.items()})
            row["p"] = state.get("p", math.nan)
            row["mean_in"] = float(np.asarray(x).mean())
        rows.append(row)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
    pickle.dump(rows, open(sys.argv[1], "wb"))
