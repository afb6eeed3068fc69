"""The shoulder detector's probability on the same validation views shot at several widths (session 46): is it
scale-dependent? It was trained on 256-512 px pictures (tools/train_shoulder.py), and video is 1280-1920 px.

    python docs/training/hdrunet/detector-session46/p_by_size.py 384,768,1280,1920 [VIEWS_PER_SCENE]

Per camera and width: the mean p, and the share of pictures with p > 0.6 (where the BT.2446A curve starts) and
p > 0.95. Each view is shot once per width with the same random draws. One thread; reads ../shared/hdri-train.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from hdrvid.io.images import read_hdr
from hdrvid.jobs.evaluate import eval_files, panorama_views
from hdrvid.models import build
from hdrvid.synth.camera import ALL_SETTINGS, shoot


def main() -> None:
    widths = [int(w) for w in sys.argv[1].split(",")]
    per_scene = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    torch.set_num_threads(1)
    det = build("hdrunet-auto").shoulder.eval()
    data = [Path("../shared/hdri-train") / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]
    files = eval_files(data, "validation")
    ps = {(c, w): [] for c in ALL_SETTINGS for w in widths}
    for i, f in enumerate(files):
        pano = read_hdr(f)
        for w in widths:
            for j, view in enumerate(panorama_views(pano, per_scene, w, [0, i, 99])):
                for k, cam in enumerate(ALL_SETTINGS):
                    shot = shoot(view, np.random.default_rng([0, i, j, k]), cam)
                    lin = torch.from_numpy(shot.linear.transpose(2, 0, 1).copy())[None]
                    with torch.inference_mode():
                        ps[(cam, w)].append(float(det(lin)[0]))
    for cam in ALL_SETTINGS:
        print(cam, "  ".join(f"{w}px p {np.mean(ps[(cam, w)]):.2f} >0.6 {np.mean(np.array(ps[(cam, w)]) > 0.6):.2f} "
                             f">0.95 {np.mean(np.array(ps[(cam, w)]) > 0.95):.2f}" for w in widths), flush=True)


if __name__ == "__main__":
    main()
