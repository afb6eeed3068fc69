"""Does a frame-level classifier on the detector's logit plus session 39's blob features (area-weighted ring luminances,
saturation, the model's level) tell graded/consumer from camera pictures better than the detector alone?
python detector_study.py (the session-39 pickles in /work/blobs; needs scikit-learn, not a project dependency)"""
import numpy as np
from detector_feats import load
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

Xt, yt, mt = [], [], []
for f in ("train0", "train1"):
    X, y, m = load(f"/work/blobs/{f}.pkl"); Xt.append(X); yt.append(y); mt += m
Xt, yt = np.vstack(Xt), np.concatenate(yt)
Xv, yv, mv = [], [], []
for f in ("val0", "val1", "val2"):
    X, y, m = load(f"/work/blobs/{f}.pkl"); Xv.append(X); yv.append(y); mv += m
Xv, yv = np.vstack(Xv), np.concatenate(yv)
print(Xt.shape, Xv.shape, yt.mean(), yv.mean())
print("p alone AUC train %.3f val %.3f" % (roc_auc_score(yt, Xt[:,0]), roc_auc_score(yv, Xv[:,0])))
mu, sd = Xt.mean(0), Xt.std(0) + 1e-9
for C in (0.1, 1, 10):
    lr = LogisticRegression(C=C, max_iter=2000).fit((Xt-mu)/sd, yt)
    pl = lr.predict_proba((Xv-mu)/sd)[:,1]
    print("LR C", C, "val AUC %.3f" % roc_auc_score(yv, pl))
gb = GradientBoostingClassifier(n_estimators=200, max_depth=3, learning_rate=0.05, subsample=0.8, random_state=0).fit(Xt, yt)
pv = gb.predict_proba(Xv)[:,1]
print("GB val AUC %.3f" % roc_auc_score(yv, pv))
sett = np.array([m[0] for m in mv]); p = np.array([m[1] for m in mv])
for s in ("srgb-mid","hard","broadcast","consumer","graded"):
    k = sett == s
    print("%-10s n=%3d  p>0.6 %.2f p>0.95 %.2f | GB>0.6 %.2f GB>0.95 %.2f | LR>0.6 %.2f LR>0.95 %.2f" % (s, k.sum(), (p[k]>0.6).mean(), (p[k] > 0.95).mean(), (pv[k]>0.6).mean(), (pv[k] > 0.95).mean(), (pl[k]>0.6).mean(), (pl[k]>0.95).mean()))
