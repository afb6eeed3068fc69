"""What this machine offers the process: the ground floor every layer may ask (imports nothing of hdrvid)."""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def usable_cores() -> int:
    """CPU cores this process may run on: its affinity mask where the OS has one (a container's or ``taskset``'s
    limit), else the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@functools.cache
def _cpuinfo() -> tuple[str, frozenset[str]]:
    """(model name, feature flags) of the first CPU in Linux's /proc/cpuinfo; ("", empty) elsewhere. Read once."""
    try:
        with open("/proc/cpuinfo", errors="replace") as f:
            text = f.read()
    except OSError:
        return "", frozenset()
    name = re.search(r"^model name\s*:\s*(.+)$", text, re.M)
    listed = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    return (name.group(1).strip() if name else ""), frozenset(listed.group(1).split() if listed else ())


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX, from Linux's CPU flags); elsewhere bf16
    is emulated: no faster at inference, and a training step of a bf16 convolution ~27x slower than fp32's (an
    AMD EPYC host without AVX-512, session 45). The flags are read once: the training loop asks at every step."""
    return bool(_cpuinfo()[1] & {"avx512_bf16", "amx_bf16"})


CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
"""The CPU features that decide which of hdrvid's paths run fast (bf16, int8, the C kernels' AVX2/AVX-512)."""


def describe_cpu() -> dict[str, object]:
    """This CPU as a benchmark report records it: model name, usable cores, which of :data:`CPU_FLAGS` it has and
    whether it computes bf16 natively (Linux's /proc/cpuinfo; the platform's name alone elsewhere)."""
    import platform

    name, flags = _cpuinfo()
    return {"cpu": name or platform.processor() or platform.machine(), "cores": usable_cores(),
            "flags": [f for f in CPU_FLAGS if f in flags], "native_bf16": native_bf16()}


def torch_threads_restorer() -> Callable[[], None]:
    """A function that gives the calling thread back torch's intra-op thread count as it is now. An engine
    with ``threads`` (``--threads``, ``runtime.options.streaming_threads``) sets the count for the whole
    process when it is built, so that the pipeline's stage threads start with it; a job calls this at its start
    and the result at its end, so a library caller's own setting outlives the run. Nothing to keep when torch is not
    loaded yet (the run imports it with torch's default)."""
    torch = sys.modules.get("torch")
    before = torch.get_num_threads() if torch is not None else None

    def restore() -> None:
        if before is not None and torch is not None and torch.get_num_threads() != before:
            torch.set_num_threads(before)

    return restore


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -3, -4, -8
"""glibc's ``mallopt`` parameters (malloc.h)."""


def tune_allocator() -> bool:
    """glibc's allocator set for a process that makes and drops frame-sized buffers on several threads; call it
    once, before the pipeline's threads start (the command line does; a library caller decides for its own
    process, or sets ``MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0`` before starting Python). False where there is no
    glibc.

    - One arena (M_ARENA_MAX 1): each thread that allocates otherwise gets its own arena, whose heaps are at
      most 64 MiB and are shrunk (their pages given back) when a frame is freed, so the next frame's buffer is
      faulted in and zeroed by the kernel again. The default model at 1080p (48 frames, 2 cores) spent 2.6-5.8 s
      of its 12-14 s in the kernel (``perf``: ``clear_page_erms`` under page faults from torch's new tensors and
      x265's pictures), 1.1-3.0 s with one arena (medians of ten runs 3.7 and 1.4 s), and peaked at 1.5 instead
      of 2.0 GB (BENCHMARKS.md, session 31).
    - Every buffer from the heap, none from ``mmap`` (M_MMAP_MAX 0; until session 31 M_MMAP_THRESHOLD 32 MiB, glibc's
      largest, which still mapped anything larger: a 2160p float frame, a super-resolution network's whole-frame
      feature maps), and the heap trimmed only past 256 MiB of free top (M_TRIM_THRESHOLD): ~10 % off the output
      transform at 1080p (2026-11-22); the default model at 3840x2160 (12 frames) 13.0-13.2 -> 11.3-12.6 s, its
      kernel time 2.5-2.8 -> 1.2-1.4 s, the same peak (BENCHMARKS.md, session 31)."""
    if sys.platform != "linux":
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, libc's among them (find_library costs ~20 ms)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    ok = mallopt(M_ARENA_MAX, 1)
    ok &= mallopt(M_MMAP_MAX, 0)
    ok &= mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024)
    return bool(ok)


OPENCV_THREADS_ENV = "OPENCV_FOR_THREADS_NUM"
"""OpenCV's default thread count, read once when it is imported."""


@contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """OpenCV's own thread pool at ``count`` threads while the block runs, then as it was. A streaming pipeline
    already runs its stages in parallel threads; OpenCV's pool beside them (its workers wait by spinning on
    ``sched_yield``) took cores from the encoder: ``tonemap`` at 1080p made ~16,000 ``sched_yield`` calls and
    spent 0.46-0.70 s in the kernel against 0.22-0.38 s with one thread, the same bytes out (BENCHMARKS.md,
    session 23). OpenCV is not imported for this (~15 ms of every start; the plain transcode never uses it): one
    imported inside the block starts with ``count`` threads (``OPENCV_FOR_THREADS_NUM``) and gets its default,
    the CPUs it may use, after it."""
    if sys.modules.get("cv2") is None:
        saved = os.environ.get(OPENCV_THREADS_ENV)
        os.environ[OPENCV_THREADS_ENV] = str(count)
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop(OPENCV_THREADS_ENV, None)
            else:
                os.environ[OPENCV_THREADS_ENV] = saved
            cv2 = sys.modules.get("cv2")
            if cv2 is not None and hasattr(cv2, "setNumThreads"):  # imported inside: its default (cached at import)
                cv2.setNumThreads(int(saved) if saved and saved.isdigit() else cv2.getNumberOfCPUs())
        return
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(before)


@contextmanager
def numpy_hugepages(enabled: bool) -> Iterator[None]:
    """NumPy's ``madvise(MADV_HUGEPAGE)`` on its large arrays (its default on Linux) on or off while the block
    runs, then as it was (``NUMPY_MADVISE_HUGEPAGE`` is the same switch for a whole process). A pipeline makes a
    new frame-sized array per frame and drops it a few frames later; with transparent huge pages in ``madvise``
    mode, each one's first touch made the kernel find (compacting memory for) and zero 2 MiB pages:
    ``tonemap`` at 1080p spent 0.55-0.91 s in the kernel against 0.28-0.30 s without, the same bytes out
    (BENCHMARKS.md, session 24)."""
    try:
        from numpy._core.multiarray import _set_madvise_hugepage
    except ImportError:  # a NumPy without the switch: nothing to change
        yield
        return
    before = _set_madvise_hugepage(enabled)
    try:
        yield
    finally:
        _set_madvise_hugepage(before)
