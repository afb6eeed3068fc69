"""Look at real SDR footage converted to HDR: SDR input | HDR10 rendered for an SDR screen (BT.2390) | false-colour nits.

    python tools/look.py OUT_DIR CLIP... [--model M ...] [--seconds 3] [--render-white NITS]

Cuts a few seconds from the middle of each clip, converts them with each model (hdrvid convert, defaults
otherwise), decodes the middle frame of each HDR10 output with PyAV and renders a contact sheet per clip.

The middle panel puts ``--render-white`` nits at SDR white, by default where ``convert`` put the input's white
(203 nits x the default level's gain: ~398 nits), as ``hdrvid tonemap`` renders it back: what the conversion
kept looks like the input, what it expanded rolls off above white (BT.2390), encoded with the BT.709 camera
curve that ``convert`` decoded the input with (its default ``--sdr-mapping scene``). Until session 49 the panel
put 203 nits at SDR white and encoded with BT.1886, which made every conversion, ``--model none`` included,
look brighter and flatter than its input.
"""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import torch

from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.operators import OPERATORS, ToneStats
from hdrvid.color.transfer import bt709_oetf, pq_eotf
from hdrvid.io.sheets import false_colour, label, legend


def middle_frame_nits(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        frames = [f for f in c.decode(video=0)]
    f = frames[len(frames) // 2]
    rgb = f.reformat(format="gbrpf32le", src_colorspace=9, src_color_range=1, dst_color_range=2).to_ndarray()
    return pq_eotf(np.clip(rgb, 0, 1)).astype(np.float32)  # BT.2020 linear nits (close enough to look at)


def middle_frame_sdr(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        frames = [f for f in c.decode(video=0)]
    return frames[len(frames) // 2].to_ndarray(format="rgb24")


DEFAULT_WHITE = 203.0 * LEVEL_GAIN["bt2446a"]
"""Where ``convert``'s defaults put SDR white (nits)."""


def render(nits: np.ndarray, white: float = DEFAULT_WHITE) -> np.ndarray:
    t = torch.from_numpy(nits.transpose(2, 0, 1) / white)
    peak = float(np.percentile(nits.max(-1), 99.9)) / white
    la = float(np.exp(np.log(np.clip(nits.mean(-1), 1e-3, None) / white).mean()))
    disp = OPERATORS["bt2390"](t, ToneStats(peak=max(peak, 1.0), log_average=la)).clamp(0, 1)
    return (bt709_oetf(disp).numpy().transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--model", action="append", default=None)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--extra", default="")
    ap.add_argument("--render-white", type=float, default=DEFAULT_WHITE,
                    help="nits shown at SDR white in the middle panel (default: where convert put the input's white)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    models = a.model or ["none", "itmo", "expandnet"]
    for clip in a.clips:
        with av.open(str(clip)) as c:
            dur = float(c.duration or 0) / 1e6
        cut = a.out / f"{clip.stem}-cut.mp4"
        if not cut.exists():
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-ss", str(max(0.0, dur / 2 - a.seconds / 2)), "-i",
                            str(clip), "-t", str(a.seconds), "-an", "-c:v", "libx264", "-crf", "14", str(cut)], check=True)
        sdr = middle_frame_sdr(cut)
        rows = []
        for m in models:
            out = a.out / f"{clip.stem}-{m}.mp4"
            rep = a.out / f"{clip.stem}-{m}.json"
            cmd = ["hdrvid", "convert", str(cut), str(out), "-m", m, "--overwrite", "-q", "--report", str(rep),
                   *a.extra.split()]
            subprocess.run(cmd, check=True)
            nits = middle_frame_nits(out)
            import json

            r = json.loads(rep.read_text())
            y = nits.mean(-1)
            txt = f"{m}: MaxCLL {r['max_cll']} FALL {r['max_fall']} med {np.median(y):.0f} >203: {100 * (nits.max(-1) > 203).mean():.1f}%"
            rows.append(np.concatenate([label(sdr.copy(), "SDR in"), label(render(nits, a.render_white), txt),
                                        label(false_colour(nits.max(-1))[..., ::-1].copy(), "max(RGB) nits")], 1))
        sheet = np.concatenate(rows, 0)  # RGB (false_colour and legend give BGR, as cv2 writes it)
        sheet = np.concatenate([sheet, legend(sheet.shape[1])[..., ::-1]], 0)
        cv2.imwrite(str(a.out / f"{clip.stem}-sheet.png"), sheet[:, :, ::-1])
        print(a.out / f"{clip.stem}-sheet.png")


if __name__ == "__main__":
    main()
