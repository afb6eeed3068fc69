"""Session 32: `hdrunet-auto` without its BT.2446A curve (for scale in the brackets card; eval only):

    python nocurve.py eval -m hdrunet-auto --split validation --views 4 --width 384 --graded $D --metric psnr_mu \
        --threads 1 --json OUT.json
"""
import sys

from hdrvid.models.hdrunet import HDRUNet

HDRUNet._graded = lambda self, linear, out, w: out  # type: ignore[method-assign]
from hdrvid.cli import main  # noqa: E402

sys.argv[0] = "hdrvid"
main()
