"""Which frame-level cue tells 'clipped plateau barely above white' from 'clipped highlights far above white'?"""
import glob, math, numpy as np, cv2
from pathlib import Path
from hdrvid.io.images import read_hdr
from hdrvid.synth.camera import shoot
from hdrvid.jobs.evaluate import eval_files, panorama_views
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"), Path("../shared/hdri-train/blender-world")]
pics = []
for i, f in enumerate(eval_files(D, "validation")):
    pics += [("val:" + f.stem, v) for v in panorama_views(read_hdr(f), 4, 384, [0, i, 99])]
for f in sorted(glob.glob("/work/runs/s26/detail-val/*.exr")) + sorted(glob.glob("/work/runs/s26/detail-train/*.exr"))[:20]:
    pics.append(("ren:" + Path(f).stem, cv2.resize(read_hdr(Path(f)), (384, 288), interpolation=cv2.INTER_AREA)))
print(f"{'picture':34s} {'cam':9s} clip  medT  p90T  near  flat  edge")
for i, (name, img) in enumerate(pics):
    for j, cam in enumerate(("srgb-mid", "hard", "broadcast")):
        shot = shoot(img, np.random.default_rng([0, i, j]), cam)
        c = shot.clipped
        if c.mean() < 0.005:
            continue
        t = shot.target.max(-1)[c]
        code = shot.signal.max(-1).astype(np.float32)
        near = ((code >= 230) & (code < 250)).mean() / c.mean()
        er = cv2.erode(c.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        flat = er.sum() / c.sum()  # share of clipped pixels deep inside a clipped area
        gy, gx = np.gradient(cv2.GaussianBlur(code, (0, 0), 1.0))
        ring = (cv2.dilate(c.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & ~c
        edge = float(np.hypot(gx, gy)[ring].mean()) if ring.any() else float("nan")  # code step around the clip
        print(f"{name:34s} {cam:9s} {c.mean():.3f} {np.median(t):5.2f} {np.percentile(t,90):6.1f} {near:5.2f} {flat:5.2f} {edge:5.1f}", flush=True)
