"""`hdrvid` with the sparse path's mask made by the torch pools (before session 29): python torchmask.py convert ..."""
import sys

from hdrvid.models.hdrunet import HDRUNet

HDRUNet.active_threshold = property(lambda self: None)  # executor.active_blocks declines: the torch path
from hdrvid.cli import main  # noqa: E402

sys.argv[0] = "hdrvid"
main()
