"""The fused plain transcode (``convert --model none`` -> HDR10 without torch) against the reference path."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from media import ffprobe, make_clip, make_still_clip, needs_ffprobe

from hdrvid.color import fused, kernels, packed
from hdrvid.color.transfer import pq_eotf, pq_inverse_eotf
from hdrvid.pipeline.decoder import VideoDecoder
from hdrvid.pipeline.output import OutputSpec, OutputTransform, to_yuv420
from hdrvid.pipeline.transcode import FusedHdr10, fused_applies

WHITE = 203.0 * 1.96  # --level bt2446a, the default


def test_pq_table_is_within_a_thousandth_of_a_code_of_colour_science() -> None:
    colour = pytest.importorskip("colour")
    nits = np.concatenate([[0.0], np.geomspace(1e-6, 10_000, 20_000)]).astype(np.float32)
    ours = fused.pq_encode(nits).astype(np.float64)
    ref = colour.models.eotf_inverse_ST2084(nits.astype(np.float64))
    assert np.abs(ours - ref).max() * 1023 < 1e-3
    assert fused.pq_encode(np.array([-1.0, 20_000.0], np.float32)).tolist() == pytest.approx([ref[0], 1.0])
    back = packed.pq_decode(ref.astype(np.float32)[None])[0]
    assert np.allclose(back, nits, rtol=2e-3, atol=1e-4)


def _ramp() -> np.ndarray:
    """Every 8-bit code on each channel, greys, the primaries and secondaries at full and half drive, and
    saturated colours right beside white (where the luma adjustment under the peak works): (H, W, 3) uint8."""
    x = np.arange(256, dtype=np.uint8)
    rows = [np.stack([x, x, x], -1)]
    for c in np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]], np.uint8):
        rows.append(x[:, None] * c)
        rows.append(np.where(c, 255, x[:, None]).astype(np.uint8))
    img = np.repeat(np.stack(rows), 6, axis=0)  # (78, 256, 3)
    img[10:30, 100:140] = (255, 255, 255)
    img[10:30, 140:150] = (0, 0, 255)
    return np.ascontiguousarray(img[:, :255])  # odd width: the padded column too


def _reference_planes(codes: np.ndarray, spec: OutputSpec) -> list[np.ndarray]:
    from hdrvid.pipeline.decoder import linearise_codes, transfer_lut
    from hdrvid.pipeline.frame import Frame

    lin = linearise_codes(codes, transfer_lut("bt709", 8), "bt709", "bt709")
    frame = Frame(index=0, pts=0, time_base=None, data=torch.from_numpy(np.ascontiguousarray(lin)))
    out = next(iter(OutputTransform(spec, compiled=False).process(frame)))
    assert out.planes is not None
    return out.planes


def _fused_planes(codes: np.ndarray, spec: OutputSpec) -> tuple[list[np.ndarray], FusedHdr10]:
    from hdrvid.pipeline.frame import Frame

    stage = FusedHdr10(spec, "bt709", "bt709")
    frame = Frame(index=0, pts=0, time_base=None, data=None, codes=codes)  # type: ignore[arg-type]
    out = next(iter(stage.process(frame)))
    assert out.planes is not None and out.codes is None
    assert out.stats.max_nits is not None and out.stats.average_nits is not None
    return out.planes, stage


def _assert_within_one_code(ours: list[np.ndarray], ref: list[np.ndarray], dtype: type = np.uint16) -> None:
    for name, a, b in zip("Y'CbCr", ours, ref):
        assert a.shape == b.shape and a.dtype == b.dtype == dtype, name
        diff = np.abs(a.astype(np.int32) - b.astype(np.int32))
        assert diff.max() <= 1, f"{name}: {diff.max()} code values apart"
        assert (diff > 0).mean() < 0.01, f"{name}: {(diff > 0).mean():.2%} of samples differ"


@pytest.mark.parametrize("peak", [1000.0, 400.0])
def test_fused_transcode_is_the_reference_path_within_one_code_on_a_ramp(peak: float) -> None:
    spec = OutputSpec("hdr10", peak, WHITE)  # 400 nits: white just under the peak, the ceiling binds
    ramp = _ramp()
    ours, stage = _fused_planes(ramp, spec)
    ref = _reference_planes(ramp, spec)
    _assert_within_one_code(ours, ref)
    flat = packed.planes_buffer(ours)  # one buffer in PyAV's yuv420p10le layout: the encoder takes it as it is
    assert flat is not None and flat.shape == (78 * 3 // 2, 256)
    assert np.array_equal(flat, np.concatenate([p.ravel() for p in ours]).reshape(flat.shape))
    assert packed.planes_buffer(ref) is None
    assert stage.above_white_share() == 0.0


def _demo_frame_codes(tmp_path: Path) -> np.ndarray:
    """The decoder's R'G'B' codes of the first frame of the demo scene (320x180)."""
    from hdrvid.jobs.demo import write_demo_input

    clip = tmp_path / "room.mp4"
    write_demo_input(clip, frames=2, size=(320, 180), fps=24)
    dec = VideoDecoder(clip)
    dec.raw = True
    codes = next(iter(dec)).codes
    dec.close()
    assert codes is not None and codes.std() > 20  # a picture, not a flat field
    return codes


def test_fused_transcode_is_the_reference_path_within_one_code_on_a_real_frame(tmp_path: Path) -> None:
    codes = _demo_frame_codes(tmp_path)
    spec = OutputSpec("hdr10", 1000.0, WHITE)
    ours, _ = _fused_planes(codes, spec)
    _assert_within_one_code(ours, _reference_planes(codes, spec))


def test_fused_frame_statistics_are_the_reference_decoded_maximum() -> None:
    """MaxCLL/MaxFALL of a frame before encoding (the fallback when the codec cannot be decoded again): the
    reference path's decoded max(R,G,B) at the even pixels."""
    from hdrvid.pipeline.decoder import linearise_codes, transfer_lut
    from hdrvid.pipeline.frame import Frame

    ramp = _ramp()
    spec = OutputSpec("hdr10", 1000.0, WHITE)
    lut = (transfer_lut("bt709", 8).astype(np.float64) * WHITE).astype(np.float32)
    _, peak, mean = fused.hdr10_planes(ramp, lut, float(pq_inverse_eotf(1000.0)))
    lin = linearise_codes(ramp, transfer_lut("bt709", 8), "bt709", "bt709")
    ref = torch.from_numpy(np.ascontiguousarray(lin))
    light = OutputTransform(spec)._absolute_bt2020(Frame(index=0, pts=0, time_base=None, data=ref))
    _, decoded = to_yuv420(pq_inverse_eotf(light), "bt2020nc", 10, ceiling=float(pq_inverse_eotf(1000.0)))
    assert decoded is not None
    even = decoded.numpy()[::2, ::2]
    assert peak == pytest.approx(float(even.max()), abs=1.5 / 876)
    nits = np.asarray(pq_eotf(even.astype(np.float64)))
    assert mean == pytest.approx(float(nits.mean()), rel=0.01)


def test_fused_transcode_covers_only_what_it_reproduces() -> None:
    assert fused_applies(OutputSpec("hdr10", 1000.0, WHITE), "bt709", "bt709")
    assert fused_applies(OutputSpec("hdr10", 1000.0, WHITE), "srgb", "bt709")  # (untagged video is BT.709)
    assert not fused_applies(OutputSpec("hdr10", 300.0, WHITE), "bt709", "bt709")  # white above the peak: roll-off
    assert not fused_applies(OutputSpec("hdr10", 1000.0, WHITE), "pq", "bt709")
    assert not fused_applies(OutputSpec("hlg", 1000.0, WHITE), "bt709", "bt709")
    assert not fused_applies(OutputSpec("hdr10", 1000.0, WHITE), "bt709", "bt2020")  # clipped to BT.709 there
    assert not fused_applies(OutputSpec("hdr10", 1000.0, WHITE), "bt709", "smpte170m")  # converted to BT.709
    assert not fused_applies(OutputSpec("hdr10", 1000.0, WHITE, measure_flicker=True), "bt709", "bt709")
    with pytest.raises(ValueError):
        FusedHdr10(OutputSpec("hdr10", 1000.0, WHITE), "hlg", "bt709")


def _run_without_torch(args: list, tmp_path: Path, blocked: tuple[str, ...] = ("torch",)) -> dict:
    """``hdrvid -q ARGS --report`` in a fresh process where importing torch (and ``blocked``) fails; returns
    the report."""
    report = tmp_path / "report.json"
    words = [str(a) for a in args] + ["--report", str(report)]
    block = "; ".join(f"sys.modules[{m!r}] = None" for m in blocked)
    code = f"import sys; {block}; from hdrvid.cli import main; main(['-q', *{words!r}])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(report.read_text())


@needs_ffprobe
def test_plain_transcode_runs_without_torch(tmp_path: Path) -> None:
    """`convert --model none` in a process where importing torch fails: HDR10 out, the fused engine named."""
    src = make_clip(tmp_path / "in.mp4", frames=8, size=(96, 64), audio=True)
    out = tmp_path / "out.mp4"
    rep = _run_without_torch(["convert", src, out, "--model", "none"], tmp_path)
    assert rep["engine"].startswith("fused") and rep["frames"] == 8 and rep["max_cll"] > 0
    v = ffprobe(out, "-show_streams")["streams"]
    video = next(s for s in v if s["codec_type"] == "video")
    assert (video["pix_fmt"], video["color_transfer"], video["color_primaries"]) == (
        "yuv420p10le", "smpte2084", "bt2020")
    assert any(s["codec_type"] == "audio" for s in v)


@needs_ffprobe
@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
def test_plain_transcode_runs_without_numba_on_the_c_kernels(tmp_path: Path) -> None:
    """With the C kernels built, `convert --model none` to HDR10 imports neither torch nor numba (numba's LLVM
    alone costs ~115 MB per process) nor OpenCV (~15 ms of the start) and writes the same file as the numba
    kernels."""
    src = make_clip(tmp_path / "in.mp4", frames=6, size=(96, 64), audio=False)
    rep = _run_without_torch(["convert", src, tmp_path / "c.mp4", "--model", "none"], tmp_path,
                             ("torch", "numba", "cv2"))
    assert rep["engine"].startswith("fused") and rep["frames"] == 6 and rep["max_cll"] > 0
    env = {**os.environ, "HDRVID_NO_NATIVE": "1"}
    code = f"from hdrvid.cli import main; main(['-q', 'convert', {str(src)!r}, {str(tmp_path / 'nb.mp4')!r}, '--model', 'none'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "c.mp4").read_bytes() == (tmp_path / "nb.mp4").read_bytes()


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("kind", ["ramp", "frame", "odd", "u16"])
def test_c_kernels_are_the_numba_kernels_bit_for_bit(kind: str, tmp_path: Path) -> None:
    """``color.kernels`` (C, rows split over threads) and ``color.fused`` (numba) give the same planes, frame
    statistics, decoded light level and light per code (decoder), on a colour ramp, a real frame, odd sizes and
    16-bit codes."""
    from hdrvid.pipeline.decoder import transfer_lut

    rng = np.random.default_rng(1)
    bits = 16 if kind == "u16" else 8
    if kind == "ramp":
        codes = _ramp()
    elif kind == "frame":
        codes = _demo_frame_codes(tmp_path)
    elif kind == "odd":
        codes = rng.integers(0, 256, (67, 93, 3), dtype=np.uint8)
    else:
        codes = rng.integers(0, 65536, (38, 54, 3), dtype=np.uint16)
    lut = (transfer_lut("bt709", bits).astype(np.float64) * WHITE).astype(np.float32)
    ceiling = float(pq_inverse_eotf(1000.0))
    a, peak_a, mean_a = kernels.hdr10_planes(codes, lut, ceiling)
    b, peak_b, mean_b = fused.hdr10_planes(codes, lut, ceiling)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert (peak_a, mean_a) == (peak_b, mean_b)
    flat = packed.planes_buffer(a)
    assert flat is not None
    h, w = codes.shape[:2]
    assert kernels.decoded_light(flat, w, h) == fused.decoded_light(flat, w, h)
    np.testing.assert_array_equal(kernels.planar_lookup(codes, lut), fused.planar_lookup(codes, lut))


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (7, 1), (2, 2), (37, 53), (360, 640)])
def test_c_3x3_maximum_is_opencvs_dilate(shape: tuple[int, int]) -> None:
    """The HDR10 kernel's largest chroma lift of each 3x3 neighbourhood (C, rows over threads) is OpenCV's 3x3
    dilate with its default border, exactly, edges and one-pixel frames included."""
    import cv2

    x = np.random.default_rng(sum(shape)).normal(size=shape).astype(np.float32)
    np.testing.assert_array_equal(kernels.max3x3(x), cv2.dilate(x, np.ones((3, 3), np.uint8)))


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("bits", [10, 12])
def test_c_hdr_decode_is_the_numba_kernel_bit_for_bit(bits: int) -> None:
    """``kernels.yuv420_to_linear`` (C, vectorised, rows over threads) gives numba's light and scene-cut codes
    bit for bit, limited and full range, BT.2020 and BT.709 matrices, with and without a primaries matrix."""
    from hdrvid.color.gamut import BT2020_TO_BT709
    from hdrvid.pipeline.decoder import transfer_lut

    rng = np.random.default_rng(bits)
    h, w = 38, 70  # rows and columns that do not divide by 4 or by the threads' share
    planes = rng.integers(0, 2 ** bits, (h * 3 // 2, w), dtype=np.uint16)
    planes[:4] = np.linspace(0, 2 ** bits - 1, w).astype(np.uint16)  # a ramp over every range, past both ends
    for matrix, full, mix in (("bt2020nc", False, BT2020_TO_BT709), ("bt709", True, None)):
        lut = transfer_lut("pq", 16)
        a, sa = kernels.yuv420_to_linear(planes, bits, full, matrix, lut, mix)
        b, sb = fused.yuv420_to_linear(planes, bits, full, matrix, lut, mix)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(sa, sb)


def _exact_codes(y: np.ndarray, cb: np.ndarray, cr: np.ndarray, full: bool, matrix: str) -> np.ndarray:
    """colour-science's Y'CbCr -> R'G'B' (8-bit, float64, rounded, clamped) on chroma upsampled as left-sited
    4:2:0 (H.264/HEVC's default): bilinear, columns co-sited with the even luma columns, vertically 3/4 of the
    nearer row and 1/4 of the other."""
    import warnings

    import colour

    h, w = y.shape
    kc, jc = cb.shape
    k = np.arange(h) // 2
    kn = np.where(np.arange(h) % 2 == 0, np.maximum(k - 1, 0), np.minimum(k + 1, kc - 1))

    def up(c: np.ndarray) -> np.ndarray:
        c = c.astype(np.float64)
        v = 0.75 * c[k] + 0.25 * c[kn]
        out = np.empty((h, 2 * jc))
        out[:, 0::2] = v
        out[:, 1::2] = 0.5 * (v + np.concatenate([v[:, 1:], v[:, -1:]], 1))
        return out[:, :w]

    ycc = np.stack([y.astype(np.float64), up(cb), up(cr)], -1)
    weights = {"bt709": "ITU-R BT.709", "bt2020nc": "ITU-R BT.2020", "bt601": "ITU-R BT.601"}[matrix]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rgb = colour.YCbCr_to_RGB(ycc, K=colour.WEIGHTS_YCBCR[weights], in_bits=8, in_legal=not full, in_int=True,
                                  out_bits=8, out_legal=False, out_int=False)
    return np.clip(np.floor(rgb * 255 + 0.5), 0, 255)


@pytest.mark.parametrize("matrix, full", [("bt709", False), ("bt601", False), ("bt2020nc", True)])
def test_8bit_420_decode_is_exact_and_the_numba_twin(matrix: str, full: bool) -> None:
    """8-bit 4:2:0 -> R'G'B' codes in one pass over the planes in place (no swscale): colour-science's codes on
    bilinear chroma up to the rounding of exact halves, superwhites and extreme chroma clamped (not wrapped),
    odd sizes and padded rows; the C kernel and numba's twin give the same codes."""
    rng = np.random.default_rng(7)
    h, w, pad = 37, 71, 9
    y = rng.integers(0, 256, (h, w + pad), dtype=np.uint8)[:, :w]  # rows padded, as PyAV's line sizes are
    y[:3] = np.linspace(0, 255, w).astype(np.uint8)
    cb = rng.integers(0, 256, ((h + 1) // 2, (w + 1) // 2 + pad), dtype=np.uint8)[:, :(w + 1) // 2]
    cr = rng.integers(0, 256, cb.shape, dtype=np.uint8)
    got = kernels.yuv420_u8_to_codes(y, cb, cr, full, matrix)
    want = _exact_codes(y, cb, cr, full, matrix)
    diff = np.abs(got.astype(int) - want)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    twin = fused.yuv420_u8_to_codes(np.ascontiguousarray(y), np.ascontiguousarray(cb), np.ascontiguousarray(cr),
                                    full, matrix)
    np.testing.assert_array_equal(got, twin)


def test_8bit_420_decode_is_swscale_within_one_code_on_a_real_frame(tmp_path: Path) -> None:
    """On a real H.264 frame (smooth chroma) the direct decoder path is within one code value of swscale's exact
    planar codes wherever luma is legal: swscale's 8-bit path sites chroma at the centre, a quarter of a chroma
    sample from H.264's left siting, which moves smooth chroma by less than a code (superwhites, which it wraps,
    are not compared)."""
    import av
    from av.video.reformatter import ColorRange, Colorspace, Interpolation

    src = make_clip(tmp_path / "in.mp4", frames=2, size=(160, 90), audio=False)
    dec = VideoDecoder(src)
    with av.open(str(src)) as c:
        frame = next(iter(c.decode(video=0)))
    codes = dec._to_codes(frame)
    dec.close()
    ref = frame.reformat(format="gbrp", interpolation=Interpolation.BILINEAR | Interpolation.ACCURATE_RND,
                         src_colorspace=Colorspace.ITU709, dst_colorspace=Colorspace.ITU709,
                         src_color_range=ColorRange.MPEG, dst_color_range=ColorRange.JPEG).to_ndarray()
    luma = frame.to_ndarray()[:frame.height]
    legal = luma <= 235
    diff = np.abs(codes.astype(int) - ref)[legal]
    assert diff.max() <= 1 and (diff > 0).mean() < 0.05
    assert codes.shape == (90, 160, 3) and codes.std() > 10


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("by_max", [True, False])
def test_c_sdr_output_is_the_numba_kernel(by_max: bool) -> None:
    """``kernels.sdr_planes_linear`` (C, vectorised) against numba's twin on the HDR test frame (odd size, wide
    gamut, far above the curve's range): the same planes (one code where the C library's tanh rounds otherwise
    than numba's), out-of-gamut share and flicker luminances, both gamut modes, at two exposures."""
    from hdrvid.color.operators import ToneStats, curve_gain

    x = _hdr_test_frame().numpy()
    x[:, 0, :6] = np.float32(1.001)  # the above-white threshold, compared in float32 as numpy compares it
    x[:, 0, 2] = np.nextafter(np.float32(1.001), np.float32(2))
    samples = packed.curve_samples(4096.0)
    gain = curve_gain("hable", samples, ToneStats.for_frame(20.0, 0.3, 203.0))
    curve = (*packed.curve_table(gain, 4096.0), by_max)
    for gamut, transfer, exposure in (("compress", "bt1886", 0.5), ("clip", "srgb", 3.0), ("compress", "srgb", 9.0)):
        encode = packed.oetf_table(transfer)
        planes, oog, above, lum = kernels.sdr_planes_linear(x, exposure, curve, encode, gamut=gamut, luminance_out=True)
        b = fused.sdr_planes_linear(x, exposure, curve, encode, gamut=gamut, luminance_out=True)
        _assert_within_one_code(planes, b[0], np.uint8)
        assert sum(int((p != q).sum()) for p, q in zip(planes, b[0])) <= 3
        assert oog == b[1] and oog > 0.01
        assert above == float((x[:, ::2, ::2].max(0) > 1.001).mean()) and 0 < above < 1  # the report's statistic
        assert lum is not None and b[2] is not None
        np.testing.assert_array_equal(lum[0], b[2][0])
        np.testing.assert_allclose(lum[1], b[2][1], rtol=1e-6, atol=1e-7)
        c = kernels.sdr_planes_linear(x, exposure, curve, encode, gamut=gamut)
        assert c[3] is None and all(np.array_equal(p, q) for p, q in zip(c[0], planes))
        # the flicker meter's block means, made in the kernel: the twins alike, the means of the full-size images
        kb = kernels.sdr_planes_linear(x, exposure, curve, encode, gamut=gamut, luminance_out=True,
                                       luminance_block=3)
        nb = fused.sdr_planes_linear(x, exposure, curve, encode, gamut=gamut, luminance_out=True, luminance_block=3)
        assert all(np.array_equal(p, q) for p, q in zip(kb[0], planes)) and kb[3] is not None and nb[2] is not None
        np.testing.assert_array_equal(kb[3][0], nb[2][0])
        np.testing.assert_allclose(kb[3][1], nb[2][1], rtol=1e-6, atol=1e-7)
        for small, full in zip(kb[3], lum):
            assert small.shape == (x.shape[1] // 3, x.shape[2] // 3)
            np.testing.assert_allclose(small, packed.block_mean(full, 3), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
@pytest.mark.parametrize("roll_off", [(3000.0, 1000.0), (1000.0, 1000.0), (5000.0, 400.0)])
def test_c_model_output_kernel_is_the_numba_kernel_bit_for_bit(roll_off: tuple[float, float]) -> None:
    """``kernels.hdr10_planes_linear`` (a model's output to HDR10: C, vectorised, the BT.2390 roll-off on the
    pixels above its knee) gives numba's planes and statistics bit for bit: odd and even sizes, negative light,
    light far above the peak, the roll-off, the clamp and none."""
    rng = np.random.default_rng(3)
    for shape in ((3, 67, 93), (3, 64, 96), (3, 1, 5)):
        x = (rng.random(shape, dtype=np.float32) ** 3 * 30).astype(np.float32)
        x[0, :3] = -0.2
        x[:, 5:9, 5:9] = 1000.0
        for white in (203.0, 398.0):
            ceiling = float(pq_inverse_eotf(roll_off[1]))
            a = kernels.hdr10_planes_linear(x, white, ceiling, roll_off)
            b = fused.hdr10_planes_linear(x, white, ceiling, roll_off)
            for p, q in zip(a[0], b[0]):
                np.testing.assert_array_equal(p, q)
            assert a[1:] == b[1:]


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
def test_c_hdrunet_kernels_are_the_numba_kernels_bit_for_bit() -> None:
    """hdrunet's two compiled passes (the fast mode's guided expansion of clipped pixels, hdrunet-auto's
    BT.2446A gain on luminance) in C give numba's numbers bit for bit: odd sizes, negative light, light above
    1, maps smaller than the frame by uneven factors, both clip masks, near-neutral highlights (the shared gain),
    with and without the mask's signal shift; so the default model loads no numba."""
    rng = np.random.default_rng(5)
    wts = np.array([0.2126, 0.7152, 0.0722], np.float32)
    for h, w, hs, ws in ((67, 93, 17, 24), (64, 96, 16, 24), (1, 5, 1, 2)):
        x = (rng.random((3, h, w), dtype=np.float32) ** 0.3 * 1.1 - 0.02).astype(np.float32)
        white = ((1 - rng.random((3, h, w)) * 0.06) ** 2.2).astype(np.float32)  # codes ~240-255, channels apart
        x[:, ::2] = white[:, ::2]
        a, b = (rng.normal(0, 1, (3, hs, ws)).astype(np.float32) for _ in range(2))
        for clip in ((0.965, 0.99), (0.99, 0.998)):
            for neutral in ((4 / 255, 12 / 255), (0.0, 1e-9)):
                np.testing.assert_array_equal(kernels.expand_clipped(x, a, b, math.log(64), 0.9, clip, 2.2, neutral),
                                              fused.expand_clipped(x, a, b, math.log(64), 0.9, clip, 2.2, neutral))
                # the mask read through the codec-block filter (models.deblock): a signal shift, zero in places
                shift = (rng.normal(0, 0.01, (h, w)) * (rng.random((h, w)) < 0.7)).astype(np.float32)
                np.testing.assert_array_equal(
                    kernels.expand_clipped(x, a, b, math.log(64), 0.9, clip, 2.2, neutral, shift),
                    fused.expand_clipped(x, a, b, math.log(64), 0.9, clip, 2.2, neutral, shift))
        table = np.exp(rng.normal(0, 0.3, 4097)).astype(np.float32)
        out_c = rng.random((3, h, w), dtype=np.float32)
        out_n = out_c.copy()
        kernels.luminance_gain(x, out_c, wts, table)
        fused.luminance_gain(x, out_n, wts, table)
        np.testing.assert_array_equal(out_c, out_n)
        out_clamped = rng.random((3, h, w), dtype=np.float32)
        out_c = out_clamped.copy()
        kernels.luminance_gain(x, out_c, wts, table)  # light outside [0, 1]: read as the clamped light
        kernels.luminance_gain(np.clip(x, 0, 1), out_clamped, wts, table)
        np.testing.assert_array_equal(out_c, out_clamped)


@pytest.mark.skipif(not kernels.native_available(), reason="the C kernels were not built")
def test_c_blob_gain_is_the_numba_kernel_bit_for_bit_and_the_reference() -> None:
    """The per-blob level's pass (models.blob_level): C and numba give the same bytes; both are the plain
    reference (the factor read bilinearly from the working copy, through the mask of the brightest channel)."""
    rng = np.random.default_rng(5)
    for h, w, f in ((61, 97, 1), (123, 251, 3), (200, 640, 5)):
        sh, sw = h // f, w // f
        x = (rng.random((3, h, w)) * 1.1).astype(np.float32)
        x[:, : h // 2, : w // 3] = 1.0
        stops = np.where(rng.random((sh, sw)) < 0.4, rng.normal(0, 1, (sh, sw)), 0).astype(np.float32)
        shift = (rng.normal(0, 0.01, (h, w)) * (rng.random((h, w)) < 0.7)).astype(np.float32)
        for sft in (None, shift):
            out_c = rng.random((3, h, w), dtype=np.float32)
            out_n, before = out_c.copy(), out_c.copy()
            sums_c = kernels.blob_gain(x, out_c, stops, f, sft, 0.968, 0.98, 2.2)
            taps = kernels.blob_taps(h, w, sh, sw, f)
            sums_n = fused.blob_gain(x, out_n, stops, taps, sft, 0.968, 0.98, 2.2)
            np.testing.assert_array_equal(out_c, out_n)
            assert sums_c == pytest.approx(sums_n, rel=1e-12)
            # the reference: dense bilinear taps, the mask, 2 ** (factor x mask)
            y0, y1, fy, x0, x1, fx = taps
            s = ((stops[y0][:, x0] * (1 - fx) + stops[y0][:, x1] * fx) * (1 - fy[:, None])
                 + (stops[y1][:, x0] * (1 - fx) + stops[y1][:, x1] * fx) * fy[:, None])
            sig = np.clip(x.max(0), 1e-8, 1).astype(np.float64) ** (1 / 2.2) + (0 if sft is None else sft)
            t = np.clip((sig - 0.968) / (0.98 - 0.968), 0, 1)
            ref = before * (2.0 ** (s * t * t * (3 - 2 * t)))[None]
            np.testing.assert_allclose(out_c, ref, rtol=1e-5)
            assert bool((out_c != before).any())


def test_models_and_other_formats_take_the_reference_path(tmp_path: Path) -> None:
    from hdrvid.jobs.convert import ConvertOptions, convert

    src = make_still_clip(tmp_path / "still.mp4", np.full((48, 64, 3), 128, np.uint8), frames=3)
    rep = convert(ConvertOptions(src, tmp_path / "itmo.mp4", model="itmo"))
    assert not rep.engine.startswith("fused")
    rep = convert(ConvertOptions(src, tmp_path / "hlg.mp4", model="none", format="hlg"))
    assert not rep.engine.startswith("fused")
    rep = convert(ConvertOptions(src, tmp_path / "none.mp4", model="none", peak_nits=300.0))  # white = the peak
    assert rep.engine.startswith("fused") and rep.reference_white_nits == 300.0


@pytest.mark.parametrize("model", ["none", "itmo"])
def test_light_level_measured_while_encoding_is_the_file_pass(clip: Path, tmp_path: Path, model: str) -> None:
    """MaxCLL/MaxFALL come from decoding the packets as they are made; the same as decoding the file after."""
    from hdrvid.jobs.convert import ConvertOptions, convert
    from hdrvid.pipeline.encoder import decoded_light_level

    out = tmp_path / f"{model}.mp4"
    rep = convert(ConvertOptions(clip, out, model=model))
    light = decoded_light_level(out, 64, 48)
    assert light is not None and rep.max_cll is not None
    assert (rep.max_cll, rep.max_fall) == light.values()
    assert rep.max_cll > 203


def test_output_transform_uses_the_kernel_for_model_output() -> None:
    """A model's relative light (negative values, highlights up to the peak, then far above it: the BT.2390
    roll-off) through the compiled kernel: the torch path's planes within one code value."""
    from hdrvid.pipeline.frame import Frame

    torch.manual_seed(1)
    data = torch.rand(3, 61, 97) ** 2 * 2.4 - 0.01  # up to 2.4 x 398 = 955 nits
    data[:, 10:20, 10:30] = torch.tensor([2.5, 0.2, 0.1]).view(3, 1, 1)
    spec = OutputSpec("hdr10", 1000.0, WHITE)

    def planes(compiled: bool, x: torch.Tensor) -> list[np.ndarray]:
        out = next(iter(OutputTransform(spec, compiled=compiled).process(Frame(0, 0, None, x.clone()))))
        assert out.planes is not None
        return out.planes

    fast = planes(True, data)
    assert packed.planes_buffer(fast) is not None  # the kernel ran
    _assert_within_one_code(fast, planes(False, data))
    over = planes(True, data * 3)  # 2.9k nits: the BT.2390 roll-off from the frame's peak to 1000 nits
    assert packed.planes_buffer(over) is not None
    _assert_within_one_code(over, planes(False, data * 3))


@pytest.mark.parametrize("compiled", [True, False])
def test_hdr10_keeps_colours_outside_bt709(compiled: bool) -> None:
    """Light outside BT.709 (a Display P3 photo's saturated green and red: negative in BT.709) reaches HDR10 as
    its BT.2020 colour (it was clipped to BT.709 before the conversion): the decoded patch is colour-science's
    P3 -> BT.2020 conversion, on the compiled kernel and the torch path."""
    import colour

    from hdrvid.pipeline.frame import Frame

    p3 = np.array([[0.05, 0.8, 0.1], [0.9, 0.08, 0.05]])  # relative light (1 = reference white)
    cs = colour.RGB_COLOURSPACES
    in709 = colour.RGB_to_RGB(p3, cs["Display P3"], cs["ITU-R BT.709"])
    assert (in709 < -0.05).any()  # really outside BT.709
    data = torch.zeros(3, 16, 32)
    for i, rgb in enumerate(in709):
        data[:, :, i * 16:(i + 1) * 16] = torch.tensor(rgb, dtype=torch.float32).view(3, 1, 1)
    spec = OutputSpec("hdr10", 1000.0, WHITE)
    out = next(iter(OutputTransform(spec, compiled=compiled).process(Frame(0, 0, None, data))))
    y, cb, cr = (np.asarray(p).astype(np.float64) for p in out.planes)
    for i, rgb in enumerate(p3):
        ycc = np.array([y[8, i * 16 + 8], cb[4, i * 8 + 4], cr[4, i * 8 + 4]])
        sig = colour.YCbCr_to_RGB(ycc, K=colour.WEIGHTS_YCBCR["ITU-R BT.2020"], in_bits=10, in_legal=True,
                                  in_int=True)
        nits = colour.eotf(np.clip(sig, 0, 1), "ITU-R BT.2100 PQ")
        want = colour.RGB_to_RGB(rgb, cs["Display P3"], cs["ITU-R BT.2020"]) * WHITE
        np.testing.assert_allclose(nits, want, rtol=0.03, atol=1.0)


def _hdr_test_frame() -> torch.Tensor:
    """Relative BT.709 light (3, 63, 129), odd size: a smooth field up to ~20x white (4,000 nits), a dark ramp
    down to 0 (where the SDR encodings are steepest), saturated BT.2020 colours outside BT.709 (negative
    channels) and a highlight far above the peak."""
    from hdrvid.color.gamut import BT709, BT2020, convert_primaries

    torch.manual_seed(2)
    x = torch.rand(3, 63, 129) ** 3 * 20
    x[:, :8] = torch.linspace(0, 0.02, 129) ** 2
    wide = torch.tensor([[0.0, 4.0, 0.2], [3.0, 0.1, 0.0], [0.1, 0.0, 6.0], [0.0, 0.9, 0.9]])
    x[:, 20:30, :4 * 8] = torch.from_numpy(np.asarray(convert_primaries(wide.numpy(), BT2020, BT709), np.float32)
                                           ).repeat_interleave(8, 0).T[:, None, :]
    x[:, 40:44, 60:70] = torch.tensor([300.0, 250.0, 200.0]).view(3, 1, 1)
    return x


@pytest.mark.parametrize("operator", ["hable", "bt2390", "reinhard", "mobius", "bt2446a"])
def test_compiled_sdr_output_is_the_reference_path_within_one_code(operator: str) -> None:
    """``tonemap``'s SDR output for a curve operator through the compiled kernel (gain table made from the
    operator itself): the torch path's planes within one code value, the same out-of-gamut share and flicker
    sample, for both gamut modes and both SDR mappings."""
    from hdrvid.pipeline.frame import Frame

    data = _hdr_test_frame()
    for gamut, mapping in (("compress", "scene"), ("clip", "display")):
        spec = OutputSpec("sdr", 1000.0, 203.0, operator=operator, gamut=gamut, metadata_peak=3000 / 203,
                          measure_flicker=True, sdr_exposure=1 / 1.96, sdr_mapping=mapping)
        outs = []
        for compiled in (True, False):
            frame = Frame(0, 0, None, data.clone())
            frame.stats.peak_smooth, frame.stats.log_average_smooth = 12.0, 0.4
            outs.append(next(iter(OutputTransform(spec, compiled=compiled).process(frame))))
        fast, ref = outs
        assert packed.planes_buffer(fast.planes) is not None  # the kernel ran (planes in one buffer)
        _assert_within_one_code(fast.planes, ref.planes, np.uint8)
        assert fast.stats.out_of_gamut == pytest.approx(ref.stats.out_of_gamut) and ref.stats.out_of_gamut > 0.01
        (fast_in, fast_out), (ref_in, ref_out) = fast.stats.flicker.signals(), ref.stats.flicker.signals()
        assert np.abs(fast_out - ref_out).max() < 1 / 1023  # PQ, one 10-bit code
        assert np.array_equal(fast_in, ref_in)


def test_hdr10_decode_straight_from_420_is_the_codes_path(clip: Path, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """>8-bit 4:2:0 input decoded to linear light in one pass: the light and the scene-cut histogram of the
    swscale 4:4:4 + codes + table path, on a real HDR10 file."""
    from hdrvid.jobs.convert import ConvertOptions, convert

    hdr = tmp_path / "hdr10.mp4"
    convert(ConvertOptions(clip, hdr, model="itmo"))

    def frames() -> list:
        dec = VideoDecoder(hdr)
        out = list(dec)
        dec.close()
        return out

    direct = frames()
    monkeypatch.setattr(VideoDecoder, "_direct_420", lambda self, frame: False)
    ref = frames()
    assert len(direct) == len(ref) > 3
    for a, b in zip(direct, ref):
        assert float(b.data.amax()) > 1.2  # expanded highlights: light above reference white
        assert torch.allclose(a.data, b.data, rtol=1e-6, atol=1e-6)
        assert np.array_equal(a.stats.hist, b.stats.hist)


@needs_ffprobe
@pytest.mark.parametrize("extra", [["--operator", "hable"], ["--target-nits", "400"]])
def test_tonemap_runs_without_torch(tmp_path: Path, extra: list[str]) -> None:
    """`tonemap` by a curve operator (SDR) or to a lower peak (HDR10) in a process where importing torch fails:
    every stage is a compiled kernel or numpy (for the curve operator, with the C kernels built, not numba)."""
    from hdrvid.jobs.convert import ConvertOptions, convert

    hdr = tmp_path / "hdr10.mp4"
    convert(ConvertOptions(make_clip(tmp_path / "in.mp4", frames=6, size=(96, 64), audio=True), hdr, model="itmo"))
    out = tmp_path / "out.mp4"
    # a curve operator to SDR runs on the C kernels where they were built: numba is not loaded either
    blocked = ("torch", "numba") if kernels.native_available() and "--operator" in extra else ("torch",)
    rep = _run_without_torch(["tonemap", hdr, out, *extra], tmp_path, blocked)
    assert rep["frames"] == 6
    video = next(s for s in ffprobe(out, "-show_streams")["streams"] if s["codec_type"] == "video")
    want = ("smpte2084", "bt2020") if "--target-nits" in extra else ("bt709", "bt709")
    assert (video["color_transfer"], video["color_primaries"]) == want


def test_numpy_itmo_is_the_torch_module() -> None:
    """``models.arrays.itmo`` (OpenCV, no torch) against ``ClassicalITMO``: float rounding apart, on a frame with
    a large clipped region and a small one, at even and odd sizes (the quarter-resolution maps' edges)."""
    from hdrvid.models import build
    from hdrvid.models.arrays import itmo

    model = build("itmo").eval()
    model.average_cap = float("inf")  # these bright frames would be held by it: the cap's parity has its own test
    torch.manual_seed(3)
    for h, w in ((180, 320), (121, 203)):
        x = torch.rand(3, h, w) ** 0.5 * 0.9
        x[:, 20:90, 30:200] = 1.0  # a clipped sky
        x[:, 100:104, 10:14] = torch.tensor([1.0, 0.97, 0.9]).view(3, 1, 1)  # a lamp
        x[0, 5, 5] = -0.01  # negative light (decoded BT.2020 colours)
        with torch.inference_mode():
            ref = model(x[None])[0].numpy()
        out = itmo(x.numpy())
        assert out.dtype == np.float32 and out.shape == ref.shape
        assert float(ref.max()) > 2  # expanded
        assert np.abs(out - ref).max() < 2e-5 * float(ref.max())
        # a pipeline's frame: the same result in the frame's own memory, the caller's array untouched otherwise
        mine = x.numpy().copy()
        assert itmo(mine, overwrite=True) is mine and np.array_equal(mine, out)
        assert np.array_equal(x.numpy()[0, 5, 5], np.float32(-0.01))
    # the maths runs only on the rows the mask touches: a dark frame with one bright band, and none at all
    x = torch.rand(3, 120, 160) * 0.5
    x[:, 50:60, 40:90] = 1.0
    with torch.inference_mode():
        ref = model(x[None])[0].numpy()
    out = itmo(x.numpy())
    assert float(ref.max()) > 2 and np.abs(out - ref).max() < 2e-5 * float(ref.max())
    assert np.array_equal(out[:, :30], x.numpy()[:, :30])
    dark = (torch.rand(3, 64, 96) * 0.6 - 0.01).numpy()
    assert np.array_equal(itmo(dark), np.maximum(dark, 0))


@needs_ffprobe
def test_itmo_runs_without_torch(tmp_path: Path) -> None:
    """`convert --model itmo` to HDR10 in a process where importing torch (and, with the C kernels, numba)
    fails: the numpy model, HDR10 out; with --highlight-boost (torch's maths) it takes the torch path."""
    from hdrvid.jobs.convert import ConvertOptions, convert

    src = make_clip(tmp_path / "in.mp4", frames=6, size=(96, 64))
    out = tmp_path / "out.mp4"
    blocked = ("torch", "numba") if kernels.native_available() else ("torch",)  # C kernels: no numba either
    rep = _run_without_torch(["convert", src, out, "--model", "itmo"], tmp_path, blocked)
    assert rep["engine"].startswith("numpy") and rep["frames"] == 6
    video = next(s for s in ffprobe(out, "-show_streams")["streams"] if s["codec_type"] == "video")
    assert (video["color_transfer"], video["color_primaries"]) == ("smpte2084", "bt2020")
    torch_rep = convert(ConvertOptions(src, tmp_path / "t.mp4", model="itmo"))
    assert torch_rep.engine.startswith("numpy") and torch_rep.max_cll == rep["max_cll"]
    boosted = convert(ConvertOptions(src, tmp_path / "b.mp4", model="itmo", highlight_boost=1.5))
    assert boosted.engine.startswith("torch")


def test_numpy_model_stage_refuses_impossible_output() -> None:
    from hdrvid.errors import ModelError
    from hdrvid.pipeline.arrays import ArrayModel
    from hdrvid.pipeline.frame import Frame

    ok = next(iter(ArrayModel(lambda x, overwrite: x * 2, "itmo").process(Frame(0, 0, None, np.ones((3, 4, 4),
                                                                                                 np.float32)))))
    assert float(ok.data.max()) == 2.0
    for bad in (np.inf, 1e6):
        with pytest.raises(ModelError, match="itmo produced"):
            next(iter(ArrayModel(lambda x, overwrite, b=bad: x * b, "itmo").process(Frame(0, 0, None, np.ones((3, 4, 4),
                                                                                              np.float32)))))


def test_hdr_decode_reads_padded_planes_in_place_and_histograms_in_integers() -> None:
    """``yuv420_to_linear`` on three padded plane views (PyAV's buffers, nothing copied) gives what it gives on
    the packed array; the scene-cut histogram of integer codes is the float histogram of the mean signal."""
    from hdrvid.pipeline.decoder import code_histogram, signal_histogram, transfer_lut

    rng = np.random.default_rng(5)
    h, w, pad = 36, 68, 12
    packed_planes = rng.integers(0, 1024, (h * 3 // 2, w), dtype=np.uint16)
    n = h * w
    flat = packed_planes.ravel()
    views = []
    for part, (rows, cols) in zip((flat[:n], flat[n:n * 5 // 4], flat[n * 5 // 4:]), ((h, w), (h // 2, w // 2),
                                                                                     (h // 2, w // 2))):
        padded = np.zeros((rows, cols + pad), np.uint16)
        padded[:, :cols] = part.reshape(rows, cols)
        views.append(padded[:, :cols])
    lut = transfer_lut("pq", 16)
    a, sa = kernels.yuv420_to_linear(packed_planes, 10, False, "bt2020nc", lut, None)
    b, sb = kernels.yuv420_to_linear(tuple(views), 10, False, "bt2020nc", lut, None)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sa, sb)
    for top, dtype in ((65535, np.uint16), (255, np.uint8)):
        codes = rng.integers(0, top + 1, (40, 50, 3)).astype(dtype)
        codes[0, :3] = top  # the last bin is closed
        want = signal_histogram(codes.astype(np.float64) / top)
        np.testing.assert_allclose(code_histogram(codes, top), want, atol=1.5 / codes[..., 0].size)
        assert code_histogram(codes, top).sum() == pytest.approx(1.0)
