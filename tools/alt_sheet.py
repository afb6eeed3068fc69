"""Contact sheet of consecutive alternating-exposure output frames: input | merged (rendered for an SDR screen) |
the truth, for frames t..t+3 (long and short references alternate), to look for patches and alternation.

    python tools/alt_sheet.py OUT.png SCENE.hdr [--merge flowmerge] [--seed 3] [--size 480x270] [--exposures 2]

The clip is drawn like the realistic validation clips (``realistic_config``), from a rectilinear view.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from hdrvid.color.operators import OPERATORS, ToneStats
from hdrvid.color.transfer import bt709_oetf
from hdrvid.io.images import read_hdr, write_png
from hdrvid.io.sheets import label
from hdrvid.jobs.merge_eval import clip_source, decode_all, run_merge
from hdrvid.metrics.hdr import align_scale
from hdrvid.pipeline.alternating import fit_cycle, make_merger, relative_evs
from hdrvid.synth.alternating import frames_hdr, realistic_config, synth_alternating


def render(rel: np.ndarray, peak: float) -> np.ndarray:
    t = torch.from_numpy(np.ascontiguousarray(rel.transpose(2, 0, 1))).clamp(min=0)
    disp = OPERATORS["bt2390"](t, ToneStats(peak=max(peak, 1.0))).clamp(0, 1)
    return np.ascontiguousarray((np.asarray(bt709_oetf(disp.numpy())).transpose(1, 2, 0)[:, :, ::-1] * 255 + 0.5).astype(np.uint8))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("scene", type=Path)
    ap.add_argument("--merge", default="flowmerge")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--size", default="480x270")
    ap.add_argument("--exposures", type=int, default=2)
    ap.add_argument("--start", type=int, default=6)
    a = ap.parse_args()
    w, h = (int(v) for v in a.size.split("x"))
    rng = np.random.default_rng([a.seed, 13])
    cfg = realistic_config(rng, a.exposures, a.start + 6, (w, h), a.seed)
    img = clip_source(read_hdr(a.scene), (w, h), rng)
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "clip.mp4"
        synth_alternating(img, video, None, cfg)
        gts = list(frames_hdr(img, cfg)[0])
        decoded = decode_all(video)
        cycle = fit_cycle(relative_evs([d.data.numpy()[:, ::2, ::2] for d in decoded]), cfg.exposures)
        preds, _ = run_merge(make_merger(a.merge), decoded, cycle)
    k = align_scale(np.concatenate([p.transpose(1, 2, 0) for p in preds]), np.concatenate(gts))  # one per clip
    peak = float(np.percentile(np.concatenate(gts).max(-1), 99.5))
    rows = []
    for t in range(a.start, a.start + 4):
        sdr = (np.clip(decoded[t].data.numpy().transpose(1, 2, 0), 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)
        ev = cycle.ev(t)
        tiles = [sdr[:, :, ::-1].copy(), render(preds[t].transpose(1, 2, 0) * k, peak), render(gts[t], peak)]
        texts = (f"frame {t} EV {ev:+g}", f"{a.merge} (one scale per clip)", "truth")
        rows.append(np.concatenate([label(tile, text) for tile, text in zip(tiles, texts)], 1))
    write_png(a.out, np.concatenate(rows, 0))
    print(a.out, cfg, f"response power {cycle.response_power:.2f}")


if __name__ == "__main__":
    main()
