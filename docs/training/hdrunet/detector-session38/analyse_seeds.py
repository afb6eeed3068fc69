"""The shoulder decision as a hard threshold on the detector's p, on three draws of the validation views (session
38): per rule, the mean over the three seeds of each camera's clipped / unclipped PSNR-mu (192 pictures a camera),
the margins over the best classical baseline of each seed (`none`, `itmo`: `hdrvid eval`'s JSON of that seed), the
smallest margin of the four scored cameras (srgb-mid, hard, broadcast, consumer) and the graded camera.

    python analyse_seeds.py STUDY0 BASE0 STUDY1 BASE1 STUDY2 BASE2

STUDY: `detector-session36/study_threshold.py SEED OUT` (weight forced to 0, to 1, and as shipped, per picture);
BASE: the seed's eval JSON (`scale-session35/eval8-single.json` for seed 0, `brackets/validation-seeds-session36/
seedN.json`). The rule chosen before the seeds 1-2 studies were read: the largest smallest clipped margin of the four
scored cameras, every unclipped margin at least -0.1 dB; ties by the graded camera's clipped PSNR-mu."""
import json
import sys

import numpy as np

CAMS = ["srgb-mid", "hard", "broadcast", "consumer", "graded"]
SCORED = CAMS[:4]
pairs = [(json.load(open(sys.argv[i])), json.load(open(sys.argv[i + 1]))) for i in range(1, len(sys.argv), 2)]


def best_baseline(base, cam, region):
    return max(base["scores"][m][cam][f"{region}/psnr_mu"] for m in ("none", "itmo"))


def evaluate(choose):
    """{camera: (clipped, unclipped, clipped margin, unclipped margin)} averaged over the seeds."""
    out = {c: [] for c in CAMS}
    for recs, base in pairs:
        for c in CAMS:
            rs = [r for r in recs if r["setting"] == c]
            cl = np.mean([r[f"{choose(r)}/clipped/psnr_mu"] for r in rs if "w0/clipped/psnr_mu" in r])
            un = np.mean([r[f"{choose(r)}/unclipped/psnr_mu"] for r in rs if "w0/unclipped/psnr_mu" in r])
            out[c].append((cl, un, cl - best_baseline(base, c, "clipped"), un - best_baseline(base, c, "unclipped")))
    return {c: tuple(np.mean(v, axis=0)) for c, v in out.items()}


def check_draws():
    """The study's shipped weights reproduce the seed's eval of hdrunet-auto (the same pictures and draws)."""
    for k, (recs, base) in enumerate(pairs):
        for c in CAMS:
            rs = [r for r in recs if r["setting"] == c]
            mine = np.mean([r["shipped/clipped/psnr_mu"] for r in rs if "shipped/clipped/psnr_mu" in r])
            theirs = base["scores"]["hdrunet-auto"][c]["clipped/psnr_mu"]
            print(f"seed {k} {c:10s} study {mine:.3f} eval {theirs:.3f}")


rules = [("shipped (smoothstep 0.6-0.95)", lambda r: "shipped"), ("always camera", lambda r: "w0"),
         ("labels (oracle)", lambda r: "w1" if r["setting"] in ("consumer", "graded") else "w0")]
rules += [(f"p > {t}", lambda r, t=t: "w1" if r["p"] > t else "w0")
          for t in (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)]
check_draws()
print(f"\n{'rule':30s} " + " ".join(f"{c:>21s}" for c in CAMS) + "   min clipped margin (4)  unclipped ok")
print(f"{'':30s} " + " ".join(f"{'clip/unclip (margins)':>21s}" for _ in CAMS))
for name, choose in rules:
    s = evaluate(choose)
    cells = " ".join(f"{s[c][0]:5.2f}/{s[c][1]:5.2f}({s[c][2]:+.2f}/{s[c][3]:+.2f})"[:21].rjust(21) for c in CAMS)
    worst = min(s[c][2] for c in SCORED)
    ok = all(s[c][3] >= -0.1 for c in SCORED)
    print(f"{name:30s} {cells}   {worst:+.2f}  {'yes' if ok else 'no'}")
    print(f"{'':30s} margins clipped " + " / ".join(f"{s[c][2]:+.2f}" for c in SCORED)
          + " unclipped " + " / ".join(f"{s[c][3]:+.2f}" for c in SCORED)
          + f"; graded {s['graded'][0]:.2f} / {s['graded'][1]:.2f}")
