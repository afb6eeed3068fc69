"""Small synthetic media for tests, written with PyAV (and Debian's ffmpeg where PyAV cannot)."""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

FFPROBE = shutil.which("ffprobe")
FFMPEG = shutil.which("ffmpeg")
needs_ffprobe = pytest.mark.skipif(FFPROBE is None, reason="ffprobe not installed (apt-get install ffmpeg)")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg not installed (apt-get install ffmpeg)")


def pattern(i: int, w: int, h: int, bright: bool = True) -> np.ndarray:
    """A moving gradient with a clipped white patch: (H, W, 3) uint8 RGB."""
    yy, xx = np.mgrid[0:h, 0:w]
    r = ((xx + 3 * i) % w) * 255 // max(1, w - 1)
    g = (yy * 255 // max(1, h - 1))
    b = np.full_like(r, (40 + 5 * i) % 256)
    img = np.stack([r, g, b], -1).astype(np.uint8)
    if bright:
        img[h // 4: h // 4 + max(2, h // 6), w // 3: w // 3 + max(2, w // 6)] = 255
    return img


def blocky_plateau(h: int = 96, w: int = 160, codes: tuple[float, float] = (252.0, 254.0)) -> np.ndarray:
    """max(R, G, B) codes: a room at code 200 with a near-white wall of 16x16 codec blocks at ``codes`` in a
    checkerboard (by default 252 and 254, the step the camera mask, codes ~252.5-254.5, opens across) and a clipped
    lamp (code 255 on the room's 200, a one-pixel edge)."""
    code = np.full((h, w), 200.0, np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    code[16:80, 16:80] = np.where(((yy[16:80, 16:80] // 16) + (xx[16:80, 16:80] // 16)) % 2, *codes)
    code[np.hypot(yy - 48, xx - 130) < 22] = 255.0
    return code


def make_clip(
    path: Path,
    frames: int = 12,
    size: tuple[int, int] = (64, 48),
    rate: int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio: bool = False,
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    rotation: int = 0,
    interlaced: bool = False,
    trc: int | None = 1,
    gradient10: bool = False,
    faststart: bool = False,
    gop: int | None = None,
) -> Path:
    """Write a clip; ``pts`` gives explicit (e.g. variable-rate) timestamps in ``time_base`` units."""
    w, h = size
    options = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", options=options) as out:
        v = out.add_stream(codec, rate=rate)
        v.width, v.height, v.pix_fmt = w, h, pix_fmt
        v.options = {"preset": "ultrafast", "crf": "18"} if codec in ("libx264", "libx265") else {}
        if codec == "libx265":
            v.options["x265-params"] = "log-level=error"
        if interlaced:
            v.options = {**v.options, "flags": "+ildct+ilme", "x264-params": "interlaced=1:tff=1"}
            v.codec_context.flags |= 0  # the x264 params set interlacing
        if time_base is not None:
            v.time_base = time_base
            v.codec_context.time_base = time_base
        if gop is not None:  # a keyframe every ``gop`` frames (segment boundaries for hdrvid batch)
            v.codec_context.gop_size = gop
            if codec == "libx264":
                v.options = {**v.options, "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        cc = v.codec_context
        if trc is not None:
            cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, trc, 1, 1
        if rotation:
            v.set_display_rotation(rotation)
        a = None
        if audio:
            a = out.add_stream("aac", rate=48000)
            a.layout = "stereo"
        for i in range(frames):
            if gradient10:
                ramp = np.linspace(0, 1, w, dtype=np.float64)[None, :].repeat(h, 0)
                y = (64 + ramp * 876).astype(np.uint16)
                u = np.full((h // 2, w // 2), 512, np.uint16)
                arr = np.concatenate([y.ravel(), u.ravel(), u.ravel()]).reshape(h * 3 // 2, w)
                f = av.VideoFrame.from_ndarray(arr, format="yuv420p10le")
            else:
                f = av.VideoFrame.from_ndarray(pattern(i, w, h), format="rgb24").reformat(
                    format=pix_fmt if pix_fmt != "yuv420p10le" else "yuv420p10le", dst_colorspace="ITU709",
                    dst_color_range="MPEG")
            f.pts = pts[i] if pts is not None else i
            if time_base is not None:
                f.time_base = time_base
            for p in v.encode(f):
                out.mux(p)
        if a is not None:
            n = int(48000 * frames / rate)
            tone = (0.1 * np.sin(np.arange(n) * 0.05)).astype(np.float32)
            for k in range(0, n - 1024 + 1, 1024):
                af = av.AudioFrame.from_ndarray(np.stack([tone[k:k + 1024]] * 2), format="fltp", layout="stereo")
                af.sample_rate, af.pts = 48000, k
                for p in a.encode(af):
                    out.mux(p)
            for p in a.encode(None):
                out.mux(p)
        for p in v.encode(None):
            out.mux(p)
    return path


def _encode_all(out, v, pictures) -> None:
    """Encode and mux VideoFrames in order (pts = index), then flush."""
    for i, f in enumerate(pictures):
        f.pts = i
        for p in v.encode(f):
            out.mux(p)
    for p in v.encode(None):
        out.mux(p)


def make_flat_yuv_clip(path: Path, yuv: tuple[int, int, int], size: tuple[int, int] = (96, 64),
                       tags: tuple[int, int, int] | None = None, frames: int = 2) -> Path:
    """A lossless (x264 qp 0) clip of one flat 8-bit Y'CbCr colour, so the file holds exactly these codes;
    ``tags``: (primaries, transfer, matrix) as FFmpeg numbers, limited range (None: untagged)."""
    w, h = size
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"qp": "0", "preset": "ultrafast"}
        if tags is not None:
            cc = v.codec_context
            cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = *tags, 1
        arr = np.empty((h * 3 // 2, w), np.uint8)
        arr[:h], arr[h:h + h // 4], arr[h + h // 4:] = yuv
        _encode_all(out, v, (av.VideoFrame.from_ndarray(arr, format="yuv420p") for _ in range(frames)))
    return path


def make_raw_h264(path: Path, frames: int = 10, size: tuple[int, int] = (64, 48)) -> Path:
    """An Annex B elementary stream (.h264): no container, no timestamps."""
    w, h = size
    with av.open(str(path), "w", format="h264") as out:
        v = out.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        v.options = {"preset": "ultrafast"}
        _encode_all(out, v, (av.VideoFrame.from_ndarray(pattern(i, w, h), format="rgb24") for i in range(frames)))
    return path


def make_still_clip(path: Path, rgb: np.ndarray, frames: int = 3) -> Path:
    """A lossless (x264 qp 0, 4:4:4) BT.709-tagged clip repeating one 8-bit RGB picture (a colour chart)."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("libx264", rate=24)
        v.width, v.height, v.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv444p"
        v.options = {"qp": "0", "preset": "ultrafast"}
        cc = v.codec_context
        cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range = 1, 1, 1, 1
        f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
            format="yuv444p", dst_colorspace="ITU709", dst_color_range="MPEG")
        _encode_all(out, v, (f for _ in range(frames)))
    return path


def make_audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        a = out.add_stream("aac", rate=48000)
        a.layout = "stereo"
        for k in range(10):
            af = av.AudioFrame.from_ndarray(np.zeros((2, 1024), np.float32), format="fltp", layout="stereo")
            af.sample_rate, af.pts = 48000, k * 1024
            for p in a.encode(af):
                out.mux(p)
        for p in a.encode(None):
            out.mux(p)
    return path


def ffprobe(path: Path, *args: str) -> dict:
    assert FFPROBE is not None
    r = subprocess.run([FFPROBE, "-v", "error", "-of", "json", *args, str(path)], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout)


def packets(path: Path, kind: str) -> list[tuple[int | None, bytes]]:
    """(pts, payload) of every packet of the first stream of ``kind``."""
    with av.open(str(path)) as c:
        s = [st for st in c.streams if st.type == kind][0]
        return [(p.pts, bytes(p)) for p in c.demux(s) if p.size]


def video_pts_seconds(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return sorted(float(p.pts * p.time_base) for p in c.demux(s) if p.size and p.pts is not None)


def icc_profile(primaries: tuple[tuple[float, float], ...], gamma: float | None = None, name: str = "test") -> bytes:
    """A minimal ICC v2 RGB display profile (matrix/shaper) with D65 ``primaries`` (red, green, blue xy) whose
    colorants are Bradford-adapted to the D50 connection space, as real profiles store them; the tone curve is
    the sRGB curve (1024-entry table) or a pure ``gamma``."""
    import struct

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz_tag(xyz) -> bytes:
        return b"XYZ " + bytes(4) + b"".join(s15(v) for v in xyz)

    d65 = np.array([0.3127 / 0.3290, 1.0, (1 - 0.3127 - 0.3290) / 0.3290])
    d50 = np.array([0.9642, 1.0, 0.8249])
    xy = np.array(primaries, np.float64)
    m = np.stack([xy[:, 0] / xy[:, 1], np.ones(3), (1 - xy[:, 0] - xy[:, 1]) / xy[:, 1]])
    m = m * np.linalg.solve(m, d65)
    brad = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])
    cat = np.linalg.inv(brad) @ np.diag((brad @ d50) / (brad @ d65)) @ brad
    cols = (cat @ m).T  # D50-adapted colorants of R, G, B
    if gamma is None:
        v = np.linspace(0, 1, 1024)
        lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
        curve = b"curv" + bytes(4) + struct.pack(">I", 1024) + np.round(lin * 65535).astype(">u2").tobytes()
    else:
        curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    text = name.encode() + b"\0"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4) + bytes(4) + bytes(2) + bytes(1) + bytes(67)
    tags = [(b"desc", desc), (b"wtpt", xyz_tag(d50)), (b"rXYZ", xyz_tag(cols[0])), (b"gXYZ", xyz_tag(cols[1])),
            (b"bXYZ", xyz_tag(cols[2])), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
            (b"cprt", b"text" + bytes(4) + b"CC0\0")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = [], b""
    for sig, body in tags:
        while (offset + len(data)) % 4:
            data += b"\0"
        table.append(sig + struct.pack(">II", offset + len(data), len(body)))
        data += body
    while len(data) % 4:
        data += b"\0"
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ " + bytes(12) + b"acsp"
              + bytes(24) + struct.pack(">I", 0) + b"".join(s15(v) for v in d50) + bytes(4) + bytes(16) + bytes(28))
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + b"".join(table) + data

