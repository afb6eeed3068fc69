"""Colour maths against colour-science (the independent reference), numpy and torch alike."""

import numpy as np
import pytest
import torch

colour = pytest.importorskip("colour")

from hdrvid.color import gamut, tonemap, transfer, ycbcr

X = np.linspace(0, 1, 1001)


def both(fn, x, **kw):
    """Run ``fn`` on numpy and torch (float64) and check they agree; return the numpy result."""
    a = fn(x, **kw)
    b = fn(torch.from_numpy(x), **kw).numpy()
    np.testing.assert_allclose(a, b, atol=1e-9)
    return a


def test_pq_matches_colour():
    nits = both(transfer.pq_eotf, X)
    np.testing.assert_allclose(nits, colour.models.eotf_ST2084(X), rtol=1e-5, atol=1e-5)
    lum = np.geomspace(1e-3, 10000, 500)
    np.testing.assert_allclose(both(transfer.pq_inverse_eotf, lum), colour.models.eotf_inverse_ST2084(lum), atol=1e-6)
    # round trip within one 12-bit code value
    assert np.abs(transfer.pq_inverse_eotf(transfer.pq_eotf(X)) - X).max() < 1 / 4096


def test_hlg_matches_colour():
    np.testing.assert_allclose(both(transfer.hlg_oetf, X), colour.models.oetf_BT2100_HLG(X), atol=1e-6)
    np.testing.assert_allclose(both(transfer.hlg_inverse_oetf, X), colour.models.oetf_inverse_BT2100_HLG(X), atol=1e-6)
    rgb = np.random.default_rng(0).random((200, 3))
    for peak in (1000.0, 2000.0):
        ref = colour.models.ootf_BT2100_HLG(rgb, L_W=peak, L_B=0)
        np.testing.assert_allclose(transfer.hlg_ootf(rgb, peak), ref, rtol=1e-5, atol=1e-5)
        back = transfer.hlg_inverse_ootf(ref, peak)
        np.testing.assert_allclose(back, rgb, rtol=1e-5, atol=1e-5)
    # BT.2408: reference white 203 nits sits at 75% HLG on a 1000-nit display
    e = transfer.hlg_inverse_ootf(np.array([[203.0, 203.0, 203.0]]), 1000.0)
    assert abs(float(transfer.hlg_oetf(e)[0, 0]) - 0.75) < 0.002


def test_sdr_curves_match_colour():
    np.testing.assert_allclose(both(transfer.srgb_eotf, X), colour.models.eotf_sRGB(X), atol=1e-6)
    np.testing.assert_allclose(both(transfer.srgb_inverse_eotf, X), colour.models.eotf_inverse_sRGB(X), atol=1e-6)
    np.testing.assert_allclose(both(transfer.bt709_oetf, X), colour.models.oetf_BT709(X), atol=1e-6)
    np.testing.assert_allclose(both(transfer.bt709_inverse_oetf, X), colour.models.oetf_inverse_BT709(X), atol=1e-6)
    np.testing.assert_allclose(both(transfer.bt1886_eotf, X), colour.models.eotf_BT1886(X), atol=1e-6)


def test_primaries_match_colour():
    m = colour.matrix_RGB_to_RGB(colour.RGB_COLOURSPACES["ITU-R BT.709"], colour.RGB_COLOURSPACES["ITU-R BT.2020"])
    np.testing.assert_allclose(gamut.BT709_TO_BT2020, m, atol=1e-5)
    np.testing.assert_allclose(gamut.BT2020_TO_BT709 @ gamut.BT709_TO_BT2020, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(gamut.BT709.rgb_to_xyz(), colour.RGB_COLOURSPACES["ITU-R BT.709"].matrix_RGB_to_XYZ, atol=1e-4)
    rgb = np.random.default_rng(1).random((4, 5, 3))
    t = gamut.convert_primaries(torch.from_numpy(rgb).permute(2, 0, 1), gamut.BT709, gamut.BT2020, axis=0)
    np.testing.assert_allclose(t.permute(1, 2, 0).numpy(), rgb @ m.T, atol=1e-9)
    np.testing.assert_allclose(gamut.luminance(rgb), rgb @ [0.2126, 0.7152, 0.0722], atol=1e-4)


@pytest.mark.parametrize("bits", [8, 10, 12])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("matrix, name", [("bt709", "ITU-R BT.709"), ("bt2020nc", "ITU-R BT.2020")])
def test_ycbcr_codes_match_colour(bits, full, matrix, name):
    rgb = np.random.default_rng(bits).random((500, 3))
    ours = ycbcr.quantize(ycbcr.rgb_to_ycbcr(rgb, matrix), bits, full)
    ref = colour.RGB_to_YCbCr(
        rgb, K=colour.WEIGHTS_YCBCR[name], out_bits=bits, out_legal=not full, out_int=True
    )
    assert np.abs(ours - ref).max() <= 1  # within one code value
    tt = ycbcr.quantize(ycbcr.rgb_to_ycbcr(torch.from_numpy(rgb), matrix), bits, full).numpy()
    np.testing.assert_array_equal(tt, ours)
    back = ycbcr.ycbcr_to_rgb(
        np.stack([ycbcr.dequantize_luma(ours[:, 0], bits, full), ycbcr.dequantize_chroma(ours[:, 1], bits, full),
                  ycbcr.dequantize_chroma(ours[:, 2], bits, full)], -1), matrix)
    assert np.abs(back - rgb).max() < 2.5 / 2 ** (bits - 2)


def test_limited_range_anchor_codes():
    assert ycbcr.quantize_luma(np.array([0.0, 1.0]), 10).tolist() == [64, 940]
    assert ycbcr.quantize_chroma(np.array([-0.5, 0.0, 0.5]), 10).tolist() == [64, 512, 960]
    assert ycbcr.quantize_luma(np.array([0.0, 1.0]), 8).tolist() == [16, 235]


def test_bt2390_eetf_worked_values():
    # Worked from the BT.2390 equations by hand: 4000 -> 1000 nit, the knee sits at
    # KS = 1.5 * PQ(1000)/PQ(4000) - 0.5; below it luminance is unchanged, the peak lands on the target.
    src, dst = 4000.0, 1000.0
    ks = 1.5 * float(transfer.pq_inverse_eotf(dst)) / float(transfer.pq_inverse_eotf(src)) - 0.5
    knee_nits = float(transfer.pq_eotf(ks * float(transfer.pq_inverse_eotf(src))))
    x = np.array([0.0, 1.0, 100.0, knee_nits * 0.99, src])
    y = tonemap.eetf_bt2390(x, src, dst)
    np.testing.assert_allclose(y[:4], x[:4], rtol=1e-6, atol=1e-9)
    assert abs(y[4] - dst) < 1e-6 * dst
    curve = tonemap.eetf_bt2390(np.linspace(0, src, 2000), src, dst)
    assert np.all(np.diff(curve) >= -1e-9)  # monotonic


def test_reinhard_global_white_point():
    rgb = np.array([[[0.5, 0.5, 0.5], [4.0, 4.0, 4.0], [8.0, 8.0, 8.0]]])
    out = tonemap.reinhard_global(rgb, log_average=0.18, white=8.0)
    assert abs(out[0, 2, 0] - 1.0) < 1e-9  # the white point maps to display white
    assert out[0, 0, 0] < out[0, 1, 0] < out[0, 2, 0]
    t = tonemap.reinhard_global(torch.from_numpy(rgb).permute(2, 0, 1), 0.18, 8.0, axis=0)
    np.testing.assert_allclose(t.permute(1, 2, 0).numpy(), out, atol=1e-9)


def test_gamut_compress_keeps_hue_and_luminance_and_lands_inside():
    # saturated BT.2020 colours, some outside BT.709
    rgb2020 = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.2, 0.3, 0.9], [0.4, 0.4, 0.4], [0.5, 0.45, 0.4]])
    rgb709 = rgb2020 @ gamut.BT2020_TO_BT709.T
    assert (rgb709.min(1) < 0).tolist() == [True, True, False, False, False]
    assert gamut.out_of_gamut_fraction(rgb709) == pytest.approx(0.4)
    out = gamut.gamut_compress(rgb709)
    assert out.min() >= 0 and gamut.out_of_gamut_fraction(out) == 0
    np.testing.assert_allclose(gamut.luminance(out), gamut.luminance(rgb709), rtol=1e-9)  # luminance kept
    np.testing.assert_allclose(out[3:], rgb709[3:], atol=1e-12)  # grey and mild colours untouched
    assert gamut.chroma_distance(out[:2]).max() <= 1 + 1e-9  # the out-of-gamut ones now sit on or inside
    # hue: the colour moved along the line to its grey, so (rgb - Y) keeps its direction
    y_in = gamut.luminance(rgb709)[:, None]
    for a, b in zip((rgb709 - y_in)[:3], (out - y_in)[:3]):  # (row 3 is grey: no direction)
        cos = a @ b / np.linalg.norm(a) / np.linalg.norm(b)
        assert cos > 1 - 1e-9
    t = gamut.gamut_compress(torch.from_numpy(rgb709).T.reshape(3, 5, 1), axis=0)
    np.testing.assert_allclose(t.reshape(3, 5).T.numpy(), out, atol=1e-9)
    clipped = gamut.gamut_clip(rgb709)
    assert np.abs(gamut.luminance(clipped) - gamut.luminance(rgb709)).max() > 0.01  # clipping changes luminance


def test_gamut_map_touches_only_what_needs_it():
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.random((3, 20, 30)))
    x[:, 5, 5] = torch.tensor([1.2, -0.1, 0.3], dtype=x.dtype)  # one pixel outside BT.709
    out, share = gamut.gamut_map(x, "compress", axis=0)
    assert share == pytest.approx(1 / 600)
    ref = gamut.gamut_compress(x, axis=0)
    torch.testing.assert_close(out, ref)
    clipped, _ = gamut.gamut_map(x, "clip", axis=0)
    assert float(clipped.min()) == 0.0
    inside = x.clamp(0.2, 0.8)
    same, share = gamut.gamut_map(inside, "compress", axis=0)
    assert share == 0.0


@pytest.mark.parametrize("cb, cr", [(128, 128), (90, 240), (240, 16), (16, 128), (200, 60)])
def test_8bit_decode_matches_colour_science_on_every_code(cb: int, cr: int):
    """SDR decoding is exact: every luma code (superwhites included) with a given chroma gives the R'G'B' codes
    colour-science computes (BT.709 matrix) up to the rounding of exact halves, not 1-2 codes low (swscale's
    rgb24 + ACCURATE_RND path) nor wrapped (its planar path for saturated superwhites)."""
    import warnings

    import av
    import colour


    w, h = 256, 8
    y = np.tile(np.arange(256, dtype=np.uint8), (h, 1))
    u = np.full((h // 2, w // 2), cb, np.uint8)
    v = np.full((h // 2, w // 2), cr, np.uint8)
    frame = av.VideoFrame.from_ndarray(np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w),
                                       format="yuv420p")
    codes = _codes(frame, 8, "bt709", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ycc = np.stack([np.arange(256), np.full(256, cb), np.full(256, cr)], -1)
        want = colour.YCbCr_to_RGB(ycc, K=colour.WEIGHTS_YCBCR["ITU-R BT.709"], in_bits=8, in_legal=True, in_int=True,
                                   out_bits=8, out_legal=False, out_int=True)
    want = np.clip(want, 0, 255)
    diff = codes.astype(int) - want
    assert np.abs(diff).max() <= 1  # (rounding of exact halves only)
    assert np.abs(diff[16:236]).mean() < 0.02 and abs(diff[16:236].mean()) < 0.01  # no bias


def _codes(frame, bit_depth: int, matrix: str, full_range: bool) -> np.ndarray:
    """The decoder's R'G'B' codes of one PyAV frame (first row), for a stream of these properties."""
    from hdrvid.pipeline.decoder import VideoDecoder

    dec = VideoDecoder.__new__(VideoDecoder)
    dec.info = type("I", (), {"bit_depth": bit_depth, "matrix": matrix, "full_range": full_range})()
    return dec._to_codes(frame)[0]


@pytest.mark.parametrize("matrix,full_range", [("bt2020nc", False), ("bt709", False), ("bt2020nc", True)])
def test_10bit_decode_matches_colour_science_on_every_code(matrix: str, full_range: bool):
    """HDR decoding is exact: every 10-bit luma code with several chroma pairs gives the R'G'B' colour-science
    computes (to 1/65535), not swscale's high-bit range conversion, which puts white at 1020/1023 (0.4 % of
    PQ signal low: ~3 % of light at 400 nits)."""
    import warnings

    import av
    import colour


    w, h = 1024, 2
    for cb, cr in ((512, 512), (400, 650), (300, 900)):
        y = np.tile(np.arange(1024, dtype=np.uint16), (h, 1))
        u = np.full((h // 2, w // 2), cb, np.uint16)
        v = np.full((h // 2, w // 2), cr, np.uint16)
        frame = av.VideoFrame.from_ndarray(np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w),
                                           format="yuv420p10le")
        got = _codes(frame, 10, matrix, full_range).astype(np.float64) / 65535
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            k = colour.WEIGHTS_YCBCR["ITU-R BT.2020" if matrix == "bt2020nc" else "ITU-R BT.709"]
            ycc = np.stack([np.arange(1024), np.full(1024, cb), np.full(1024, cr)], -1)
            want = colour.YCbCr_to_RGB(ycc, K=k, in_bits=10, in_legal=not full_range, in_int=True)
        want = np.clip(want, 0, 1)
        assert np.abs(got - want).max() < 2e-5, (cb, cr)


def test_hdr10plus_sei_bytes():
    """ST 2094-40 SEI: emulation prevention, placement before the first slice, and the T.35 header."""
    from hdrvid.color.hdr10plus import FrameLight, _emulation_prevention, hevc_sei_nal, insert_sei, t35_payload

    assert _emulation_prevention(b"\x00\x00\x01\x00\x00\x00") == b"\x00\x00\x03\x01\x00\x00\x03\x00"
    light = FrameLight.measure(np.full((3, 8, 8), 100.0, np.float32))
    assert light.maxscl == (100.0, 100.0, 100.0) and light.percentiles[4] == 100.0 and light.fraction_bright == 0
    assert t35_payload(light)[:7] == bytes([0xB5, 0x00, 0x3C, 0x00, 0x01, 4, 1])
    nal = hevc_sei_nal(light)
    assert nal[:2] == bytes([39 << 1, 1]) and nal[2] == 4 and nal[-1] == 0x80
    vps = bytes([32 << 1, 1, 0xAA])
    slice_ = bytes([1 << 1, 1, 0xBB, 0xCC])
    au = len(vps).to_bytes(4, "big") + vps + len(slice_).to_bytes(4, "big") + slice_
    out = insert_sei(au, nal)
    assert out == len(vps).to_bytes(4, "big") + vps + len(nal).to_bytes(4, "big") + nal + au[7:]
