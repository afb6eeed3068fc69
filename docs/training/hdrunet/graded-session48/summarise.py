"""Means of graded_study.py pickles: all pictures, the detector's hits (p >= 0.5) and misses, for `none`, `bt2446a`
and `hdrunet-auto`: all-pixel PQ-PSNR, deltaE_ITP (and its clipped / unclipped parts), PSNR-mu, clipped PSNR-mu and
the highlight level (log2 of the clipped pixels' median light over the truth's; studies from session 48 on).
python summarise.py LABEL=STUDY.pkl [LABEL=STUDY.pkl ...]"""
import pickle
import sys

import numpy as np

KEYS = ("pq_psnr", "delta_e_itp", "unclipped_delta_e_itp", "clipped_delta_e_itp", "psnr_mu", "clipped_psnr_mu",
        "highlight_level")


def mean(rows, model, key):
    v = [r[model][key] for r in rows if key in r[model] and np.isfinite(r[model][key])]
    return float(np.mean(v)) if v else float("nan")


print("label | pictures | model | " + " | ".join(KEYS))
for arg in sys.argv[1:]:
    label, path = arg.split("=", 1)
    rows = pickle.load(open(path, "rb"))
    for part, rs in (("all", rows), ("hits", [r for r in rows if r["p"] >= 0.5]),
                     ("misses", [r for r in rows if r["p"] < 0.5])):
        for model in ("none", "bt2446a", "hdrunet-auto"):
            if model != "hdrunet-auto" and label != sys.argv[1].split("=", 1)[0]:
                continue  # the baselines once, from the first study
            print(f"{label} | {part} ({len(rs)}) | {model} | " + " | ".join(f"{mean(rs, model, k):.2f}" for k in KEYS))
