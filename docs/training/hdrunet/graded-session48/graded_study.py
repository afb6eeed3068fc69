"""Graded pictures of the validation views (`eval`'s, seeds given): `hdrunet-auto` as shipped against `bt2446a` and
`none`, all-pixel PQ-PSNR / deltaE_ITP / PSNR-mu and clipped PSNR-mu (as `hdr_metrics` scores them), with the
detector's probability, the curve's weight after the average-light cap and the graded boost per picture.
python graded_study.py OUT.pkl SEED [SEED ...]   environment: CAP=nits (the average-light cap at the default level;
inf: off), BOOST=stops (the graded boost), LEVEL=0 (the per-blob level off), SPLIT=heldout (the held-out panoramas:
reported, never chosen on), FORCE_P=1 (the detector's probability forced to 1 on every graded picture: what catching
every grade would give), MORE=m1,m2 (more models scored beside `bt2446a` and `none`)"""
import os
import pickle, sys, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "blobs-session39"))
from common import DATA, hdrunet_auto, scene_files, views_of
import hdrvid.jobs.evaluate as E
from hdrvid.engines.backends import backend_from_options
from hdrvid.metrics.hdr import hdr_metrics, highlight_level
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS
import gatecap  # noqa: F401  (GATECAP=1)
import det_patch  # noqa: F401  (DET=weights)

if os.environ.get("SPLIT") == "heldout":
    from hdrvid.io.images import list_hdr
    from hdrvid.train.data import split
    files = split(list_hdr(DATA))[1]
else:
    files = scene_files("validation")
net, state = hdrunet_auto(level=os.environ.get("LEVEL") != "0")
model = net.model
if "CAP" in os.environ:
    from hdrvid.color.levels import LEVEL_GAIN
    model.average_cap = float(os.environ["CAP"]) / (203.0 * LEVEL_GAIN["bt2446a"])
if os.environ.get("FORCE_P") == "1":
    import hdrvid.models.hdrunet as H
    real = H.HDRUNet.shoulder_weight

    def forced(self, linear):
        real(self, linear)  # the detector runs (its probability kept for the study); its answer is replaced
        self.last_p = torch.ones_like(self.last_p)
        return torch.ones(linear.shape[0], dtype=linear.dtype, device=linear.device)

    H.HDRUNet.shoulder_weight = forced
if "BOOST" in os.environ:
    model.graded_boost_stops = float(os.environ["BOOST"])
eng = EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None)
MORE = [m for m in os.environ.get("MORE", "").split(",") if m]  # more models scored beside them (session 49)
others = {m: E.executor_for(m, None, eng) for m in ("bt2446a", "none", *MORE)}
J = ALL_SETTINGS.index("graded")
rows = []
t0 = time.time()
for seed in (int(s) for s in sys.argv[2:]):
    for i, (name, img) in enumerate(views_of(files, seed)):
        shot, x = E.eval_shot(img, seed, i, J, "graded")
        row = {"seed": seed, "i": i, "scene": name, "clipped_share": float(shot.clipped.mean())}
        for m, ex in (("hdrunet-auto", net), *others.items()):
            with torch.inference_mode():
                pred = ex.infer(x)[0].permute(1, 2, 0).double().numpy()
            a = hdr_metrics(pred, shot.target, None, ssim=False)
            row[m] = {k: a[k] for k in ("psnr_mu", "pq_psnr", "delta_e_itp")}
            if shot.clipped.any():
                row[m]["clipped_psnr_mu"] = hdr_metrics(pred, shot.target, shot.clipped, ssim=False)["psnr_mu"]
                row[m]["highlight_level"] = highlight_level(pred, shot.target, shot.clipped)
            for region, mask in (("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
                if mask.any():
                    row[m][region + "_delta_e_itp"] = hdr_metrics(pred, shot.target, mask, ssim=False)["delta_e_itp"]
            if m == "hdrunet-auto":
                row["p"] = state.get("p")
                c, b = model.last_curve, model.last_boost
                row["curve"] = None if c is None else float(c[0])
                row["boost"] = None if b is None else float(b[0])
        rows.append(row)
    print("seed", seed, "%.0f s" % (time.time() - t0), flush=True)
pickle.dump(rows, open(sys.argv[1], "wb"))
for m in ("none", "bt2446a", "hdrunet-auto", *MORE):
    f = lambda k: np.mean([r[m][k] for r in rows if k in r[m] and np.isfinite(r[m][k])])
    print(f"{m:13s} PSNR-mu {f('psnr_mu'):.2f} PQ-PSNR {f('pq_psnr'):.2f} dE_ITP {f('delta_e_itp'):.2f} clipped {f('clipped_psnr_mu'):.2f}")
