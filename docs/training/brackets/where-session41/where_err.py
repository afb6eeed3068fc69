"""(BY=dist: bins by the distance in pixels to the clipped area's edge instead.) Where in the clipped pixels `brackets` loses to `hdrunet-auto`: each clipped pixel's squared mu-law error (as
PSNR-mu encodes it, each model aligned as `hdr_metrics` aligns it) by the truth's light relative to the picture's
white. python where_err.py SEED [CAMERAS]  (validation views of cap_eval; default cameras srgb-mid,hard,broadcast,consumer)"""
import os, sys
import cv2
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet" / "blobs-session39"))
from common import aligned, hdrunet_auto, scene_files, shots
import hdrvid.jobs.evaluate as E
from hdrvid.engines.backends import backend_from_options
from hdrvid.runtime import EngineOptions

seed = int(sys.argv[1])
cams = (sys.argv[2] if len(sys.argv) > 2 else "srgb-mid,hard,broadcast,consumer").split(",")
h, _ = hdrunet_auto(level=True)
b = E.executor_for("brackets", None, EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None))
BY = os.environ.get('BY', 'truth')
EDGES = [0, 1, 2, 4, 8, 16, 64, np.inf] if BY == 'truth' else [0, 1.5, 2.5, 4.5, 8.5, 16.5, 32.5, np.inf]
acc = {c: {m: np.zeros(len(EDGES) - 1) for m in ("hdrunet-auto", "brackets")} for c in cams}
cnt = {c: np.zeros(len(EDGES) - 1) for c in cams}
over = {c: {m: np.zeros(len(EDGES) - 1) for m in ("hdrunet-auto", "brackets")} for c in cams}
npic = {c: 0 for c in cams}
for _, _, setting, shot, x in shots(scene_files("validation"), seed):
    if setting not in cams or not shot.clipped.any():
        continue
    npic[setting] += 1
    m = shot.clipped
    t = np.clip(shot.target, 0, None).max(-1)[m]
    if BY != 'truth':
        t = cv2.distanceTransform(np.pad(m.astype(np.uint8), 1), cv2.DIST_L2, 5)[1:-1, 1:-1][m]
    bins = np.digitize(t, EDGES[1:-1])
    n = m.sum()
    for name, net in (("hdrunet-auto", h), ("brackets", b)):
        pred, ref, k, mu, muref = aligned(net, shot, x)
        se = ((mu(pred) - muref) ** 2)[m].mean(-1)
        signed = (mu(pred) - muref)[m].mean(-1)
        for i in range(len(EDGES) - 1):
            sel = bins == i
            acc[setting][name][i] += se[sel].sum() / n   # this bin's share of the picture's clipped MSE
            over[setting][name][i] += signed[sel].sum() / n
    for i in range(len(EDGES) - 1):
        cnt[setting][i] += (bins == i).sum() / n
for c in cams:
    print(c, npic[c], "pictures; truth / white bins", EDGES)
    print("  pixel share   ", " ".join("%7.3f" % (v / npic[c]) for v in cnt[c]))
    for name in acc[c]:
        print("  %-13s" % name, " ".join("%7.4f" % (1e3 * v / npic[c]) for v in acc[c][name]), " (mean per-picture MSE x1e3 by bin)")
        print("  %-13s" % "  bias", " ".join("%+7.4f" % (1e3 * v / npic[c]) for v in over[c][name]))
