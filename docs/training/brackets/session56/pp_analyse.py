"""Session 56: where the label's gain on the consumer camera sits, by the detector's p, for both models.
python pp_analyse.py B_NONE.pkl B_ALL.pkl A_NONE.pkl A_ALL.pkl   (oracle_eval.py's PERPIC files: brackets as shipped and
with the label, hdrunet-auto the same; ONLY=consumer)"""
import pickle
import sys

import numpy as np

d = dict(zip(["b_none", "b_all", "a_none", "a_all"], (pickle.load(open(f, "rb")) for f in sys.argv[1:5])))


def key(r):
    return r[0], r[1]


for m in "ba":
    none = {key(r): r for r in d[m + "_none"]}
    al = {key(r): r for r in d[m + "_all"]}
    ks = sorted(none)
    p = np.array([none[k][3] for k in ks])
    g = np.array([al[k][4] - none[k][4] for k in ks])
    print(m, len(ks), "mean gain %.2f" % g.mean())
    for lo, hi in [(0, 0.6), (0.6, 0.95), (0.95, 0.999), (0.999, 1.01)]:
        sel = (p >= lo) & (p < hi)
        print(f"  p in [{lo},{hi}): n={sel.sum():3d} share of gain {g[sel].sum() / len(ks):.2f}"
              f"  mean per pic {g[sel].mean() if sel.any() else 0:.2f}")
