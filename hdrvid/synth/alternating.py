"""Semi-synthetic alternating-exposure footage from real HDR images, with ground truth.

A virtual camera moves over an HDR image (pan, slow zoom, hand shake) while independently moving
objects (patches cut from elsewhere in the image, soft-edged, each with its own velocity and spin) are
composited in linear HDR. Each frame is then "shot" at the exposure its place in the cycle gives
(e.g. EV -2, +2, -2, ...): shot + read noise, the BT.709 camera curve, clipping, 8-bit, and H.264 4:2:0
(PyAV, BT.709 tags). The ground truth is the HDR frame at EV 0 (1.0 = the EV 0 picture's white).

Results on these clips are semi-synthetic: real radiance and textures, simulated motion and camera.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from hdrvid.color.transfer import bt709_oetf
from hdrvid.io.atomic import AtomicFile, AtomicFolder
from hdrvid.io.images import write_exr
from hdrvid.synth.camera import expose_for_clipping


@dataclass(frozen=True)
class SynthConfig:
    exposures: tuple[float, ...] = (-2.0, 2.0)
    frames: int = 48
    size: tuple[int, int] = (480, 270)
    fps: int = 24
    crf: int = 18
    keyint: int = 0
    """A keyframe every this many frames (0: the encoder's choice)."""
    pan: float = 2.0
    """Camera speed in output pixels per frame (direction random)."""
    zoom: float = 0.15
    """Relative zoom over the clip."""
    shake: float = 1.5
    """Hand-shake amplitude in pixels."""
    objects: int = 2
    object_speed: float = 4.0
    clip_share: float = 0.04
    """Share of pixels clipped at EV 0 in the first frame (sets the exposure scale)."""
    noise: float = 1.0
    seed: int = 0
    long_clip: float = 0.0
    """If > 0: the exposure scale is set so that this share of pixels is clipped in the *longest* exposure
    (instead of ``clip_share`` at EV 0)."""
    short_clip: float = 0.0
    """If > 0: at least this share of pixels is clipped even in the *shortest* exposure (areas no exposure
    recorded: sun, lamps, sky); the exposure is raised if needed."""
    response: str = "bt709"
    """The camera's response curve (see :data:`RESPONSES`); the clip is still tagged BT.709, as cameras do."""
    blur: int = 1
    """Sub-frame samples averaged per frame (motion blur over an open shutter); 1 = none."""


RESPONSES = ("bt709", "srgb", "gamma2.0", "gamma2.6", "filmic")
"""Camera responses the realistic clips draw from: the nominal BT.709 curve, sRGB, pure power laws and a
filmic S-curve with a toe and a shoulder (most cameras' default looks are neither of the standards)."""


def response_curve(lin: np.ndarray, name: str) -> np.ndarray:
    """Linear [0, 1] -> signal [0, 1] through the named camera response."""
    x = np.clip(lin, 0, 1)
    if name == "bt709":
        return np.asarray(bt709_oetf(x), np.float32)
    if name == "srgb":
        return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)
    if name.startswith("gamma"):
        return np.power(x, 1 / float(name[5:])).astype(np.float32)
    if name == "filmic":  # gamma 2.2 with a toe and a shoulder, normalised so 1 -> 1
        g = np.power(x, 1 / 2.2)
        s = g * g * (3 - 2 * g)
        return (0.6 * g + 0.4 * s).astype(np.float32)
    raise ValueError(f"unknown camera response {name!r}; choose from {', '.join(RESPONSES)}")


def realistic_config(rng: np.random.Generator, exposures: int, frames: int, size: tuple[int, int],
                     seed: int) -> SynthConfig:
    """A randomly drawn realistic alternating clip (issue 13): exposure ratios 4-16 between the extremes
    (2 or 3 exposures), large clipped areas (in some clips clipped even in the short exposure), camera pan,
    zoom and shake, 1-3 independently moving objects with motion blur, noise, a camera response other than
    the nominal one, and H.264 at crf 18-26."""
    spread = float(rng.choice([2.0, 3.0, 4.0]))  # stops between the shortest and longest exposure: 4x..16x
    evs = (-spread / 2, spread / 2) if exposures == 2 else (-spread / 2, 0.0, spread / 2)
    short_clip = float(rng.uniform(0.02, 0.08)) if rng.random() < 0.6 else 0.0
    return SynthConfig(exposures=evs, frames=frames, size=size, crf=int(rng.integers(18, 27)),
                       pan=float(rng.uniform(0.5, 4.0)), zoom=float(rng.uniform(0.0, 0.2)),
                       shake=float(rng.uniform(0.3, 2.5)), objects=int(rng.integers(1, 4)),
                       object_speed=float(rng.uniform(2.0, 8.0)), clip_share=float(rng.uniform(0.03, 0.12)),
                       noise=float(rng.uniform(0.5, 2.0)), seed=seed, short_clip=short_clip,
                       long_clip=float(rng.uniform(0.2, 0.45)),
                       response=str(rng.choice(RESPONSES)), blur=int(rng.choice([1, 3])))


class Scene:
    """Renders HDR frames (H, W, 3) of a moving camera and moving objects over one HDR image."""

    def __init__(self, hdri: np.ndarray, cfg: SynthConfig, donor: np.ndarray | None = None) -> None:
        """``donor``: another HDR picture the moving objects are cut from (default: ``hdri`` itself)."""
        rng = np.random.default_rng(cfg.seed)
        w, h = cfg.size
        # the source image at about 1.6x the output width so the camera has room to move
        scale = 1.6 * w / hdri.shape[1] if hdri.shape[1] < 1.6 * w or hdri.shape[1] > 4 * w else 1.0
        if scale != 1.0:
            hdri = cv2.resize(hdri, (round(hdri.shape[1] * scale), max(h + 8, round(hdri.shape[0] * scale))),
                              interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        if hdri.shape[0] < h * 1.2:
            hdri = cv2.resize(hdri, (hdri.shape[1], round(h * 1.25)), interpolation=cv2.INTER_LINEAR)
        self.src = np.ascontiguousarray(hdri.astype(np.float32))
        self.cfg = cfg
        sh, sw = self.src.shape[:2]
        angle = rng.uniform(0, 2 * math.pi)
        self.velocity = cfg.pan * np.array([math.cos(angle), math.sin(angle) * 0.4])
        travel = self.velocity * cfg.frames
        self.start = np.array([sw / 2, sh / 2]) - travel / 2
        self.shake_phase = rng.uniform(0, 2 * math.pi, 4)
        self.zoom_dir = rng.choice([-1.0, 1.0])
        source = self.src
        if donor is not None:
            d = donor.astype(np.float32)
            f = max(self.src.shape[0] / d.shape[0], 1.0)
            if f > 1:
                d = cv2.resize(d, (round(d.shape[1] * f), self.src.shape[0]), interpolation=cv2.INTER_LINEAR)
            # the donor's level brought to the scene's (median luminance), so objects are neither black nor white
            source = d * np.float32(np.median(self.src.max(-1)) / max(float(np.median(d.max(-1))), 1e-6))
        self.objects = [self._make_object(rng, source) for _ in range(cfg.objects)]

    def _make_object(self, rng: np.random.Generator, source: np.ndarray) -> dict[str, object]:
        w, h = self.cfg.size
        sh, sw = source.shape[:2]
        size = min(int(rng.uniform(0.15, 0.3) * min(w, h)), sh - 1, sw - 1) | 1
        y, x = int(rng.integers(0, sh - size)), int(rng.integers(0, sw - size))
        patch = source[y:y + size, x:x + size].copy() * np.float32(rng.uniform(0.5, 4.0))
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        r = np.hypot((xx - size / 2) / (size / 2), (yy - size / 2) / (size / 2 * rng.uniform(0.6, 1.0)))
        alpha = np.clip((1 - r) * 6, 0, 1)
        angle = rng.uniform(0, 2 * math.pi)
        speed = rng.uniform(0.5, 1.0) * self.cfg.object_speed
        return {"patch": patch, "alpha": alpha, "pos": np.array([rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h]),
                "vel": speed * np.array([math.cos(angle), math.sin(angle)]), "spin": rng.uniform(-2, 2)}

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t``; with ``cfg.blur`` > 1 the average over an open shutter (half the frame interval)."""
        n = self.cfg.blur
        if n <= 1:
            return self._render(float(t))
        return (sum(self._render(t + 0.5 * (k / (n - 1) - 0.5)) for k in range(n)) / n).astype(np.float32)

    def _render(self, t: float) -> np.ndarray:
        cfg = self.cfg
        w, h = cfg.size
        p = self.shake_phase
        shake = cfg.shake * np.array([math.sin(0.9 * t + p[0]) + 0.5 * math.sin(2.3 * t + p[1]),
                                      math.sin(1.1 * t + p[2]) + 0.5 * math.sin(2.9 * t + p[3])])
        centre = self.start + self.velocity * t + shake
        zoom = 1 + self.zoom_dir * cfg.zoom * t / max(1, cfg.frames - 1)
        # affine map from output pixels to source pixels
        s = 1 / zoom
        m = np.array([[s, 0, centre[0] - s * w / 2], [0, s, centre[1] - s * h / 2]], np.float32)
        out = cv2.warpAffine(self.src, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT)
        for ob in self.objects:
            patch, alpha = ob["patch"], ob["alpha"]
            assert isinstance(patch, np.ndarray) and isinstance(alpha, np.ndarray)
            pos = ob["pos"] + ob["vel"] * t  # type: ignore[operator]
            size = patch.shape[0]
            rot = cv2.getRotationMatrix2D((size / 2, size / 2), float(ob["spin"]) * t, 1.0)  # type: ignore[arg-type]
            rot[:, 2] += pos - size / 2
            layer = cv2.warpAffine(patch, rot, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
            a = cv2.warpAffine(alpha, rot, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
            out = out * (1 - a) + layer * a
        return np.maximum(out, 0).astype(np.float32)


def exposure_of(index: int, exposures: Sequence[float], phase: int = 0) -> float:
    return float(exposures[(index + phase) % len(exposures)])


def shoot_frame(hdr: np.ndarray, ev: float, rng: np.random.Generator, noise: float = 1.0,
                response: str = "bt709") -> np.ndarray:
    """EV-scaled radiance -> 8-bit camera picture (H, W, 3) uint8 (before H.264) through ``response``."""
    lin = hdr * np.float32(2.0**ev)
    if noise > 0:
        lin = lin + np.sqrt(np.clip(lin, 0, 1) * 0.0015 * noise) * rng.standard_normal(lin.shape).astype(np.float32)
        lin = lin + 0.0008 * noise * rng.standard_normal(lin.shape).astype(np.float32)
    sig = response_curve(lin, response)
    return np.clip(np.round(sig * 255), 0, 255).astype(np.uint8)


def exposure_scale(first: np.ndarray, cfg: SynthConfig) -> float:
    """The factor on the scene's radiance that gives ``cfg``'s clipping (measured on the clip's first frame):
    ``long_clip`` of the pixels clipped in the longest exposure (else ``clip_share`` at EV 0), raised until
    ``short_clip`` clip even in the shortest, as long as the long exposure keeps 45 % unclipped."""
    if cfg.long_clip > 0:
        k = expose_for_clipping(first, cfg.long_clip) * 2.0 ** -max(cfg.exposures)
    else:
        k = expose_for_clipping(first, cfg.clip_share)
    if cfg.short_clip > 0:
        cap = expose_for_clipping(first, 0.55) * 2.0 ** -max(cfg.exposures)
        k = max(k, min(cap, expose_for_clipping(first, cfg.short_clip) * 2.0 ** -min(cfg.exposures)))
    return float(k)


def frames_hdr(hdri: np.ndarray, cfg: SynthConfig, donor: np.ndarray | None = None) -> tuple[Iterator[np.ndarray], float]:
    """Ground-truth frames at EV 0 scale, and the scale applied to the image's radiance."""
    scene = Scene(hdri, cfg, donor)
    k = exposure_scale(scene.frame(0), cfg)

    def gen() -> Iterator[np.ndarray]:
        for t in range(cfg.frames):
            yield scene.frame(t) * np.float32(k)

    return gen(), k


def synth_alternating(hdri: np.ndarray, video: Path, gt_dir: Path | None, cfg: SynthConfig,
                      donor: np.ndarray | None = None) -> dict[str, object]:
    """Write the alternating-exposure clip (H.264, BT.709) and, if asked, its ground truth as EXR frames
    (both appear only when complete)."""
    rng = np.random.default_rng([cfg.seed, 1])
    frames, k = frames_hdr(hdri, cfg, donor)
    w, h = cfg.size
    video.parent.mkdir(parents=True, exist_ok=True)
    meta = {**asdict(cfg), "scale": k, "phase": 0, "note": "semi-synthetic: real HDR radiance, simulated motion "
            "and camera; ground truth at EV 0 scale (1.0 = white of the EV 0 picture)"}
    with ExitStack() as stack:
        clip = stack.enter_context(AtomicFile(video))
        gt = stack.enter_context(AtomicFolder(gt_dir)) if gt_dir is not None else None
        with av.open(str(clip.path), "w") as out:
            v = out.add_stream("libx264", rate=cfg.fps)
            v.width, v.height, v.pix_fmt = w, h, "yuv420p"
            v.options = {"crf": str(cfg.crf), "preset": "fast"}
            if cfg.keyint:
                v.options["x264-params"] = f"keyint={cfg.keyint}:min-keyint={cfg.keyint}:scenecut=0"
            cc = v.codec_context
            cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1  # BT.709, limited
            for t, hdr in enumerate(frames):
                code = shoot_frame(hdr, exposure_of(t, cfg.exposures), rng, cfg.noise, cfg.response)
                f = av.VideoFrame.from_ndarray(code, format="rgb24").reformat(
                    format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG")
                f.pts = t
                for p in v.encode(f):
                    out.mux(p)
                if gt is not None:
                    write_exr(gt.path / f"{t:05d}.exr", hdr)
            for p in v.encode(None):
                out.mux(p)
        if gt is not None:
            (gt.path / "synth.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
