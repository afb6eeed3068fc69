"""Checksums of files (weights, ONNX exports, engines) and the per-user signatures that let hdrvid trust
its own cached artefacts (ONNX exports, TensorRT engines) and nothing planted beside them."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def key_file() -> Path:
    """Where the per-user signing key lives: ``$HDRVID_KEY_FILE``, else ``$XDG_CONFIG_HOME/hdrvid/cache.key``
    (``~/.config/hdrvid/cache.key``). It is kept outside the cache on purpose: whoever can write into the
    cache cannot forge a record without it."""
    env = os.environ.get("HDRVID_KEY_FILE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "hdrvid" / "cache.key"


def _key() -> bytes:
    path = key_file()
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # first writer wins
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key


def sign(purpose: str, digest: str) -> str:
    """HMAC-SHA256 of ``digest`` (e.g. a file's sha256) for ``purpose``, under the per-user key."""
    try:
        key = _key()
    except FileExistsError:  # another process created it between our read and our create
        key = _key()
    return hmac.new(key, f"{purpose}\0{digest}".encode(), hashlib.sha256).hexdigest()


def verify(purpose: str, digest: str, signature: str | None) -> bool:
    """True only if ``signature`` is this user's HMAC of ``digest`` for ``purpose``."""
    return bool(signature) and hmac.compare_digest(sign(purpose, digest), str(signature))
