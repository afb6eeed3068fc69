"""Session 40's within-blob shape study (`hdrunet/shape-session40/shape_study.py`) of `brackets` as `eval` runs it
(per-blob level, ring and the rest on): python shape_brackets.py SEED OUT.pkl"""
import runpy
import sys
from pathlib import Path

here = Path(__file__).resolve().parents[2] / "hdrunet" / "shape-session40" / "shape_study.py"
sys.path.insert(0, str(here.parents[1] / "blobs-session39"))
import common  # noqa: E402


def brackets_as_run(level: bool):
    net, state = common.brackets_without_level()
    if level:  # put the shipped per-blob level back
        import hdrvid.models.brackets as B
        from hdrvid.models.blob_level import BlobLevel
        net.model.blob_level = BlobLevel(B.BLOB_LEVEL_FILE)
    return net, state


common.hdrunet_auto = brackets_as_run
sys.argv = [str(here)] + sys.argv[1:]
runpy.run_path(str(here), run_name="__main__")
