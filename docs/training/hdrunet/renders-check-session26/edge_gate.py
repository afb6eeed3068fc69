"""Eval-only experiment: scale each clipped region's expansion by the code gradient around it.

usage: python edge_gate.py val|ren [--bypass] E0-E1-FLOOR ...   (a /work-side study; the renders' paths are this
session's folders). --bypass: no gating on frames the shoulder detector calls graded (s + (1 - s) w)."""
import glob, sys, numpy as np, torch, cv2
from pathlib import Path
torch.set_num_threads(2)
from hdrvid.io.images import read_hdr
from hdrvid.synth.camera import shoot
from hdrvid.jobs.evaluate import eval_files, panorama_views, model_input
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.models import build
D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"), Path("../shared/hdri-train/blender-world")]
which = sys.argv[1]
BYPASS = "--bypass" in sys.argv
pics = []
if which == "val":
    for i, f in enumerate(eval_files(D, "validation")):
        pics += [v for v in panorama_views(read_hdr(f), 4, 384, [0, i, 99])]
else:
    for f in sorted(glob.glob("/work/runs/s26/detail-val/*.exr")) + sorted(glob.glob("/work/runs/s26/detail-train/*.exr"))[:20]:
        pics.append(cv2.resize(read_hdr(Path(f)), (384, 288), interpolation=cv2.INTER_AREA))
auto = build("hdrunet-auto")
GATES = [tuple(float(v) for v in a.split("-")) for a in sys.argv[2:] if a != "--bypass"]
def gated(x, y, code, e0, e1, fl):
    m = (code >= 246).astype(np.uint8)
    n, lab = cv2.connectedComponents(cv2.dilate(m, np.ones((3, 3), np.uint8)))
    g = cv2.GaussianBlur(code, (0, 0), 1.0); gy, gx = np.gradient(g); grad = np.hypot(gx, gy)
    s = np.ones(code.shape, np.float32)
    for k in range(1, n):
        comp = (lab == k).astype(np.uint8)
        ring = (cv2.dilate(comp, np.ones((5, 5), np.uint8)) > 0) & (comp == 0)
        if not ring.any():
            continue
        e = float(grad[ring].mean())
        s[comp > 0] = fl + (1 - fl) * np.clip((e - e0) / (e1 - e0), 0, 1)
    ratio = np.where(x > 1e-4, y / np.maximum(x, 1e-4), 1.0)
    if BYPASS:
        s = s + (1 - s) * W[0]
    return np.where(x > 1e-4, x * np.power(np.maximum(ratio, 1e-6), s[..., None]), y)
res = {}
W = [0.0]
for i, img in enumerate(pics):
    for j, cam in enumerate(("srgb-mid", "hard", "broadcast", "consumer")):
        shot = shoot(img, np.random.default_rng([0, i, j]), cam)
        if not shot.clipped.any():
            continue
        xt = model_input(shot.signal, shot.nominal)
        with torch.inference_mode():
            y = auto(xt)[0].permute(1, 2, 0).double().numpy()
            W[0] = float(auto.shoulder_weight(xt).mean())
        x = xt[0].permute(1, 2, 0).double().numpy()
        code = shot.signal.max(-1).astype(np.float32)
        outs = {"none": x, "auto": y}
        for e0, e1, fl in GATES:
            outs[f"gate{e0}-{e1}-{fl}"] = gated(x, y, code, e0, e1, fl)
        for k, p in outs.items():
            c = hdr_metrics(p, shot.target, shot.clipped, ssim=False)["psnr_mu"]
            u = hdr_metrics(p, shot.target, ~shot.clipped, ssim=False)["psnr_mu"]
            res.setdefault((cam, k), []).append((c, u))
for cam in ("srgb-mid", "hard", "broadcast", "consumer"):
    print(which, cam, "  ".join(f"{k}: c {np.mean([a for a, b in res[(cam, k)]]):.2f} u {np.mean([b for a, b in res[(cam, k)]]):.2f}"
                                for k in ["none", "auto"] + [f"gate{a}-{b}-{c}" for a, b, c in GATES]), flush=True)
