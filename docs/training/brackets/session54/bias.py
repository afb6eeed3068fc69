"""Per picture of one camera: clipped PSNR-mu of `brackets` and `hdrunet-auto` and the mean log2 ratio of each
answer to the truth in the clipped pixels (luminance, after the metric's alignment), the detector's p, the clipped share.
python bias.py SETTING OUT.pkl SEED [SEED ...]"""
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet/blobs-session39"))
from common import default_and_brackets, scene_files, shots

from hdrvid.color.operators import BT709_WEIGHTS
from hdrvid.metrics.hdr import align_scale, hdr_metrics

files = scene_files("validation")
nets = default_and_brackets()
rows, t0 = [], time.time()
W = np.asarray(BT709_WEIGHTS, np.float64)
for seed in (int(s) for s in sys.argv[3:]):
    for i, j, setting, shot, x in shots(files, seed):
        if setting != sys.argv[1]:
            continue
        m = shot.clipped
        if not m.any():
            continue
        row = {"seed": seed, "i": i, "j": j, "clipped_share": float(m.mean())}
        t = shot.target @ W
        for name, net in nets.items():
            with torch.inference_mode():
                pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            row[name] = hdr_metrics(pred, shot.target, m, ssim=False)["psnr_mu"]
            pred = pred * align_scale(np.clip(pred, 0, None), shot.target)  # as the metric scores it
            row[name + ":bias"] = float(np.mean(np.log2(np.maximum(pred @ W, 1e-6) / np.maximum(t, 1e-6))[m]))
            row[name + ":level"] = float(np.mean(np.log2(np.maximum(pred @ W, 1e-6))[m]))
        row["truth:level"] = float(np.mean(np.log2(np.maximum(t, 1e-6))[m]))
        row["p"] = float(nets["brackets"].model.last_p[0])  # the detector's probability (BracketHDR.last_p)
        rows.append(row)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
pickle.dump(rows, open(sys.argv[2], "wb"))
