"""Camera simulation, training loop (tiny), evaluation harness and its agreement with convert."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from hdrvid.color.transfer import srgb_eotf
from hdrvid.io.images import read_hdr, write_exr
from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.jobs.evaluate import evaluate, model_input
from hdrvid.synth.camera import FILM_GRADES, GRADES, SETTINGS, film_curve, grade, shoot
from hdrvid.synth.scenes import interior_with_window

SHARED = Path(__file__).resolve().parents[2] / "shared" / "hdri-train"


@pytest.fixture
def hdr_folder(tmp_path: Path) -> Path:
    d = tmp_path / "hdr"
    d.mkdir()
    for i in range(2):
        write_exr(d / f"scene{i}.exr", interior_with_window(0.3 + 0.4 * i, 96, 64, seed=i))
    return d


@pytest.mark.parametrize("setting", SETTINGS)
def test_camera_is_deterministic_and_clips_as_asked(setting):
    hdr = interior_with_window(0.5, 96, 64)
    a = shoot(hdr, np.random.default_rng(7), setting)
    b = shoot(hdr, np.random.default_rng(7), setting)
    assert np.array_equal(a.signal, b.signal) and a.signal.dtype == np.uint8
    share = a.clipped.mean()
    lo, hi = {"srgb-mid": (0.005, 0.15), "hard": (0.2, 0.5), "broadcast": (0.01, 0.3), "consumer": (0.01, 0.45)}[setting]
    assert lo <= share <= hi, share
    if setting == "srgb-mid":  # a known curve: unclipped pixels decode back to the radiance (8-bit steps)
        ok = ~a.clipped & (a.target.max(-1) > 0.05)
        rel = np.abs(a.linear[ok] - a.target[ok]) / a.target[ok]
        assert np.median(rel) < 0.02
        np.testing.assert_allclose(a.linear, srgb_eotf(a.signal / 255.0), atol=1e-6)


@pytest.mark.parametrize("curve", FILM_GRADES)
def test_film_curves_are_monotone_view_transforms_that_desaturate_towards_white(curve):
    """Each per-channel film curve maps black to black, is non-decreasing, puts mid grey in the middle of the
    display range and reaches (near) white for very bright light; applied per channel, a saturated highlight
    comes out less saturated than its mid-tone version (what a real grade does and a clip does not)."""
    rng = np.random.default_rng(0)
    x = torch.logspace(-4, 3, 400, dtype=torch.float64)
    y = film_curve(x, curve, rng)
    assert float(y[0]) < 0.01 and float(y[-1]) > 0.9
    assert bool((y[1:] >= y[:-1] - 1e-12).all()) and 0.05 < float(film_curve(torch.tensor(0.18), curve, rng)) < 0.45
    colour = torch.tensor([1.0, 0.3, 0.1], dtype=torch.float64)
    mid, hot = film_curve(0.18 * colour, curve, rng), film_curve(30 * colour, curve, rng)
    sat = lambda c: float((c.max() - c.min()) / c.max())
    assert sat(hot) < sat(mid)


def test_every_grade_gives_a_display_picture():
    hdr = interior_with_window(0.5, 96, 64)
    for curve in GRADES:
        d = grade(hdr * 2.0, np.random.default_rng(3), curve)
        assert d.shape == hdr.shape and d.dtype == np.float32 and 0.0 <= d.min() and d.max() <= 1.0
        assert 0.02 < float(d.mean()) < 0.9, curve


def test_training_runs_checkpoints_and_resumes(hdr_folder: Path, tmp_path: Path):
    from hdrvid.train import TrainConfig, train

    out = tmp_path / "run"
    cfg = TrainConfig(data=[str(hdr_folder)], out=str(out), steps=3, batch=2, patch=32, procedural=2,
                      checkpoint_every=2, bf16=False)
    s = train(cfg, progress=False)
    assert s["steps"] == 3 and s["train_images"] == 2
    for name in ("checkpoint.pt", "expandnet.pt", "loss.png", "config.json", "summary.json"):
        assert (out / name).is_file(), name
    assert json.loads((out / "config.json").read_text())["patch"] == 32
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert int(state["step"]) == 3
    cfg.steps = 5
    s2 = train(cfg, progress=False)
    assert s2["steps"] == 5 and int(torch.load(out / "checkpoint.pt", weights_only=True)["losses"].shape[0]) == 5
    from hdrvid.models import build

    net = build("expandnet", weights=out / "expandnet.pt")  # the EMA weights load into the model
    y = net(torch.rand(1, 3, 32, 32))
    assert torch.isfinite(y).all()


def test_eval_reports_baselines_side_by_side(hdr_folder: Path):
    r = evaluate(["itmo"], [hdr_folder], settings=("srgb-mid", "hard"), width=96, all_images=True)
    assert r["models"] == ["none", "itmo"] and r["images"] == ["scene0", "scene1"]
    for n in r["models"]:
        for s in ("srgb-mid", "hard"):
            assert r["scores"][n][s]["clipped/pu21_psnr"] is not None
            assert r["scores"][n][s]["unclipped/psnr_mu"] is not None
            assert r["scores"][n][s]["clipped/highlight_level"] is not None
    # exact linearisation is exact where nothing clipped (up to 8-bit quantisation)
    assert r["scores"]["none"]["srgb-mid"]["unclipped/psnr_mu"] > 40


def test_eval_scores_an_ensemble_as_the_geometric_mean_of_its_members(hdr_folder: Path):
    """``-m A+B``: one row, each frame the geometric mean of the members' outputs (hdrunet card, session 34)."""
    from hdrvid.jobs.evaluate import Ensemble, executor_for
    from hdrvid.runtime import EngineOptions

    runner = executor_for("none+itmo", None, EngineOptions())
    assert isinstance(runner, Ensemble) and len(runner.members) == 2
    # srgb-mid: the hard camera's frame is brighter than itmo's average-light cap before any expansion (session 50)
    shot = shoot(interior_with_window(0.3, 64, 48), np.random.default_rng(0), "srgb-mid")
    x = model_input(shot.signal, shot.nominal)
    with torch.no_grad():
        a, b = (m.infer(x).float() for m in runner.members)
        want = torch.sqrt(a.clamp(min=1e-6) * b.clamp(min=1e-6))
        assert float((a - b).abs().max()) > 0.01  # the members differ, so the mean is a real mix
        assert torch.allclose(runner.infer(x), want, rtol=1e-5, atol=1e-6)
    from hdrvid.errors import OptionError

    with pytest.raises(OptionError, match="each side of"):
        executor_for("none+", None, EngineOptions())
    r = evaluate(["none+itmo"], [hdr_folder], settings=("hard",), width=96, all_images=True)
    assert r["models"] == ["none", "itmo", "none+itmo"]
    assert r["scores"]["none+itmo"]["hard"]["clipped/psnr_mu"] is not None


def test_eval_and_convert_see_the_same_image(tmp_path: Path):
    """One HDR image through `hdrvid eval`'s path and through `hdrvid convert image.png out.exr`."""
    shot = shoot(interior_with_window(0.4, 96, 64), np.random.default_rng(3), "srgb-mid")
    png = tmp_path / "shot.png"
    cv2.imwrite(str(png), shot.signal[:, :, ::-1])
    convert(ConvertOptions(png, tmp_path / "shot.exr", model="itmo"))
    via_convert = read_hdr(tmp_path / "shot.exr")
    from hdrvid.models import build

    via_eval = build("itmo")(model_input(shot.signal, shot.nominal))[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(via_convert, via_eval, rtol=2e-3, atol=1e-4)  # half-float EXR


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/hdri-train not present")
def test_held_out_split_on_the_shared_panoramas():
    from hdrvid.io.images import list_hdr
    from hdrvid.train.data import split

    train_files, held = split(list_hdr([SHARED]))
    assert {f.stem for f in held} == {"bridge", "lobby", "venice", "park", "courtyard", "sunset"}
    assert not ({f.stem for f in train_files} & {f.stem for f in held})


def test_rendered_scenes_are_trained_on_and_never_change_the_validation_set():
    from hdrvid.train.data import validation_split

    real = [Path(f"/d/{n}.hdr") for n in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n"]]
    rendered = [Path(f"/r/rendered-{i:04d}.exr") for i in range(9)]
    train_real, val_real = validation_split(real)
    train_all, val_all = validation_split(real + rendered)
    assert val_all == val_real == [Path("/d/d.hdr"), Path("/d/k.hdr")]
    assert set(train_all) == set(train_real) | set(rendered)
    twin = Path("/e/k.exr")  # the same scene as a validation image, from another folder
    train_twin, val_twin = validation_split(real + [twin])
    assert twin not in train_twin and twin not in val_twin and Path("/d/k.hdr") in val_twin


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/hdri-train not present")
def test_no_validation_scene_is_trained_on():
    """blender-world/sunrise.exr is the panorama of pmndrs-1k/sunrise.hdr, a validation scene: it is not training data."""
    from hdrvid.io.images import list_hdr
    from hdrvid.train.data import split, validation_split

    train, val = validation_split(split(list_hdr([SHARED / d for d in ("pmndrs-1k", "polyhaven-1k", "blender-world")]))[0])
    assert len(val) == 8 and "sunrise" in {f.stem for f in val}
    assert not ({f.stem for f in train} & {f.stem for f in val})


def test_train_command_end_to_end(hdr_folder: Path, tmp_path: Path):
    """``hdrvid train`` from the command line: a short run writes its weights, config and summary, passes
    ``--validation`` through, and a bad option value is one line, exit 2, nothing written."""
    from conftest import run_cli

    out = tmp_path / "run"
    r = run_cli("train", "-m", "expandnet", "--data", hdr_folder, "--out", out, "--steps", "2", "--batch", "2",
                "--patch", "32", "--procedural", "1", "--checkpoint-every", "2", "--validation", "4", "--fp32", "-q")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output[r.output.index("{"):])["steps"] == 2
    assert (out / "expandnet.pt").is_file() and json.loads((out / "config.json").read_text())["validation"] == 4
    bad = tmp_path / "bad"
    r = run_cli("train", "-m", "expandnet", "--data", hdr_folder, "--out", bad, "--validation", "0", "-q")
    assert r.exit_code == 2 and "--validation must be at least 1" in r.output and len(r.output.strip().splitlines()) == 1
    assert not bad.exists()
    for model, args, said in (("expandnet", ["--model-arg", "width=8"], "does not take it"),
                              ("expandnet", ["--model-arg", "=3"], "give KEY=VALUE"),
                              ("expandnet", ["--sharpen-share", "0.5"], "only the super-resolution network"),
                              ("brackets", ["--model-arg", "fuse_middle=maybe"], "give true or false"),
                              ("brackets", ["--model-arg", "width=8.5"], "give a whole number"),
                              ("hdrunet-2x", ["--model-arg", "max_residual=true"], "give a number")):
        r = run_cli("train", "-m", model, "--data", hdr_folder, "--out", bad, *args, "-q")  # options it cannot take
        assert r.exit_code == 2 and said in r.output and len(r.output.strip().splitlines()) == 1, r.output
        assert not bad.exists()


def test_model_args_are_typed() -> None:
    from hdrvid.cli import parse_model_args

    assert parse_model_args(("max_residual=1.0", "blocks=8", "edge_gate=false", "name=x")) == {
        "max_residual": 1.0, "blocks": 8, "edge_gate": False, "name": "x"}
    assert isinstance(parse_model_args(("blocks=8",))["blocks"], int)
