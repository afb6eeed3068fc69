"""Errors hdrvid raises on purpose.

Each class also inherits the builtin it resembles (as PyAV does), so callers may catch either.
The CLI turns them into one-line messages and exit codes; anything else is a bug and shows a traceback.
"""

from __future__ import annotations


class HdrvidError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is the one-line message."""

    exit_code = 1


class InputError(HdrvidError, ValueError):
    """The input cannot be read as asked (missing, empty, garbage, truncated, no video stream...)."""

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
