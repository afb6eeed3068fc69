"""The two files ``hdrunet-auto``'s torch-free CPU path reads beside the int8 network (session 47):

    python docs/training/hdrunet/arrays-session47/make_files.py hdrvid/models/weights

- ``hdrunet-context.onnx``: the frame-wide context (``HDRUNet.context``) exported in fp32 from the shipped weights
  (``export_onnx``, parity checked at two sizes); its output feeds the int8 ``field_tile``;
- ``hdrunet-shoulder.json``: the shoulder detector's tensors (``shoulder_arrays.PARAMETERS``) as plain numbers.

Both are made from ``weights/hdrunet.pt`` alone; their sha256 go into ``models/builtin.py``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from hdrvid.export.onnx import export_onnx
from hdrvid.io.hashing import sha256_file
from hdrvid.models import build
from hdrvid.models.shoulder_arrays import PARAMETERS


def main() -> None:
    out = Path(sys.argv[1])
    result = export_onnx("hdrunet-auto", out / "hdrunet-context.onnx", part="context")
    print("context", result.as_dict())
    model = build("hdrunet-auto")
    state = model.shoulder.state_dict()
    doc = {"about": "hdrunet's shoulder detector (models.shoulder.ShoulderDetector) from weights/hdrunet.pt",
           **{k: state[k].double().tolist() for k in PARAMETERS}}
    (out / "hdrunet-shoulder.json").write_text(json.dumps(doc))
    for name in ("hdrunet-context.onnx", "hdrunet-shoulder.json"):
        print(name, sha256_file(out / name))


if __name__ == "__main__":
    main()
