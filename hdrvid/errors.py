"""Errors hdrvid raises on purpose.

Each class also inherits the builtin it resembles (as PyAV does), so callers may catch either.
The CLI turns them into one-line messages and exit codes; anything else is a bug and shows a traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


class HdrvidError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is the one-line message."""

    exit_code = 1


class InputError(HdrvidError, ValueError):
    """The input cannot be read as asked (missing, empty, garbage, truncated, no video stream...)."""

    exit_code = 2


class OptionError(HdrvidError, ValueError):
    """An option has a value outside its allowed set or range; raised when the options object is built,
    before any file is opened."""

    exit_code = 2


class OutputError(HdrvidError, OSError):
    """The output cannot be written (exists, same as input, disk full, unsupported format...)."""

    exit_code = 3


class ModelError(HdrvidError, ValueError):
    """A model is unknown, has no trained weights, or its weights file is unsafe or corrupt."""

    exit_code = 4


class BackendError(HdrvidError, RuntimeError):
    """An inference backend is not installed or cannot run on this machine."""

    exit_code = 5


class Interrupted(HdrvidError, KeyboardInterrupt):
    """The run was stopped by SIGINT (exit 130) or SIGTERM (exit 143)."""

    def __init__(self, signum: int) -> None:
        import signal

        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}; partial output removed")
        self.signum = signum
        self.exit_code = 128 + signum


def check_choice(value: object, choices: Iterable[object], option: str) -> None:
    """Raise OptionError naming ``option`` and its choices unless ``value`` is one of them."""
    allowed = tuple(choices)
    if value not in allowed:
        raise OptionError(f"{option} must be one of {', '.join(map(str, allowed))}, not {value!r}")


def check_range(value: float, option: str, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> None:
    """Raise OptionError naming ``option`` unless ``value`` is a finite number in [low, high] ((low, high]
    with ``low_open``)."""
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "" if low is None else (f"> {low:g}" if low_open else f">= {low:g}")
        hi = "" if high is None else f"<= {high:g}"
        raise OptionError(f"{option} must be a number {' and '.join(x for x in (lo, hi) if x)}, not {value!r}")
