"""Typed reports: every job returns a dataclass that knows its JSON form and its one-line summary.

``as_dict()`` is what ``--report``/``--json`` files hold (paths as strings, fields that do not apply to a
run left out); ``str(report)`` is what the command line prints. :func:`write_report` is the one writer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from hdrvid.io.atomic import write_text_atomic


def _plain(value: Any) -> Any:
    if isinstance(value, Report):
        return value.as_dict()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "as_dict"):
        return value.as_dict()
    return value


@dataclass
class Report:
    """Base of every job's report. Fields set to None are left out of the JSON form."""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if v is not None:
                out[f.name] = _plain(v)
        return out

    def __str__(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def __getitem__(self, key: str) -> Any:
        """Read a field as its JSON form reads (``report["frames"]``)."""
        d = self.as_dict()
        if key not in d:
            raise KeyError(key)
        return d[key]


def write_report(report: Report, path: Path, overwrite: bool = True) -> None:
    """The report as indented JSON at ``path``, written atomically (exclusively unless ``overwrite``)."""
    write_text_atomic(Path(path), json.dumps(report.as_dict(), indent=2) + "\n", overwrite=overwrite)
