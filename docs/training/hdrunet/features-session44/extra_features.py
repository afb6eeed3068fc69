"""Session 44: more of what the input shows around and inside each clipped blob, added to a blob study's pickle
(blobs-session39/blob_study.py) without running the model again: the same views, shots and blobs (same order; the
script checks each blob's area and centre against the pickle), and per blob:
- the colour of the light around it: log2(B / R) and saturation of the mean colour in the rings 0-2 and 6-16
  (a blue sky around a clipped area says "sun or bright sky", a neutral wall "a lamp or a white surface");
- texture around it: the standard deviation of log2 luminance in the rings 2-6 and 6-16;
- how the light climbs to it: the share of ring 0-2 pixels above 0.7 of white, and log2 of that ring's maximum;
- its shape: area over its box, boundary pixels over area;
- inside: the share of its pixels where all three channels clipped, log2(B / R) of its mean colour.
python extra_features.py SPLIT SEED IN.pkl OUT.pkl   (SPLIT and SEED as the study was made with)"""
import math
import pickle
import sys
import time
from pathlib import Path

import cv2
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "blobs-session39"))
from common import scene_files, shots  # noqa: E402

from hdrvid.metrics.hdr import luminance  # noqa: E402

which, seed, src, dst = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
MIN_PIX = 4
CLIP = 0.953
d = pickle.load(open(src, "rb"))


def ring(mask, r0, r1):
    a = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r1 + 1, 2 * r1 + 1)))
    b = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r0 + 1, 2 * r0 + 1))) if r0 else mask
    return (a > 0) & ~(b > 0)


def colour(c):
    """log2(B / R) and saturation of a mean colour (0, 0 where none)."""
    if c is None:
        return 0.0, 0.0
    r, g, b = (max(float(v), 1e-4) for v in c)
    return math.log2(b / r), (max(r, g, b) - min(r, g, b)) / max(r, g, b)


def extra(lin, ylin, clip, m, area, bw, bh):
    un = ~clip
    m8 = m.astype(np.uint8)
    out = {}
    for r0, r1 in ((0, 2), (6, 16)):
        rg = ring(m8, r0, r1) & un
        out[f"bluer{r1}"], out[f"satr{r1}"] = colour(lin[rg].mean(0) if rg.any() else None)
    for r0, r1 in ((2, 6), (6, 16)):
        rg = ring(m8, r0, r1) & un
        out[f"tex{r1}"] = float(np.log2(np.maximum(ylin[rg], 1e-4)).std()) if rg.sum() > 1 else 0.0
    rg = ring(m8, 0, 2) & un
    out["near2"] = float((ylin[rg] > 0.7).mean()) if rg.any() else 0.0
    out["max2"] = math.log2(max(float(ylin[rg].max()), 1e-4)) if rg.any() else -14.0
    out["fill"] = area / float(bw * bh)
    inner = cv2.erode(m8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0)
    out["edge_share"] = float(area - int(inner.sum())) / area
    inside = lin[m]
    out["white"] = float((inside.min(1) >= CLIP).mean())
    out["blue_in"] = colour(inside.mean(0))[0]
    return out


pics, blobs = d["pics"], d["blobs"]
by_pic: dict[int, list[dict]] = {}
for b in blobs:
    by_pic.setdefault(b["pic"], []).append(b)
bad = set()
pi = 0
t0 = time.time()
for i, j, setting, shot, x in shots(scene_files(which), seed):  # the study's shots, in its order
    if not shot.clipped.any() or shot.clipped.all():
        continue
    p = pics[pi]
    assert (p["i"], p["j"]) == (i, j), (p["i"], p["j"], i, j)
    lin = x[0].permute(1, 2, 0).numpy().astype(np.float64)
    ylin = luminance(lin)
    clip = shot.clipped
    n, lab, stats, cents = cv2.connectedComponentsWithStats(clip.astype(np.uint8), connectivity=8)
    found = [b for b in range(1, n) if stats[b, cv2.CC_STAT_AREA] >= MIN_PIX]
    mine = by_pic.get(pi, [])
    if [int(stats[b, cv2.CC_STAT_AREA]) for b in found] != [m["area"] for m in mine]:
        bad.add(pi)  # the shot came out differently this time (the codec's threads): left out
    else:
        for b, blob in zip(found, mine):
            x0, y0, w0, h0 = stats[b, :4]
            blob.update(extra(lin, ylin, clip, lab == b, int(stats[b, cv2.CC_STAT_AREA]), int(w0), int(h0)))
    pi += 1
    if pi % 256 == 0:
        print(pi, "%.0f s" % (time.time() - t0), len(bad), flush=True)
assert pi == len(pics), (pi, len(pics))
if bad:  # the pictures whose blobs did not match, and their blobs, dropped; the rest renumbered
    keep = [k for k in range(len(pics)) if k not in bad]
    new = {k: n for n, k in enumerate(keep)}
    d["pics"] = [pics[k] for k in keep]
    d["blobs"] = [dict(b, pic=new[b["pic"]]) for b in blobs if b["pic"] in new]
print("dropped", len(bad), "of", len(pics), "pictures:", sorted(bad)[:20])
tmp = dst.with_suffix(".part")
with open(tmp, "wb") as fh:
    pickle.dump(d, fh)
tmp.replace(dst)
print("done", pi, len(d["blobs"]), "%.0f s" % (time.time() - t0))
