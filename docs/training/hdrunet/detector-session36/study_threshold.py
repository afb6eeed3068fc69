"""Per validation picture (the views and camera draws of `hdrvid eval --split validation --views 8 --width 384`
with picture seed SEED, five cameras): hdrunet-auto's detector probability p, and its scores with the shoulder
weight forced to 0, forced to 1, and as shipped. Writes a JSON list of records."""
import json, sys, time
from pathlib import Path
import torch
torch.set_num_threads(1)
import hdrvid.jobs.evaluate as E
import hdrvid.models.hdrunet as H
from hdrvid.engines.backends import backend_from_options
from hdrvid.runtime import EngineOptions
from hdrvid.synth.camera import ALL_SETTINGS

D = [Path("../shared/hdri-train/pmndrs-1k"), Path("../shared/hdri-train/polyhaven-1k"), Path("../shared/hdri-train/blender-world")]
seed, out_path = int(sys.argv[1]), Path(sys.argv[2])
engine = EngineOptions(backend=backend_from_options("torch", "cpu", "auto", 1), infer_scale=None)
net = E.executor_for("hdrunet-auto", None, engine)
orig = H.HDRUNet.shoulder_weight
state = {"force": None, "p": None}

def patched(self, linear):
    p = self.shoulder(linear)
    state["p"] = float(p.flatten()[0])
    if state["force"] is None:
        t = ((p - H.SHOULDER_LO) / (H.SHOULDER_HI - H.SHOULDER_LO)).clamp(0, 1)
        return t * t * (3 - 2 * t)
    return torch.full_like(p, float(state["force"]))

H.HDRUNet.shoulder_weight = patched
pictures = E.eval_pictures(E.eval_files(D, "validation"), 8, 384, seed)
import os
pictures = pictures[: int(os.environ.get("LIMIT", len(pictures)))]
recs = []
t0 = time.time()
for i, (scene, img) in enumerate(pictures):
    for j, setting in enumerate(ALL_SETTINGS):
        shot, x = E.eval_shot(img, seed, i, j, setting)
        rec = {"scene": scene, "i": i, "setting": setting}
        for label, force in (("w0", 0.0), ("w1", 1.0), ("shipped", None)):
            state["force"] = force
            with torch.inference_mode():
                y = net.infer(x)
            pred = y[0].permute(1, 2, 0).double().numpy()
            for region, mask in (("all", None), ("clipped", shot.clipped), ("unclipped", ~shot.clipped)):
                if mask is not None and not mask.any():
                    continue
                m = E.hdr_metrics(pred, shot.target, mask)
                rec[f"{label}/{region}/psnr_mu"] = m["psnr_mu"]
                if region == "all":
                    rec[f"{label}/all/pu21_psnr"] = m["pu21_psnr"]
        rec["p"] = state["p"]
        recs.append(rec)
    print(i, "%.0f s" % (time.time() - t0), flush=True)
tmp = out_path.with_suffix(".part")
tmp.write_text(json.dumps(recs))
tmp.replace(out_path)
