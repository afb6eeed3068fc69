"""Outputs appear only when complete, for every writer hdrvid has (videos, images, EXR folders, ONNX
exports, TensorRT engines, checkpoints, reports).

``with AtomicFile(dest) as f:`` gives a temporary path on the destination's file system (beside ``dest``;
the destination's suffix kept, because muxers go by it). Leaving the block normally moves it onto ``dest``;
leaving it by an exception (or an interrupt) removes it and leaves an existing ``dest`` as it was.
``AtomicFolder`` does the same for a folder of files.

- ``overwrite=False`` makes the final move exclusive (``renameat2(RENAME_NOREPLACE)``, else ``link``):
  if ``dest`` appeared while this run was writing (another conversion to the same name), this run fails
  with a clear error and the other file is left alone.
- ``durable=True`` also fsyncs the file before the move (engines and checkpoints).
- Temporary names carry the writer's process id (``.NAME.hdrvid-PID-RANDOM.partial.EXT``): a run killed
  with SIGKILL leaves one behind, and the next run writing into that folder removes those whose process
  is gone (:func:`remove_stale`).
- Files and folders get the permissions the umask allows, like any other tool's output (not mkstemp's 0600).
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import re
import shutil
import stat
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType

from hdrvid.errors import OutputError

log = logging.getLogger("hdrvid")

_TAG = "hdrvid-"
_STALE = re.compile(r"^\..*\.hdrvid-(\d+)-[^.]+\.partial(\.[^/]*)?$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()


def check_destination(inputs: list[Path], output: Path, overwrite: bool) -> None:
    """Refuse output == input (or any other file the run reads or writes), device files, missing folders and
    silent overwrites, before any work starts."""
    out_real = output.resolve()
    for p in inputs:
        if p.exists() and p.resolve() == out_real:
            raise OutputError(f"{output}: is also a file this run reads or writes ({p}); choose another name")
    if output.exists() or output.is_symlink():
        mode = output.lstat().st_mode if output.is_symlink() else output.stat().st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
            raise OutputError(f"{output}: is a device or special file, not a place for an output; give a file name")
        if not overwrite:
            raise OutputError(f"{output}: already exists; pass --overwrite to replace it")
    parent = output.parent if output.parent != Path("") else Path(".")
    if not parent.exists():
        raise OutputError(f"{output}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{output}: folder {parent} is not writable; choose another output folder")


def remove_stale(folder: Path) -> list[Path]:
    """Remove temporary outputs in ``folder`` left by hdrvid runs that no longer exist (killed, crashed)."""
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _STALE.match(p.name)
        if not m or _alive(int(m.group(1))):
            continue
        try:
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
        except OSError:
            continue
        removed.append(p)
        log.warning("removed %s, a partial output left by an interrupted hdrvid run (process %s)", p, m.group(1))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_libc = None


def _rename_noreplace(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst``, failing with FileExistsError if ``dst`` exists (files and folders)."""
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: libc's (no find_library: ~20 ms)
        except OSError:
            _libc = False
    fn = getattr(_libc, "renameat2", None) if _libc else None
    if fn is not None:
        at_fdcwd, noreplace = -100, 1
        if fn(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), noreplace) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, os.strerror(err), str(dst))
        if err not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), str(dst))
    if src.is_dir():  # no renameat2: a folder cannot be linked; the check and the rename are close together
        if dst.exists():
            raise FileExistsError(errno.EEXIST, "File exists", str(dst))
        os.rename(src, dst)
        return
    os.link(src, dst)  # fails if dst exists
    os.unlink(src)


def _parent(dest: Path) -> Path:
    return dest.parent if str(dest.parent) else Path(".")


class _Atomic(ABC):
    path: Path
    dest: Path
    overwrite: bool = True
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
        if isinstance(e, FileExistsError):
            raise OutputError(f"{self.dest}: was created by another process while this run was writing it; left it "
                              f"as it is and discarded this run's output (pass --overwrite to replace it)") from None
        if e.errno == errno.EXDEV:
            raise OutputError(f"{self.dest}: the temporary output is on another file system than the destination "
                              f"({e.strerror}); write into a folder on the destination's file system") from None
        raise OutputError(f"{self.dest}: cannot move the finished output into place ({e.strerror})") from None

    def _move(self, src: Path, dst: Path) -> None:
        if self.overwrite:
            os.replace(src, dst)
        else:
            _rename_noreplace(src, dst)


class AtomicFile(_Atomic):
    """A temporary file in the destination folder with the destination's suffix."""

    def __init__(self, dest: Path, durable: bool = False, overwrite: bool = True) -> None:
        self.dest = Path(dest)
        self.durable = durable
        self.overwrite = overwrite
        parent = _parent(self.dest)
        remove_stale(parent)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{self.dest.stem}.{_TAG}{os.getpid()}-",
                                        suffix=f".partial{self.dest.suffix}", dir=parent)
        except OSError as e:
            raise OutputError(f"{self.dest}: cannot create a file in {parent} ({e.strerror}); "
                              f"check that the folder exists and is writable") from None
        os.fchmod(fd, 0o666 & ~_UMASK)
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
            self._move(self.path, self.dest)
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
    """A temporary folder on the destination's file system; on commit its files move into the destination.

    ``replace``: a regular expression of file names the output owns (an image sequence's pattern); with
    ``overwrite``, files in an existing destination that match it and that this run did not write are removed
    on commit, so a shorter run never leaves frames of a longer earlier one behind.
    """

    def __init__(self, dest: Path, overwrite: bool = True, replace: re.Pattern[str] | None = None) -> None:
        self.dest = Path(dest)
        self.overwrite = overwrite
        self.replace = replace
        # inside an existing destination (a mount point's root has no writable parent on its file system),
        # else beside it
        where = self.dest if self.dest.is_dir() else _parent(self.dest)
        where.mkdir(parents=True, exist_ok=True)
        remove_stale(where)
        try:
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.dest.name}.{_TAG}{os.getpid()}-", suffix=".partial",
                                              dir=where))
        except OSError as e:
            raise OutputError(f"{self.dest}: cannot create a folder in {where} ({e.strerror}); "
                              f"check that it is writable") from None
        os.chmod(self.path, 0o777 & ~_UMASK)

    def __enter__(self) -> AtomicFolder:
        return self

    def commit(self) -> None:
        if self._done:
            return
        try:
            if not self.dest.exists():
                self._move(self.path, self.dest)
            else:
                new = sorted(self.path.iterdir())
                names = {f.name for f in new}
                if self.replace is not None and self.overwrite:
                    for old in self.dest.iterdir():
                        if old.name not in names and old.is_file() and self.replace.fullmatch(old.name):
                            old.unlink()
                for f in new:
                    self._move(f, self.dest / f.name)
                self.path.rmdir()
        except OSError as e:
            self._fail(e)
        self._done = True

    def discard(self) -> None:
        self._done = True
        shutil.rmtree(self.path, ignore_errors=True)


def write_bytes_atomic(path: Path, data: bytes, durable: bool = False, overwrite: bool = True) -> None:
    """``path`` holds ``data`` whole, or is left as it was."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with AtomicFile(Path(path), durable=durable, overwrite=overwrite) as f:
        try:
            f.path.write_bytes(data)
        except OSError as e:
            raise OutputError(f"{path}: could not write ({e.strerror}); check the folder and free space") from None


def write_text_atomic(path: Path, text: str, overwrite: bool = True) -> None:
    write_bytes_atomic(path, text.encode(), overwrite=overwrite)
