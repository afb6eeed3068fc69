"""Real footage check of ``--upscale 2`` (``hdrunet-2x`` or ``brackets-2x``; no ground truth exists for real SDR
clips).

usage: python tools/sr_real_check.py OUT.png CLIP... [--model hdrunet-2x|brackets-2x] [--weights W]

For each clip's middle frame F (cropped to a multiple of 4) and f = F downscaled 2x by area: the reference is
the 2x model's base (``hdrunet-auto``, ``brackets``) at 1x on F; scored are the 2x model on f and bicubic upscaling
of the base on f, PSNR-mu against it (all pixels). The sheet shows the centre of F's SDR | bicubic | 2x model |
reference, rendered for an SDR screen (BT.2390 from the frame's peak), at 2x.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from look import render  # noqa: E402

from hdrvid.color.transfer import DECODERS  # noqa: E402
from hdrvid.io.sheets import label  # noqa: E402
from hdrvid.metrics.hdr import hdr_metrics  # noqa: E402
from hdrvid.models import build, get  # noqa: E402
from hdrvid.models.superres import bicubic2x  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--model", default="hdrunet-2x")
    ap.add_argument("--weights", type=Path, default=None)
    a = ap.parse_args()
    auto, sr = build(get(a.model).base or ""), build(a.model, a.weights)
    rows = []
    for path in a.clips:
        with av.open(str(path)) as c:
            frames = [f for f in c.decode(video=0)]
        big = frames[len(frames) // 2].to_ndarray(format="rgb24")
        h, w = big.shape[0] // 4 * 4, big.shape[1] // 4 * 4
        big = big[:h, :w]
        small = cv2.resize(big, (w // 2, h // 2), interpolation=cv2.INTER_AREA)

        def lin(img: np.ndarray) -> torch.Tensor:
            x = np.asarray(DECODERS["bt1886"](img.astype(np.float32) / 255), np.float32)
            return torch.from_numpy(x.transpose(2, 0, 1).copy())[None]

        with torch.no_grad():
            ref, bic, up = auto(lin(big)), bicubic2x(auto(lin(small))), sr(lin(small))

        def arr(t: torch.Tensor) -> np.ndarray:
            return t[0].permute(1, 2, 0).double().numpy()

        s_b, s_s = hdr_metrics(arr(bic), arr(ref))["psnr_mu"], hdr_metrics(arr(up), arr(ref))["psnr_mu"]
        print(f"{path.name:40s} bicubic {s_b:6.2f}  {a.model} {s_s:6.2f}  ({s_s - s_b:+.2f} dB)", flush=True)
        y0, x0 = h // 4, w // 4

        def crop(img: np.ndarray) -> np.ndarray:
            return cv2.resize(img[y0:y0 + h // 2, x0:x0 + w // 2], (w, h), interpolation=cv2.INTER_NEAREST)

        def shown(t: torch.Tensor) -> np.ndarray:
            return crop(render((arr(t) * 203.0).astype(np.float32)))

        tiles = [label(crop(big), "SDR input (full size)"), label(shown(bic), "bicubic of 1x from half size"),
                 label(shown(up), f"{a.model} from half size"), label(shown(ref), "1x from full size (reference)")]
        rows.append(cv2.resize(np.concatenate(tiles, 1), (2560, 360), interpolation=cv2.INTER_AREA))
    cv2.imwrite(str(a.out), cv2.cvtColor(np.concatenate(rows, 0), cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()
