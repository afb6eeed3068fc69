"""The distilled network against the shipped one in the CPU fast mode (session 33): both as ``hdrunet-auto`` at
the same network scale on the validation views at WIDTH (tools/fast_width_check.py's pictures and rows: PSNR-mu
over all / clipped / unclipped pixels and PU21-PSNR per camera, means over pictures as ``hdrvid eval`` has them).

    python docs/training/hdrunet/student-session33/fast_check.py WIDTH SCALE STUDENT.pt [STUDENT_WIDTH]

STUDENT.pt: a run's ``hdrunet.pt`` (the network; the shoulder detector's trained values are taken from the
shipped file). One thread; reads ../shared/hdri-train (run from the repository root).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from hdrvid.io.images import read_hdr
from hdrvid.jobs.evaluate import eval_files, model_input, panorama_views
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.models import build
from hdrvid.models.hdrunet import HDRUNet
from hdrvid.runtime import EngineOptions
from hdrvid.runtime.factory import make_executor
from hdrvid.synth.camera import ALL_SETTINGS, shoot

ROWS = (("all", "psnr_mu"), ("clipped", "psnr_mu"), ("unclipped", "psnr_mu"), ("all", "pu21_psnr"))


def student(path: Path, width: int) -> HDRUNet:
    shipped = build("hdrunet-auto")
    m = HDRUNet(width=width, curve=False, adaptive=True)
    sd = torch.load(path, map_location="cpu", weights_only=True)
    sd = {k: v for k, v in sd.items() if not k.startswith("shoulder.")}
    sd.update({k: v for k, v in shipped.state_dict().items() if k.startswith("shoulder.")})
    m.load_state_dict(sd)
    return m.eval()


def main() -> None:
    torch.set_num_threads(1)
    width, scale, path = int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
    sw = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    data = [Path("../shared/hdri-train") / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]
    pictures = [v for i, f in enumerate(eval_files(data, "validation"))
                for v in panorama_views(read_hdr(f), 2, width, [0, i, 99])]
    opts = EngineOptions(infer_scale=scale)
    nets = {"shipped": make_executor("hdrunet-auto", None, opts),
            f"student-w{sw}": make_executor("hdrunet-auto", None, opts, model=student(path, sw))}
    scores = {(n, c, r): [] for n in nets for c in ALL_SETTINGS for r in ROWS}
    for i, img in enumerate(pictures):
        for j, cam in enumerate(ALL_SETTINGS):
            shot = shoot(img, np.random.default_rng([0, i, j]), cam)
            x = model_input(shot.signal, shot.nominal)
            for n, net in nets.items():
                with torch.inference_mode():
                    y = net.infer(x)[0].permute(1, 2, 0).double().numpy()
                for region, mask in (("all", None), ("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
                    if mask is not None and not mask.any():
                        continue
                    m = hdr_metrics(y, shot.target, mask, ssim=False)
                    for r in ROWS:
                        if r[0] == region:
                            scores[(n, cam, r)].append(m[r[1]])
    print("cameras:", " ".join(ALL_SETTINGS))
    for n in nets:
        for r in ROWS:
            vals = [float(np.mean(scores[(n, c, r)])) for c in ALL_SETTINGS]
            print(f"{n:12s}@{scale:.4f} {r[1]:9s} {r[0]:9s}", " ".join(f"{v:6.2f}" for v in vals),
                  f" mean {np.mean(vals):6.2f}")


if __name__ == "__main__":
    main()
