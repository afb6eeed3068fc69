"""Where `brackets` loses to `hdrunet-auto`, picture by picture: per camera the mean clipped PSNR-mu of each, the
distribution of the per-picture difference, and how much of the mean difference the worst pictures carry.
python analyse.py PKL [PKL ...]"""
import pickle
import sys

import numpy as np

rows = [r for f in sys.argv[1:] for r in pickle.load(open(f, "rb"))]
for s in ("srgb-mid", "hard", "broadcast", "consumer", "graded"):
    rs = [r for r in rows if r["setting"] == s and "brackets:clipped" in r and np.isfinite(r["brackets:clipped"])
          and np.isfinite(r["hdrunet-auto:clipped"])]
    a = np.array([r["hdrunet-auto:clipped"] for r in rs]); b = np.array([r["brackets:clipped"] for r in rs])
    d = b - a
    order = np.argsort(d)
    n = len(d)
    worst = [(rs[k]["seed"], rs[k]["i"], round(float(d[k]), 2), round(rs[k]["clipped_share"], 4)) for k in order[:5]]
    print(f"{s:9s} n {n} auto {a.mean():.2f} brackets {b.mean():.2f} diff {d.mean():+.2f} | median {np.median(d):+.2f} "
          f"wins {np.mean(d > 0):.2f} | diff without worst 5 {np.mean(d[order[5:]]):+.2f}, worst 10 % carry "
          f"{d[order[:n // 10]].sum() / d.sum():.0%}")
    print("   worst:", worst)
    cs = np.array([r["clipped_share"] for r in rs])
    for lo, hi in ((0, 0.005), (0.005, 0.02), (0.02, 0.08), (0.08, 1)):
        m = (cs >= lo) & (cs < hi)
        if m.any():
            print(f"   clipped share {lo}-{hi}: n {m.sum()} diff {d[m].mean():+.2f} (auto {a[m].mean():.2f})")
