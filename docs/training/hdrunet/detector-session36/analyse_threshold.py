"""Means per camera of clipped / unclipped PSNR-mu for hdrunet-auto with the shoulder weight decided by a hard
threshold on the detector's p (w = 1 above), beside the shipped smoothstep and the label oracle."""
import json, sys
import numpy as np
recs = [r for f in sys.argv[1:] for r in json.load(open(f))]
cams = ["srgb-mid", "hard", "broadcast", "consumer", "graded"]
SHOULDER = {"consumer", "graded"}
def table(choose, name):
    row = []
    for c in cams:
        rs = [r for r in recs if r["setting"] == c]
        cl = [r[f"{choose(r)}/clipped/psnr_mu"] for r in rs if "w0/clipped/psnr_mu" in r]
        un = [r[f"{choose(r)}/unclipped/psnr_mu"] for r in rs if "w0/unclipped/psnr_mu" in r]
        row.append((np.mean(cl), np.mean(un)))
    cl_mean = np.mean([a for a, _ in row]); un_mean = np.mean([b for _, b in row])
    print(f"{name:18s} " + " ".join(f"{a:6.2f}/{b:6.2f}" for a, b in row) + f"   mean {cl_mean:6.2f}/{un_mean:6.2f}")
print(len(recs), "records; clipped/unclipped per camera:", " ".join(f"{c:>13s}" for c in cams))
table(lambda r: "shipped", "shipped")
table(lambda r: "w0", "always camera")
table(lambda r: "w1", "always graded")
table(lambda r: "w1" if r["setting"] in SHOULDER else "w0", "oracle (labels)")
for t in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999):
    table(lambda r, t=t: "w1" if r["p"] > t else "w0", f"hard p > {t}")
for c in cams:
    ps = np.array([r["p"] for r in recs if r["setting"] == c])
    print(f"{c:10s} p quantiles 10/50/90: {np.quantile(ps, 0.1):.3f} {np.quantile(ps, 0.5):.3f} {np.quantile(ps, 0.9):.3f}; share > 0.95 {np.mean(ps > 0.95):.2f} > 0.99 {np.mean(ps > 0.99):.2f}")
