"""Score rules for the average-light cap from cap_shots.py's per-shot records without running the model again: a
frame the rule sends to "gain" scores as with the cap off (the gain is invisible to the aligned metric), the rest as
with the cap on; a rule's share k in (0, 1) is scored as on + k (off - on), a linear stand-in for the blend.
python cap_rule.py A.pkl [B.pkl ...]   (margins against session 50's five-draw classical baselines)"""
import math, pickle, sys
import numpy as np

rows = [r for f in sys.argv[1:] for r in pickle.load(open(f, "rb"))]
CAMS = ["srgb-mid", "hard", "broadcast", "consumer", "graded"]
BEST = {"clipped": [31.75, 25.71, 29.05, 23.70], "unclipped": [57.12, 40.80, 36.30, 31.23]}


def smoothstep(t):
    t = min(max(t, 0.0), 1.0)
    return t * t * (3 - 2 * t)


def logit(p):
    return math.inf if p >= 1 else math.log(p / (1 - p))


def scored(share):
    out = []
    for c in CAMS:
        rs = [r for r in rows if r["camera"] == c]
        out.append([np.nanmean([r[f"{g}_on"] + (share(r) if "factor_on" in r and r["factor_on"] < 1 else 0)
                                * (r[f"{g}_off"] - r[f"{g}_on"]) for r in rs]) for g in ("clipped", "unclipped")])
    return out


print(len(rows), "shots")
rules = [("shipped (weight cap)", lambda r: 0.0), ("cap off everywhere", lambda r: 1.0)]
for lo, hi in [(3, 3.0001), (4, 4.0001), (5.3, 5.3001), (4, 6), (4.5, 6.5), (5, 7), (4, 8), (3, 7)]:
    rules.append((f"logit {lo:g}..{hi:g}", lambda r, lo=lo, hi=hi: smoothstep((logit(r["p"]) - lo) / (hi - lo))))
for name, rule in rules:
    o = scored(rule)
    print(f"{name:22s} clipped margins", " ".join(f"{o[i][0] - BEST['clipped'][i]:+.2f}" for i in range(4)),
          "| unclipped margins", " ".join(f"{o[i][1] - BEST['unclipped'][i]:+.2f}" for i in range(4)),
          f"| graded {o[4][0]:.2f} / {o[4][1]:.2f}")
