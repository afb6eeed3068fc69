"""Put the default model's shoulder detector (session 49's five-MLP ensemble, `hdrunet.pt`'s ``shoulder.*``) into
`brackets.pt` (``shoulder.*``) and `brackets-2x.pt` (``base.shoulder.*``), every other tensor as it was (checked);
each file written whole or not at all. Prints the new sha256s for `models/builtin.py`.
python swap_detector.py WEIGHTS_DIR"""
import sys
from pathlib import Path

import torch

from hdrvid.io.hashing import sha256_file
from hdrvid.models.registry import load_state_dict

d = Path(sys.argv[1])
det = {k: v for k, v in load_state_dict(d / "hdrunet.pt", None).items() if k.startswith("shoulder.")}
for name, prefix in (("brackets.pt", ""), ("brackets-2x.pt", "base.")):
    path = d / name
    old = load_state_dict(path, None)
    new = {k: v for k, v in old.items() if not k.startswith(prefix + "shoulder.")}
    kept = dict(new)
    new.update({prefix + k: v.clone() for k, v in det.items()})
    assert all(torch.equal(new[k], kept[k]) for k in kept)
    tmp = path.with_name(path.name + ".part")
    torch.save(new, tmp)
    back = load_state_dict(tmp, None)
    assert sorted(back) == sorted(new) and all(torch.equal(back[k], new[k]) for k in new)
    tmp.replace(path)
    print(name, sha256_file(path))
