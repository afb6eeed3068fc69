"""hdrvid's command line with the allocator tuned as before session 31 (thresholds only, an arena per thread)."""
import ctypes
import sys

import hdrvid.machine as m


def old() -> bool:
    libc = ctypes.CDLL(None)
    libc.mallopt(-3, 32 * 1024 * 1024)
    libc.mallopt(-1, 256 * 1024 * 1024)
    return True


m.tune_allocator = old
from hdrvid.cli import main  # noqa: E402

sys.exit(main())
