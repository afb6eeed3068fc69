"""The one training loop: deadlines for every model, devices, EMA copies built from the factory's arguments,
two optimisers in the right order, a timestep per example, resume."""

import contextlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from hdrvid.models import build, get, names
from hdrvid.train import TrainConfig, train
from hdrvid.train.loop import DISCRIMINATOR, GENERATOR, TrainContext, TrainLoop, to_device
from hdrvid.train.run import FAMILIES

TINY = {"expandnet": {}, "hdrunet": {"width": 4, "context": 8}, "hdrunet-graded": {"width": 4, "context": 8},
        "hdrunet-auto": {"width": 4, "context": 8}, "hdrunet-lite": {"width": 4, "context": 8},
        "ahdr": {"features": 8, "growth": 4, "blocks": 1}, "kalantari": {"features": 8},
        "diffhdr": {"features": 4, "unet": (8, 8, 8)}, "diffhdr-single": {"features": 4, "unet": (8, 8, 8)},
        "brackets": {"width": 4, "fusion_width": 4}, "brackets-cf2x": {"width": 4, "fusion_width": 4},
        "brackets-2x": {"width": 8, "blocks": 1},
        "hdrunet-2x": {"width": 8, "blocks": 1},
        "brackets-debevec": {"width": 4, "fusion_width": 4}}


def _cfg(tmp_path: Path, model: str, **kw) -> TrainConfig:
    base = dict(model=model, out=str(tmp_path / model), steps=10_000, batch=2, patch=32, procedural=1, samples=2,
                validation=2, checkpoint_every=10_000, bf16=False, model_kwargs=TINY.get(model, {}))
    return TrainConfig(**{**base, **kw})


def test_every_trainable_model_has_a_tiny_config_here():
    trainable = [n for n in names() if get(n).kind in FAMILIES]
    assert sorted(trainable) == sorted(TINY)


@pytest.mark.parametrize("model", sorted(TINY))
def test_minutes_stop_every_model_and_keep_its_state(tmp_path: Path, model: str):
    """--minutes used to be ignored for expandnet (only the merge trainer looked at a deadline)."""
    s = train(_cfg(tmp_path, model, minutes=0.002), progress=False)
    assert s.stopped_by == "deadline" and 1 <= s.steps < 10_000
    out = tmp_path / model
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert int(state["step"]) == s.steps  # stopped between checkpoints: the state is still saved
    assert (out / f"{model}.pt").is_file() and json.loads((out / "validation.json").read_text())[-1]["step"] == s.steps


def test_ema_copy_is_built_with_the_factorys_arguments(tmp_path: Path):
    """The merge EMA shadow used to be ``type(model)()``: a default-sized network that a tiny (or any
    non-default) model's weights cannot load into."""
    s = train(_cfg(tmp_path, "ahdr", steps=2, checkpoint_every=1), progress=False)
    assert s.steps == 2 and s.best_validation is not None
    weights = torch.load(tmp_path / "ahdr" / "ahdr.pt", weights_only=True)
    model = get("ahdr").factory(**TINY["ahdr"])
    model.load_state_dict(weights)


def test_to_device_moves_nested_batches():
    batch = {"x": torch.zeros(2), "pair": (torch.ones(1), [torch.ones(3)]), "name": "a"}
    moved = to_device(batch, torch.device("meta"))
    assert moved["x"].is_meta and moved["pair"][0].is_meta and moved["pair"][1][0].is_meta
    assert moved["name"] == "a"


class _Probe:
    """A tiny family that records what the loop hands its step."""

    def __init__(self, adversarial: bool = False, timesteps: int = 0) -> None:
        torch.manual_seed(0)
        self.g = nn.Conv2d(3, 3, 3, padding=1)
        self.d = nn.Conv2d(3, 1, 3) if adversarial else None
        self.timesteps = timesteps
        self.seen: list[dict] = []

    def networks(self):
        return {GENERATOR: self.g, **({DISCRIMINATOR: self.d} if self.d is not None else {})}

    def batch(self, rng):
        return {"x": torch.from_numpy(rng.random((4, 3, 8, 8), dtype=np.float32)), "meta": ["a"]}

    def step(self, batch, ctx: TrainContext):
        x = batch["x"]
        rec = {"x_device": x.device, "model_device": next(self.g.parameters()).device,
               "autocast": torch.is_autocast_enabled(ctx.device.type)}
        with ctx.autocast():
            rec["autocast_inside"] = torch.is_autocast_enabled(ctx.device.type)
            y = self.g(x).float()
        losses = {GENERATOR: (y - x).abs().mean()}
        if self.timesteps:
            rec["t"] = ctx.timesteps(x.shape[0], self.timesteps)
        if DISCRIMINATOR in ctx.nets:
            d = ctx.nets[DISCRIMINATOR]
            losses[GENERATOR] = losses[GENERATOR] + nn.functional.softplus(-d(y)).mean()
            losses[DISCRIMINATOR] = nn.functional.softplus(-d(x)).mean() + nn.functional.softplus(d(y.detach())).mean()
        self.seen.append(rec)
        return losses

    def validate(self, model, device):
        return float(model(torch.ones(1, 3, 8, 8, device=device)).abs().mean())

    def describe(self):
        return {}


def _probe_cfg(tmp_path: Path, **kw) -> TrainConfig:
    return TrainConfig(**{**dict(model="probe", out=str(tmp_path / "run"), steps=3, checkpoint_every=2), **kw})


@pytest.mark.parametrize("native", [True, False])
def test_batches_and_model_are_on_the_configured_device_with_its_autocast(tmp_path: Path, monkeypatch, native: bool):
    """bf16 autocast on a CPU that computes bf16 natively; fp32 on one that would emulate it (a step ~27x slower:
    session 45), and the run's summary says which; ``--fp32`` turns it off everywhere."""
    import hdrvid.train.loop as loop_module

    monkeypatch.setattr(loop_module, "native_bf16", lambda: native)
    fam = _Probe()
    summary = TrainLoop(_probe_cfg(tmp_path, device="cpu", bf16=True), fam).run()
    assert all(r["x_device"].type == "cpu" and r["model_device"].type == "cpu" for r in fam.seen)
    assert all(r["autocast_inside"] is native for r in fam.seen)
    assert summary.precision == ("bf16" if native else "fp32")
    fam = _Probe()
    assert TrainLoop(_probe_cfg(tmp_path / "fp32", device="cpu", bf16=False), fam).run().precision == "fp32"
    assert not any(r["autocast_inside"] for r in fam.seen)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_training_on_cuda_moves_model_and_batches(tmp_path: Path):
    """The merge trainer used to hard-code autocast("cpu") and leave batches on the CPU."""
    fam = _Probe()
    TrainLoop(_probe_cfg(tmp_path, device="cuda", bf16=True), fam).run()
    assert all(r["x_device"].type == "cuda" and r["model_device"].type == "cuda" for r in fam.seen)
    assert all(r["autocast_inside"] for r in fam.seen)


def test_two_optimisers_step_in_order_and_timesteps_are_per_example(tmp_path: Path):
    fam = _Probe(adversarial=True, timesteps=1000)
    g0 = [p.detach().clone() for p in fam.g.parameters()]
    d0 = [p.detach().clone() for p in fam.d.parameters()]
    loop = TrainLoop(_probe_cfg(tmp_path, steps=4), fam)
    assert set(loop.opts) == {GENERATOR, DISCRIMINATOR}
    loop.run()
    assert any(not torch.equal(a, b) for a, b in zip(g0, fam.g.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d0, fam.d.parameters()))
    ts = [r["t"] for r in fam.seen]
    assert all(t.shape == (4,) and t.dtype == torch.int64 and 0 <= int(t.min()) and int(t.max()) < 1000 for t in ts)
    assert len({tuple(t.tolist()) for t in ts}) > 1  # drawn afresh each step
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert set(state["optimizers"]) == {GENERATOR, DISCRIMINATOR}


def test_discriminator_gradients_are_its_own(tmp_path: Path):
    """The generator's loss reaches the discriminator through D(fake); the loop must clear that before the
    discriminator's own step, so one step equals a step on the discriminator's loss alone."""
    fam = _Probe(adversarial=True)
    loop = TrainLoop(_probe_cfg(tmp_path, steps=1), fam)
    ref = _Probe(adversarial=True)  # same seed, same initial weights
    rng = np.random.default_rng([0, 0])
    batch = ref.batch(rng)
    losses = ref.step(batch, TrainContext(0, torch.device("cpu"), loop.autocast, torch.Generator(), ref.networks()))
    opt = torch.optim.Adam(ref.d.parameters(), lr=loop.cfg.lr_discriminator, betas=(0.5, 0.999))
    opt.zero_grad()
    losses[DISCRIMINATOR].backward()
    opt.step()
    loop.run()
    for a, b in zip(fam.d.parameters(), ref.d.parameters()):
        torch.testing.assert_close(a, b)


def test_resume_continues_the_step_count_and_curve(tmp_path: Path):
    TrainLoop(_probe_cfg(tmp_path, steps=3), _Probe()).run()
    s = TrainLoop(_probe_cfg(tmp_path, steps=5), _Probe()).run()
    assert s.steps == 5
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    assert state["losses"].shape[0] == 5


def test_missing_init_weights_are_refused_before_anything_runs(tmp_path: Path):
    from hdrvid.errors import InputError

    with pytest.raises(InputError, match="--init"):
        _cfg(tmp_path, "kalantari", init=str(tmp_path / "nope.pt"))
    assert not (tmp_path / "kalantari").exists()


def test_bad_settings_are_refused_before_anything_runs(tmp_path: Path):
    from hdrvid.errors import InputError

    for bad in (dict(steps=0), dict(minutes=-1.0), dict(device="gpu0"), dict(ema=1.5), dict(batch=0)):
        with pytest.raises(InputError):
            TrainConfig(**{**dict(out=str(tmp_path)), **bad})


def test_temporal_loss_trains_merges_on_consecutive_realistic_pairs(tmp_path: Path):
    """--temporal-weight: batches are pairs of consecutive references from one realistic clip (same crop);
    the loss adds the mismatch between the outputs' change and the truth's change."""
    from hdrvid.train.merge import MergeFamily

    cfg = _cfg(tmp_path, "kalantari", steps=2, checkpoint_every=1, temporal_weight=0.5, samples=4, batch=4)
    s = train(cfg, progress=False)
    assert s.steps == 2
    fam = MergeFamily(cfg, build_tiny("kalantari"), [], [])
    x, t = fam.batch(np.random.default_rng(0))
    assert x.shape[0] == 4 and t.shape[0] == 4
    steady = torch.rand(4, 3, 8, 8)
    alternating = steady + torch.tensor([0.0, 0.1, 0.0, 0.1]).view(4, 1, 1, 1)
    assert float(fam._loss(steady, steady)) == 0.0
    fam.cfg.temporal_weight = 0.0
    base = float(fam._loss(alternating, steady))
    fam.cfg.temporal_weight = 1.0
    assert float(fam._loss(alternating, steady)) > base + 0.09  # the change of 0.1 every pair is penalised


def build_tiny(name: str):
    from hdrvid.models import get

    spec = get(name)
    return spec.factory(**{**spec.factory_kwargs, **TINY[name]})


def test_frozen_parts_stay_exact_through_the_ema(tmp_path: Path):
    """diffhdr's regression start (the shipped kalantari) is frozen: the EMA copies it instead of averaging
    it with itself (which drifted by float rounding)."""

    s = train(_cfg(tmp_path, "diffhdr", steps=3, checkpoint_every=3), progress=False)
    weights = torch.load(tmp_path / "diffhdr" / "diffhdr.pt", weights_only=True)
    k = build("kalantari").state_dict()
    assert s.steps == 3 and all(torch.equal(weights["base." + n], v) for n, v in k.items())


def test_buffers_stay_exact_through_the_ema(tmp_path: Path):
    """Buffers (hdrunet-auto's detector ranges and normalisation; its weights are frozen too) are copied by the
    EMA, not averaged with themselves."""
    from hdrvid.models.registry import load_state_dict, weights_dir

    cfg = _cfg(tmp_path, "hdrunet-auto", steps=3, checkpoint_every=3, init=str(weights_dir() / "hdrunet.pt"),
               model_kwargs={})
    train(cfg, progress=False)
    got = torch.load(tmp_path / "hdrunet-auto" / "hdrunet-auto.pt", weights_only=True)
    shipped = load_state_dict(weights_dir() / "hdrunet.pt", None)
    assert all(torch.equal(got[k], v) for k, v in shipped.items() if k.startswith("shoulder."))


def test_psnr_mu_loss_is_the_metrics_clipped_psnr_mu_negated():
    """The loss behind ``--loss psnr-mu`` scores what ``hdrvid eval`` reports in clipped pixels."""
    from hdrvid.metrics.hdr import hdr_metrics
    from hdrvid.train.losses import get_loss

    rng = np.random.default_rng(0)
    truth = rng.uniform(0, 1, (2, 3, 12, 16)) ** 3 * 40
    pred = truth * rng.uniform(0.3, 2.0, truth.shape)
    clipped = rng.random((2, 1, 12, 16)) < 0.3
    clipped[1] = False  # a picture without clipped pixels adds nothing
    loss = get_loss("psnr-mu")(torch.from_numpy(pred), torch.from_numpy(truth), torch.from_numpy(clipped))
    want = hdr_metrics(pred[0].transpose(1, 2, 0), truth[0].transpose(1, 2, 0), clipped[0, 0], align=False)["psnr_mu"]
    assert float(loss) == pytest.approx(-want, abs=1e-4)


def test_psnr_mu_loss_trains_a_single_exposure_model(tmp_path: Path):
    s = train(_cfg(tmp_path, "hdrunet", steps=2, loss="psnr-mu"), progress=False)
    assert s.steps == 2 and s.final_loss is not None and s.final_loss < 0  # minus a PSNR in dB
    with pytest.raises(Exception, match="--loss"):
        _cfg(tmp_path, "hdrunet", loss="l2")
    with pytest.raises(Exception, match="--loss psnr-mu: only single-exposure"):
        train(_cfg(tmp_path, "kalantari", loss="psnr-mu"), progress=False)


def test_super_resolution_trains_on_the_metric_over_every_pixel(tmp_path: Path):
    """``hdrvid train -m hdrunet-2x --loss psnr-mu``: the loss is what ``hdrvid eval`` scores over all pixels (minus
    the mean PSNR-mu in dB); the run trains on it and validates on it; ExpandNet's loss is refused."""
    from hdrvid.metrics.hdr import hdr_metrics
    from hdrvid.train.superres import psnr_mu_all

    rng = np.random.default_rng(1)
    truth = rng.uniform(0, 1, (2, 3, 12, 16)) ** 3 * 40
    pred = truth * rng.uniform(0.3, 2.0, truth.shape)
    want = np.mean([hdr_metrics(pred[i].transpose(1, 2, 0), truth[i].transpose(1, 2, 0), None, align=False)["psnr_mu"]
                    for i in range(2)])
    assert float(psnr_mu_all(torch.from_numpy(pred), torch.from_numpy(truth))) == pytest.approx(-want, abs=1e-4)
    s = train(_cfg(tmp_path, "hdrunet-2x", steps=2, loss="psnr-mu", model_kwargs=TINY["hdrunet-2x"]), progress=False)
    assert s.steps == 2 and s.final_loss is not None and s.final_loss < 0  # minus a PSNR in dB
    summary = json.loads((tmp_path / "hdrunet-2x" / "summary.json").read_text())
    assert summary["data"]["bicubic_validation"] < 0  # validated on the same loss
    with pytest.raises(Exception, match="--loss expandnet: hdrunet-2x takes only --loss psnr-mu"):
        train(_cfg(tmp_path / "e", "hdrunet-2x", steps=1, loss="expandnet", model_kwargs=TINY["hdrunet-2x"]),
              progress=False)


def test_teacher_distils_into_a_smaller_single_exposure_model_and_is_refused_elsewhere(tmp_path: Path):
    """``--teacher``: the step's loss adds ``--teacher-weight`` x the mean |log(1 + y) - log(1 + teacher(x))| of a
    frozen shipped model (zero where the student gives the teacher's output); other families refuse it."""
    from hdrvid.errors import InputError
    from hdrvid.train.single import SingleExposureFamily

    s = train(_cfg(tmp_path, "hdrunet", steps=2, teacher="hdrunet"), progress=False)
    assert s.steps == 2 and s.final_loss is not None
    assert json.loads((tmp_path / "hdrunet" / "summary.json").read_text())["data"]["teacher"] == "hdrunet"
    losses = {}
    for weight in (0.0, 3.0):
        cfg = _cfg(tmp_path / "f", "hdrunet", teacher="hdrunet", teacher_weight=weight)
        torch.manual_seed(0)
        model = get("hdrunet").factory(**{**get("hdrunet").factory_kwargs, **TINY["hdrunet"]})
        fam = SingleExposureFamily(cfg, model, [], [])
        assert fam.teacher is not None and not any(p.requires_grad for p in fam.teacher.parameters())
        batch = fam.batch(np.random.default_rng(3))
        ctx = TrainContext(0, torch.device("cpu"), contextlib.nullcontext, torch.Generator(), fam.networks())
        losses[weight] = float(fam.step(batch, ctx)[GENERATOR].detach())
        x = batch[0]
        with torch.no_grad():
            y, yt = model(x), fam.teacher(x)
            assert float(fam.distillation(x, yt)) == 0.0
            distill = float(fam.distillation(x, y))
    assert distill > 0
    assert losses[3.0] - losses[0.0] == pytest.approx(3 * distill, rel=1e-4)
    with pytest.raises(InputError, match="--teacher"):
        train(_cfg(tmp_path, "kalantari", steps=1, teacher="hdrunet"), progress=False)
    with pytest.raises(InputError, match="--teacher ahdr"):
        train(_cfg(tmp_path / "g", "hdrunet", steps=1, teacher="ahdr"), progress=False)


def test_sampler_loss_trains_through_the_few_step_chain(tmp_path: Path):
    """``--sampler-weight``: the diffusion merge's deterministic 2/4-step chain is differentiated through
    every step (gradients reach the denoiser), a run with it trains, and models without a few-step sampler
    refuse the option."""
    from hdrvid.train.diffusion import sampler_output
    from hdrvid.train.loop import TrainContext

    torch.manual_seed(0)
    model = build_tiny("diffhdr")
    head = list(model.denoiser.parameters())[-1]
    torch.nn.init.normal_(head, std=0.1)  # a head that is not zero, so the chain moves
    x = model.example_input(32, 32).repeat(2, 1, 1, 1)
    target = torch.rand(2, 3, 32, 32)
    ctx = TrainContext(step=0, device=torch.device("cpu"), autocast=contextlib.nullcontext,
                       generator=torch.Generator().manual_seed(1))
    cond = model.condition(x)
    loss = (sampler_output(model, cond, ctx) - target).abs().mean()
    loss.backward()
    grads = [p.grad for p in model.denoiser.parameters() if p.grad is not None]
    assert float(loss) > 0 and grads and sum(float(g.abs().sum()) for g in grads) > 0
    s = train(_cfg(tmp_path, "diffhdr", steps=2, checkpoint_every=2, sampler_weight=1.0), progress=False)
    assert s.steps == 2 and s.final_loss is not None and math.isfinite(s.final_loss)
    with pytest.raises(Exception, match="--sampler-weight"):
        train(_cfg(tmp_path, "kalantari", sampler_weight=1.0), progress=False)
    with pytest.raises(Exception, match="--sampler-weight"):
        _cfg(tmp_path, "diffhdr", sampler_weight=-1.0)


def test_diffusion_training_draws_the_timesteps_its_sampler_runs():
    """A model whose chain starts at t = 250 (``start`` 0.25) is trained on timesteps 0-250 only, and its
    sampler loss runs the chain from there."""
    from hdrvid.models.diffhdr import alpha_bar
    from hdrvid.train.diffusion import diffusion_step, timestep_count

    model = build_tiny("diffhdr")
    model.start = 1.0
    assert timestep_count(model) == 1000
    model.start = 0.25
    assert timestep_count(model) == 251
    seen: list[int] = []

    class Ctx(TrainContext):
        def timesteps(self, n: int, count: int) -> torch.Tensor:
            seen.append(count)
            return super().timesteps(n, count)

    ctx = Ctx(step=0, device=torch.device("cpu"), autocast=contextlib.nullcontext,
              generator=torch.Generator().manual_seed(1))
    x = model.example_input(32, 32).repeat(2, 1, 1, 1)
    losses, _, _ = diffusion_step(model, x, torch.rand(2, 3, 32, 32), ctx, False,
                                  lambda y, t, ab: (y - t).abs().mean(), 0.0,
                                  torch.tensor(alpha_bar(), dtype=torch.float32))
    assert seen == [251] and math.isfinite(float(losses[GENERATOR]))



def test_joint_brackets_stage_trains_generator_and_fusion_end_to_end_and_nothing_else(tmp_path: Path):
    """``--stage joint``: the fusion loss flows back into the generator (both networks move), the 2x fusion
    network stays exactly as it was, and the fusion score is logged beside the total."""
    from hdrvid.models.brackets import TwoStage
    from hdrvid.train.brackets import BracketFamily

    torch.manual_seed(0)
    before = build_tiny("brackets").state_dict()
    init = tmp_path / "init.pt"
    torch.save(before, init)
    cfg = _cfg(tmp_path, "brackets", steps=2, checkpoint_every=2, stage="joint", init=str(init), bf16=False)
    s = train(cfg, progress=False)
    after = torch.load(tmp_path / "brackets" / "checkpoint.pt", weights_only=True)["models"]["generator"]
    moved = {part: any(not torch.equal(after[k], v) for k, v in before.items() if k.startswith(part + "."))
             for part in ("gen", "fuse", "fuse2x")}
    assert s.steps == 2 and moved == {"gen": True, "fuse": True, "fuse2x": False}
    # the generator's gradient comes from the fusion loss too: with its own loss switched off it still learns
    model = build_tiny("brackets")
    assert isinstance(model, TwoStage)
    fam = BracketFamily(_cfg(tmp_path, "brackets", stage="joint"), model, [], [])
    batch = fam.batch(np.random.default_rng(0))
    _, fusion, _ = fam._joint_loss(model, batch)
    fusion.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.gen.parameters())


def test_stage_is_refused_where_it_does_not_apply_and_nothing_is_written(tmp_path: Path):
    """--stage names a stage of the two-stage brackets models: an unknown stage, or a stage given to a model of
    one network (it was silently ignored), is a one-line error before any file is written."""
    from hdrvid.errors import InputError

    for model, stage in (("brackets", "bogus"), ("hdrunet", "joint")):
        with pytest.raises(InputError, match="--stage"):
            train(_cfg(tmp_path, model, steps=1, stage=stage), progress=False)
        assert not (tmp_path / model).exists()


def test_joint_psnr_mu_loss_scores_what_convert_outputs_and_trains_both_networks(tmp_path: Path, monkeypatch):
    """``--stage joint --loss psnr-mu``: the metric's loss is taken on the picture ``convert --model brackets``
    writes (the fused radiance blended into the decoded picture by the mask the model's shoulder detector picks,
    ``BracketHDR.apply`` before its blob spread and edge gate), in the camera's clipped pixels; its gradient reaches the generator
    and the fusion network; validation reports it (dB); the loss is refused on the stages it does not apply to."""
    import hdrvid.models.brackets as brackets_module
    from hdrvid.errors import InputError
    from hdrvid.models.brackets import FLOOR, STACK_EVS, BracketHDR, debevec_merge, decode
    from hdrvid.train.brackets import BracketFamily
    from hdrvid.train.losses import psnr_mu_loss

    torch.manual_seed(0)
    model = build_tiny("brackets")
    assert isinstance(model, BracketHDR)
    fam = BracketFamily(_cfg(tmp_path, "brackets", stage="joint", loss="psnr-mu"), model, [], [])
    shipped_detector = build("hdrunet-auto").shoulder.state_dict()  # loaded by the family, whatever the init
    assert all(torch.equal(v, shipped_detector[k]) for k, v in model.shoulder.state_dict().items())
    batch = fam.batch(np.random.default_rng(0))
    assert batch["clipped"].shape == (batch["signal"].shape[0], 1, *batch["signal"].shape[-2:])
    assert batch["clipped"].any()
    # the composite is BracketHDR.apply's output (in the under exposure's units)
    fused = torch.rand_like(batch["signal"]) * 3 + 0.01
    ev = float(batch["ev"])
    linear = decode(batch["signal"])
    field = torch.log(fused * 2.0**ev) - torch.log(linear.clamp(min=FLOOR))
    monkeypatch.setattr(brackets_module, "EDGE_GATE", False)
    # the curve on graded frames and its average-light cap come after the blend and are not trained (this passed
    # with them on only while the cap took the curve's whole weight off these frames)
    monkeypatch.setattr(brackets_module, "GRADED_CURVE", False)
    monkeypatch.setattr(brackets_module, "BLOB_SPREAD", 1.0)  # (session 54's blob spread: after training, as the gate)
    shipped = model.apply(linear, field)
    monkeypatch.undo()
    composite = fam._composite(model, batch["signal"], fused, ev) * 2.0**ev
    recorded = linear > FLOOR
    assert torch.allclose(composite[recorded], shipped[recorded], rtol=1e-4, atol=1e-6)
    # the logged value is the metric on that composite, and both networks learn from it
    total, metric, _ = fam._joint_loss(model, batch)
    stack = fam._stack(model, batch["signal"])
    final = model.fuse(stack[:, 0], stack[:, -1], torch.full((len(stack),), 2 * ev))[-1]
    merged = debevec_merge(list(stack.unbind(1)) + [batch["signal"]], list(STACK_EVS) + [0.0])
    assert model.debevec_share > 0
    expected = psnr_mu_loss(fam._composite(model, batch["signal"], final, ev, merged), batch["truth"],
                            batch["clipped"])
    assert math.isclose(float(metric.detach()), float(expected.detach()), rel_tol=1e-4)
    # with the Debevec share, the composite is what the shipped field gives (BracketHDR.field_tile: the whole
    # stack's merge mixed in), here on a made-up stack and fused pair that differ from each other
    g = torch.Generator().manual_seed(1)
    fake_stack = torch.stack([(batch["signal"] * 2.0 ** (e / 2.2)).clamp(0, 1) for e in STACK_EVS], 1)
    fake_final = torch.rand(batch["signal"].shape, generator=g) * 4 + 0.05
    fake_merged = debevec_merge(list(fake_stack.unbind(1)) + [batch["signal"]], list(STACK_EVS) + [0.0])
    monkeypatch.setattr(model, "brackets", lambda signal, evs, context=None: list(fake_stack.unbind(1)))
    monkeypatch.setattr(model, "fuse_pair", lambda signal, under, over, upscale=1: fake_final * 2.0**ev)
    monkeypatch.setattr(brackets_module, "EDGE_GATE", False)
    monkeypatch.setattr(brackets_module, "GRADED_CURVE", False)
    monkeypatch.setattr(brackets_module, "BLOB_SPREAD", 1.0)
    with torch.no_grad():
        shipped = model.apply(linear, model.field(linear))
    monkeypatch.undo()
    composite = fam._composite(model, batch["signal"], fake_final, ev, fake_merged) * 2.0**ev
    assert torch.allclose(composite[recorded], shipped[recorded], rtol=1e-4, atol=1e-6)
    without = fam._composite(model, batch["signal"], fake_final, ev) * 2.0**ev
    clipped = batch["clipped"].expand_as(shipped)
    assert (without - shipped)[clipped].abs().max() > 1e-2  # the pair alone is another picture there
    model.zero_grad()
    metric.backward()
    for net in (model.gen, model.fuse):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())
    assert fam.validate(model, torch.device("cpu")) < 0  # the metric's loss: dB of a squared error below 1
    s = train(_cfg(tmp_path, "brackets", steps=1, checkpoint_every=1, stage="joint", loss="psnr-mu", bf16=False),
              progress=False)
    assert s.steps == 1 and s.best_validation is not None and s.best_validation < 0
    for stage in ("generator", "fusion"):
        with pytest.raises(InputError, match="--loss"):
            BracketFamily(_cfg(tmp_path, "brackets", stage=stage, loss="psnr-mu"), build_tiny("brackets"), [], [])


def test_init_keeps_the_runs_own_configuration_and_takes_the_files_weights(tmp_path: Path):
    """``--init FILE --model-arg max_residual=4``: the network's weights come from the file, its configuration
    (hdrunet-2x's scalar buffers ``sr.bound``, ``sr.level``, ``sr.shared_residual``) is the run's: a session-30 run
    trained at bound 4 had saved its init's bound 2 into its weights file."""
    kw = {**TINY["hdrunet-2x"], "max_residual": 2.0}
    src = get("hdrunet-2x").factory(**kw)
    with torch.no_grad():
        src.sr.tail.weight.normal_(0, 0.02)
    torch.save(src.state_dict(), tmp_path / "init.pt")
    cfg = _cfg(tmp_path, "hdrunet-2x", steps=1, checkpoint_every=1, init=str(tmp_path / "init.pt"),
               model_kwargs={**TINY["hdrunet-2x"], "max_residual": 4.0, "shared": True})
    train(cfg, progress=False)
    state = torch.load(tmp_path / "hdrunet-2x" / "hdrunet-2x.pt", weights_only=True)
    assert float(state["sr.bound"]) == 4.0 and int(state["sr.shared_residual"]) == 1 and int(state["sr.level"]) == 5
    assert not torch.equal(state["sr.tail.weight"], torch.zeros_like(state["sr.tail.weight"]))


def test_init_widens_a_network_given_a_new_input_and_starts_as_the_files(tmp_path: Path):
    """``--init brackets.pt --model-arg fuse_middle=true``: the 1x fusion network's first convolutions take three
    more input channels (the middle picture); they start at zero on them, so the run starts from the file's
    function exactly; ``sizes_of`` reads the option back from a file (``registry.build --weights``)."""
    from hdrvid.models.brackets import BracketHDR

    torch.manual_seed(0)
    src = BracketHDR(**TINY["brackets"])
    with torch.no_grad():
        for p in src.fuse.head.parameters():
            p.normal_(0, 0.1)
    torch.save(src.state_dict(), tmp_path / "init.pt")
    fam = _Probe()
    fam.g = BracketHDR(**TINY["brackets"], fuse_middle=True)
    loop = TrainLoop(_probe_cfg(tmp_path, steps=1), fam)
    loop.initialise(tmp_path / "init.pt")
    first = fam.g.state_dict()["fuse.extract.0.0.0.weight"]
    assert first.shape[1] == 8 and float(first[:, 5:].abs().max()) == 0.0
    x = torch.rand(1, 3, 24, 32) ** 2
    src.eval(), fam.g.eval()
    with torch.no_grad():
        want = src.field(x)
        assert torch.equal(fam.g.field(x), want)
        fam.g.fuse.extract[0][0][0].weight[:, 5:] = 0.05  # the new input now matters
        assert not torch.equal(fam.g.field(x), want)
    torch.save(fam.g.state_dict(), tmp_path / "middle.pt")
    assert BracketHDR.sizes_of(torch.load(tmp_path / "middle.pt", weights_only=True)) == {"fuse_middle": True}
    assert BracketHDR.sizes_of(src.state_dict()) == {}
