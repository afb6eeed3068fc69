"""``hdrvid train``: pick the family for a model's kind, build the model, run the one loop."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import torch

from hdrvid.errors import InputError, OptionError
from hdrvid.io.images import list_hdr
from hdrvid.models import get
from hdrvid.models.registry import Deferred
from hdrvid.train.brackets import BracketFamily
from hdrvid.train.data import split
from hdrvid.train.diffusion import DiffusionMergeFamily, DiffusionSingleFamily
from hdrvid.train.loop import Family, TrainConfig, TrainLoop, TrainSummary
from hdrvid.train.merge import MergeFamily
from hdrvid.train.single import SingleExposureFamily
from hdrvid.train.superres import SuperResFamily

FAMILIES = {"single-exposure": SingleExposureFamily, "multi-exposure": MergeFamily, "diffusion": DiffusionMergeFamily,
            "brackets": BracketFamily, "superres": SuperResFamily}
"""Model kind (or a model's own ``family`` attribute) -> the family that trains it (a single-exposure
diffusion model: :class:`DiffusionSingleFamily`)."""


def _default_of(cls: type, key: str) -> Any:
    """The default of constructor argument ``key`` in the first class of ``cls``' MRO that names it (a subclass's
    ``__init__(**kw)`` passes it on), or ``inspect.Parameter.empty``."""
    for c in getattr(cls, "__mro__", ()):
        if "__init__" in vars(c):
            p = inspect.signature(c.__init__).parameters.get(key)
            if p is not None and p.default is not inspect.Parameter.empty:
                return p.default
    return inspect.Parameter.empty


def check_model_arg_types(factory: Any, kwargs: dict[str, Any]) -> None:
    """``--model-arg KEY=VALUE`` against the type of the constructor's default: a switch takes true/false, a count a
    whole number, a size a number (``fuse_middle=maybe`` used to build the model with the text, which is truthy)."""
    cls = factory.resolve() if isinstance(factory, Deferred) else factory
    for key, value in kwargs.items():
        default = _default_of(cls, key)
        if isinstance(default, bool):
            ok, want = isinstance(value, bool), "true or false"
        elif isinstance(default, int):
            ok, want = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif isinstance(default, float):
            ok, want = isinstance(value, (int, float)) and not isinstance(value, bool), "a number"
        else:
            continue
        if not ok:
            raise OptionError(f"--model-arg {key}={value}: give {want}")


def train(cfg: TrainConfig, progress: bool = True) -> TrainSummary:
    spec = get(cfg.model)
    if spec.kind not in FAMILIES:
        raise InputError(f"model {cfg.model!r} is {spec.kind}: nothing to train here "
                         f"(trainable kinds: {', '.join(FAMILIES)})")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    files: list[Path] = list_hdr([Path(d) for d in cfg.data]) if cfg.data else []
    files, held = split(files)
    if not files and cfg.procedural == 0:
        raise InputError("no training images left after holding out the evaluation set")
    torch.manual_seed(cfg.seed)
    check_model_arg_types(spec.factory, cfg.model_kwargs)
    try:
        model = spec.factory(**{**spec.factory_kwargs, **cfg.model_kwargs})
    except TypeError as e:
        raise OptionError(f"--model-arg {sorted(cfg.model_kwargs)}: model {cfg.model!r} does not take it ({e})") from None
    kind = getattr(model, "family", spec.kind)
    cls = DiffusionSingleFamily if kind == "diffusion" and getattr(model, "single", False) else FAMILIES[kind]
    if cfg.loss not in ("", "expandnet") and cls not in (SingleExposureFamily, BracketFamily, SuperResFamily):
        raise InputError(f"--loss {cfg.loss}: only single-exposure regression models (expandnet, hdrunet...), the "
                         f"super-resolution networks and brackets --stage joint take it; {cfg.model} trains with its "
                         f"own loss (leave --loss out)")
    if cfg.sharpen_share > 0 and cls is not SuperResFamily:
        raise InputError(f"--sharpen-share: only the super-resolution networks (hdrunet-2x, brackets-2x) take it; {cfg.model} "
                         "trains on the cameras as they are (leave it out)")
    if cfg.sampler_weight > 0 and cls is not DiffusionMergeFamily:
        raise InputError(f"--sampler-weight: only the diffusion merge (diffhdr) takes it; {cfg.model} has no "
                         "few-step sampler to train through (leave --sampler-weight out)")
    if cfg.teacher and cls is not SingleExposureFamily:
        raise InputError(f"--teacher: only single-exposure regression models (hdrunet, expandnet) learn from a "
                         f"teacher; {cfg.model} trains on its own loss (leave --teacher out)")
    if cfg.stage and cls is not BracketFamily:
        raise InputError(f"--stage {cfg.stage}: only the two-stage brackets models take it; {cfg.model} trains as "
                         "one network (leave --stage out)")
    family: Family = cls(cfg, model, files, held)
    return TrainLoop(cfg, family).run(progress)
