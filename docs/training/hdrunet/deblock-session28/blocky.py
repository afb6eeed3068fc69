"""usage: blocky.py SDR_IN.mp4 HDR_OUT.mp4...: on frames 50-100 of the clip, mean |d log2 nits| of each HDR output across
8-pixel column boundaries over inside them, in areas whose SDR max(R,G,B) code is >= 244 (codec blocks shown)."""
import sys, av, numpy as np
from colour.models.rgb.transfer_functions import eotf_ST2084
def frames(p, idx):
    c = av.open(p); out = {}
    for i, f in enumerate(c.decode(video=0)):
        if i in idx: out[i] = f.to_ndarray(format='yuv420p10le')[:f.height].astype(np.float64)
        if i > max(idx): break
    return out
idx = [50, 60, 70, 80, 90, 100]
src = av.open(sys.argv[1])
sdr = {}
for i, f in enumerate(src.decode(video=0)):
    if i in idx: sdr[i] = f.to_ndarray(format='rgb24').max(2)
    if i > max(idx): break
for p in sys.argv[2:]:
    fr = frames(p, set(idx)); res = []
    for i in idx:
        ln = np.log2(np.maximum(eotf_ST2084((fr[i] - 64) / 876), 1e-3))
        near = sdr[i] >= 244
        dx = np.abs(np.diff(ln, axis=1)); m = near[:, 1:] & near[:, :-1]
        cols = np.arange(dx.shape[1])
        bnd = ((cols + 1) % 8 == 0)[None, :] & m; inn = (~((cols + 1) % 8 == 0))[None, :] & m
        res.append(dx[bnd].mean() / dx[inn].mean())
    print(p, 'boundary/interior |dlog2 nits| ratio (x, 8-px grid, near-white):', np.round(res, 2), round(float(np.mean(res)), 3))
