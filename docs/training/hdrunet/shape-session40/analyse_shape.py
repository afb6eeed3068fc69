import pickle
import sys

import numpy as np

SETS = ["srgb-mid", "hard", "broadcast", "consumer", "graded"]
pics, blobs = [], []
for p in sys.argv[1:]:
    d = pickle.load(open(p, "rb")); off = len(pics); pics += d["pics"]
    for b in d["blobs"]:
        b = dict(b); b["pic"] += off; blobs.append(b)
G0, S, PR = d["g0"], d["s"], d["profiles"]
i0, s0 = int(np.argmin(np.abs(G0))), int(np.where(S == 0)[0][0])
def table(choose):
    err = np.array([p["err_rest"] for p in pics], float)
    for b in blobs: err[b["pic"]] += choose(b)
    ps = -10 * np.log10(np.maximum(err, 1e-30) / (3 * np.array([p["nclip"] for p in pics])))
    return [float(np.mean(ps[[i for i, p in enumerate(pics) if p["setting"] == s]])) for s in SETS]
def show(name, v): print("%-34s" % name, " / ".join("%.2f" % x for x in v))
show("shipped", table(lambda b: b["errs"][0, s0, i0]))
show("oracle const per blob", table(lambda b: b["errs"][0, s0].min()))
for a, pr in enumerate(PR):
    show(f"oracle (g0,s) {pr}", table(lambda b: b["errs"][a].min()))
for a, pr in enumerate(PR):
    for si, s in enumerate(S):
        if s == 0: continue
        # a fixed slope for every blob, g0 = 0 and the best single global g0
        v0 = table(lambda b: b["errs"][a, si, i0])
        show(f"fixed s={s:+.1f} {pr} g0=0", v0)
