"""Average two per-blob level rules' log2 factors: one MLP with both hidden layers side by side (inputs normalised
with the first file's mean/std), output layers halved (session 56).
python merge_rules.py A.json B.json OUT.json"""
import json
import sys

import numpy as np

a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["features"] == b["features"]
ma, sa = np.array(a["mean"]), np.array(a["std"])
mb, sb = np.array(b["mean"]), np.array(b["std"])
w1b = np.array(b["w1"]) * (sa / sb)[None]
b1b = np.array(b["b1"]) + np.array(b["w1"]) @ ((ma - mb) / sb)
out = dict(a)
out["what"] = f"mean of {sys.argv[1]} and {sys.argv[2]}"
out["start"] = "merged"
out["w1"] = np.vstack([np.array(a["w1"]), w1b]).tolist()
out["b1"] = np.concatenate([np.array(a["b1"]), b1b]).tolist()
out["w2"] = (np.concatenate([np.array(a["w2"]), np.array(b["w2"])]) / 2).tolist()
out["b2"] = (a["b2"] + b["b2"]) / 2
out.pop("validation_objective", None)
json.dump(out, open(sys.argv[3], "w"))
