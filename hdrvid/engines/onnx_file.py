"""Opening ONNX files safely: external tensor data may only come from the model's own folder.

An ONNX file can name external data files by relative (or absolute) path; a crafted model could make the
runtime read any file on the machine into a tensor. hdrvid refuses such a model before any runtime sees it.
"""

from __future__ import annotations

from pathlib import Path

from hdrvid.errors import ModelError


def _tensors(graph: object) -> list[object]:
    import onnx

    found: list[object] = []
    g: onnx.GraphProto = graph  # type: ignore[assignment]
    found += list(g.initializer)
    found += [t.values for t in g.sparse_initializer]
    for node in g.node:
        for attr in node.attribute:
            if attr.HasField("t"):
                found.append(attr.t)
            found += list(attr.tensors)
            if attr.HasField("g"):
                found += _tensors(attr.g)
            for sub in attr.graphs:
                found += _tensors(sub)
    return found


def check_onnx_file(path: Path) -> None:
    """Raise ModelError unless every external data location stays inside ``path``'s folder."""
    import onnx
    from onnx.external_data_helper import uses_external_data

    path = Path(path)
    if path.is_symlink():
        raise ModelError(f"{path}: refused: the ONNX file is a symbolic link; copy the model and its data into "
                         f"a folder of their own")
    if not path.is_file():
        raise ModelError(f"{path}: ONNX file not found")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as e:
        raise ModelError(f"{path}: not a readable ONNX model ({type(e).__name__}); re-export it with hdrvid export") from None
    folder = path.resolve().parent
    for t in _tensors(model.graph):
        if not uses_external_data(t):  # type: ignore[arg-type]
            continue
        entries = {e.key: e.value for e in t.external_data}  # type: ignore[attr-defined]
        loc = entries.get("location", "")
        target = (folder / loc).resolve()  # follows symlinks: a link out of the folder is refused too
        if not loc or Path(loc).is_absolute() or not target.is_relative_to(folder):
            raise ModelError(f"{path}: refused: tensor {t.name!r} reads external data from {loc!r}, outside the "  # type: ignore[attr-defined]
                             f"model's folder {folder}; keep the .onnx and its data files together")
        if (path.parent / loc).is_symlink():  # (a link inside the folder: the runtime would follow it)
            raise ModelError(f"{path}: refused: external data file {loc!r} is a symbolic link; keep the real file "
                             f"beside the model")
        if not target.is_file():
            raise ModelError(f"{path}: external data file {loc!r} is missing from {folder}")
