"""The network's gate beside the detector on the three detector studies' pictures (session 47): its distribution
among the pictures the detector calls graded (p > 0.6) per camera, and what a second condition "gate > t" would
take away from each camera's graded calls.

    python docs/training/hdrunet/gate-session47/analyse.py > docs/training/hdrunet/gate-session47/analyse.txt
"""
import json

import numpy as np

CAMS = ["srgb-mid", "hard", "broadcast", "consumer", "graded"]
studies = [json.load(open("docs/training/hdrunet/detector-session36/study0.json"))] + \
    [json.load(open(f"docs/training/hdrunet/detector-session38/study{s}.json")) for s in (1, 2)]
gates = [json.load(open(f"docs/training/hdrunet/gate-session47/gate{s}.json")) for s in (0, 1, 2)]
recs = [{**a, "gate": b["gate"]} for st, g in zip(studies, gates) for a, b in zip(st, g)]
for cam in CAMS:
    rs = [r for r in recs if r["setting"] == cam]
    hi = [r["gate"] for r in rs if r["p"] > 0.6]
    q = np.round(np.percentile(hi, [10, 25, 50, 75, 90]), 3) if hi else "-"
    print(f"{cam:10s} pictures {len(rs)}  called graded (p > 0.6) {len(hi):3d}  gate percentiles 10/25/50/75/90 there {q}")
print("\ngraded calls a second condition 'gate > t' would take away, per camera:")
for t in (0.4, 0.45, 0.5, 0.55):
    print(t, {c: sum(1 for r in recs if r["setting"] == c and r["p"] > 0.6 and r["gate"] <= t) for c in CAMS})
