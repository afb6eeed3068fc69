import pickle

import numpy as np

CURVE = {"graded", "consumer"}
def load(path):
    d = pickle.load(open(path, "rb"))
    pics, blobs = d["pics"], d["blobs"]
    per = [[] for _ in pics]
    for b in blobs: per[b["pic"]].append(b)
    X, y, meta = [], [], []
    for pi, pic in enumerate(pics):
        bs = per[pi]
        p = min(max(pic["p"], 1e-4), 1 - 1e-4)
        f = [np.log(p / (1 - p)), pic["frac_clip"], pic["mean_lum"], np.log1p(pic["nblobs"])]
        if bs:
            a = np.array([b["area"] for b in bs], float); w = a / a.sum()
            def wm(k):
                v = np.array([b[k] for b in bs], float); ok = np.isfinite(v)
                return float((v[ok] * w[ok]).sum() / max(w[ok].sum(), 1e-9)) if ok.any() else 0.0
            r2, r6, r16, r40 = wm("ring2"), wm("ring6"), wm("ring16"), wm("ring40")
            f += [r2, r6, r16, r40, r2 - r6, r6 - r16, wm("lin_sat"), wm("pred_mean"), wm("border")]
        else:
            f += [0.0] * 9
        X.append(f); y.append(pic["setting"] in CURVE); meta.append((pic["setting"], pic["p"]))
    return np.array(X), np.array(y), meta
