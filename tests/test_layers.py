"""The layer contract (import-linter, `.importlinter`) holds, catches an upward import, and nothing imports
in a cycle."""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"


def _lint(root: Path) -> subprocess.CompletedProcess:
    """lint-imports on the package under ``root`` (a separate process: grimp finds the package on sys.path)."""
    code = ("import sys; from importlinter.cli import lint_imports; "
            f"sys.exit(lint_imports(config_filename={str(CONFIG)!r}, no_cache=True))")
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_layers_contract_is_kept():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "1 kept, 0 broken" in r.stdout


@pytest.mark.parametrize("low, high", [("hdrvid/color/gamut.py", "hdrvid.jobs.convert"),
                                       ("hdrvid/engines/base.py", "hdrvid.pipeline.frame"),
                                       ("hdrvid/train/loop.py", "hdrvid.pipeline.runner")])
def test_an_upward_import_breaks_the_contract(tmp_path: Path, low: str, high: str):
    copy = tmp_path / "hdrvid"
    shutil.copytree(ROOT / "hdrvid", copy, ignore=shutil.ignore_patterns("__pycache__", "weights"))
    with open(tmp_path / low, "a") as f:
        f.write(f"\n\ndef _sneaky() -> None:\n    import {high}  # noqa: F401\n")  # hidden in a function
    r = _lint(tmp_path)
    assert r.returncode != 0 and "BROKEN" in r.stdout.upper(), r.stdout[-3000:]
    assert high.rsplit(".", 1)[0] in r.stdout


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    edges = {m: sorted(i for i in graph.find_modules_directly_imported_by(m) if i in graph.modules)
             for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycles():
    assert _cycles(grimp.build_graph("hdrvid", cache_dir=None)) == []
