"""shipped brackets with CAMERA_BLEND = (LO, HI): python brcam_bounds.py LO HI eval ..."""
import sys

import hdrvid.models.brackets as B

B.CAMERA_BLEND = (float(sys.argv[1]), float(sys.argv[2]))
from hdrvid.cli import main

sys.argv = ["hdrvid"] + sys.argv[3:]
main()
