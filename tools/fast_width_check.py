"""The fast mode's network scale against quality, on the validation views at a given width (issue 17's budget
for a speed trick): PSNR-mu over all / clipped / unclipped pixels and PU21-PSNR per camera, the means over
pictures as ``hdrvid eval`` reports them (PU21-SSIM left out: at 1920 px it is most of eval's time).

    python tools/fast_width_check.py WIDTH SCALE[,SCALE...] [MODEL]   # e.g. 1920 0.25,0.16667 hdrunet-auto

Reads ../shared/hdri-train (run from the repository root); one thread.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from hdrvid.io.images import read_hdr
from hdrvid.jobs.evaluate import eval_files, executor_for, model_input, panorama_views
from hdrvid.metrics.hdr import hdr_metrics
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS, shoot

ROWS = (("all", "psnr_mu"), ("clipped", "psnr_mu"), ("unclipped", "psnr_mu"), ("all", "pu21_psnr"))


def score(nets: dict[str, object], width: int) -> None:
    """Run each executor of ``nets`` (label -> executor) on the validation views at ``width`` through the five
    cameras and print the rows per camera (one thread)."""
    torch.set_num_threads(1)
    data = [Path("../shared/hdri-train") / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]
    pictures = [v for i, f in enumerate(eval_files(data, "validation"))
                for v in panorama_views(read_hdr(f), 2, width, [0, i, 99])]
    scores = {(s, c, r): [] for s in nets for c in ALL_SETTINGS for r in ROWS}
    for i, img in enumerate(pictures):
        for j, cam in enumerate(ALL_SETTINGS):
            shot = shoot(img, np.random.default_rng([0, i, j]), cam)
            x = model_input(shot.signal, shot.nominal)
            for s, net in nets.items():
                with torch.inference_mode():
                    y = net.infer(x)[0].permute(1, 2, 0).double().numpy()  # type: ignore[attr-defined]
                for region, mask in (("all", None), ("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
                    if mask is not None and not mask.any():
                        continue
                    m = hdr_metrics(y, shot.target, mask, ssim=False)
                    for r in ROWS:
                        if r[0] == region:
                            scores[(s, cam, r)].append(m[r[1]])
    print("cameras:", " ".join(ALL_SETTINGS))
    for s in nets:
        for r in ROWS:
            vals = [float(np.mean(scores[(s, c, r)])) for c in ALL_SETTINGS]
            print(f"{s} {r[1]} {r[0]:9s}", " ".join(f"{v:6.2f}" for v in vals), f" mean {np.mean(vals):6.2f}")


def main() -> None:
    width, scales = int(sys.argv[1]), [float(s) for s in sys.argv[2].split(",")]
    model = sys.argv[3] if len(sys.argv) > 3 else "hdrunet-auto"
    score({f"{model}@{s:.4f}": executor_for(f"{model}@{s}", None, EngineOptions()) for s in scales}, width)


if __name__ == "__main__":
    main()
