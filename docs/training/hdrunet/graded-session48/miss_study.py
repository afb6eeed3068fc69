"""Which graded validation pictures the shoulder detector calls camera footage: for each picture of a
graded_study.py pickle, the grade that made it, the encoding, the share of pixels at the top code (254) and at
code 250 and above, and the mean signal. python miss_study.py STUDY.pkl"""
import pickle, sys
from collections import Counter
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "blobs-session39"))
from common import scene_files, views_of
import hdrvid.synth.camera as C

rows = pickle.load(open(sys.argv[1], "rb"))
files = scene_files("validation")
J = C.ALL_SETTINGS.index("graded")
made = {}
orig = C.grade


def recorded(lin, rng, curve=None, gain=1.0):
    probe = np.random.Generator(type(rng.bit_generator)())
    probe.bit_generator.state = rng.bit_generator.state
    made["curve"] = curve or C.GRADES[int(probe.integers(0, len(C.GRADES)))]
    return orig(lin, rng, curve, gain)


C.grade = recorded
out = []
by_seed = {}
for r in rows:
    by_seed.setdefault(r["seed"], []).append(r)
for seed, rs in by_seed.items():
    views = views_of(files, seed)
    for r in rs:
        shot = C.shoot(views[r["i"]][1], np.random.default_rng([seed, r["i"], J]), "graded")
        m = shot.signal.max(-1)
        r.update(curve=made["curve"], top=float((m >= 254).mean()), c250=float((m >= 250).mean()),
                 mean=float(shot.signal.mean() / 255), nominal=shot.nominal)
        out.append(r)
pickle.dump(out, open(sys.argv[1].replace(".pkl", "-why.pkl"), "wb"))
miss = [r for r in out if r["p"] < 0.5]
hit = [r for r in out if r["p"] >= 0.5]
print("curves, misses:", Counter(r["curve"] for r in miss))
print("curves, all:   ", Counter(r["curve"] for r in out))
for name, rs in (("miss", miss), ("hit", hit)):
    for k in ("top", "c250", "mean"):
        print(name, k, np.round(np.percentile([r[k] for r in rs], [10, 25, 50, 75, 90]), 4))
