"""hdrvid tonemap: HDR10, HLG and EXR in; SDR (or lower-peak HDR10) out; temporal stability."""

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from media import ffprobe, make_clip, make_still_clip, needs_ffprobe, packets, video_pts_seconds

from hdrvid.io.images import write_exr
from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.jobs.tonemap import TonemapOptions, tonemap
from hdrvid.pipeline.decoder import ImageSource
from hdrvid.pipeline.output import FlickerStage, OutputSpec, OutputTransform
from hdrvid.pipeline.runner import Runner
from hdrvid.pipeline.smoothing import TemporalSmoother
from hdrvid.synth.scenes import interior_with_window


@pytest.fixture(scope="module")
def hdr10(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hdr")
    src = make_clip(d / "sdr.mp4", frames=12, size=(96, 64), audio=True)
    out = d / "hdr10.mp4"
    convert(ConvertOptions(src, out, model="itmo"))  # the classical expansion: a known, in-gamut HDR10 input
    return out


@needs_ffprobe
def test_hdr10_to_sdr_is_tagged_bt709(hdr10: Path, tmp_path: Path):
    out = tmp_path / "sdr.mp4"
    r = run_cli("tonemap", hdr10, out, "--operator", "hable", "--report", tmp_path / "r.json", "--flicker-warp")
    assert r.exit_code == 0, r.output
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["codec_name"], v["pix_fmt"], v["color_primaries"], v["color_transfer"], v["color_space"]) == (
        "h264", "yuv420p", "bt709", "bt709", "bt709")
    assert video_pts_seconds(out) == video_pts_seconds(hdr10)
    assert packets(out, "audio") == packets(hdr10, "audio")
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["operator"] == "hable" and rep["metadata_peak"].startswith("MaxCLL")
    assert 0 <= rep["out_of_gamut_share"] < 0.01 and rep["flicker"]["log_change_in"] is not None
    assert rep["flicker"]["warp_error_in"] is not None and rep["flicker"]["warp_error_out"] is not None


def test_flicker_without_warp_measures_log_changes_only(hdr10: Path, tmp_path: Path):
    """Without --flicker-warp the meter takes the luminances alone: no optical flow, no PQ signals made, the
    same log changes as with the warp."""
    from hdrvid.metrics.flicker import FlickerMeter

    meter = FlickerMeter(warp=False)
    assert meter._dis is None
    meter.add(None, None, np.full((4, 4), 10.0), np.full((4, 4), 0.5))
    with pytest.raises(ValueError):
        FlickerMeter(warp=True).add(None, None, np.ones((4, 4)), np.ones((4, 4)))
    reps = [tonemap(TonemapOptions(hdr10, tmp_path / f"{w}.mp4", operator="hable", flicker_warp=w))
            for w in (False, True)]
    plain, warped = reps[0]["flicker"], reps[1]["flicker"]
    assert plain["warp_error_in"] is None and warped["warp_error_in"] is not None
    assert plain["log_change_in"] == warped["log_change_in"] is not None
    assert plain["log_change_out"] == warped["log_change_out"]


@needs_ffprobe
def test_hlg_to_sdr(tmp_path: Path):
    src = make_clip(tmp_path / "sdr.mp4", frames=6, size=(64, 48))
    hlg = tmp_path / "hlg.mp4"
    convert(ConvertOptions(src, hlg, format="hlg"))
    out = tmp_path / "out.mp4"
    rep = tonemap(TonemapOptions(hlg, out))
    v = ffprobe(out, "-show_streams", "-select_streams", "v")["streams"][0]
    assert (v["color_transfer"], v["pix_fmt"]) == ("bt709", "yuv420p") and rep["frames"] == 6
    assert rep["input_transfer"] == "hlg"


@needs_ffprobe
def test_target_nits_writes_lower_peak_hdr10(hdr10: Path, tmp_path: Path):
    out = tmp_path / "400.mp4"
    rep = tonemap(TonemapOptions(hdr10, out, target_nits=400))
    v = ffprobe(out, "-show_frames", "-read_intervals", "%+#1", "-select_streams", "v")["frames"][0]
    sd = {s["side_data_type"]: s for s in v["side_data_list"]}
    assert sd["Mastering display metadata"]["max_luminance"] == "4000000/10000"
    assert sd["Content light level metadata"]["max_content"] == rep["max_cll"] <= 400 * 1.35  # (as decoded)
    assert v["color_transfer"] == "smpte2084"


@needs_ffprobe
def test_target_nits_with_given_content_light(hdr10: Path, tmp_path: Path):
    """tonemap --target-nits --max-cll: the values are written as given (CLI end to end); without --target-nits
    the option is refused before anything is written (SDR has no content light level)."""
    out = tmp_path / "400.mp4"
    r = run_cli("tonemap", hdr10, out, "--target-nits", "400", "--max-cll", "400,120")
    assert r.exit_code == 0, r.output
    v = ffprobe(out, "-show_frames", "-read_intervals", "%+#1", "-select_streams", "v")["frames"][0]
    cll = {s["side_data_type"]: s for s in v["side_data_list"]}["Content light level metadata"]
    assert (cll["max_content"], cll["max_average"]) == (400, 120)
    sdr = tmp_path / "sdr.mp4"
    r = run_cli("tonemap", hdr10, sdr, "--max-cll", "400,120")
    assert r.exit_code != 0 and "--max-cll is HDR10 metadata" in r.output and not sdr.exists()


def test_metadata_peak_is_honoured(hdr10: Path, tmp_path: Path):
    a = tonemap(TonemapOptions(hdr10, tmp_path / "a.mp4", peak_mode="metadata"))
    assert a["metadata_peak"].startswith("MaxCLL")
    b = tonemap(TonemapOptions(hdr10, tmp_path / "b.mp4", peak_mode="measure"))
    assert b["frames"] == a["frames"] == 12


def test_two_pass(hdr10: Path, tmp_path: Path):
    rep = tonemap(TonemapOptions(hdr10, tmp_path / "tp.mp4", two_pass=True))
    assert rep["two_pass"] and rep["frames"] == 12


def write_sequence(folder: Path, frames: list[np.ndarray]) -> Path:
    folder.mkdir()
    for i, f in enumerate(frames):
        write_exr(folder / f"{i:05d}.exr", f)
    return folder


@needs_ffprobe
def test_exr_sequence_in(tmp_path: Path):
    seq = write_sequence(tmp_path / "seq", [interior_with_window(t, 96, 54) for t in np.linspace(0, 1, 5)])
    out = tmp_path / "o.mp4"
    r = run_cli("tonemap", seq, out, "--rate", "25")
    assert r.exit_code == 0, r.output
    assert np.allclose(video_pts_seconds(out), np.arange(5) / 25)


def test_sdr_input_is_refused(tmp_path: Path):
    src = make_clip(tmp_path / "sdr.mp4", frames=3)
    r = run_cli("tonemap", src, tmp_path / "o.mp4")
    assert r.exit_code == 2 and "is SDR" in r.output and r.output.count("\n") == 1


def test_preview_contact_sheet(hdr10: Path, tmp_path: Path):
    import cv2

    r = run_cli("tonemap", hdr10, "--preview", tmp_path / "sheet.png")
    assert r.exit_code == 0, r.output
    sheet = cv2.imread(str(tmp_path / "sheet.png"))
    assert sheet.shape == (3 * 64, 4 * 96, 3)  # 11 operators in a 4-column grid
    for name in ("bt2390", "mantiuk", "durand", "drago"):
        assert f"{name} " in r.output


class Sink:
    name = "sink"
    frames = 0

    def process(self, frame):
        self.frames += 1
        return iter(())

    def flush(self):
        return iter(())

    def close(self):
        pass


@pytest.mark.parametrize("operator", ["bt2390", "reinhard", "hable"])
def test_stability_steady_flash_and_cut(tmp_path: Path, operator: str):
    """A steady (slowly moving) scene, a one-frame 4x flash at 15, a hard cut to a darker scene at 30."""
    frames = []
    for i in range(45):
        if i < 30:
            f = interior_with_window(0.2 + 0.004 * i, 160, 90, seed=0)
            if i == 15:
                f = f * 4
        else:
            f = interior_with_window(0.7 + 0.004 * i, 160, 90, seed=5)[:, ::-1] * 0.08
        frames.append(np.ascontiguousarray(f))
    src = ImageSource(write_sequence(tmp_path / "seq", frames), rate=Fraction(25))
    smoother = TemporalSmoother()
    flicker = FlickerStage()
    Runner(src, [smoother, OutputTransform(OutputSpec("sdr", operator=operator, measure_flicker=True)), flicker,
                 Sink()]).run()
    assert smoother.cuts[:1] == [15] and 30 in smoother.cuts  # flash and cut both detected
    meter = flicker.meter
    steady = [k for k in range(44) if k not in (14, 15, 29)]  # transitions k -> k+1 away from flash and cut
    d_in, d_out = meter.log_changes(steady)
    assert d_out.mean() <= 1.05 * d_in.mean(), (d_out.mean(), d_in.mean())
    # adaptation: from 2 frames after the cut the output-vs-input gain is what it settles to
    gain = np.array(meter.log_out) - np.array(meter.log_in)
    assert abs(gain[32] - gain[44]) < 0.02


def test_source_peak_follows_peak_mode():
    import torch

    from hdrvid.pipeline.frame import Frame, FrameStats

    f = Frame(index=0, pts=0, time_base=None, data=torch.zeros(3, 2, 2), stats=FrameStats(peak_smooth=5.0))
    peak = lambda mode, meta: OutputTransform(OutputSpec("sdr", peak_mode=mode, metadata_peak=meta)).source_peak(f)
    assert peak("auto", 2.0) == 2.0  # measured 5x white, but the file says its brightest pixel is 2x
    assert peak("auto", 8.0) == 5.0  # the file's bound is looser than what is measured
    assert peak("metadata", 8.0) == 8.0
    assert peak("measure", 2.0) == 5.0
    assert peak("auto", None) == 5.0  # no metadata: measured


def _colour_checker_codes() -> np.ndarray:
    """The 24 ColorChecker patches (colour-science's 2014 values, Bradford-adapted to D65) as 8-bit BT.709
    codes through the BT.1886 inverse EOTF (how a graded video stores them), (4, 6, 3) uint8."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import colour

    cc = colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyy = np.array(list(cc.data.values()))
    rgb = colour.XYZ_to_RGB(colour.xyY_to_XYZ(xyy), "ITU-R BT.709", illuminant=cc.illuminant,
                            chromatic_adaptation_transform="Bradford")
    sig = colour.models.eotf_inverse_BT1886(np.clip(rgb, 0, 1))
    return np.round(sig * 255).astype(np.uint8).reshape(4, 6, 3)


def _write_chart(path: Path, codes: np.ndarray, patch: int = 16, frames: int = 3) -> Path:
    return make_still_clip(path, np.repeat(np.repeat(codes, patch, 0), patch, 1), frames)


def _patch_centres(path: Path, patch: int = 16) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        f = next(c.decode(video=0))
        rgb = f.to_ndarray(format="rgb24", src_colorspace="ITU709", src_color_range="MPEG").astype(np.float64)
    h, w = rgb.shape[:2]
    return np.array([[rgb[r * patch + 4:r * patch + 12, c * patch + 4:c * patch + 12].reshape(-1, 3).mean(0)
                      for c in range(w // patch)] for r in range(h // patch)])


def test_sdr_to_hdr10_to_sdr_round_trip_returns_the_colour_chart(tmp_path: Path):
    """convert --model none (defaults) then tonemap (defaults) gives back every ColorChecker patch within
    3 code values: reference white x level comes back to SDR white, in-gamut colours are not compressed."""
    codes = _colour_checker_codes()
    src = _write_chart(tmp_path / "chart.mp4", codes)
    ref = _patch_centres(src)
    assert np.abs(ref - codes).max() <= 1.0  # the chart itself is stored exactly
    r = run_cli("convert", src, tmp_path / "hdr.mp4", "-m", "none", "--crf", "0")
    assert r.exit_code == 0, r.output
    r = run_cli("tonemap", tmp_path / "hdr.mp4", tmp_path / "back.mp4", "--crf", "0", "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    back = _patch_centres(tmp_path / "back.mp4")
    err = np.abs(back - ref)
    # (10-bit BT.2020 Y'CbCr alone moves a saturated colour by up to ~1 % of its light; 8-bit SDR by half a code)
    assert err.max() <= 3.0 and err.mean() < 1.5, f"max {err.max():.2f}, mean {err.mean():.2f} code values"
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["out_of_gamut_share"] < 0.01  # BT.709 colours through BT.2020 PQ are not "out of gamut"


@pytest.mark.parametrize("mapping", ["scene", "display"])
def test_sdr_output_of_sdr_input_is_the_input(tmp_path: Path, mapping: str):
    """convert --model none --format sdr does not re-expose SDR footage: whichever way BT.709 is mapped to
    light, the SDR output is encoded the inverse way (within 2 code values of the input)."""
    codes = _colour_checker_codes()
    src = _write_chart(tmp_path / "chart.mp4", codes)
    r = run_cli("convert", src, tmp_path / "sdr.mp4", "-m", "none", "--format", "sdr", "--crf", "0",
                "--sdr-mapping", mapping)
    assert r.exit_code == 0, r.output
    err = np.abs(_patch_centres(tmp_path / "sdr.mp4") - _patch_centres(src))
    assert err.max() <= 2.0, f"max {err.max():.2f} code values"


@needs_ffprobe
def test_tonemap_a_part_keeps_audio_in_step(hdr10: Path, tmp_path: Path):
    """--start/--duration/--frames: the part asked for, audio trimmed with it, timestamps from 0."""
    out = tmp_path / "part.mp4"
    run_cli("tonemap", hdr10, out, "--operator", "hable", "--start", "0.125", "--duration", "0.25")
    v = [s for s in ffprobe(out, "-show_streams")["streams"] if s["codec_type"] == "video"][0]
    assert int(v["nb_frames"]) == 6  # 0.25 s at 24 fps
    pts = video_pts_seconds(out)
    assert pts[0] == pytest.approx(0.0, abs=1e-3)
    assert any(s["codec_type"] == "audio" for s in ffprobe(out, "-show_streams")["streams"])
    few = tmp_path / "few.mp4"
    run_cli("tonemap", hdr10, few, "--frames", "3")
    assert int([s for s in ffprobe(few, "-show_streams")["streams"] if s["codec_type"] == "video"][0]["nb_frames"]) == 3
