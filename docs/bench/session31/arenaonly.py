"""hdrvid's command line with the allocator of session 31's first change (one arena; blocks over 32 MiB still mapped)."""
import ctypes
import sys

import hdrvid.machine as m


def arena_only() -> bool:
    libc = ctypes.CDLL(None)
    libc.mallopt(-8, 1)
    libc.mallopt(-3, 32 * 1024 * 1024)
    libc.mallopt(-1, 256 * 1024 * 1024)
    return True


m.tune_allocator = arena_only
from hdrvid.cli import main  # noqa: E402

sys.exit(main())
