"""``hdrvid merge``: bracketed still images (or a Kalantari 2017 scene folder, or a folder ``hdrvid brackets`` wrote)
to one HDR image. EVs from ``--exposures``, else the stack listing ``hdrvid brackets`` writes, else EXIF, else
measured between neighbours.

The reference image (the middle exposure by default) defines the geometry and EV 0 of the output:
1.0 in the result is the white of the reference exposure.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from hdrvid.color.transfer import DECODERS
from hdrvid.errors import InputError, OutputError, check_choice
from hdrvid.io.atomic import AtomicFile, check_destination
from hdrvid.io.images import read_exif_exposure, read_image, write_exr, write_hdr
from hdrvid.io.report import Report
from hdrvid.models.merge import DISFlow, flow_merge, weighted_merge
from hdrvid.pipeline.alternating import make_merger, relative_evs

log = logging.getLogger("hdrvid")

METHODS = ("flowmerge", "debevec", "robertson", "mertens", "ahdr", "kalantari", "cfnet")
RESPONSES = ("srgb", "gamma22", "bt709", "linear", "calibrate")
"""Camera response for ``hdrvid merge --crf``: a known curve, or calibrated from the brackets (Debevec)."""


@dataclass
class MergeReport(Report):
    """``hdrvid merge``'s report: the merged image and how it was made."""

    output: str
    method: str
    exposures: list[float]
    reference: int
    width: int
    height: int
    peak: float
    """Brightest value, relative to the reference exposure's white."""

    def __str__(self) -> str:
        return (f"{self.output}: {self.width}x{self.height}, {self.method}, exposures {self.exposures} EV, "
                f"reference #{self.reference}, peak {self.peak:.3g} x reference white")


def exif_evs(paths: Sequence[Path]) -> list[float] | None:
    """EVs relative to the first image from the EXIF exposure time, f-number and ISO of each (JPEG/TIFF),
    or None when any image lacks an exposure time."""
    evs = []
    for p in paths:
        e = read_exif_exposure(p)
        if e is None:
            return None
        evs.append(e)
    return [e - evs[0] for e in evs]


def kalantari_scene(folder: Path) -> tuple[list[Path], list[float] | None, Path | None]:
    """(images ordered short to long, EVs from exposure.txt or None, ground truth HDRImg.hdr or None)."""
    tifs = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff"))
    if len(tifs) < 2:
        raise InputError(f"{folder}: expected the bracketed .tif images of a Kalantari-layout scene")
    exp_file = folder / "exposure.txt"
    evs = read_exposures(exp_file) if exp_file.is_file() else None
    gt = next((p for p in folder.iterdir() if p.name.lower() == "hdrimg.hdr"), None)
    return tifs, evs, gt


STACK_FILE = "stack.json"
"""What ``hdrvid brackets`` writes beside its stack: each image's file name and EV."""


def stack_listing(folder: Path) -> dict[str, float] | None:
    """File name -> EV from ``folder``'s :data:`STACK_FILE`, or None (no such file, or not one of ours)."""
    path = folder / STACK_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        return {str(i["file"]): float(i["ev"]) for i in data["images"]}
    except (OSError, ValueError, KeyError, TypeError):
        raise InputError(f"{path}: not a stack listing hdrvid brackets wrote (images with file and ev); move it "
                         f"away or give --exposures") from None


def stack_scene(folder: Path) -> tuple[list[Path], list[float]] | None:
    """(images ordered by EV, their EVs) of a folder ``hdrvid brackets`` wrote, or None (not such a folder)."""
    listing = stack_listing(folder)
    if listing is None:
        return None
    missing = [name for name in listing if not (folder / name).is_file()]
    if missing:
        raise InputError(f"{folder / STACK_FILE}: lists {missing[0]}, which is not in the folder")
    ordered = sorted(listing.items(), key=lambda kv: kv[1])
    return [folder / name for name, _ in ordered], [ev for _, ev in ordered]


def stack_evs(paths: Sequence[Path]) -> list[float] | None:
    """The EVs ``hdrvid brackets`` recorded for these images (all in one folder whose :data:`STACK_FILE` lists every
    one of them), or None."""
    folders = {p.resolve().parent for p in paths}
    if len(folders) != 1:
        return None
    listing = stack_listing(folders.pop())
    if listing is None or not all(p.name in listing for p in paths):
        return None
    return [listing[p.name] for p in paths]


def read_exposures(path: Path) -> list[float]:
    """EV per image, one number per line (Kalantari's exposure.txt gives stops)."""
    try:
        vals = [float(v) for v in path.read_text().split()]
    except (OSError, ValueError):
        raise InputError(f"{path}: expected one exposure value (in stops) per line") from None
    return vals


def parse_exposures(text: str | None, count: int) -> list[float] | None:
    if text is None:
        return None
    p = Path(text)
    vals = read_exposures(p) if p.is_file() else [float(v) for v in text.split(",")]
    if len(vals) != count:
        raise InputError(f"--exposures gives {len(vals)} values for {count} images")
    return vals


def _linearise(signals: list[np.ndarray], evs: list[float] | None, crf: str, bits: int) -> list[np.ndarray]:
    if crf != "calibrate":
        return [np.asarray(DECODERS[crf](s), np.float32) for s in signals]
    if evs is None:
        raise InputError("--crf calibrate needs --exposures (the calibration solves for the curve given the times)")
    codes = [np.clip(np.round(s * 255), 0, 255).astype(np.uint8)[:, :, ::-1].copy() for s in signals]
    times = np.array([2.0**e for e in evs], np.float32)
    response = cv2.createCalibrateDebevec().process(codes, times)  # (256, 1, 3) BGR, arbitrary scale
    curve = response[:, 0, ::-1] / response[255, 0, ::-1]  # RGB, white = 1
    xs = np.linspace(0, 1, 256)
    out = []
    for s in signals:
        lin = np.stack([np.interp(s[..., c], xs, curve[:, c]) for c in range(3)], -1)
        out.append(lin.astype(np.float32))
    log.info("calibrated camera response (Debevec & Malik) from %d images at %d-bit", len(signals), bits)
    return out


def merge_stills(images: Sequence[Path], output: Path, exposures: str | None = None, method: str = "flowmerge",
                 crf: str = "srgb", reference: int | None = None, overwrite: bool = False,
                 engine: Any = None, weights: Path | None = None) -> MergeReport:
    """``weights``: the cfnet method's weights (a brackets weights file) instead of the shipped ones."""
    check_choice(method, METHODS, "--method")
    check_choice(crf, RESPONSES, "--crf")
    paths = [Path(p) for p in images]
    evs: list[float] | None = None
    if len(paths) == 1 and paths[0].is_dir():
        stack = stack_scene(paths[0])
        if stack is not None:  # a folder hdrvid brackets wrote: its images at the EVs it made them
            paths, evs = stack
        else:
            paths, evs, _ = kalantari_scene(paths[0])
            if crf == "srgb":
                crf = "gamma22"  # the Kalantari dataset's images are gamma 2.2 encoded
    if len(paths) < 2:
        raise InputError("give two or more bracketed images (or one Kalantari-layout folder)")
    if output.suffix.lower() not in (".exr", ".hdr"):
        raise OutputError(f"{output}: write the merged HDR image as .exr or .hdr")
    check_destination(paths, output, overwrite)
    read = [read_image(p) for p in paths]
    hdr_inputs = [p for p, r in zip(paths, read) if r[2]]
    if hdr_inputs:
        raise InputError(f"{hdr_inputs[0]}: is already HDR; hdrvid merge takes LDR brackets (8- or 16-bit images)")
    shapes = {r[0].shape for r in read}
    if len(shapes) != 1:
        raise InputError(f"the brackets differ in size: {sorted(shapes)}")
    evs = parse_exposures(exposures, len(paths)) if exposures is not None else evs
    if evs is None:
        evs = stack_evs(paths)  # images of a stack hdrvid brackets wrote: the EVs it made them at
    lins_hwc = _linearise([r[0] for r in read], evs, crf, max(r[1] for r in read))
    lins = [np.ascontiguousarray(x.transpose(2, 0, 1)) for x in lins_hwc]
    if evs is None:
        evs = exif_evs(paths)  # the camera's own record, when every image has one
        if evs is None:  # still brackets are not a repeating cycle: measure each against its neighbour
            evs = relative_evs(lins)
    ref = len(paths) // 2 if reference is None else reference
    if not 0 <= ref < len(paths):
        raise InputError(f"--reference {ref} is not an image index (0..{len(paths) - 1})")
    evs = [e - evs[ref] for e in evs]  # the reference is EV 0
    if weights is not None and method != "cfnet":
        raise InputError(f"--weights applies to --method cfnet; {method} uses its shipped weights or none")
    hdr = fuse_pair(lins, evs, weights) if method == "cfnet" else _merge(method, lins, evs, ref, [r[0] for r in read],
                                                                          engine)
    with AtomicFile(output) as target:
        (write_exr if output.suffix.lower() == ".exr" else write_hdr)(target.path, hdr)
    return MergeReport(output=str(output), method=method, exposures=[round(e, 3) for e in evs], reference=ref,
                       width=hdr.shape[1], height=hdr.shape[0], peak=float(hdr.max()))


def _merge(method: str, lins: list[np.ndarray], evs: list[float], ref: int, signals: list[np.ndarray],
           engine: Any) -> np.ndarray:
    """(H, W, 3) radiance at the reference's EV 0."""
    if method == "debevec":
        return weighted_merge(lins, evs).transpose(1, 2, 0)
    if method in ("robertson", "mertens"):
        codes = [np.clip(np.round(s * 255), 0, 255).astype(np.uint8)[:, :, ::-1].copy() for s in signals]
        if method == "mertens":  # exposure fusion: a display-referred picture; stored linearised (sRGB)
            fused = cv2.createMergeMertens().process(codes)[:, :, ::-1]
            return np.asarray(DECODERS["srgb"](np.clip(fused, 0, 1)), np.float32)
        times = np.array([2.0**e for e in evs], np.float32)
        rad = cv2.createMergeRobertson().process(codes, times)[:, :, ::-1]  # relative radiance (per second)
        return np.ascontiguousarray(rad, np.float32)
    others = [i for i in range(len(lins)) if i != ref]
    flow = DISFlow("medium")
    nb = [(lins[i], evs[i], flow.pair(lins[ref], evs[ref], lins[i], evs[i])) for i in others]
    if method == "flowmerge":
        return flow_merge(lins[ref], evs[ref], nb).transpose(1, 2, 0)
    merger = make_merger(method, engine=engine)
    if len(nb) > 2:
        raise InputError(f"{method} merges a reference with two neighbours; give 2 or 3 images")
    return merger.merge(lins[ref], evs[ref], nb).transpose(1, 2, 0)


def fuse_pair(lins: list[np.ndarray], evs: list[float], weights: Path | None = None) -> np.ndarray:
    """CF-Net-style fusion (the ``brackets`` model's stage 2) of the darkest and brightest images: (H, W, 3)
    radiance at EV 0. The pair's EV gap is an input of the network; large pictures run in tiles."""
    import torch

    from hdrvid.engines.executor import tiled
    from hdrvid.models import build
    from hdrvid.models.brackets import RECEPTIVE_RADIUS, TwoStage, encode

    u, o = int(np.argmin(evs)), int(np.argmax(evs))
    if evs[o] - evs[u] < 0.5:
        raise InputError(f"--method cfnet fuses an under- and an over-exposed image; these differ by "
                         f"{evs[o] - evs[u]:.2f} EV (give brackets at least 1 EV apart, or --exposures)")
    model = build("brackets", weights)
    assert isinstance(model, TwoStage)
    pair = encode(torch.from_numpy(np.concatenate([lins[u], lins[o]]))[None])
    gap = torch.tensor([float(evs[o] - evs[u])])
    with torch.inference_mode():
        out = tiled(lambda t: model.fuse(t[:, :3], t[:, 3:], gap)[-1], pair, 768, RECEPTIVE_RADIUS)
    return np.ascontiguousarray((out[0] * 2.0 ** -evs[u]).numpy().transpose(1, 2, 0), np.float32)
