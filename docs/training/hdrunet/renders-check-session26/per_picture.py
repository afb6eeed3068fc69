"""Per picture, srgb-mid camera, the renders: where does hdrunet-auto lose to none?"""
import glob, numpy as np, torch, cv2
from pathlib import Path
torch.set_num_threads(2)
from hdrvid.io.images import read_hdr
from hdrvid.synth.camera import shoot
from hdrvid.jobs.evaluate import model_input
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.models import build
auto, net = build("hdrunet-auto"), build("hdrunet")
rows = []
files = sorted(glob.glob("/work/runs/s26/detail-val/*.exr")) + sorted(glob.glob("/work/runs/s26/detail-train/*.exr"))[:20]
for i, f in enumerate(files):
    img = read_hdr(Path(f)); img = cv2.resize(img, (384, 288), interpolation=cv2.INTER_AREA)
    shot = shoot(img, np.random.default_rng([0, i, 0]), "srgb-mid")
    x = model_input(shot.signal, shot.nominal)
    with torch.inference_mode():
        ya = auto(x); w = float(auto.shoulder_weight(x).mean()) if hasattr(auto, "shoulder_weight") else -1
        yn = net(x)
    out = {}
    for name, y in (("none", x), ("hdrunet", yn), ("auto", ya)):
        p = y[0].permute(1, 2, 0).double().numpy()
        c = hdr_metrics(p, shot.target, shot.clipped, ssim=False)["psnr_mu"]
        u = hdr_metrics(p, shot.target, ~shot.clipped, ssim=False)["psnr_mu"]
        ua = hdr_metrics(p, shot.target, ~shot.clipped, ssim=False, align=False)["psnr_mu"]
        out[name] = (c, u, ua)
    clip = shot.clipped.mean(); peak = shot.target.max()
    print(f"{Path(f).stem:24s} clip {clip:.3f} peak {peak:7.1f} w {w:.2f}  " + "  ".join(f"{k} c{v[0]:6.2f} u{v[1]:6.2f} ua{v[2]:6.2f}" for k, v in out.items()), flush=True)
