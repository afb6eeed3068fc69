"""HDR training data: readers, panorama crops, procedural scenes, and the train/held-out split."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from hdrvid.io.images import read_hdr
from hdrvid.synth.scenes import procedural_scenes
from hdrvid.synth.views import random_view

# Held out from training, for `hdrvid eval` and the model card (chosen by name before any training, to
# span interiors, city, nature, dusk): never seen by the trainer.
HELD_OUT = {"bridge", "lobby", "venice", "park", "courtyard", "sunset"}


def split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    train = [f for f in files if f.stem not in HELD_OUT]
    held = [f for f in files if f.stem in HELD_OUT]
    return train, held


RENDERED_PREFIX = "rendered-"
"""Names of rendered training scenes (``tools/render_scenes.py``): always trained on, never validated on, so the
validation set stays the real scenes it has always been."""


def validation_split(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Training images minus a fixed validation set: every 7th real image by sorted name (deterministic, by
    scene), and no training image shares a validation image's name (the same scene from another folder); rendered
    scenes are training data only. Checkpoints are chosen on validation only; the held-out set
    (:data:`HELD_OUT`) is never seen."""
    rendered = sorted((f for f in files if f.stem.startswith(RENDERED_PREFIX)), key=lambda f: f.stem)
    files = sorted((f for f in files if not f.stem.startswith(RENDERED_PREFIX)), key=lambda f: f.stem)
    val = [f for i, f in enumerate(files) if i % 7 == 3]
    # a scene is one name in every folder: ../shared/hdri-train's blender-world/sunrise.exr is pmndrs-1k/sunrise.hdr
    # (the same panorama), which trained every model up to session 48 while its twin was validated on
    names = {f.stem for f in val}
    return [f for i, f in enumerate(files) if i % 7 != 3 and f.stem not in names] + rendered, val


def load_images(files: list[Path], procedural: int, seed: int, size: tuple[int, int] = (320, 180)) -> list[np.ndarray]:
    """The images of ``files`` (negatives clipped) plus ``procedural`` rendered rooms."""
    imgs = [np.clip(read_hdr(f), 0, None) for f in files]
    if procedural:
        imgs += procedural_scenes(procedural, size=size, seed=seed)
    return imgs


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
        """A photograph-like view: a pinhole view of a panorama (2:1 equirectangular), or a random-scale crop
        of anything else (procedural rooms, ordinary photographs)."""
        img = self.images[int(rng.integers(0, len(self.images)))]
        h, w = img.shape[:2]
        if w == 2 * h:
            return random_view(img, size, rng)
        return random_crop(img, size, rng)
