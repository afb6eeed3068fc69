"""The per-blob level MLP (blobs-session39/fit.py's features and objective, 16 units) fitted with a decaying step.
Session 39's export_fit.py took Adam's last iterate at a fixed 1e-2, where the full-batch objective still swings by
+-0.3 dB from step to step (session 42: -25.9 to -26.6 over the last 1000 steps on brackets' training blobs), so
which rule it wrote was partly chance. Here the step decays (cosine, 1e-2 -> 1e-4 over STEPS), several starts are
fitted on the training blobs and the start is chosen on the validation blobs, as before.
ALIGN=1: the objective follows the metric's alignment (study.picture_psnr); INTERP=cr: Catmull-Rom between the
study's grid points (study.interp_cr); with neither the objective is session 39's.
python export_fit2.py OUT.json TRAIN.pkl [TRAIN.pkl ...] -- VAL.pkl [VAL.pkl ...]   (STEPS=3000 STARTS=3 ALIGN=1 INTERP=cr WHAT=...)
Session 43 (hdrunet-auto's rule): HIDDEN=16 (the MLP's units), WD=0 (AdamW's weight decay); each start's validation
figures per camera are printed; ENSEMBLE=1: also OUT-mean.json, the mean of all the starts' factors (one MLP with
their hidden units side by side, the output layer divided by the number of starts).
Session 44: EXTRA=near2,max2,white adds those of `models.blob_level.EXTRA_FEATURES` (read from each blob's dict under
these keys, which hdrunet/features-session44/extra_features.py writes into a study's pickle)."""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))
import fit as F  # noqa: E402
import torch  # noqa: E402
from analyse import load  # noqa: E402
from study import fit_mlp, interp_cr, mean_of, picture_psnr, write_rule  # noqa: E402

from hdrvid.synth.camera import ALL_SETTINGS  # noqa: E402

# the feature names, as session 39/40 wrote them into the rule files (export_fit.py runs on import)
NAMES = json.load(open(Path(__file__).resolve().parents[4] / "hdrvid/models/weights/brackets-blob-level.json"))["features"]

STEPS = int(os.environ.get("STEPS", 3000))
STARTS = int(os.environ.get("STARTS", 3))
ALIGN = os.environ.get("ALIGN") == "1"
HIDDEN = int(os.environ.get("HIDDEN", 16))
WD = float(os.environ.get("WD", 0))
ENSEMBLE = os.environ.get("ENSEMBLE") == "1"
INTERP = interp_cr if os.environ.get("INTERP") == "cr" else F.interp  # INTERP=cr: study.py
out = sys.argv[1]
k = sys.argv.index("--")
tp, tb, grid = load(sys.argv[2:k])
vp, vb, _ = load(sys.argv[k + 1:])
X = F.features(tp, tb)
XV = F.features(vp, vb)
KEYS = [k for k in os.environ.get("EXTRA", "").split(",") if k]
if KEYS:
    from hdrvid.models.blob_level import EXTRA_FEATURES

    def extra(blobs):
        return torch.tensor([[float(b[k]) for k in KEYS] for b in blobs], dtype=torch.float32)
    X, XV = torch.cat([X, extra(tb)], 1), torch.cat([XV, extra(vb)], 1)
    NAMES = NAMES + [next(n for n, k in EXTRA_FEATURES.items() if k == key) for key in KEYS]


psnr_t, psnr_v = picture_psnr(tp, tb, grid, INTERP, ALIGN), picture_psnr(vp, vb, grid, INTERP, ALIGN)


def by_camera(ps):
    """Each camera's mean of the validation pictures' clipped PSNR-mu ``ps``."""
    return " / ".join("%.2f" % float(ps[[i for i, p in enumerate(vp) if p["setting"] == c]].mean()) for c in ALL_SETTINGS)


def obj_t(g):
    return -psnr_t(g).mean()


def obj_v(g):
    return -psnr_v(g).mean()


assert abs(float(obj_t(torch.zeros(X.shape[0]))) - float(F.objective(tp, tb, grid, torch.zeros(X.shape[0])))) < 1e-9
mean, std = X.mean(0), X.std(0) + 1e-6
Z, ZV = (X - mean) / std, (XV - mean) / std
zero_t = float(obj_t(torch.zeros(X.shape[0])))
zero_v = float(obj_v(torch.zeros(XV.shape[0])))
print(f"no level: training objective {zero_t:.4f}, validation {zero_v:.4f}", flush=True)
best = None
nets = []
for start in range(STARTS):
    net = fit_mlp(Z, obj_t, HIDDEN, STEPS, start, WD,
                  log=lambda s, v: print(f"  start {start} step {s}: {v:.4f}", flush=True))
    with torch.no_grad():
        val = float(obj_v(net(ZV)[:, 0]))
        tr = float(obj_t(net(Z)[:, 0]))
        cams = psnr_v(net(ZV)[:, 0])
    print(f"start {start}: training objective {tr:.4f}, validation {val:.4f}  ({by_camera(cams)})", flush=True)
    nets.append(net)
    if best is None or val < best[0]:
        best = (val, start, net)
val, start, net = best


def write(path, net, start, val):
    write_rule(path, os.environ.get("WHAT", "a per-blob level rule: log2 factor of a clipped blob's light"), start,
               val, NAMES, mean, std, net)
    print("wrote", path, "start", start)


write(out, net, start, val)
if ENSEMBLE:
    both = mean_of(nets)
    with torch.no_grad():
        g = both(ZV)[:, 0]
        assert torch.allclose(g, sum(n(ZV)[:, 0] for n in nets) / STARTS, atol=1e-5)
    write(out[:-5] + "-mean.json" if out.endswith(".json") else out + "-mean", both, "mean of %d" % STARTS,
          float(obj_v(g)))
    print(f"mean of the starts: validation {float(obj_v(g)):.4f}  ({by_camera(psnr_v(g))})")
