"""The shoulder detector's share of the default's loss on large pictures (session 46): ``tools/fast_width_check.py``'s
16 validation views at WIDTH through the chosen cameras, ``hdrunet-auto`` as ``convert`` runs it (``--precision auto``,
the fast mode's network width), with the detector as shipped and forced to "camera footage" (shoulder weight 0), and
``none``; clipped and unclipped PSNR-mu per camera, and the detector's mean probability.

    python docs/training/hdrunet/detector-session46/large_views.py 1920 srgb-mid,broadcast

One thread; reads ../shared/hdri-train (run from the repository root).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

import hdrvid.models.hdrunet as H
from hdrvid.engines import TorchBackend
from hdrvid.io.images import read_hdr
from hdrvid.jobs.evaluate import eval_files, model_input, panorama_views
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.runtime import EngineOptions, auto_scale
from hdrvid.runtime.factory import make_executor
from hdrvid.synth.camera import ALL_SETTINGS, shoot


def main() -> None:
    width, cams = int(sys.argv[1]), sys.argv[2].split(",")
    torch.set_num_threads(1)
    data = [Path("../shared/hdri-train") / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]
    pictures = [v for i, f in enumerate(eval_files(data, "validation"))
                for v in panorama_views(read_hdr(f), 2, width, [0, i, 99])]
    opts = EngineOptions(backend=TorchBackend(precision="auto", threads=1), infer_scale=auto_scale("cpu", width))
    shipped = H.HDRUNet.shoulder_weight
    nets = {"shipped": make_executor("hdrunet-auto", None, opts), "camera": make_executor("hdrunet-auto", None, opts),
            "none": make_executor("none", None, EngineOptions())}
    rows: dict[tuple[str, str], list[tuple[float, float]]] = {}
    ps: dict[str, list[float]] = {c: [] for c in cams}
    for i, img in enumerate(pictures):
        for cam in cams:
            shot = shoot(img, np.random.default_rng([0, i, ALL_SETTINGS.index(cam)]), cam)
            x = model_input(shot.signal, shot.nominal)
            for name, net in nets.items():
                H.HDRUNet.shoulder_weight = (lambda self, lin: torch.zeros(lin.shape[0])) if name == "camera" else shipped
                with torch.inference_mode():
                    y = net.infer(x)[0].permute(1, 2, 0).double().numpy()  # type: ignore[attr-defined]
                if name == "shipped":
                    ps[cam].append(float(net.model.last_p.mean()))  # type: ignore[attr-defined]
                c = hdr_metrics(y, shot.target, shot.clipped, ssim=False)["psnr_mu"] if shot.clipped.any() else np.nan
                u = hdr_metrics(y, shot.target, ~shot.clipped, ssim=False)["psnr_mu"]
                rows.setdefault((name, cam), []).append((c, u))
    H.HDRUNet.shoulder_weight = shipped
    for cam in cams:
        print(f"{cam}: detector p per picture", " ".join(f"{p:.2f}" for p in ps[cam]))
        for name in nets:
            a = np.array(rows[(name, cam)])
            print(f"  {name:8s} clipped {np.nanmean(a[:, 0]):6.2f}  unclipped {np.mean(a[:, 1]):6.2f}")


if __name__ == "__main__":
    main()
