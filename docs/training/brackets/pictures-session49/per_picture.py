"""Per-picture clipped / unclipped PSNR-mu of `brackets` and `hdrunet-auto` as `convert` runs them (cap_eval's
validation views: 8 per scene, 384 px, the four cameras and graded), so the two can be compared picture by picture.
python per_picture.py OUT.pkl SEED [SEED ...]"""
import pickle
import sys
import time
from pathlib import Path

import torch

torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "hdrunet/blobs-session39"))
from common import default_and_brackets, scene_files, shots

from hdrvid.metrics.hdr import hdr_metrics

files = scene_files("validation")
nets = default_and_brackets()
rows, t0 = [], time.time()
for seed in (int(s) for s in sys.argv[2:]):
    for k, (i, j, setting, shot, x) in enumerate(shots(files, seed)):
        row = {"seed": seed, "i": i, "j": j, "setting": setting, "clipped_share": float(shot.clipped.mean())}
        for m, net in nets.items():
            with torch.inference_mode():
                pred = net.infer(x)[0].permute(1, 2, 0).double().numpy()
            for region, mask in (("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
                if mask.any():
                    row[f"{m}:{region}"] = hdr_metrics(pred, shot.target, mask, ssim=False)["psnr_mu"]
        rows.append(row)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
pickle.dump(rows, open(sys.argv[1], "wb"))
