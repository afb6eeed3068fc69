"""Summary of bias.py's pickles: per camera the mean clipped PSNR-mu difference (brackets - hdrunet-auto), each
model's mean log2 level against the truth (after the metric's alignment), and the difference split by how the two
levels differ.  python bias_analyse.py PKL [PKL ...]"""
import pickle
import sys

import numpy as np

for f in sys.argv[1:]:
    rows = pickle.load(open(f, "rb"))
    d = np.array([r["brackets"] - r["hdrunet-auto"] for r in rows])
    ba = np.array([r["hdrunet-auto:bias"] for r in rows]); bb = np.array([r["brackets:bias"] for r in rows])
    p = np.array([r["p"] for r in rows])
    print(f, len(rows), "diff %+.2f" % d.mean(), "| bias auto %+.2f brackets %+.2f" % (ba.mean(), bb.mean()),
          "| |bias| auto %.2f brackets %.2f" % (abs(ba).mean(), abs(bb).mean()), "| p>0.5 %.2f" % (p > 0.5).mean())
    print("  corr(diff, bb-ba) %+.2f" % np.corrcoef(d, bb - ba)[0, 1], "mean(bb-ba) %+.2f" % (bb - ba).mean(),
          "corr(diff, |bb|-|ba|) %+.2f" % np.corrcoef(d, abs(bb) - abs(ba))[0, 1])
    for lo, hi in ((-9, -0.5), (-0.5, -0.1), (-0.1, 0.1), (0.1, 0.5), (0.5, 9)):
        m = ((bb - ba) >= lo) & ((bb - ba) < hi)
        print(f"  bb-ba in [{lo},{hi}): n {m.sum()} diff {d[m].mean() if m.any() else 0:+.2f}"
              f" bias auto {ba[m].mean() if m.any() else 0:+.2f}")
