"""Image files: reading and writing stills, EXR and Radiance HDR (the one reader training and conversion share).

Readers return (H, W, 3) float32: code values in [0, 1] for 8/16-bit images, relative linear BT.709 light
(1.0 = SDR reference white) for EXR/HDR. Writers take relative linear light.
"""

from __future__ import annotations

import logging
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np

from hdrvid.color import REFERENCE_WHITE_NITS
from hdrvid.color.gamut import BT709, BT2020, convert_primaries
from hdrvid.errors import InputError, OutputError
from hdrvid.io.atomic import write_bytes_atomic
from hdrvid.io.probe import IMAGE_SUFFIXES
from hdrvid.lazy import LazyModule, cv2

log = logging.getLogger("hdrvid")
OpenEXR: Any = LazyModule("OpenEXR")

HDR_SUFFIXES = (".exr", ".hdr")
MAX_PIXELS = 7680 * 4320
"""Default picture-size limit (8K UHD): a small file can declare a huge picture."""


def check_pixels(path: Path, width: int, height: int, max_pixels: int = MAX_PIXELS) -> None:
    """One-line refusal of a picture too large (a decompression bomb) or too small to convert, from its
    declared size, before anything is decoded."""
    if width * height > max_pixels:
        raise InputError(f"{path}: {width}x{height} is {width * height / 1e6:.0f} megapixels, above the "
                         f"{max_pixels / 1e6:.0f}-megapixel limit; pass --max-pixels {width * height} if you mean it")
    if width < 2 or height < 2:
        raise InputError(f"{path}: {width}x{height} is too small to convert (at least 2x2 pixels)")


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG, JPEG or BMP header without decoding the picture; None for other formats."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
            if head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
                return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
            if head[:2] == b"BM" and len(head) >= 26:
                return int.from_bytes(head[18:22], "little", signed=True), abs(int.from_bytes(head[22:26], "little", signed=True))
            if head[:2] == b"\xff\xd8":
                f.seek(2)
                while True:
                    marker = f.read(2)
                    if len(marker) < 2 or marker[0] != 0xFF:
                        return None
                    if marker[1] in (0xD8, 0x01) or 0xD0 <= marker[1] <= 0xD7:
                        continue
                    size = int.from_bytes(f.read(2), "big")
                    if 0xC0 <= marker[1] <= 0xCF and marker[1] not in (0xC4, 0xC8, 0xCC):
                        seg = f.read(5)
                        return int.from_bytes(seg[3:5], "big"), int.from_bytes(seg[1:3], "big")
                    f.seek(size - 2, 1)
    except OSError:
        return None
    return None


def list_images(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."))
        if not files:
            raise InputError(f"{path}: folder has no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return files
    return [path]


def read_exr(path: Path, reference_white: float = REFERENCE_WHITE_NITS) -> np.ndarray:
    """OpenEXR -> relative linear BT.709 (H, W, 3) float32. ``whiteLuminance`` (nits of RGB 1,1,1) and
    ``chromaticities`` are honoured when present; otherwise 1.0 is taken as reference white, BT.709."""
    try:
        f = OpenEXR.File(str(path))
    except Exception:  # the bindings raise RuntimeError for unreadable files
        raise InputError(f"{path}: not a readable OpenEXR file (truncated or invalid)") from None
    header, ch = f.header(), f.channels()
    if "RGB" in ch or "RGBA" in ch:
        img = ch["RGB" if "RGB" in ch else "RGBA"].pixels
    elif all(k in ch for k in ("R", "G", "B")):
        img = np.stack([ch[k].pixels for k in ("R", "G", "B")], -1)
    elif "Y" in ch:
        img = np.repeat(ch["Y"].pixels[..., None], 3, -1)
    else:
        raise InputError(f"{path}: EXR has no RGB or Y channels (found {', '.join(ch)})")
    img = np.nan_to_num(img[..., :3].astype(np.float32), nan=0.0, posinf=65504.0)
    white = header.get("whiteLuminance")
    if white:
        img *= np.float32(float(white) / reference_white)
    chroma = header.get("chromaticities")
    if chroma is not None and abs(chroma[0] - BT2020.red[0]) < 1e-3 and abs(chroma[3] - BT2020.green[1]) < 1e-3:
        img = convert_primaries(img, BT2020, BT709).astype(np.float32)
    return img


TRANSPARENCY_WARNING = ("%s: has transparency (an alpha channel) and the output holds none: transparent areas "
                        "show the colour stored under them (often black); composite it over a background first")
"""Said (once per input) when a picture or a video's first frame is not fully opaque: every output drops alpha."""


def _transparent(path: Path) -> bool:
    """Whether a picture has an alpha channel (or a transparent palette entry) that is not fully opaque. OpenCV
    drops alpha as it reads; Pillow looks (it decodes only pictures that have alpha)."""
    try:
        from PIL import Image

        with Image.open(path) as im:
            if im.mode == "P" and "transparency" in im.info:
                im = im.convert("RGBA")
            if "A" not in im.getbands():
                return False
            lowest = im.getchannel("A").getextrema()[0]
            return bool(lowest < (65535 if im.mode.startswith("I") else 255))
    except Exception:  # a file OpenCV reads and Pillow cannot: no warning
        return False


def read_image(path: Path, max_pixels: int = MAX_PIXELS) -> tuple[np.ndarray, int, bool]:
    """Image file -> (signal (H,W,3) float32 in [0,1], or linear float for EXR/HDR, bit depth, is_float)."""
    if not path.exists():
        raise InputError(f"{path}: no such file; check the path")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes)")
    size = image_size(path)
    if size is not None:
        check_pixels(path, size[0], size[1], max_pixels)
    if path.suffix.lower() == ".exr":
        return read_exr(path), 16, True
    # any depth and colour layout, turned as the EXIF orientation says (IMREAD_UNCHANGED ignores it: a phone's
    # portrait photo, stored sideways with Orientation 6, came out sideways)
    img = cv2.imread(str(path), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR)
    if img is None:
        raise InputError(f"{path}: not a readable image (truncated or unsupported format)")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.shape[2] == 4:
        img = img[:, :, :3]
    if path.suffix.lower() in (".png", ".webp", ".tif", ".tiff") and _transparent(path):
        log.warning(TRANSPARENCY_WARNING, path)
    img = img[:, :, ::-1]  # BGR -> RGB
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0, 8, False
    if img.dtype == np.uint16:
        return img.astype(np.float32) / 65535.0, 16, False
    return np.ascontiguousarray(img.astype(np.float32)), 32, True


def read_hdr(path: Path) -> np.ndarray:
    """.exr (OpenEXR bindings; chromaticities and whiteLuminance honoured) or .hdr (Radiance, OpenCV) ->
    (H, W, 3) float32 linear, negatives (DWAB compression leaves a few) clipped."""
    suffix = path.suffix.lower()
    if suffix == ".exr":
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


def write_exr(path: Path, rgb: np.ndarray) -> None:
    """Half-float linear OpenEXR with BT.709 chromaticities and whiteLuminance = 203 nits."""
    p = BT709
    header = {
        "compression": OpenEXR.ZIP_COMPRESSION,
        "type": OpenEXR.scanlineimage,
        "chromaticities": (*p.red, *p.green, *p.blue, *p.white),
        "whiteLuminance": REFERENCE_WHITE_NITS,
    }
    try:
        OpenEXR.File(header, {"RGB": np.ascontiguousarray(rgb.astype(np.float16))}).write(str(path))
    except Exception as e:  # the bindings raise plain RuntimeError/OSError
        raise OutputError(f"{path}: cannot write EXR ({e})") from None


def write_hdr(path: Path, rgb: np.ndarray) -> None:
    """Radiance RGBE (.hdr), linear relative light."""
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1].astype(np.float32))):
        raise OutputError(f"{path}: cannot write Radiance HDR")


def write_png(path: Path, bgr: np.ndarray) -> None:
    """An 8-bit BGR (OpenCV order) picture as PNG, written atomically (previews, contact sheets, plots)."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise OutputError(f"{path}: cannot encode the picture as PNG")
    write_bytes_atomic(Path(path), buf.tobytes())


def read_exif_exposure(path: Path) -> float | None:
    """log2 of the exposure a picture recorded (time x ISO / f-number^2) from its EXIF block, or None.

    Reads ExposureTime (0x829A), FNumber (0x829D) and ISO (0x8827) from a JPEG's APP1 "Exif" segment or a
    TIFF's header. Only the ratio between brackets matters, so the f-number and ISO default to 1 if absent."""
    try:
        data = Path(path).read_bytes()[: 1 << 20]
    except OSError:
        return None
    if data[:2] == b"\xff\xd8":
        i = data.find(b"Exif\x00\x00")
        if i < 0:
            return None
        tiff = data[i + 6:]
    elif data[:4] in (b"II*\x00", b"MM\x00*"):
        tiff = data
    else:
        return None
    end = "<" if tiff[:2] == b"II" else ">"
    def u16(o: int) -> int:
        return struct.unpack_from(end + "H", tiff, o)[0]

    def u32(o: int) -> int:
        return struct.unpack_from(end + "I", tiff, o)[0]

    def ifd(offset: int) -> dict[int, tuple[int, int, int]]:
        out = {}
        try:
            for k in range(u16(offset)):
                e = offset + 2 + 12 * k
                out[u16(e)] = (u16(e + 2), u32(e + 4), e + 8)
        except struct.error:
            pass
        return out

    def value(entry: tuple[int, int, int]) -> float | None:
        typ, count, at = entry
        try:
            if typ == 5:  # RATIONAL
                num, den = u32(u32(at)), u32(u32(at) + 4)
                return num / den if den else None
            if typ == 3:  # SHORT
                return float(u16(at))
            if typ == 4:  # LONG
                return float(u32(at))
        except struct.error:
            return None
        return None

    try:
        tags = ifd(u32(4))
        if 0x8769 in tags:
            tags = {**tags, **ifd(int(value(tags[0x8769]) or 0))}
    except struct.error:
        return None
    t = value(tags[0x829A]) if 0x829A in tags else None
    if not t or t <= 0:
        return None
    f = (value(tags[0x829D]) if 0x829D in tags else None) or 1.0
    iso = (value(tags[0x8827]) if 0x8827 in tags else None) or 1.0
    return math.log2(t * iso / (f * f))
