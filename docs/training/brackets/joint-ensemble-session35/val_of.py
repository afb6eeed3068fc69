"""The joint psnr-mu validation value (the run's own batch) of weights files: python val_of.py CONFIG W..."""
import json
import sys
from pathlib import Path

import torch

from hdrvid.io.images import list_hdr
from hdrvid.models.registry import get
from hdrvid.train.brackets import BracketFamily
from hdrvid.train.loop import TrainConfig
from hdrvid.train.run import split

torch.set_num_threads(1)
c = json.load(open(sys.argv[1]))
cfg = TrainConfig(**{k: v for k, v in c.items() if k in TrainConfig.__dataclass_fields__})
cfg.out = Path("/tmp/valof")
files, held = split(list_hdr([Path(d) for d in cfg.data]))
for w in sys.argv[2:]:
    torch.manual_seed(cfg.seed)
    model = get("brackets").factory()
    model.load_state_dict(torch.load(w, weights_only=True), strict=False)
    fam = BracketFamily(cfg, model, files, held)
    print(w, round(fam.validate(model, torch.device("cpu")), 4), flush=True)
