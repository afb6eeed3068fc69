"""What the 2x design's constraints allow: oracle residuals (from the truth) through the level removal and bound."""
import sys, math, numpy as np, torch, cv2, torch.nn.functional as F
from pathlib import Path
from hdrvid.jobs.evaluate import eval_files, executor_for, model_input, panorama_views
from hdrvid.io.images import read_hdr
from hdrvid.synth.camera import shoot
from hdrvid.runtime import EngineOptions
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.models import superres as S
torch.set_num_threads(1)
data = [Path(p) for p in ["../shared/hdri-train/pmndrs-1k", "../shared/hdri-train/polyhaven-1k", "../shared/hdri-train/blender-world"]]
files = eval_files(data, "validation", False)
base = executor_for("hdrunet-auto", None, EngineOptions())
sr = executor_for("hdrunet-auto", None, EngineOptions(), 2)
settings = ("srgb-mid", "hard", "broadcast", "consumer", "graded")
bounds = [float(b) for b in sys.argv[1:]] or [0.25, 0.5, 1.0]
pics = []
for i, f in enumerate(files):
    pano = read_hdr(f)
    pics += [(f.stem, v) for v in panorama_views(pano, 4, 192, [0, i, 99])]
res = {}
def add(k, s, v): res.setdefault(k, {}).setdefault(s, []).append(v)
def constrain(r, bound, window=5):
    n, c, H, W = r.shape
    sub = F.pixel_unshuffle(r, 2).view(n, 3, 4, H // 2, W // 2)
    sub = sub - S.local_level(sub, window)
    if bound < 100:
        sub = bound * torch.tanh(sub / bound)
        sub = sub - S.local_level(sub, window)
    return F.pixel_shuffle(sub.reshape(n, 12, H // 2, W // 2), 2)
for i, (_, img) in enumerate(pics):
    img = img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2]
    small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    for j, s in enumerate(settings):
        shot = shoot(small, np.random.default_rng([0, i, j]), s)
        x = model_input(shot.signal, shot.nominal)
        target = img * np.float32(shot.exposure)
        with torch.inference_mode():
            b = base.infer(x)
            up = S.bicubic2x(b.float())
            y2 = sr.infer(x)
            t = torch.from_numpy(np.ascontiguousarray(target.transpose(2, 0, 1)))[None].float()
            rstar = S.encode(t) - S.encode(up)
            outs = {"bicubic": up, "sr": y2}
            # oracle after the per-image alignment the metric makes: scale truth to the bicubic's level first
            for bd in bounds + [1e9]:
                outs[f"oracle{bd:g}"] = S.decode(S.encode(up) + constrain(rstar, bd))
        for k, y in outs.items():
            pred = y[0].permute(1, 2, 0).double().numpy()
            add(k, s, hdr_metrics(pred, target, None, ssim=False)["psnr_mu"])
for k, v in res.items():
    print(f"{k:14s}", " ".join(f"{np.mean(v[s]):6.2f}" for s in settings), f"  mean {np.mean([np.mean(v[s]) for s in settings]):.2f}")
