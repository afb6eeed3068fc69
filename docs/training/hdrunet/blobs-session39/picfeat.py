import sys

import numpy as np
from analyse import load

P, B, grid = load(sys.argv[1:])
agg = {}
for b in B:
    a = agg.setdefault(b["pic"], {"w": 0.0, "ring2": 0.0, "ring6": 0.0, "sat": 0.0, "pm": 0.0, "slope": 0.0})
    w = b["area"]
    if not (np.isfinite(b["ring2"]) and np.isfinite(b["ring16"])):
        continue
    a["w"] += w; a["ring2"] += w * b["ring2"]; a["ring6"] += w * b["ring6"]; a["sat"] += w * b["lin_sat"]; a["pm"] += w * b["pred_mean"]
    a["slope"] += w * np.log2(max(b["ring2"], 1e-4) / max(b["ring16"], 1e-4))
for s in ("srgb-mid", "hard", "broadcast", "consumer", "graded"):
    rows = []
    for i, p in enumerate(P):
        if p["setting"] != s or p["p"] < 0.6 or i not in agg or agg[i]["w"] == 0:
            continue
        a = agg[i]
        rows.append([a[k] / a["w"] for k in ("ring2", "ring6", "sat", "pm", "slope")] + [p["frac_clip"]])
    rows = np.array(rows)
    if len(rows):
        print(f"{s:10s} n={len(rows):3d}", "  ".join(f"{n} {np.percentile(rows[:, c], 10):.3f}/{np.median(rows[:, c]):.3f}/{np.percentile(rows[:, c], 90):.3f}"
              for c, n in enumerate(("ring2", "ring6", "sat", "pm", "slope", "fclip"))))
