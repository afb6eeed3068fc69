"""Alternating-exposure footage: cycle detection, merges against ground truth, CLI paths, still brackets."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import run_cli
from media import ffprobe, needs_ffprobe

from hdrvid.errors import InputError
from hdrvid.jobs.merge_eval import ReferenceOnly, score_clip
from hdrvid.pipeline.alternating import AlternatingMerge, Cycle, detect_cycle, fit_cycle, make_merger
from hdrvid.pipeline.decoder import DecodeOptions, ImageSource, VideoDecoder
from hdrvid.pipeline.frame import Frame
from hdrvid.synth.alternating import SynthConfig, frames_hdr, synth_alternating
from hdrvid.synth.scenes import interior_with_window


@pytest.fixture(scope="module")
def scene():
    return interior_with_window(0.4, 480, 270, seed=3)


def _clip(tmp: Path, scene: np.ndarray, exposures, frames=12, size=(160, 96), **kw):
    cfg = SynthConfig(exposures=tuple(exposures), frames=frames, size=size, seed=5, **kw)
    video = tmp / f"alt{len(exposures)}.mp4"
    synth_alternating(scene, video, None, cfg)
    return video, cfg


def test_fit_cycle_finds_period_values_and_phase():
    two = [0, 4.1, 0.1, 3.9, 0.0, 4.0, 0.2, 4.1, 0.1]
    assert fit_cycle(two).exposures == (-2.0, 2.0)
    assert fit_cycle([4.0 + v for v in [0, -4, 0.1, -3.9, 0, -4, 0.1, -4, 0]]).exposures == (2.0, -2.0)  # long first
    three = [0, 2, 4, 0.1, 2.1, 3.9, 0, 2, 4, 0.1]
    assert fit_cycle(three).exposures == (-2.0, 0.0, 2.0)
    shifted = three[1:] + [2.0]  # starts on the middle exposure
    assert fit_cycle(shifted).exposures == (0.0, 2.0, -2.0)
    # given values: only the phase is measured
    assert fit_cycle([5, 1, 5, 1, 5, 1, 5], (-2.0, 2.0)).exposures == (2.0, -2.0)
    with pytest.raises(InputError, match="do not alternate"):
        fit_cycle([0.0, 0.05, 0.0, -0.05, 0.0, 0.02, 0.01])


def test_cycle_and_phase_are_measured_from_a_clip(tmp_path, scene):
    video, _ = _clip(tmp_path, scene, (2.0, -2.0))  # the first frame is the long exposure
    cyc = detect_cycle(video, DecodeOptions())
    assert cyc.exposures == (2.0, -2.0)
    video3, _ = _clip(tmp_path, scene, (-2.0, 0.0, 2.0))
    assert detect_cycle(video3, DecodeOptions()).exposures == (-2.0, 0.0, 2.0)


def _merge_clip(merger, video: Path, cycle: Cycle) -> list[np.ndarray]:
    dec = VideoDecoder(video, DecodeOptions())
    stage = AlternatingMerge(merger, cycle)
    out = []
    try:
        for f in dec:
            out += [g.data.numpy() for g in stage.process(f)]
            assert len(stage.window) <= 3 and len(stage.flows) <= 4  # constant memory
        out += [g.data.numpy() for g in stage.flush()]
    finally:
        dec.close()
    return out


@pytest.mark.parametrize("exposures", [(-2.0, 2.0), (-2.0, 0.0, 2.0)])
def test_aligned_merge_beats_unaligned_and_reference_on_moving_content(tmp_path, scene, exposures):
    video, cfg = _clip(tmp_path, scene, exposures, pan=3.0, objects=2, object_speed=5.0)
    gts = list(frames_hdr(scene, cfg)[0])
    cycle = Cycle(exposures)
    scores = {}
    for name, merger in (("reference", ReferenceOnly()), ("debevec", make_merger("debevec")),
                         ("flowmerge", make_merger("flowmerge"))):
        preds = _merge_clip(merger, video, cycle)
        assert len(preds) == cfg.frames and preds[0].shape == (3, 96, 160)
        scores[name] = score_clip(preds, gts)
    assert scores["flowmerge"]["psnr_mu"] > scores["debevec"]["psnr_mu"] + 0.3, scores
    assert scores["flowmerge"]["psnr_mu"] > scores["reference"]["psnr_mu"] + 1.0, scores
    assert scores["flowmerge"]["pu21_psnr"] > scores["reference"]["pu21_psnr"], scores


def test_saturated_reference_takes_radiance_from_the_short_neighbour():
    from hdrvid.models.merge import DISFlow, flow_merge

    rng = np.random.default_rng(0)
    rad = (rng.random((3, 64, 64)).astype(np.float32) * 0.2 + 0.05)
    rad[:, 20:40, 20:40] = 3.0  # a highlight 3x white at EV 0
    long_ = np.clip(rad * 4, 0, 1)  # EV +2: clipped there
    short = np.clip(rad / 4, 0, 1)  # EV -2: 0.75, measured
    pair = DISFlow().pair(long_, 2.0, short, -2.0)
    out = flow_merge(long_, 2.0, [(short, -2.0, pair)])
    assert abs(float(out[:, 25:35, 25:35].mean()) - 3.0) < 0.15
    well = out[:, 50:, 50:] / rad[:, 50:, 50:]
    assert abs(float(np.median(well)) - 1.0) < 0.02  # well-exposed pixels keep the reference's radiance


@needs_ffprobe
def test_convert_alternating_to_hdr10_end_to_end(tmp_path, scene):
    video, cfg = _clip(tmp_path, scene, (-2.0, 2.0), frames=10, size=(96, 64))
    out = tmp_path / "hdr.mp4"
    r = run_cli("convert", video, out, "--mode", "alternating", "--exposures", "+2,-2", "-q",
                "--report", tmp_path / "r.json")
    assert r.exit_code == 0, r.output
    rep = json.loads((tmp_path / "r.json").read_text())
    assert rep["exposures"] == [-2.0, 2.0] and rep["frames"] == 10  # values given, phase measured
    assert rep["model"] == "kalantari" or rep.get("merge") == "kalantari"  # the default merge
    v = ffprobe(out, "-count_frames", "-show_streams", "-select_streams", "v")["streams"][0]
    assert v["nb_read_frames"] == "10" and v["color_transfer"] == "smpte2084" and v["pix_fmt"] == "yuv420p10le"
    # given EVs with a wrong count is a usage error; an image input is refused with the fix named
    r = run_cli("convert", video, tmp_path / "x.mp4", "--mode", "alternating", "--exposures", "-2")
    assert r.exit_code == 2 and "2 or 3 exposures" in r.output


def test_convert_alternating_exr_output_matches_ground_truth(tmp_path, scene):
    video, cfg = _clip(tmp_path, scene, (-2.0, 0.0, 2.0), frames=9, size=(128, 72), pan=1.0, objects=0)
    r = run_cli("convert", video, tmp_path / "exr", "--mode", "alternating", "--exposures", "-2,0,2", "-q",
                "--merge", "flowmerge")
    assert r.exit_code == 0, r.output
    src = ImageSource(tmp_path / "exr")
    written = [f.data.numpy() for f in src]
    src.close()
    direct = _merge_clip(make_merger("flowmerge"), video, Cycle((-2.0, 0.0, 2.0)))
    assert len(written) == len(direct) == 9
    for w, d in zip(written, direct):  # what convert wrote is the merge itself (half-float EXR)
        np.testing.assert_allclose(w, d, rtol=2e-3, atol=1e-4)
    gts = list(frames_hdr(scene, cfg)[0])
    ref_only = _merge_clip(ReferenceOnly(), video, Cycle((-2.0, 0.0, 2.0)))
    assert score_clip(written, gts)["psnr_mu"] > score_clip(ref_only, gts)["psnr_mu"] + 1.0


def test_synth_cli_writes_clip_and_ground_truth(tmp_path):
    r = run_cli("synth", "alternating", "-o", tmp_path / "a.mp4", "--gt", tmp_path / "gt", "--frames", "6",
                "--size", "96x64", "--exposures", "-2,0,2")
    assert r.exit_code == 0, r.output
    assert len(list((tmp_path / "gt").glob("*.exr"))) == 6
    meta = json.loads((tmp_path / "gt" / "synth.json").read_text())
    assert meta["exposures"] == [-2.0, 0.0, 2.0] and "semi-synthetic" in meta["note"]
    dec = VideoDecoder(tmp_path / "a.mp4", DecodeOptions())
    assert len(list(dec)) == 6
    dec.close()


def _kalantari_scene(folder: Path, scene: np.ndarray) -> None:
    """A scene in the Kalantari 2017 layout: 16-bit gamma-2.2 tifs at EV -2/0/+2 with a small shift."""
    from hdrvid.io.images import write_hdr

    folder.mkdir(parents=True)
    # within what the brackets can record (the EV -2 picture clips at 4x the reference's white)
    hdr = np.minimum(cv2.resize(scene, (160, 96), interpolation=cv2.INTER_AREA), 3.5)
    for i, ev in enumerate((-2.0, 0.0, 2.0)):
        shifted = np.roll(hdr, 2 * (i - 1), axis=1)  # the camera moved a little between brackets
        sig = np.clip(shifted * 2.0**ev, 0, 1) ** (1 / 2.2)
        cv2.imwrite(str(folder / f"img{i}.tif"), np.round(sig * 65535).astype(np.uint16)[:, :, ::-1])
    (folder / "exposure.txt").write_text("-2\n0\n2\n")
    write_hdr(folder / "HDRImg.hdr", hdr)


def test_merge_cli_and_kalantari_layout_eval(tmp_path, scene):
    _kalantari_scene(tmp_path / "scenes" / "001", scene)
    out = tmp_path / "merged.exr"
    r = run_cli("merge", tmp_path / "scenes" / "001", "-o", out)
    assert r.exit_code == 0, r.output
    assert "exposures [-2.0, 0.0, 2.0]" in r.output
    from hdrvid.io.images import read_hdr
    from hdrvid.metrics.hdr import hdr_metrics

    assert hdr_metrics(read_hdr(out), read_hdr(tmp_path / "scenes" / "001" / "HDRImg.hdr"))["psnr_mu"] > 30
    for method in ("debevec", "robertson", "mertens"):
        r = run_cli("merge", tmp_path / "scenes" / "001" / "img0.tif", tmp_path / "scenes" / "001" / "img1.tif",
                    tmp_path / "scenes" / "001" / "img2.tif", "--exposures", "-2,0,2", "--crf", "gamma22",
                    "--method", method, "-o", tmp_path / f"{method}.exr")
        assert r.exit_code == 0, r.output
    r = run_cli("eval", "--dataset", "kalantari", "--data", tmp_path / "scenes", "-m", "flowmerge")
    assert r.exit_code == 0, r.output
    assert "flowmerge" in r.output and "(1 scenes)" in r.output
    r = run_cli("merge", tmp_path / "scenes" / "001" / "img0.tif", "-o", tmp_path / "one.exr")
    assert r.exit_code == 2 and "two or more" in r.output


def test_alternating_stage_edges_and_single_frame():
    stage = AlternatingMerge(make_merger("debevec"), Cycle((-1.0, 1.0)))
    frames = [Frame(index=i, pts=i, time_base=None, data=torch.full((3, 8, 8), 0.3)) for i in range(3)]
    out = [g for f in frames for g in stage.process(f)] + list(stage.flush())
    assert [f.index for f in out] == [0, 1, 2]
    # radiance is consistent across exposures: 0.3 at EV -1 and EV +1 are different radiances, merged per frame
    assert all(torch.isfinite(f.data).all() for f in out)
    single = AlternatingMerge(make_merger("debevec"), Cycle((-1.0, 1.0)))
    assert [f.index for f in list(single.process(frames[0])) + list(single.flush())] == [0]


@pytest.mark.parametrize("name", ["ahdr", "kalantari"])
def test_learned_merges_ship_run_and_export(tmp_path, scene, name, monkeypatch):
    from hdrvid.export.onnx import export_onnx
    from hdrvid.models import build, get

    monkeypatch.setenv("HDRVID_CACHE", str(tmp_path / "cache"))
    assert get(name).trained and build(name) is not None  # shipped weights, sha256-checked
    r = export_onnx(name, tmp_path / name / "model.onnx")  # warping (grid_sample) inside the graph
    assert r.parity_ok and r.max_abs_diff < 1e-4  # checked at two sizes: nothing size-specific baked in
    video, cfg = _clip(tmp_path, scene, (-2.0, 2.0), frames=6, size=(96, 64))
    out = tmp_path / f"{name}_exr"
    res = run_cli("convert", video, out, "--mode", "alternating", "--exposures", "-2,2", "--merge", name,
                  "--backend", "onnxruntime", "-q")
    assert res.exit_code == 0, res.output
    src = ImageSource(out)
    preds = [f.data.numpy() for f in src]
    src.close()
    assert len(preds) == 6 and all(np.isfinite(p).all() and p.min() >= 0 for p in preds)
    gts = list(frames_hdr(scene, cfg)[0])
    ref_only = _merge_clip(ReferenceOnly(), video, Cycle((-2.0, 2.0)))
    assert score_clip(preds, gts)["psnr_mu"] > score_clip(ref_only, gts)["psnr_mu"]


def test_eval_alternating_cli_and_bench_merge(tmp_path, scene):
    from hdrvid.io.images import write_hdr

    data = tmp_path / "hdr"
    data.mkdir()
    write_hdr(data / "room.hdr", np.minimum(cv2.resize(scene, (240, 136), interpolation=cv2.INTER_AREA), 3.5))
    r = run_cli("eval", "--mode", "alternating", "-m", "flowmerge", "--data", data, "--frames", "5", "--size",
                "96x64", "--json", tmp_path / "alt.json")
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "alt.json").read_text())
    assert res["merges"] == ["reference", "debevec", "flowmerge"] and res["cycles"] == ["-2/+2", "-2/+0/+2"]
    s = res["scores"]
    assert s["flowmerge"]["-2/+2"]["psnr_mu"] > s["reference"]["-2/+2"]["psnr_mu"]
    assert "semi-synthetic" in r.output
    r = run_cli("bench", "--resolution", "96x64", "--frames", "6", "-m", "itmo", "--backend", "torch",
                "--merge", "flowmerge", "--mode", "pipelined", "--no-transcode", "--json", tmp_path / "b.json", "-q")
    assert r.exit_code == 0, r.output
    rows = json.loads((tmp_path / "b.json").read_text())["rows"]
    merge_rows = [row for row in rows if row["model"] == "merge:flowmerge"]
    assert merge_rows and merge_rows[0]["fps"] > 0 and "merge" in merge_rows[0]["stages_busy_s"]
    # a learned merge: the network alone on both backends (classical merges have no model row)
    r = run_cli("bench", "--resolution", "96x64", "--frames", "4", "-m", "none", "--backend", "torch", "--backend",
                "onnxruntime", "--merge", "kalantari", "--merge", "flowmerge", "--mode", "model", "--no-transcode",
                "--json", tmp_path / "m.json", "-q")
    assert r.exit_code == 0, r.output
    rows = json.loads((tmp_path / "m.json").read_text())["rows"]
    got = {(row["model"], row["backend"], row["mode"]) for row in rows if row["model"].startswith("merge:")}
    assert got == {("merge:kalantari", "torch", "model"), ("merge:kalantari", "onnxruntime", "model")}


def test_log_flicker_is_zero_for_the_truth_and_positive_for_pumping():
    from hdrvid.jobs.merge_eval import log_flicker

    gts = [np.full((8, 8, 3), 0.5, np.float32) * (1 + 0.01 * i) for i in range(6)]
    same = [g.transpose(2, 0, 1) for g in gts]
    signed, unsigned = log_flicker(same, gts)
    assert abs(signed) < 1e-9 and unsigned < 1e-9
    pumping = [g.transpose(2, 0, 1) * (1.5 if i % 2 else 1.0) for i, g in enumerate(gts)]
    signed, unsigned = log_flicker(pumping, gts)
    assert signed > 0.5 and unsigned > 0.5  # log2(1.5) = 0.58 every transition


def test_realistic_clips_clip_in_every_exposure_and_use_other_responses():
    from hdrvid.synth.alternating import RESPONSES, realistic_config, response_curve

    rng = np.random.default_rng(0)
    cfgs = [realistic_config(rng, 2, 4, (96, 64), seed) for seed in range(40)]
    ratios = {2 ** (max(c.exposures) - min(c.exposures)) for c in cfgs}
    assert ratios <= {4.0, 8.0, 16.0} and len(ratios) > 1
    assert {c.response for c in cfgs} - {"bt709"}
    assert any(c.short_clip > 0 for c in cfgs) and any(c.blur > 1 for c in cfgs)
    ramp = np.linspace(0, 1, 64, dtype=np.float32)
    for name in RESPONSES:  # every response is monotone, 0 -> 0 and 1 -> 1
        r = response_curve(ramp, name)
        assert np.all(np.diff(r) >= 0) and abs(r[0]) < 1e-6 and abs(r[-1] - 1) < 1e-6
    hdr = interior_with_window(0.4, 240, 160, seed=1)
    cfg = SynthConfig(exposures=(-2.0, 2.0), frames=2, size=(96, 64), short_clip=0.03, long_clip=0.3, blur=3)
    first = next(frames_hdr(hdr, cfg, donor=hdr[::-1].copy())[0])
    short_clipped = float((first * 0.25).max(-1).__ge__(1).mean())
    long_clipped = float((first * 4).max(-1).__ge__(1).mean())
    assert short_clipped >= 0.02 and 0.25 <= long_clipped <= 0.56


def test_clip_scale_does_not_forgive_alternating_brightness():
    gts = [np.full((24, 24, 3), 0.5, np.float32) for _ in range(6)]
    steady = [np.full((3, 24, 24), 0.25, np.float32) for _ in range(6)]  # right up to one scale: perfect
    pumping = [np.full((3, 24, 24), 0.25 * (1.3 if i % 2 else 1.0), np.float32) for i in range(6)]
    assert score_clip(steady, gts)["psnr_mu"] == float("inf")
    assert score_clip(pumping, gts)["psnr_mu"] < 40
    assert score_clip(pumping, gts)["flicker_signed"] > 0.3


def test_flow_at_reduced_resolution_matches_full_resolution_motion():
    from hdrvid.models.merge import DISFlow, resize_flow, work_size

    assert work_size((3, 720, 1280), 640) == (640, 360) and work_size((3, 180, 320), 640) == (320, 180)
    f = np.zeros((4, 6, 2), np.float32)
    f[..., 0] = 2.0
    assert np.allclose(resize_flow(f, (12, 8))[..., 0], 4.0)
    hdr = interior_with_window(0.4, 700, 420, seed=2)
    a = np.ascontiguousarray(np.clip(hdr[:360, :640] * 0.5, 0, 1).transpose(2, 0, 1))
    b = np.ascontiguousarray(np.clip(hdr[3:363, 5:645] * 0.5, 0, 1).transpose(2, 0, 1))  # moved by (-5, -3)
    for side in (0, 320):
        fp = DISFlow("medium", side).pair(a, 0.0, b, 0.0)
        inner = fp.ab[40:-40, 40:-40]
        assert fp.ab.shape == (360, 640, 2)
        assert abs(float(np.median(inner[..., 0])) + 5) < 0.5 and abs(float(np.median(inner[..., 1])) + 3) < 0.5


def test_response_self_calibration_stops_alternating_brightness(tmp_path, scene):
    """A camera whose response is not its tag (gamma 2.6 tagged BT.709) makes the two exposures disagree on
    every radiance; the cycle's response power (known spread / measured spread) puts them back in agreement,
    so the merged frames stop alternating in brightness."""
    from hdrvid.jobs.merge_eval import log_flicker

    video, cfg = _clip(tmp_path, scene, (-2.0, 2.0), frames=10, response="gamma2.6", noise=0.3)
    cyc = detect_cycle(video, DecodeOptions(), (-2.0, 2.0))
    assert 1.15 < cyc.response_power < 1.8  # the toe of BT.709's inverse curve compresses dark ratios further
    gts = list(frames_hdr(scene, cfg)[0])
    plain = _merge_clip(make_merger("flowmerge"), video, Cycle(cyc.exposures))
    calibrated = _merge_clip(make_merger("flowmerge"), video, cyc)
    assert abs(log_flicker(calibrated, gts)[0]) < 0.5 * abs(log_flicker(plain, gts)[0])
    assert fit_cycle([0, 4, 0, 4, 0, 4, 0], (-2.0, 2.0)).response_power == 1.0  # a camera that matches its tag


def test_warp_is_exact_bilinear_for_any_number_of_planes():
    """flowmerge's backward warp samples every plane bilinearly at p + flow(p), edges replicated: the picture
    (3 planes) and the flow itself (2 planes, for the consistency test) alike. (Handing OpenCV an interleaved
    2-channel picture took a path that rounds positions to 1/32 pixel: errors up to 0.02 on a noisy picture.)"""
    from hdrvid.models.merge import warp

    rng = np.random.default_rng(3)
    h, w = 40, 56
    flow = np.stack([rng.random((h, w)) * 12 - 6, rng.random((h, w)) * 8 - 4], -1).astype(np.float32)
    gx, gy = np.meshgrid(np.arange(w), np.arange(h))
    x = np.clip(gx + flow[..., 0].astype(np.float64), 0, w - 1)
    y = np.clip(gy + flow[..., 1].astype(np.float64), 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = x - x0, y - y0
    for planes in (2, 3):
        pic = rng.random((planes, h, w)).astype(np.float32)
        p = pic.astype(np.float64)
        top = p[:, y0, x0] * (1 - fx) + p[:, y0, x1] * fx
        want = top * (1 - fy) + (p[:, y1, x0] * (1 - fx) + p[:, y1, x1] * fx) * fy
        np.testing.assert_allclose(warp(pic, flow), want, atol=2e-6)


def test_compiled_flow_merge_is_the_numpy_definition():
    """flowmerge's per-pixel weights and sum in one numba pass (the default) give the numpy lines' result
    within float rounding: two, one and no neighbours, full-size and reduced masks, clipped and crushed
    areas (where the weights vanish and the fallback takes over), light outside [0, 1]."""
    from hdrvid.models.merge import DISFlow, flow_merge

    rng = np.random.default_rng(4)
    h, w = 72, 128
    scene = cv2.GaussianBlur(rng.random((h, w, 3)).astype(np.float32), (0, 0), 4) * 3
    scene[10:25, 10:40] = 40.0  # clipped in every exposure
    scene[40:55, 60:90] = 1e-4  # crushed in every exposure
    ref = np.clip(scene * 0.25, 0, 1).transpose(2, 0, 1).copy()
    ref[:, 0, :5] = -0.01  # light a decoder can give outside [0, 1]
    long1 = np.clip(np.roll(scene, 2, 1) * 4, 0, 1).transpose(2, 0, 1).copy()
    long2 = np.clip(np.roll(scene, -3, 0) * 4, 0, 1.02).transpose(2, 0, 1).copy()
    flow = DISFlow("medium")
    nbs = [(long1, 2.0, flow.pair(ref, -2.0, long1, 2.0)), (long2, 2.0, flow.pair(ref, -2.0, long2, 2.0))]
    for mask_side, snr in ((0, 0.0), (64, 1.0)):
        for k in (2, 1, 0):
            want = flow_merge(ref, -2.0, nbs[:k], mask_side, snr, compiled=False)
            got = flow_merge(ref, -2.0, nbs[:k], mask_side, snr, compiled=True)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
