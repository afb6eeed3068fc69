"""The share of pixels at the top code of each validation picture beside the detector's p: python topshare.py study0.json"""
import json, sys
from pathlib import Path
import numpy as np
import hdrvid.jobs.evaluate as E
from hdrvid.synth.camera import ALL_SETTINGS, shoot
from hdrvid.io.images import read_hdr
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"), Path("../shared/hdri-train/blender-world")]
seed = 0
recs = json.load(open(sys.argv[1]))  # study_threshold.py's output for picture seed 0
files = E.eval_files(D, "validation")
pictures = []
for i, f in enumerate(files):
    pictures += [(f.stem, v) for v in E.panorama_views(read_hdr(f), 8, 384, [seed, i, 99])]
out = []
for r in recs:
    i, j = r["i"], ALL_SETTINGS.index(r["setting"])
    shot = shoot(pictures[i][1], np.random.default_rng([seed, i, j]), r["setting"])
    sig = np.asarray(shot.signal)
    code = sig.max(-1).astype(np.int32)
    r["top"] = float((code >= 255).mean()); r["top250"] = float((code >= 250).mean())
    out.append(r)

for c in ALL_SETTINGS:
    rs = [r for r in out if r["setting"] == c]
    hi = [r for r in rs if r["p"] > 0.6]
    print(c, "n", len(rs), "p>0.6:", len(hi), "top share of those:", sorted(round(r["top"], 4) for r in hi)[:14], "| all median top", round(float(np.median([r["top"] for r in rs])), 4))
