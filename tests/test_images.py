"""Still images and EXR sequences: linear half-float output with the chromaticities attribute."""

import io
import shutil
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import OpenEXR
import pytest
from conftest import run_cli
from media import _encode_all, ffprobe, icc_profile, make_clip, needs_ffprobe, pattern

from hdrvid.color.transfer import srgb_eotf
from hdrvid.io.images import write_exr
from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.pipeline.decoder import VideoDecoder


def read_exr(path: Path) -> tuple[dict, np.ndarray]:
    f = OpenEXR.File(str(path))
    return f.header(), f.channels()["RGB"].pixels


def test_png_8bit_to_exr_is_exact_srgb_linearisation(tmp_path: Path):
    img = pattern(0, 40, 30)
    cv2.imwrite(str(tmp_path / "photo.png"), img[:, :, ::-1])
    r = run_cli("convert", tmp_path / "photo.png", tmp_path / "photo.exr", "--model", "none")
    assert r.exit_code == 0, r.output
    header, px = read_exr(tmp_path / "photo.exr")
    assert px.dtype == np.float16 and px.shape == (30, 40, 3)
    np.testing.assert_allclose(header["chromaticities"], (0.64, 0.33, 0.30, 0.60, 0.15, 0.06, 0.3127, 0.3290), atol=1e-6)
    assert header["whiteLuminance"] == pytest.approx(203.0)
    np.testing.assert_allclose(px.astype(np.float32), srgb_eotf(img / 255.0), rtol=2e-3, atol=1e-4)


P3 = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
ADOBE = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
@pytest.mark.parametrize("space,primaries,gamma", [("Display P3", P3, None), ("Adobe RGB (1998)", ADOBE, 2.2)])
def test_a_photos_icc_profile_is_honoured(tmp_path: Path, suffix: str, space: str, primaries, gamma):
    """A photo tagged Display P3 (phones) or Adobe RGB (cameras, editors) by its embedded ICC profile is decoded
    from that space (it was read as sRGB: saturated colours came out duller than shot): the EXR's light is
    colour-science's conversion of the same codes to linear BT.709. (The test profile itself is checked
    against littleCMS: it takes these codes to the sRGB codes colour-science computes, within a code.)"""
    import colour
    from PIL import Image, ImageCms

    icc = icc_profile(primaries, gamma, name=f"{space} (test)")
    img = np.zeros((24, 32, 3), np.uint8)
    img[:, :16] = (200, 60, 40)  # a saturated red-orange
    img[:, 16:] = (60, 180, 90)  # a saturated green
    Image.fromarray(img).save(tmp_path / f"p{suffix}", icc_profile=icc, **({"quality": 100} if suffix == ".jpg" else {}))
    stored = np.asarray(Image.open(tmp_path / f"p{suffix}").convert("RGB"))
    cs = colour.RGB_COLOURSPACES[space]
    srgb = colour.RGB_to_RGB(stored[4, 4] / 255, cs, colour.RGB_COLOURSPACES["sRGB"], apply_cctf_decoding=True,
                             apply_cctf_encoding=True) * 255
    lcms = np.asarray(ImageCms.profileToProfile(Image.fromarray(stored), ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                                                ImageCms.createProfile("sRGB")))
    assert np.abs(lcms[4, 4] - srgb).max() <= 1.5, (lcms[4, 4], srgb)
    r = run_cli("convert", tmp_path / f"p{suffix}", tmp_path / "p.exr", "--model", "none")
    assert r.exit_code == 0, r.output
    px = read_exr(tmp_path / "p.exr")[1].astype(np.float32)
    want = colour.RGB_to_RGB(stored / 255, cs, colour.RGB_COLOURSPACES["ITU-R BT.709"], apply_cctf_decoding=True)
    np.testing.assert_allclose(px[4, 4], want[4, 4], rtol=5e-3, atol=2e-3)
    np.testing.assert_allclose(px[4, 24], want[4, 24], rtol=5e-3, atol=2e-3)
    as_srgb = srgb_eotf(stored[4, 4] / 255)
    assert np.abs(px[4, 4] - as_srgb).max() > 0.03  # not what reading it as sRGB gives


def test_a_photo_with_a_profile_hdrvid_does_not_convert_is_read_as_srgb_and_said(tmp_path: Path):
    from PIL import Image

    prophoto_d65 = ((0.7347, 0.2653), (0.1596, 0.8404), (0.0366, 0.0001))
    img = np.full((16, 16, 3), (200, 60, 40), np.uint8)
    Image.fromarray(img).save(tmp_path / "p.png", icc_profile=icc_profile(prophoto_d65, 1.8, name="Wide"))
    Image.fromarray(img).save(tmp_path / "q.png", icc_profile=b"not a profile")
    said = []
    for name in ("p", "q"):
        r = run_cli("convert", tmp_path / f"{name}.png", tmp_path / f"{name}.exr", "--model", "none")
        assert r.exit_code == 0, r.output
        np.testing.assert_allclose(read_exr(tmp_path / f"{name}.exr")[1][4, 4].astype(np.float32),
                                   srgb_eotf(img[4, 4] / 255.0), rtol=2e-3, atol=1e-4)
        said.append(r.output)
    assert "ICC profile 'Wide' (primaries (0.735, 0.265)" in said[0] and "read as sRGB" in said[0], said[0]


def test_tiff_16bit_keeps_precision_and_itmo_expands_only_highlights(tmp_path: Path):
    ramp = np.linspace(0, 65535, 256).astype(np.uint16)
    img = np.stack([np.tile(ramp, (8, 1))] * 3, -1)
    cv2.imwrite(str(tmp_path / "ramp.tif"), img)
    convert(ConvertOptions(tmp_path / "ramp.tif", tmp_path / "ramp.exr", model="itmo"))
    _, px = read_exr(tmp_path / "ramp.exr")
    row = px[4, :, 1].astype(np.float32)
    lin = srgb_eotf(ramp / 65535.0)
    np.testing.assert_allclose(row[:100], lin[:100], rtol=2e-3, atol=1e-5)  # dark and mid: exact linearisation
    assert row[-1] > 4 and np.all(np.diff(row) >= -1e-3)  # highlights expanded, monotonic


def test_hdr_output_and_folder_in_folder_out(tmp_path: Path):
    src = tmp_path / "in"
    src.mkdir()
    for i, name in enumerate(["a", "b", "c"]):
        cv2.imwrite(str(src / f"{name}.jpg"), pattern(i, 32 + 8 * i, 24)[:, :, ::-1])
    out = tmp_path / "out"
    r = run_cli("convert", src, out)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["a.exr", "b.exr", "c.exr"]
    assert read_exr(out / "c.exr")[1].shape == (24, 48, 3)  # sizes differ per file
    r = run_cli("convert", src / "a.jpg", tmp_path / "a.hdr")
    assert r.exit_code == 0, r.output
    hdr = cv2.imread(str(tmp_path / "a.hdr"), cv2.IMREAD_UNCHANGED)
    assert hdr.dtype == np.float32 and hdr.max() > 1.5


def test_video_to_exr_sequence_pattern_and_start_number(tmp_path: Path):
    src = make_clip(tmp_path / "in.mp4", frames=5, size=(48, 32))
    r = run_cli("convert", src, tmp_path / "seq" / "f_%04d.exr", "--start-number", "10", "--model", "none")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == [f"f_{i:04d}.exr" for i in range(10, 15)]
    dec = VideoDecoder(src)
    first = next(iter(dec)).data.permute(1, 2, 0).numpy()
    dec.close()
    np.testing.assert_allclose(read_exr(tmp_path / "seq" / "f_0010.exr")[1].astype(np.float32), first, rtol=2e-3,
                               atol=1e-4)
    r = run_cli("convert", src, tmp_path / "frames")  # a folder: numbered from 0
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == [f"{i:05d}.exr" for i in range(5)]
    r = run_cli("convert", src, tmp_path / "frames")  # again: refused without --overwrite
    assert r.exit_code == 3


def test_exr_frames_are_rotated_to_display_orientation(tmp_path: Path):
    src = make_clip(tmp_path / "rot.mp4", frames=2, size=(48, 32), rotation=90)
    convert(ConvertOptions(src, tmp_path / "seq"))
    assert read_exr(tmp_path / "seq" / "00000.exr")[1].shape == (48, 32, 3)


def test_image_to_video_name_is_refused(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "p.png"), pattern(0, 16, 16))
    r = run_cli("convert", tmp_path / "p.png", tmp_path / "p.mp4")
    assert r.exit_code == 3 and ".exr, .hdr or .avif" in r.output


@needs_ffprobe
@pytest.mark.parametrize("fmt,trc", [("hdr10", "smpte2084"), ("hlg", "arib-std-b67")])
def test_a_photo_becomes_an_hdr_avif_still(tmp_path: Path, fmt: str, trc: str):
    """A still to .avif: one 10-bit BT.2020 AV1 picture, PQ (with HDR10's mastering display and light levels in
    the bitstream) or HLG, read back by ffprobe, PyAV and (where installed) libavif's avifdec; its picture is the
    one the video path makes of the same photo (a one-image folder to lossless FFV1), up to the codec."""
    img = pattern(0, 64, 48)
    cv2.imwrite(str(tmp_path / "photo.png"), img[:, :, ::-1])
    r = run_cli("convert", tmp_path / "photo.png", tmp_path / "photo.avif", "--model", "none", "--format", fmt)
    assert r.exit_code == 0, r.output
    s = ffprobe(tmp_path / "photo.avif", "-show_streams")["streams"][0]
    assert (s["codec_name"], s["pix_fmt"], s["width"], s["height"]) == ("av1", "yuv420p10le", 64, 48)
    assert (s["color_primaries"], s["color_transfer"], s["color_space"]) == ("bt2020", trc, "bt2020nc")
    frames = ffprobe(tmp_path / "photo.avif", "-show_frames")["frames"]
    kinds = {d["side_data_type"]: d for d in frames[0].get("side_data_list", [])}
    if fmt == "hdr10":
        assert int(kinds["Content light level metadata"]["max_content"]) > 0
        assert "Mastering display metadata" in kinds
    if shutil.which("avifdec"):
        info = subprocess.run(["avifdec", "--info", str(tmp_path / "photo.avif")], capture_output=True, text=True)
        assert "Bit Depth      : 10" in info.stdout and "Color Primaries: 9" in info.stdout
        assert f"Transfer Char. : {16 if fmt == 'hdr10' else 18}" in info.stdout
    (tmp_path / "one").mkdir()
    cv2.imwrite(str(tmp_path / "one" / "photo.png"), img[:, :, ::-1])
    r = run_cli("convert", tmp_path / "one", tmp_path / "ref.mkv", "--model", "none", "--format", fmt,
                "--codec", "ffv1")
    assert r.exit_code == 0, r.output

    def luma(path: Path) -> np.ndarray:
        with av.open(str(path)) as c:
            f = next(c.decode(video=0))
            return f.to_ndarray(format="yuv420p10le")[:f.height].astype(np.float32)

    a, ref = luma(tmp_path / "photo.avif"), luma(tmp_path / "ref.mkv")
    assert ref.std() > 50  # a real picture, not a flat one
    assert np.abs(a - ref).mean() < 4


@pytest.mark.parametrize("args,says", [
    (["--format", "sdr"], "HDR10 (PQ) or HLG"),
    (["--codec", "libx265"], "AVIF still is AV1"),
])
def test_an_avif_still_refuses_what_it_cannot_hold(tmp_path: Path, args: list[str], says: str):
    cv2.imwrite(str(tmp_path / "p.png"), pattern(0, 32, 32))
    r = run_cli("convert", tmp_path / "p.png", tmp_path / "p.avif", *args)
    assert r.exit_code == 3 and says in r.output and not (tmp_path / "p.avif").exists()


@pytest.mark.parametrize("out,args,says", [
    ("p.exr", ["--format", "hdr10"], "drop --format hdr10 or name the output .avif"),
    ("p.exr", ["--format", "hdr"], "drop --format hdr"),
    ("p.hdr", ["--format", "exr"], "drop --format exr"),
    ("folder", ["--format", "sdr"], "give a .mp4 name for a video"),
    ("f_%03d.exr", [], "a still image gives one file"),
])
def test_a_format_the_still_output_cannot_hold_is_refused(tmp_path: Path, out: str, args: list[str], says: str):
    """These were internal errors (a Radiance writer given a .exr name, an HDR10 frame given to the EXR writer)
    or a file named like a pattern."""
    (tmp_path / "photos").mkdir()
    cv2.imwrite(str(tmp_path / "photos" / "p.png"), pattern(0, 32, 32))
    src = tmp_path / "photos" if out == "folder" else tmp_path / "photos" / "p.png"
    r = run_cli("convert", src, tmp_path / out, "--model", "none", *args)
    assert r.exit_code == 3 and says in r.output and not (tmp_path / out).exists(), r.output


@needs_ffprobe
@pytest.mark.parametrize("fmt,trc", [("hdr10", "smpte2084"), ("hlg", "arib-std-b67")])
def test_a_folder_of_photos_becomes_a_folder_of_avif_stills(tmp_path: Path, fmt: str, trc: str):
    """One HDR AVIF per photo, named by its stem, each its own picture and size; an existing folder is
    replaced only with --overwrite, and only the stills the run writes."""
    (tmp_path / "photos").mkdir()
    cv2.imwrite(str(tmp_path / "photos" / "a.jpg"), pattern(0, 64, 48))
    cv2.imwrite(str(tmp_path / "photos" / "b.png"), pattern(1, 96, 32))
    out = tmp_path / "hdr"
    r = run_cli("convert", tmp_path / "photos", out, "--model", "none", "--format", fmt)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == ["a.avif", "b.avif"] and "2 frames" in r.output
    for name, (w, h) in (("a.avif", (64, 48)), ("b.avif", (96, 32))):
        s = ffprobe(out / name, "-show_streams")["streams"][0]
        assert (s["codec_name"], s["width"], s["height"], s["color_transfer"]) == ("av1", w, h, trc)
    (out / "keep.txt").write_text("mine")
    r = run_cli("convert", tmp_path / "photos", out, "--model", "none", "--format", fmt)
    assert r.exit_code != 0 and "--overwrite" in r.output
    r = run_cli("convert", tmp_path / "photos", out, "--model", "none", "--format", fmt, "--overwrite")
    assert r.exit_code == 0 and sorted(p.name for p in out.iterdir()) == ["a.avif", "b.avif", "keep.txt"]


@pytest.mark.parametrize("clash,says,code", [("a.png", "would both be a.avif", 3), ("c.exr", "is already HDR", 2)])
def test_a_folder_of_photos_to_avif_refuses_before_writing(tmp_path: Path, clash: str, says: str, code: int):
    (tmp_path / "photos").mkdir()
    cv2.imwrite(str(tmp_path / "photos" / "a.jpg"), pattern(0, 32, 32))
    if clash.endswith(".exr"):
        write_exr(tmp_path / "photos" / clash, np.full((32, 32, 3), 2.0, np.float32))
    else:
        cv2.imwrite(str(tmp_path / "photos" / clash), pattern(1, 32, 32))
    r = run_cli("convert", tmp_path / "photos", tmp_path / "hdr", "--format", "hdr10")
    assert r.exit_code == code and says in r.output and not (tmp_path / "hdr").exists(), r.output


def test_a_folder_into_one_avif_is_refused(tmp_path: Path):
    (tmp_path / "photos").mkdir()
    cv2.imwrite(str(tmp_path / "photos" / "p.png"), pattern(0, 32, 32))
    r = run_cli("convert", tmp_path / "photos", tmp_path / "p.avif")
    assert r.exit_code == 3 and "give a folder name" in r.output and not (tmp_path / "p.avif").exists()


def test_a_photo_too_small_for_avif_names_the_still_fix(tmp_path: Path):
    cv2.imwrite(str(tmp_path / "p.png"), pattern(0, 10, 10))
    r = run_cli("convert", tmp_path / "p.png", tmp_path / "p.avif", "--model", "none")
    assert r.exit_code == 3 and "too small" in r.output and "an .exr name" in r.output, r.output
    assert not (tmp_path / "p.avif").exists()


def test_a_video_into_avif_is_refused(tmp_path: Path):
    src = make_clip(tmp_path / "v.mp4", frames=2, size=(32, 32))
    r = run_cli("convert", src, tmp_path / "v.avif")
    assert r.exit_code == 3 and ".avif takes a still picture" in r.output and not (tmp_path / "v.avif").exists()


def test_a_photo_is_turned_as_its_exif_orientation_says(tmp_path: Path):
    """Phones store portrait photos sideways with EXIF Orientation 6 ("turn 90 degrees clockwise to show"):
    the HDR output is upright (it came out sideways: the reader ignored the tag)."""
    import struct

    img = np.zeros((40, 60, 3), np.uint8)
    img[:10, :10] = (255, 0, 0)  # red at the stored picture's top left
    ok, buf = cv2.imencode(".jpg", img[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])
    tiff = (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 1) + struct.pack("<HHII", 0x0112, 3, 1, 6)
            + struct.pack("<I", 0))  # one IFD entry: Orientation (SHORT) = 6
    app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\x00\x00" + tiff
    jpg = tmp_path / "portrait.jpg"
    jpg.write_bytes(buf.tobytes()[:2] + app1 + buf.tobytes()[2:])
    r = run_cli("convert", jpg, tmp_path / "portrait.exr", "--model", "none")
    assert r.exit_code == 0, r.output
    _, px = read_exr(tmp_path / "portrait.exr")
    assert px.shape == (60, 40, 3)  # upright: taller than wide
    red = np.argwhere(px[:, :, 0].astype(np.float32) > 0.5 * px[:, :, 0].max())
    assert red[:, 0].max() < 15 and red[:, 1].min() > 25  # the corner turned to the top right


def test_transparency_that_the_output_cannot_hold_is_said(tmp_path: Path):
    """Alpha is dropped (HDR10, HLG and EXR outputs here hold colour only): a picture or a clip (a QuickTime PNG
    movie, as motion-graphics tools export) with transparent pixels gets a warning; a fully opaque alpha
    channel (screenshots) none."""
    rgba = np.zeros((32, 48, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = 120, 255
    cv2.imwrite(str(tmp_path / "opaque.png"), rgba)
    rgba[:8, :, 3] = 0
    cv2.imwrite(str(tmp_path / "cutout.png"), rgba)
    with av.open(str(tmp_path / "cutout.mov"), "w") as out:
        s = out.add_stream("png", rate=8)
        s.width, s.height, s.pix_fmt = 64, 48, "rgba"
        px = np.full((48, 64, 4), 120, np.uint8)
        px[..., 3] = 255
        px[:, :16, 3] = 0
        _encode_all(out, s, (av.VideoFrame.from_ndarray(px, format="rgba") for _ in range(3)))
    for src, out, warned in (("opaque.png", "o.exr", False), ("cutout.png", "c.exr", True),
                             ("cutout.mov", "c.mkv", True)):
        args = ["--codec", "ffv1"] if out.endswith(".mkv") else []
        r = run_cli("convert", tmp_path / src, tmp_path / out, "--model", "none", *args)
        assert r.exit_code == 0, r.output
        assert (r.output.count("has transparency") == 1) == warned, (src, r.output)
