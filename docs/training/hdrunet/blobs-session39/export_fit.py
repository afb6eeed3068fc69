"""Fit the per-blob level MLP (fit.py, 16 units) from several starts on the training views' blobs, choose the start on
the validation views' objective, and write its parameters as the JSON file the model reads.
python export_fit.py OUT.json TRAIN.pkl [TRAIN.pkl ...] -- VAL.pkl [VAL.pkl ...]"""
import sys
from pathlib import Path

import fit as F
import torch
from analyse import load

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "brackets" / "level-session42"))
from study import write_rule  # noqa: E402

NAMES = ["log2 ring 0-2", "log2 ring 2-6", "log2 ring 6-16", "log2 ring 16-40", "ring 0-2 seen", "ring 2-6 seen",
         "ring 6-16 seen", "ring 16-40 seen", "log2 area", "log2 area share", "touches border", "centre row",
         "model mean log2", "model peak log2", "input saturation", "ring 0-2 / 6-16 log2", "ring 2-6 / 16-40 log2",
         "detector p", "log2 clipped share", "log2 mean light", "log2 box width + 1", "log2 box height + 1"]

out = sys.argv[1]
k = sys.argv.index("--")
tp, tb, grid = load(sys.argv[2:k])
vp, vb, _ = load(sys.argv[k + 1:])
best = None
for start in range(3):
    torch.manual_seed(start)
    X = F.features(tp, tb)
    mean, std = X.mean(0), X.std(0) + 1e-6
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    torch.nn.init.zeros_(net[-1].weight)
    torch.nn.init.zeros_(net[-1].bias)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for s in range(1500):
        opt.zero_grad()
        loss = F.objective(tp, tb, grid, net((X - mean) / std)[:, 0])
        loss.backward()
        opt.step()
    with torch.no_grad():
        gv = net((F.features(vp, vb) - mean) / std)[:, 0]
        val = float(F.objective(vp, vb, grid, gv))
        tr = float(F.objective(tp, tb, grid, net((X - mean) / std)[:, 0]))
    print(f"start {start}: training objective {tr:.4f}, validation {val:.4f}", flush=True)
    if best is None or val < best[0]:
        best = (val, start, mean, std, net)
val, start, mean, std, net = best
write_rule(out, "hdrunet-auto's per-blob level (hdrunet card, session 39): log2 factor of a clipped blob's light", start,
           val, NAMES, mean, std, net)
print("chose start", start)
