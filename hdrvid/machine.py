"""What this machine offers the process: the ground floor every layer may ask (imports nothing of hdrvid)."""

from __future__ import annotations

import os


def usable_cores() -> int:
    """CPU cores this process may run on: its affinity mask where the OS has one (a container's or ``taskset``'s
    limit), else the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
