"""HDR training data: readers, panorama crops, procedural scenes, and the train/held-out split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hdrvid.errors import InputError

HDR_SUFFIXES = (".exr", ".hdr")


def read_hdr(path: Path) -> np.ndarray:
    """.exr (OpenEXR bindings; chromaticities and whiteLuminance honoured) or .hdr (Radiance, OpenCV) ->
    (H, W, 3) float32 linear, negatives (DWAB compression leaves a few) clipped."""
    suffix = path.suffix.lower()
    if suffix == ".exr":
        from hdrvid.pipeline.decoder import (
            read_exr,  # the same reader as conversion uses
        )

        img = read_exr(path)
    elif suffix == ".hdr":
        bgr = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if bgr is None:
            raise InputError(f"{path}: not a readable Radiance HDR file")
        img = bgr[:, :, ::-1].astype(np.float32)
    else:
        raise InputError(f"{path}: not an HDR image (.exr or .hdr)")
    return np.ascontiguousarray(np.clip(np.nan_to_num(img, nan=0.0, posinf=0.0), 0, None), dtype=np.float32)


def list_hdr(folders: list[Path]) -> list[Path]:
    files: list[Path] = []
    for f in folders:
        if f.is_file() and f.suffix.lower() in HDR_SUFFIXES:
            files.append(f)
        elif f.is_dir():
            files += sorted(p for p in f.rglob("*") if p.suffix.lower() in HDR_SUFFIXES)
    if not files:
        raise InputError(f"no .exr or .hdr images in {', '.join(map(str, folders))}")
    return files


# Held out from training, for `hdrvid eval` and the model card (chosen by name before any training, to
# span interiors, city, nature, dusk): never seen by the trainer.
HELD_OUT = {"bridge", "lobby", "venice", "park", "courtyard", "sunset"}


def split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    train = [f for f in files if f.stem not in HELD_OUT]
    held = [f for f in files if f.stem in HELD_OUT]
    return train, held


def random_crop(img: np.ndarray, size: int, rng: np.random.Generator, scale_range: tuple[float, float] = (0.5, 1.0)) -> np.ndarray:
    """A ``size``-square crop at a random scale, with random flips and 90-degree rotations."""
    h, w = img.shape[:2]
    s = rng.uniform(*scale_range)
    c = int(min(h, w, max(size, round(size / s))))
    y = int(rng.integers(0, h - c + 1))
    x = int(rng.integers(0, w - c + 1))
    patch = img[y:y + c, x:x + c]
    if c != size:
        patch = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    k = int(rng.integers(0, 4))
    patch = np.rot90(patch, k) if k else patch
    return np.ascontiguousarray(patch)


def procedural_scenes(count: int, size: tuple[int, int] = (320, 180), seed: int = 0) -> list[np.ndarray]:
    """Rendered rooms with windows, sun, lamps and glossy objects (hdrvid.train.scenes), varied by seed."""
    from hdrvid.train.scenes import interior_with_window

    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        img = interior_with_window(float(rng.random()), size[0], size[1], seed=int(rng.integers(0, 10_000)))
        tint = rng.uniform(0.7, 1.3, 3).astype(np.float32)
        out.append(np.ascontiguousarray(img * tint * np.float32(rng.uniform(0.3, 3.0))))
    return out


@dataclass
class HDRPool:
    """Images held in memory; crops are drawn from them at random."""

    images: list[np.ndarray]
    names: list[str]

    @classmethod
    def load(cls, files: list[Path], procedural: int = 0, seed: int = 0) -> HDRPool:
        imgs = [read_hdr(f) for f in files]
        names = [f.stem for f in files]
        if procedural:
            imgs += procedural_scenes(procedural, seed=seed)
            names += [f"procedural{i}" for i in range(procedural)]
        return cls(imgs, names)

    def crop(self, size: int, rng: np.random.Generator) -> np.ndarray:
        return random_crop(self.images[int(rng.integers(0, len(self.images)))], size, rng)
