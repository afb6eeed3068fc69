import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from media import make_clip


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    """12 frames, 64x48, H.264 + AAC, BT.709 tagged."""
    return make_clip(tmp_path / "in.mp4", audio=True)


def run_cli(*args: str):
    from click.testing import CliRunner

    from hdrvid.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
