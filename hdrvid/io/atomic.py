"""Outputs appear only when complete, for every writer hdrvid has (videos, images, EXR folders, ONNX
exports, TensorRT engines, checkpoints, reports).

``with AtomicFile(dest) as f:`` gives a temporary path beside ``dest`` (same folder, so the final rename is
atomic; the destination's suffix kept, because muxers go by it). Leaving the block normally renames it over
``dest`` with ``os.replace``; leaving it by an exception (or an interrupt) removes it and leaves an existing
``dest`` as it was. ``AtomicFolder`` does the same for a folder of files. ``durable=True`` also fsyncs the
file before the rename (engines and checkpoints: a crash must never leave a torn file under the final name).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

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


def _parent(dest: Path) -> Path:
    return dest.parent if str(dest.parent) else Path(".")


class _Atomic(ABC):
    path: Path
    dest: Path
    _done = False

    def __enter__(self) -> _Atomic:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    @abstractmethod
    def commit(self) -> None:
        """Move the finished output into place (idempotent)."""

    @abstractmethod
    def discard(self) -> None:
        """Remove the temporary output (idempotent)."""

    def _fail(self, e: OSError) -> None:
        self.discard()
        raise OutputError(f"{self.dest}: cannot move the finished output into place ({e.strerror})") from None


class AtomicFile(_Atomic):
    """A temporary file in the destination folder with the destination's suffix."""

    def __init__(self, dest: Path, durable: bool = False) -> None:
        self.dest = Path(dest)
        self.durable = durable
        parent = _parent(self.dest)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.dest.stem}.", suffix=f".partial{self.dest.suffix}", dir=parent)
        except OSError as e:
            raise OutputError(f"{self.dest}: cannot create a file in {parent} ({e.strerror})") from None
        os.close(fd)
        self.path = Path(name)

    def __enter__(self) -> AtomicFile:
        return self

    def commit(self) -> None:
        if self._done:
            return
        try:
            if self.durable:
                with open(self.path, "rb+") as f:
                    os.fsync(f.fileno())
            os.replace(self.path, self.dest)
        except OSError as e:
            self._fail(e)
        self._done = True

    def discard(self) -> None:
        self._done = True
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


class AtomicFolder(_Atomic):
    """A temporary folder beside the destination; on commit its files move into the destination."""

    def __init__(self, dest: Path) -> None:
        self.dest = Path(dest)
        parent = _parent(self.dest)
        parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.", suffix=".partial", dir=parent))

    def __enter__(self) -> AtomicFolder:
        return self

    def commit(self) -> None:
        if self._done:
            return
        try:
            if not self.dest.exists():
                os.replace(self.path, self.dest)
            else:
                for f in sorted(self.path.iterdir()):
                    os.replace(f, self.dest / f.name)
                self.path.rmdir()
        except OSError as e:
            self._fail(e)
        self._done = True

    def discard(self) -> None:
        self._done = True
        shutil.rmtree(self.path, ignore_errors=True)


def write_bytes_atomic(path: Path, data: bytes, durable: bool = False) -> None:
    """``path`` holds ``data`` whole, or is left as it was."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with AtomicFile(Path(path), durable=durable) as f:
        try:
            f.path.write_bytes(data)
        except OSError as e:
            raise OutputError(f"{path}: could not write ({e.strerror}); check the folder and free space") from None


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode())
