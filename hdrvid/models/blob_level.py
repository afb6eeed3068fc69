"""A level for each clipped highlight (issue 12, hdrunet card "Session 39").

``hdrunet-auto``'s expansion gets a highlight's shape about right and its level often wrong: with the truth choosing
one factor per clipped blob the validation's clipped PSNR-mu would rise 1.0-6.6 dB (most on the consumer camera and
graded SDR, where BT.2446A's curve and a hard clip meet). :class:`BlobLevel` predicts that factor from what the
picture shows: each 8-connected blob of clipped pixels (max(R, G, B) at code 250 or above) on a working copy of the
frame about 384 pixels wide, described by the input's light in four rings around it (0-2, 2-6, 6-16 and 16-40
working pixels, unclipped pixels only), its size, box, position and saturation, the model's own level in it, and
the frame's detector probability, clipped share and mean light; a 16-unit MLP (``weights/hdrunet-blob-level.json``,
fitted on the training scenes' blobs to the metric itself: ``docs/training/hdrunet/blobs-session39/``) turns them
into log2 of the factor. The factor multiplies all three channels alike (the hue stays) through the model's
expansion mask of the brightest channel (as session 23's graded boost), so nothing steps at a blob's edge and a
camera frame's recorded codes stay as decoded. Video: each blob starts from the factor the previous frame gave the
pixels it covers (0 where none: a highlight that appears fades in), the blobs are read every 4th frame and each
factor moves a quarter of the way to the reading (:data:`EVERY`, :data:`FOLLOW`); reset at cuts. ``brackets`` carries
the same rule fitted on its own answers (``weights/brackets-blob-level.json``; brackets card, session 40).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hdrvid.color.kernels import blob_gain
from hdrvid.color.operators import BT709_WEIGHTS
from hdrvid.errors import ModelError
from hdrvid.lazy import cv2, torch

WEIGHTS_FILE = Path(__file__).parent / "weights" / "hdrunet-blob-level.json"
WORKING_WIDTH = 384
"""Features are read on a copy this wide (an integer area reduction of the frame): the rings and areas the
fit saw (`eval`'s 384-px views)."""
MIN_WIDTH = WORKING_WIDTH // 2
"""Frames narrower than this keep the model's answer: the rule was fitted on 384-px pictures, and on 96-px ones
(`--upscale 2`'s validation: 192-px views downscaled twice) it cost the exact sRGB and hard cameras 0.5-0.7 dB."""
CLIP_LINEAR = 0.953
"""max(R, G, B) at or above this linear light is clipped: code 250 of 255 through sRGB's or BT.709's curve (code
249 decodes to 0.947 / 0.951)."""
RINGS = ((0, 2), (2, 6), (6, 16), (16, 40))
EXTRA_FEATURES = {"ring 0-2 share above 0.7": "near2", "log2 ring 0-2 peak": "max2",
                  "share with R, G and B clipped": "white"}
"""More features (session 44) a rule file may list after the first :data:`BASE_FEATURES`, by name (the value: the
key the study's pickles hold it under, `docs/training/hdrunet/features-session44/extra_features.py`): the share of
the innermost ring's pixels whose luminance is above :data:`NEAR` of white and log2 of that ring's peak (how the
light climbs to the blob: a sun's glare ramps up, a window's frame does not), and the share of the blob's pixels
where all three channels clipped (a white source against one coloured channel clipped). A file of 22 features
(sessions 39-43) is read as before."""
NEAR = 0.7
BASE_FEATURES = 22
"""Sessions 39-43's features (:func:`blob_features`' first 22)."""
MIN_PIXELS = 4
MAX_BLOBS = 256
"""The largest blobs of a frame get a level; the rest (smaller still) keep the model's."""
RANGE = (-1.0, 2.0)
"""A blob's factor is held within 2^-1 .. 2^2 (the fit's answers on validation lie within 2^-0.6 .. 2^1.3)."""
RAMP = (0.968, 0.980)
"""Where no mask is given, the factor acts by a smoothstep of the brightest channel's signal (linear^(1/2.2)) over
these values (codes 246.8-250): fully on every pixel the blob holds, fading over the 3 codes below. In
``hdrunet-auto`` it acts through the model's own expansion mask instead (camera frames from code ~252.5)."""
FOLLOW = 0.25
"""Video: the share of the way a blob's factor moves, each time the blobs are read, from what the previous frame
gave its pixels."""
EVERY = 4
"""Video: the blobs' features are read every this many frames; between, each blob keeps the factor the previous
frame gave its pixels (the reading costs ~1/4 as much)."""
SIGNAL_GAMMA = 2.2
"""The signal the mask reads, linear ** (1 / this): ``models.hdrunet.SIGNAL_GAMMA`` (that module imports this one;
a test holds the two equal)."""


class BlobLevel:
    """The per-blob level rule; parameters from :data:`WEIGHTS_FILE` (plain numbers: data, never code)."""

    def __init__(self, path: Path = WEIGHTS_FILE) -> None:
        try:
            doc = json.loads(path.read_text())
            self.mean = np.asarray(doc["mean"], np.float64)
            self.std = np.asarray(doc["std"], np.float64)
            self.w1 = np.asarray(doc["w1"], np.float64)
            self.b1 = np.asarray(doc["b1"], np.float64)
            self.w2 = np.asarray(doc["w2"], np.float64)
            self.b2 = float(doc["b2"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ModelError(f"{path}: the per-blob level's parameters are missing or damaged ({err}); "
                               "reinstall hdrvid") from None
        if self.w1.shape != (len(self.b1), len(self.mean)) or self.w2.shape != self.b1.shape:
            raise ModelError(f"{path}: the per-blob level's parameters have inconsistent shapes; reinstall hdrvid")
        names = list(doc.get("features", []))[BASE_FEATURES:]
        self.extra = tuple(names)
        """The names of the rule's features after the first :data:`BASE_FEATURES` (:data:`EXTRA_FEATURES`)."""
        if len(self.mean) != BASE_FEATURES + len(names) or any(n not in EXTRA_FEATURES for n in names):
            raise ModelError(f"{path}: the per-blob level's parameters are for {len(self.mean)} features this hdrvid "
                             "does not compute; reinstall hdrvid")
        self.video = False
        self._prev: np.ndarray | None = None
        self._count = 0
        self.total = 0.0
        """Sum over frames of the stops added to a frame's levelled pixels, weighted by the mask (the run report's
        mean: a frame with nothing levelled adds 0)."""
        self.frames = 0

    def start(self, video: bool) -> None:
        self.video = video
        self._prev = None
        self._count = 0
        self.total, self.frames = 0.0, 0

    def cut(self) -> None:
        self._prev = None
        self._count = 0

    def predict(self, features: np.ndarray) -> np.ndarray:
        """(B, F) features -> (B,) log2 factors, within :data:`RANGE`."""
        h = np.tanh(((features - self.mean) / self.std) @ self.w1.T + self.b1)
        return np.clip(h @ self.w2 + self.b2, *RANGE)

    def __call__(self, linear: torch.Tensor, out: torch.Tensor, p: torch.Tensor,
                 bounds: tuple[torch.Tensor, torch.Tensor] | None = None, shift: torch.Tensor | None = None
                 ) -> torch.Tensor:
        """``out`` (N, 3, H, W), the model's answer for ``linear``, with each clipped blob's light scaled by its
        predicted factor; ``p`` (N,) the frames' detector probabilities. The factor acts through the model's own
        expansion mask: a smoothstep of the brightest channel's signal (plus ``shift``, (N, 1, H, W), the mask's
        codec-block filter, where given) over ``bounds`` ((N,) lower and upper signal per frame; default
        :data:`RAMP`), so a camera frame's recorded codes below its mask stay exactly as they were. In place where
        ``out`` allows. Float32 arrays in (a C-contiguous ``out``): levelled in place, no torch."""
        if isinstance(out, np.ndarray):
            for i in range(out.shape[0]):
                ramp = RAMP if bounds is None else (float(bounds[0][i]), float(bounds[1][i]))
                self._frame(linear[i], out[i], float(p[i]), ramp, None if shift is None else shift[i, 0])
            return out
        if out.requires_grad:
            return out
        out = out.contiguous()
        for i in range(out.shape[0]):
            ramp = RAMP if bounds is None else (float(bounds[0].flatten()[i]), float(bounds[1].flatten()[i]))
            self._frame(linear[i], out[i], float(p.flatten()[i]), ramp, None if shift is None else shift[i, 0])
        return out

    def _frame(self, linear: torch.Tensor, out: torch.Tensor, p: float, ramp: tuple[float, float],
               shift: torch.Tensor | None) -> None:
        h, w = linear.shape[-2:]
        self.frames += 1
        if w < MIN_WIDTH:
            return
        f = min(max(1, round(w / WORKING_WIDTH)), h, w)
        small = block_means(linear, f).clip(0, 1)

        def pred() -> np.ndarray:  # the model's answer on the working copy, only when features are read
            return block_means(out, f)

        stops = self.stops(small, pred, p)
        if stops is None:
            return
        # the factor read bilinearly from the working copy at each pixel and applied through the mask, in one
        # compiled pass (``color.kernels.blob_gain``) on the float32 CPU frame (a copy elsewhere)
        if isinstance(out, np.ndarray):  # float32 arrays (the torch-free path): in place
            added, weight = blob_gain(np.ascontiguousarray(linear, np.float32), out, stops.astype(np.float32), f,
                                      None if shift is None else np.ascontiguousarray(shift, np.float32),
                                      ramp[0], ramp[1], SIGNAL_GAMMA)
            self.total += added / max(weight, 1e-6)
            return
        direct = out.device.type == "cpu" and out.dtype == torch.float32 and out.is_contiguous()
        o = out if direct else out.detach().float().cpu().contiguous()
        x = linear.detach().float().cpu().contiguous().numpy()
        sh_np = None if shift is None else shift.detach().float().cpu().contiguous().numpy()
        added, weight = blob_gain(x, o.numpy(), stops.astype(np.float32), f, sh_np, ramp[0], ramp[1], SIGNAL_GAMMA)
        if not direct:
            out.copy_(o.to(out.device, out.dtype))
        self.total += added / max(weight, 1e-6)

    def stops(self, lin: np.ndarray, pred: Callable[[], np.ndarray], p: float) -> np.ndarray | None:
        """(h, w) log2 factors on the working copy (``lin`` the input's light in [0, 1], (h, w, 3); ``pred()``
        the model's answer there): each blob's factor on its pixels, 0 elsewhere; None when no blob. Video: each
        blob starts from what the previous frame gave its pixels (a blob most of whose pixels were levelled keeps
        that level as it moves; one that appears counts its new pixels as 0 and fades in);
        every :data:`EVERY` frames the blobs are read and each factor moves :data:`FOLLOW` of the way to the
        reading; between, it holds."""
        clip = np.maximum(np.maximum(lin[..., 0], lin[..., 1]), lin[..., 2]) >= CLIP_LINEAR  # = lin.max(-1), 4x faster
        if not clip.any() or clip.all():
            self._prev = None
            return None
        prev = self._prev if self.video and self._prev is not None and self._prev.shape == clip.shape else None
        masks = blob_masks(clip)
        if not masks:
            self._prev = None
            return None
        held = []
        if prev is not None:  # what the previous frame gave each blob's pixels
            for y0, x0, m in masks:
                before = prev[y0:y0 + m.shape[0], x0:x0 + m.shape[1]][m]
                given = before[before != 0]
                # a blob that was there (at least half its pixels levelled: it moved or grew) keeps its level; one
                # that was not counts its new pixels as 0 and fades in
                held.append(float(given.mean()) if 2 * len(given) >= len(before) else float(before.mean()))
        read = prev is None or self._count % EVERY == 0
        self._count += 1
        if read:
            g = self.predict(np.asarray(blob_features(lin, pred(), clip, p, masks, self.extra)))
            if prev is not None:
                g = np.array(held) + FOLLOW * (g - np.array(held))
        else:
            g = np.array(held)
        stops = np.zeros(clip.shape, np.float64)
        for (y0, x0, m), gi in zip(masks, g):
            stops[y0:y0 + m.shape[0], x0:x0 + m.shape[1]][m] = gi
        if self.video:
            self._prev = stops
        return stops

    def mean_stops(self) -> float | None:
        """Mean over the frames since :meth:`start` of the stops added where the factor acted (within
        :data:`RANGE`; None: none run)."""
        return self.total / self.frames if self.frames else None


def block_means(x: torch.Tensor, f: int) -> np.ndarray:
    """(h, w, C) float64: the means of ``f`` x ``f`` blocks of a (C, H, W) frame, the last partial row and column of
    blocks dropped (``F.avg_pool2d(x, f)``'s values to float32 rounding: a test), by OpenCV's area resize of each
    plane at an exact integer factor, 2.5x faster than torch's pooling on a 720p frame (4.2 -> 1.7 ms; issue 17)."""
    planes = x if isinstance(x, np.ndarray) else x.detach().float().cpu().numpy()
    if f == 1:
        return planes.transpose(1, 2, 0).astype(np.float64)
    h, w = planes.shape[1] // f, planes.shape[2] // f
    return np.stack([cv2.resize(np.ascontiguousarray(p[:h * f, :w * f]), (w, h), interpolation=cv2.INTER_AREA)
                     for p in planes], -1).astype(np.float64)


def blob_masks(clip: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """The MAX_BLOBS largest 8-connected blobs of ``clip`` with at least MIN_PIXELS pixels, largest first: (row and
    column of the blob's box, the box's boolean mask of the blob)."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(clip.astype(np.uint8), connectivity=8)
    order = [b for b in np.argsort(-stats[1:, cv2.CC_STAT_AREA]) + 1 if stats[b, cv2.CC_STAT_AREA] >= MIN_PIXELS]
    out = []
    for b in order[:MAX_BLOBS]:
        x0, y0, bw, bh = (int(v) for v in stats[b, :4])
        out.append((y0, x0, lab[y0:y0 + bh, x0:x0 + bw] == b))
    return out


def blob_features(lin: np.ndarray, pred: np.ndarray, clip: np.ndarray, p: float,
                  masks: list[tuple[int, int, np.ndarray]], extra: tuple[str, ...] = ()) -> list[list[float]]:
    """Each blob's features (the order of ``features`` in the weights file): ``lin`` the input's light and ``pred``
    the model's answer (h, w, 3), ``clip`` the clipped pixels, ``p`` the frame's detector probability, ``masks``
    from :func:`blob_masks`; ``extra``: names of :data:`EXTRA_FEATURES`, in this order after the first
    :data:`BASE_FEATURES`."""
    weights = np.asarray(BT709_WEIGHTS, np.float64)
    ylin, ypred = lin @ weights, pred @ weights
    hgt, wid = clip.shape
    frame = [p, math.log2(max(float(clip.mean()), 1e-6)), math.log2(max(float(ylin.mean()), 1e-4))]
    pad = RINGS[-1][1] + 1
    feats = []
    for y0, x0, box in masks:
        bh, bw = box.shape
        area = int(box.sum())
        cy0, cx0 = max(0, y0 - pad), max(0, x0 - pad)
        cy1, cx1 = min(hgt, y0 + bh + pad), min(wid, x0 + bw + pad)
        m = np.zeros((cy1 - cy0, cx1 - cx0), bool)
        m[y0 - cy0: y0 - cy0 + bh, x0 - cx0: x0 - cx0 + bw] = box
        # each pixel's distance to the blob (Euclidean; a ring r0 < d <= r1 is the blob grown by a disc of radius
        # r1 less the blob grown by r0: one pass instead of dilations with discs up to 81 pixels wide)
        dist = cv2.distanceTransform((~m).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        free = ~clip[cy0:cy1, cx0:cx1]
        yl = ylin[cy0:cy1, cx0:cx1]
        rings = []
        for r0, r1 in RINGS:
            ring = (dist > r0) & (dist <= r1 + 0.5) & free
            rings.append(float(yl[ring].mean()) if ring.any() else float("nan"))
        logs = [math.log2(max(v, 1e-4)) if math.isfinite(v) else -14.0 for v in rings]
        seen = [float(math.isfinite(v)) for v in rings]
        inside = lin[y0:y0 + bh, x0:x0 + bw][box]
        top = inside.max(1)
        yp = ypred[y0:y0 + bh, x0:x0 + bw][box]
        rr, cc = np.nonzero(box)
        feats.append(logs + seen + [
            math.log2(area), math.log2(area / clip.size),
            float(x0 == 0 or y0 == 0 or x0 + bw == wid or y0 + bh == hgt),
            (float(rr.mean()) + y0) / hgt,
            float(np.log2(np.maximum(yp, 1e-6)).mean()), math.log2(max(float(yp.max()), 1e-6)),
            float((top - inside.min(1)).mean() / max(float(top.mean()), 1e-6)),
            logs[0] - logs[2], logs[1] - logs[3], *frame, math.log2(bw + 1), math.log2(bh + 1)])
        if extra:
            inner = yl[(dist > RINGS[0][0]) & (dist <= RINGS[0][1] + 0.5) & free]  # the innermost ring's light
            more = {"near2": float((inner > NEAR).mean()) if inner.size else 0.0,
                    "max2": math.log2(max(float(inner.max()), 1e-4)) if inner.size else -14.0,
                    "white": float((inside.min(1) >= CLIP_LINEAR).mean())}
            feats[-1] += [more[EXTRA_FEATURES[n]] for n in extra]
    return feats
