"""Where a conversion's temporal warping error exceeds its input's (session 38):

    python excess_map.py INPUT.mp4 OUTPUT(.mp4 | EXR folder) MAP.png

The input through BT.2446A's curve (weight 1) at the level the output puts SDR white (1.96 x 203 nits for HDR10,
203 for EXR frames), both in PQ at hdrvid.metrics.flicker's analysis size; DIS flow on the input, forward-backward
checked; per pixel the mean |frame - warped previous frame| over the clip, output minus input. Prints the means and
the excess by output level band (<100, 100-203, 203-400, 400-1000, >1000 nits); the PNG is the last output frame
over the excess map (red: the output moves more than the input, green: less)."""
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch

from hdrvid.color.levels import LEVEL_GAIN
from hdrvid.color.operators import bt2446a_expansion
from hdrvid.color.transfer import pq_inverse_eotf
from hdrvid.jobs.job import open_source
from hdrvid.metrics.flicker import _flow, _small, _warp
from hdrvid.pipeline.decoder import DecodeOptions, VideoDecoder

W = np.array([0.2126, 0.7152, 0.0722], np.float32)
src, out_path = VideoDecoder(Path(sys.argv[1])), Path(sys.argv[2])
out = open_source(out_path, DecodeOptions(), Fraction(24))
white = 203 * (1.0 if out_path.is_dir() else LEVEL_GAIN["bt2446a"])
dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
prev, acc_in, acc_out, n = None, 0.0, 0.0, 0
for a, b in zip(src, out):
    ya = np.tensordot(W, np.asarray(a.data), axes=1)
    ya = ya * bt2446a_expansion(torch.from_numpy(ya)).numpy() * white
    yb = np.tensordot(W, np.asarray(b.data), axes=1) * 203
    sa, sb = _small(np.asarray(pq_inverse_eotf(ya))), _small(np.asarray(pq_inverse_eotf(yb)))
    if prev is not None:
        pa, pb = prev
        f, back = _flow(pa, sa, dis), _flow(sa, pa, dis)
        ok = np.linalg.norm(f + _warp(back, f), axis=-1) < 1.0
        acc_in = acc_in + np.abs(sa - _warp(pa, f)) * ok
        acc_out = acc_out + np.abs(sb - _warp(pb, f)) * ok
        n += 1
    prev = (sa, sb)
acc_in, acc_out = acc_in / n, acc_out / n
print(f"mean in {acc_in.mean():.6f} out {acc_out.mean():.6f} ratio {acc_out.mean() / acc_in.mean():.4f}")
ex = acc_out - acc_in
band = np.digitize(sb, np.asarray(pq_inverse_eotf(torch.tensor([100.0, 203.0, 400.0, 1000.0]))))
for k in range(5):
    m = band == k
    if m.any():
        print(f"band {k} share {m.mean():.3f} in {acc_in[m].mean():.5f} out {acc_out[m].mean():.5f} "
              f"share of the excess {ex[m].sum() / ex.sum():.3f}")
v = np.clip(ex / (np.percentile(np.abs(ex), 99.5) + 1e-9), -1, 1)
img = np.zeros(v.shape + (3,), np.uint8)
img[..., 2] = (np.clip(v, 0, 1) * 255).astype(np.uint8)
img[..., 1] = (np.clip(-v, 0, 1) * 255).astype(np.uint8)
base = cv2.cvtColor((np.clip(sb, 0, 1) * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)
cv2.imwrite(sys.argv[3], np.vstack([base, cv2.addWeighted(base, 0.4, img, 0.8, 0)]))
