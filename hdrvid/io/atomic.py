"""Outputs appear only when complete: written under a temporary name beside the destination, then
renamed with ``os.replace``. On failure or interrupt the temporary file or folder is removed and an
existing output is left as it was."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hdrvid.errors import OutputError


def check_destination(inputs: list[Path], output: Path, overwrite: bool) -> None:
    """Refuse output == input and silent overwrites, before any work starts."""
    out_real = output.resolve()
    for p in inputs:
        if p.exists() and p.resolve() == out_real:
            raise OutputError(f"{output}: output is the input file; choose another output name")
    if output.exists() and not overwrite:
        raise OutputError(f"{output}: already exists; pass --overwrite to replace it")
    parent = output.parent if output.parent != Path("") else Path(".")
    if not parent.exists():
        raise OutputError(f"{output}: folder {parent} does not exist; create it first")


class AtomicFile:
    """A temporary file in the destination folder with the destination's suffix (muxers go by it)."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        parent = dest.parent if str(dest.parent) else Path(".")
        fd, name = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".partial{dest.suffix}", dir=parent)
        os.close(fd)
        self.path = Path(name)

    def commit(self) -> None:
        try:
            os.replace(self.path, self.dest)
        except OSError as e:
            self.discard()
            raise OutputError(f"{self.dest}: cannot move the finished output into place ({e.strerror})") from None

    def discard(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


class AtomicFolder:
    """A temporary folder beside the destination; on commit its files move into the destination."""

    def __init__(self, dest: Path) -> None:
        self.dest = dest
        parent = dest.parent if str(dest.parent) else Path(".")
        parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=parent))

    def commit(self) -> None:
        try:
            if not self.dest.exists():
                os.replace(self.path, self.dest)
                return
            for f in sorted(self.path.iterdir()):
                os.replace(f, self.dest / f.name)
            self.path.rmdir()
        except OSError as e:
            self.discard()
            raise OutputError(f"{self.dest}: cannot move the finished output into place ({e.strerror})") from None

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
