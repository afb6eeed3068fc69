"""diffhdr's alternating merge at 4 steps, noise 0, with the DDIM chain started at a fraction s of the schedule
(issue 14, diffhdr card "Starting the chain lower in the schedule"), beside kalantari, on the realistic
validation clips that `hdrvid eval --mode alternating --realistic --split validation --size 320x180 --frames 12`
makes (same seeds). One thread; ~2.5 min per clip and setting here.

    python tools/diffhdr_strength.py 1.0,0.5,0.25 [--out OUT.json] [--weights W.pt] [--shard K/N]

(the model's own ``start`` is overridden by each s; ``--weights``: diffhdr weights instead of the shipped ones;
``--shard K/N``: only every N-th clip from the K-th, so N processes share the work; merge their JSON files)
"""
import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import torch

torch.set_num_threads(1)
import hdrvid.models.diffhdr as dh
from hdrvid.io.images import list_hdr, read_hdr
from hdrvid.jobs.merge_eval import _merger, clip_source, decode_all, run_merge, score_clip
from hdrvid.models.cycle import fit_cycle, relative_evs
from hdrvid.synth.alternating import frames_hdr, realistic_config, synth_alternating
from hdrvid.train.data import split, validation_split

START = [1.0]
_ddim_timesteps = dh.ddim_timesteps
def ts(steps, timesteps=dh.TIMESTEPS, start=1.0):
    return _ddim_timesteps(steps, timesteps, START[0])
dh.ddim_timesteps = ts
ap = argparse.ArgumentParser()
ap.add_argument("starts")
ap.add_argument("--out", default="strength.json")
ap.add_argument("--weights")
ap.add_argument("--shard", default="0/1")
args = ap.parse_args()
shard, shards = (int(v) for v in args.shard.split("/"))
starts = [float(s) for s in args.starts.split(',')]
D = [Path('../shared/hdri-train') / n for n in ('pmndrs-1k', 'polyhaven-1k', 'blender-world')]
files = list_hdr(D); tr, held = split(files); files = validation_split(tr)[1]
cycles = ((-2.0, 2.0), (-2.0, 0.0, 2.0)); size = (320, 180); frames = 12; seed = 0
merger = _merger('diffhdr@4:0', None, {'diffhdr': Path(args.weights)} if args.weights else {})
kal = {}
kalantari = _merger('kalantari', None, {})
res = {s: [] for s in starts}
with tempfile.TemporaryDirectory() as tmp:
    for i, f in enumerate(files):
        for j, cyc in enumerate(cycles):
            if (i * len(cycles) + j) % shards != shard:
                continue
            clip_seed = seed * 1000 + i * 10 + j
            rng = np.random.default_rng([clip_seed, 13])
            cfg = realistic_config(rng, len(cyc), frames, size, clip_seed)
            img = clip_source(read_hdr(f), size, rng)
            donor = clip_source(read_hdr(files[(i + 1) % len(files)]), size, rng)
            video = Path(tmp) / f"{f.stem}-{j}.mp4"
            synth_alternating(img, video, None, cfg, donor)
            gts = list(frames_hdr(img, cfg, donor)[0])
            decoded = decode_all(video)
            pics = [d.data.numpy()[:, ::2, ::2] for d in decoded[:18]]
            cycle = fit_cycle(relative_evs(pics), cfg.exposures)
            kal[(f.stem, len(cyc))] = score_clip(run_merge(kalantari, decoded, cycle)[0], gts)['psnr_mu']
            for s in starts:
                START[0] = s
                sc = score_clip(run_merge(merger, decoded, cycle)[0], gts)
                res[s].append((f.stem, len(cyc), sc['psnr_mu'], sc.get('flicker')))
            print(f.stem, len(cyc), 'kal', round(kal[(f.stem, len(cyc))], 3), {s: round(res[s][-1][2], 3) for s in starts}, flush=True)
for s in starts:
    for n in (2, 3):
        v = [r[2] for r in res[s] if r[1] == n]; k = [kal[(r[0], r[1])] for r in res[s] if r[1] == n]
        print(f"start {s} {n}E diffhdr {np.mean(v):.3f} kalantari {np.mean(k):.3f}")
json.dump({**{str(s): res[s] for s in starts}, 'kalantari': [[k[0], k[1], v] for k, v in kal.items()]},
          open(args.out, 'w'))
