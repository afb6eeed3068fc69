"""Put the brackets model's three separately trained networks into one weights file.

    python tools/combine_brackets.py GEN.pt FUSE.pt FUSE2X.pt OUT.pt

Takes ``gen.*`` from the generator run, ``fuse.*`` from the fusion run and ``fuse2x.*`` from the fusion-2x run
(each run's file holds all three; the frozen ones are whatever it started from), and ``shoulder.*`` (the frozen
shoulder detector, since session 29) from the shipped ``hdrunet.pt``. Prints the sha256 for the registry. Stages
trained one after another with ``--init`` do not need this (training loads the shipped detector itself); session
29 made the shipped file with ``python tools/combine_brackets.py B B B B`` (B = session 25's ``brackets.pt``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

from hdrvid.io.atomic import AtomicFile
from hdrvid.io.hashing import sha256_file
from hdrvid.models import build
from hdrvid.models.brackets import BracketHDR


def main(gen: str, fuse: str, fuse2x: str, out: str) -> None:
    parts = {"gen.": gen, "fuse.": fuse, "fuse2x.": fuse2x}
    state = {}
    for prefix, path in parts.items():
        src = torch.load(path, map_location="cpu", weights_only=True)
        state.update({k: v for k, v in src.items() if k.startswith(prefix)})
    state.update({f"shoulder.{k}": v for k, v in build("hdrunet-auto").shoulder.state_dict().items()})
    BracketHDR().load_state_dict(state)  # every tensor present, every shape right
    with AtomicFile(Path(out)) as f:
        torch.save(state, f.path)
    print(out, sha256_file(Path(out)))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
