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


@pytest.fixture(autouse=True, scope="session")
def _private_signing_key(tmp_path_factory):
    """Tests sign cached artefacts with a key of their own, never the user's."""
    import os

    os.environ["HDRVID_KEY_FILE"] = str(tmp_path_factory.mktemp("key") / "cache.key")
    yield
