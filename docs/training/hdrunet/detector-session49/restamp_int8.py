"""Point the packaged int8 network at a new ``hdrunet.pt`` whose network tensors are the old file's (session 49: only
the shoulder detector changed). Checks that every non-detector tensor of OLD and NEW is identical, then rewrites
the int8 file's ``hdrvid.weights_sha256`` metadata to NEW's sha256; the quantised graph is untouched.
python restamp_int8.py OLD.pt NEW.pt INT8.onnx

(Re-running session 46's make_int8.py would not give the same network: its calibration views come from the training
split, which lost the `sunrise` twin in session 48.)"""
import sys
from pathlib import Path

import onnx
import torch

from hdrvid.io.hashing import sha256_file
from hdrvid.models.registry import load_state_dict

old, new, path = (Path(a) for a in sys.argv[1:4])
a, b = load_state_dict(old, None), load_state_dict(new, None)
net = sorted(k for k in a if not k.startswith("shoulder."))
if net != sorted(k for k in b if not k.startswith("shoulder.")) or not all(torch.equal(a[k], b[k]) for k in net):
    sys.exit("restamp_int8: the two files' networks differ; quantise the new one (make_int8.py) instead")
m = onnx.load(str(path))
meta = {p.key: p for p in m.metadata_props}
if meta["hdrvid.weights_sha256"].value != sha256_file(old):
    sys.exit(f"restamp_int8: {path} was not made from {old}")
meta["hdrvid.weights_sha256"].value = sha256_file(new)
tmp = path.with_name(path.name + ".part")
onnx.save(m, str(tmp))
tmp.replace(path)
print(path, sha256_file(path))
