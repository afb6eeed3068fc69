"""Means over the three draws of cap_eval.py's outputs, and the margins over the best classical baseline."""
import re, sys, json
from collections import defaultdict
SETS = ["srgb-mid", "hard", "broadcast", "consumer", "graded"]
def read(path):
    out = {}
    for line in open(path):
        m = re.match(r"\s*(\d+) (clipped|unclipped|all)\s+(.*)", line)
        if m:
            out[(int(m.group(1)), m.group(2))] = [float(v) for v in m.group(3).split(" / ")]
    return out
def mean_of(files_weights):
    acc = defaultdict(lambda: [0.0] * 5); wsum = defaultdict(float)
    for path, w in files_weights:
        for k, v in read(path).items():
            acc[k] = [a + w * x for a, x in zip(acc[k], v)]; wsum[k] += w
    return {k: [a / wsum[k] for a in v] for k, v in acc.items()}
if __name__ == "__main__":
    # baselines: best classical per camera (none for the clip-at-white cameras, itmo for consumer), means of 3 draws
    base = json.loads(sys.argv[1])
    groups = json.loads(sys.argv[2])  # [[path, weight], ...]
    m = mean_of(groups)
    for cap in sorted({k[0] for k in m}, reverse=True):
        c, u = m[(cap, "clipped")], m[(cap, "unclipped")]
        print("%4d clipped %s | unclipped %s" % (cap, " / ".join("%.2f" % x for x in c), " / ".join("%.2f" % x for x in u)))
        print("     margins clipped %s | unclipped %s" % (
            " / ".join("%+.2f" % (c[i] - base["clipped"][i]) for i in range(4)),
            " / ".join("%+.2f" % (u[i] - base["unclipped"][i]) for i in range(4))))
