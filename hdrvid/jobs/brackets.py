"""``hdrvid brackets``: one picture -> a synthetic exposure bracket (stage 1 of the ``brackets`` model).

Each EV is written as an image in the picture's own encoding (8-bit PNG for 8-bit input, 16-bit PNG
otherwise), beside the picture itself at EV 0, plus ``exposures.txt`` (one EV per line, in file order) and
``stack.json``, so the folder can be merged by other tools or by ``hdrvid merge``. Large pictures run in
tiles (the frame-wide vector from the whole picture, a border of the generator's receptive radius).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hdrvid.engines.executor import tiled
from hdrvid.errors import InputError, OptionError
from hdrvid.io.atomic import AtomicFolder, check_destination, write_text_atomic
from hdrvid.io.images import read_image, write_png
from hdrvid.io.report import Report
from hdrvid.models import build
from hdrvid.models.brackets import RECEPTIVE_RADIUS, TwoStage

MAX_EV = 6.0
TILE = 768


@dataclass
class BracketsReport(Report):
    output: str
    evs: list[float]
    files: list[str]
    width: int
    height: int
    monotonicity_violations: float
    """Share of pixels (over the stack) that move the wrong way between neighbouring exposures."""

    def __str__(self) -> str:
        return (f"{self.output}: {len(self.files)} images at EV {', '.join(f'{e:+g}' for e in self.evs)} "
                f"({self.width}x{self.height}); {100 * self.monotonicity_violations:.2f}% of pixels move the wrong way")


def parse_evs(text: str) -> list[float]:
    try:
        evs = sorted({float(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise OptionError(f"--ev {text!r}: give stops separated by commas, e.g. -3,-2,-1,1,2,3") from None
    if not evs or any(e == 0 or abs(e) > MAX_EV for e in evs):
        raise OptionError(f"--ev {text!r}: every EV must be non-zero and within +-{MAX_EV:g} (EV 0 is the picture itself)")
    return evs


def synthesise(model: TwoStage, signal: torch.Tensor, evs: Sequence[float]) -> list[torch.Tensor]:
    """(1, 3, H, W) picture in the model's code domain -> one picture per EV (same domain), in tiles when large."""
    with torch.inference_mode():
        context = model.gen.context(signal)
        out = []
        for e in evs:
            ev = torch.tensor([float(e)])
            out.append(tiled(lambda t: model.gen(t, ev, context), signal, TILE, RECEPTIVE_RADIUS))
        return out


def brackets(image: Path, out: Path, evs: Sequence[float], weights: Path | None = None,
             overwrite: bool = False) -> BracketsReport:
    """Write the synthetic bracket of ``image`` into folder ``out``."""
    picture, bits, is_float = read_image(image)
    if is_float:
        raise InputError(f"{image}: is already HDR; hdrvid brackets takes an 8- or 16-bit picture")
    if out.exists() and not out.is_dir():
        raise OptionError(f"{out}: is a file; give a folder for the bracket")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OptionError(f"{out}: is not empty; pass --overwrite to replace its contents")
    check_destination([image], out, True)
    model = build("brackets", weights)
    assert isinstance(model, TwoStage)
    # the picture's codes are its sRGB signal: the model's code domain (read_image does not linearise)
    signal = torch.from_numpy(np.ascontiguousarray(picture.transpose(2, 0, 1)))[None].clamp(0, 1)
    stack = synthesise(model, signal, evs)
    ordered = sorted([(0.0, signal)] + list(zip(evs, stack)), key=lambda p: p[0])
    wrong = [float(((a - b) > 1.0 / 255).any(1).float().mean()) for (_, a), (_, b) in zip(ordered, ordered[1:])]
    depth = 8 if bits <= 8 else 16
    scale = 255 if depth == 8 else 65535
    names = []
    with AtomicFolder(out, overwrite=True) as folder:
        for e, img in ordered:
            name = f"{image.stem}_ev{e:+g}.png"
            codes = np.round(img[0].clamp(0, 1).numpy().transpose(1, 2, 0) * scale)
            write_png(folder.path / name, codes.astype(np.uint8 if depth == 8 else np.uint16)[:, :, ::-1])
            names.append(name)
        write_text_atomic(folder.path / "exposures.txt", "".join(f"{e:g}\n" for e, _ in ordered))
        write_text_atomic(folder.path / "stack.json", json.dumps(
            {"source": str(image), "model": "brackets", "encoding": "sRGB", "bits": depth,
             "images": [{"file": n, "ev": e} for n, (e, _) in zip(names, ordered)]}, indent=2) + "\n")
    return BracketsReport(output=str(out), evs=[e for e, _ in ordered], files=names, width=picture.shape[1],
                          height=picture.shape[0], monotonicity_violations=round(float(np.mean(wrong)), 5))
