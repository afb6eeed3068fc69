import fit as F
import numpy as np
from analyse import load

from hdrvid.synth.camera import ALL_SETTINGS

tp, tb, grid = load(["/work/blobs/train0.pkl"])
vp, vb, _ = load(["/work/blobs/val0.pkl", "/work/blobs/val1.pkl", "/work/blobs/val2.pkl"])
f = F.fit(tp, tb, grid, 16)
g = f(vp, vb).numpy()
X = F.features(vp, vb).numpy()
for s in ALL_SETTINGS:
    sel = np.array([vp[b["pic"]]["setting"] == s for b in vb])
    area = np.array([b["area"] for b in vb])
    w = area[sel]
    print(s, "area-weighted mean g %.2f" % np.average(g[sel], weights=w), "pcts", np.round(np.percentile(g[sel], [10, 50, 90]), 2),
          "p mean %.2f" % X[sel, 17].mean())
# correlation of g with p for consumer
for s in ("consumer", "graded", "broadcast"):
    sel = np.array([vp[b["pic"]]["setting"] == s for b in vb])
    hi = sel & (X[:, 17] > 0.9); lo = sel & (X[:, 17] < 0.6)
    print(s, "p>0.9: n %d g %.2f ; p<0.6: n %d g %.2f" % (hi.sum(), g[hi].mean() if hi.any() else 0, lo.sum(), g[lo].mean() if lo.any() else 0))
