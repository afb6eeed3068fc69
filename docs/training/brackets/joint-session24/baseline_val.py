"""The joint stage's validation score (fusion loss, final pass, generated -3/+3 pair) of brackets weights files:
python baseline_val.py WEIGHTS... (run from the repository, after runs/brackets-joint/config.json exists)."""
import json
import sys
from pathlib import Path

import torch

from hdrvid.models import get
from hdrvid.train.brackets import BracketFamily
from hdrvid.train.data import split
from hdrvid.train.loop import TrainConfig
from hdrvid.train.run import list_hdr

torch.set_num_threads(1)
cfg = TrainConfig(**json.loads(Path("runs/brackets-joint/config.json").read_text()))
files, held = split(list_hdr([Path(d) for d in cfg.data]))
spec = get("brackets")
torch.manual_seed(cfg.seed)
model = spec.factory(**spec.factory_kwargs)
fam = BracketFamily(cfg, model, files, held)
for w in sys.argv[1:]:
    model.load_state_dict(torch.load(w, weights_only=True))
    model.eval()
    with torch.inference_mode():
        print(w, fam.validate(model, torch.device("cpu")))
