"""hdrvid's command line with the refining network always on whole frames (before session 31's tiles)."""
import sys

import hdrvid.engines.superres as sr

sr.MMAP_LIMIT = 1 << 62
from hdrvid.cli import main  # noqa: E402

sys.exit(main())
