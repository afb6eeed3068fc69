"""The runner: failures anywhere stop everything quickly, with the original error; signals clean up."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from media import make_clip

from hdrvid.jobs.convert import ConvertOptions, convert
from hdrvid.pipeline.frame import Frame
from hdrvid.pipeline.runner import Runner


class Boom(RuntimeError):
    pass


class FailOnFrame:
    """A stage that raises on frame N (counts frames as they pass)."""

    name = "fail"

    def __init__(self, n: int) -> None:
        self.n = n
        self.seen = 0

    def process(self, frame: Frame):
        if self.seen == self.n:
            raise Boom(f"frame {self.n}")
        self.seen += 1
        yield frame

    def flush(self):
        return iter(())

    def close(self) -> None:
        pass


def hdrvid_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hdrvid-")]


def test_stage_failure_stops_all_stages_with_the_original_error(tmp_path: Path):
    src = make_clip(tmp_path / "in.mp4", frames=40)
    out = tmp_path / "out.mp4"
    t0 = time.monotonic()
    with pytest.raises(Boom, match="frame 5"):
        convert(ConvertOptions(src, out, model="itmo", queue_size=2), extra_stages=[FailOnFrame(5)])
    assert time.monotonic() - t0 < 10
    assert not hdrvid_threads()
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]


class SlowSource:
    name = "source"

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self):
        i = 0
        while True:  # endless: only the stop event ends it
            yield i
            i += 1

    def close(self) -> None:
        self.closed = True


class Sink:
    def __init__(self, name: str, fail_at: int | None = None, block: bool = False) -> None:
        self.name, self.fail_at, self.block, self.n, self.closed = name, fail_at, block, 0, False

    def process(self, item):
        self.n += 1
        if self.fail_at is not None and self.n >= self.fail_at:
            raise ValueError(f"{self.name} failed")
        if self.block:
            time.sleep(0.01)
        yield item

    def flush(self):
        return iter(())

    def close(self) -> None:
        self.closed = True


def test_no_thread_left_blocked_when_the_last_stage_fails():
    """Upstream stages are blocked on full queues when the sink fails: all must still end."""
    src, mid, sink = SlowSource(), Sink("mid"), Sink("sink", fail_at=50, block=True)
    r = Runner(src, [mid, sink], queue_size=1)
    t0 = time.monotonic()
    with pytest.raises(ValueError, match="sink failed"):
        r.run()
    assert time.monotonic() - t0 < 10
    assert r.failed_stage == "sink" and src.closed and mid.closed and sink.closed
    assert not hdrvid_threads()


def test_report_counts_flow_and_queue_occupancy(tmp_path: Path):
    src = make_clip(tmp_path / "in.mp4", frames=20)
    rep = convert(ConvertOptions(src, tmp_path / "o.mp4", model="itmo", queue_size=3))
    assert rep["frames"] == 20 and rep["fps"] > 0
    assert all(v["capacity"] == 3 and 0 <= v["mean"] <= v["max"] <= 3 for v in rep["queues"].values())
    assert all(s >= 0 for s in rep["stages"].values())


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_encode_exits_cleanly(tmp_path: Path, sig: int, code: int):
    src = make_clip(tmp_path / "in.mp4", frames=400, size=(320, 180))
    out = tmp_path / "out.mp4"
    out.write_bytes(b"old")
    p = subprocess.Popen([sys.executable, "-m", "hdrvid", "-q", "convert", str(src), str(out), "--overwrite"],
                         stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not [f for f in tmp_path.iterdir() if ".partial" in f.name]:  # wait until it is writing
        assert time.monotonic() < deadline and p.poll() is None
        time.sleep(0.05)
    time.sleep(0.5)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert p.returncode == code, err
    assert "interrupted" in err
    assert out.read_bytes() == b"old"
    assert not [f for f in tmp_path.iterdir() if ".partial" in f.name]


def test_memory_is_flat_in_video_length(tmp_path: Path):
    """Peak RSS for 3,000 frames at 320x180 is at most 1.1x that of 300 frames (checks memory, not time)."""
    short = make_clip(tmp_path / "short.mp4", frames=300, size=(320, 180))
    long = make_clip(tmp_path / "long.mp4", frames=3000, size=(320, 180))
    code = (
        "import resource, sys; from pathlib import Path;"
        "from hdrvid.jobs.convert import ConvertOptions, convert;"
        "from hdrvid.pipeline.encoder import EncodeOptions;"
        "r = convert(ConvertOptions(Path(sys.argv[1]), Path(sys.argv[2]), model='itmo', encode=EncodeOptions(preset='ultrafast')));"
        "print(r['frames'], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    rss = {}
    for name, path in (("short", short), ("long", long)):
        res = subprocess.run([sys.executable, "-c", code, str(path), str(tmp_path / f"{name}_out.mp4")],
                             capture_output=True, text=True, timeout=900)
        assert res.returncode == 0, res.stderr
        frames, kb = (int(v) for v in res.stdout.split())
        rss[name] = kb
        assert frames == (300 if name == "short" else 3000)
    assert rss["long"] <= 1.1 * rss["short"], rss


def test_progress_bar_on_a_tty_and_quiet_silences_it(tmp_path: Path):
    import pty

    src = make_clip(tmp_path / "in.mp4", frames=30)
    outputs = {}
    for quiet in (False, True):
        master, slave = pty.openpty()
        args = [sys.executable, "-m", "hdrvid"] + (["-q"] if quiet else []) + ["convert", str(src),
                                                                              str(tmp_path / f"o{quiet}.mp4")]
        p = subprocess.Popen(args, stderr=slave, stdout=subprocess.DEVNULL)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        p.wait(timeout=60)
        os.close(master)
        assert p.returncode == 0
        outputs[quiet] = b"".join(chunks).decode(errors="replace")
    assert "30/30" in outputs[False] and "frame/s" in outputs[False]  # frames, rate (and ETA while running)
    assert outputs[True].strip() == ""


def test_disk_full_is_a_clear_error_and_leaves_nothing(clip: Path, tmp_path: Path, monkeypatch):
    import errno

    from hdrvid.errors import OutputError
    from hdrvid.pipeline import encoder

    class FullDisk:
        def __init__(self, real):
            self.real, self.n = real, 0

        def mux(self, packet):
            self.n += 1
            if self.n > 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.real.mux(packet)

        def __getattr__(self, name):
            return getattr(self.real, name)

    real_init = encoder.VideoEncoder.__init__

    def init(self, *a, **kw):
        real_init(self, *a, **kw)
        self.out = FullDisk(self.out)

    monkeypatch.setattr(encoder.VideoEncoder, "__init__", init)
    out = tmp_path / "out.mp4"
    with pytest.raises(OutputError, match="no space left"):
        convert(ConvertOptions(clip, out, model="itmo"))
    assert not out.exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]
    assert not hdrvid_threads()


@pytest.mark.parametrize("bad, words", [(float("nan"), "NaN or infinite"), (-float("inf"), "NaN or infinite"),
                                        (-1e9, "values up to 1e+09x"), (1e9, "values up to 1e+09x")])
def test_inference_refuses_an_implausible_model_output(bad: float, words: str):
    """A model output with NaN, infinities or light no picture has (either sign) stops the run with an error
    naming the frame, instead of encoding it (one min-max pass finds the largest magnitude)."""
    import torch

    from hdrvid.errors import ModelError
    from hdrvid.pipeline.frame import Batch
    from hdrvid.pipeline.inference import Inference

    class Stub:
        name, model = "stub", object()

        def infer(self, x: torch.Tensor) -> torch.Tensor:
            y = x.clone()
            y[0, 1, 2, 3] = bad
            return y

    frame = Frame(7, None, None, torch.rand(3, 4, 6))
    batch = Batch([frame], frame.data[None], 1)
    with pytest.raises(ModelError, match=f"{re.escape(words)}.*frame 7"):
        list(Inference(Stub(), video=False).process(batch))  # type: ignore[arg-type]
    ok = Batch([frame], torch.full((1, 3, 4, 6), -0.5), 1)
    Stub.infer = lambda self, x: x  # type: ignore[method-assign]
    assert [f.index for f in Inference(Stub(), video=False).process(ok)] == [7]  # type: ignore[arg-type]


class RecordOpenCVThreads:
    """A stage that records OpenCV's thread count and NumPy's huge-page advice while frames pass."""

    name = "record"

    def __init__(self) -> None:
        self.counts: set[int] = set()
        self.hugepages: set[bool] = set()

    def process(self, frame: Frame):
        import cv2
        from numpy._core.multiarray import _set_madvise_hugepage

        self.counts.add(cv2.getNumThreads())
        now = _set_madvise_hugepage(False)
        _set_madvise_hugepage(now)
        self.hugepages.add(now)
        yield frame

    def flush(self):
        return iter(())

    def close(self) -> None:
        pass


def test_opencv_runs_single_threaded_inside_a_pipeline_and_gets_its_setting_back(tmp_path: Path):
    """The stages are the run's parallelism: OpenCV's own pool (workers spinning on sched_yield) is one thread
    while a pipeline runs, and NumPy's frame arrays go on small pages (no huge-page compaction per frame), on
    every path (a failing run too); a library caller's settings come back after."""
    import cv2
    from numpy._core.multiarray import _set_madvise_hugepage

    src = make_clip(tmp_path / "in.mp4", frames=6)
    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    huge_before = _set_madvise_hugepage(True)
    try:
        rec = RecordOpenCVThreads()
        convert(ConvertOptions(src, tmp_path / "o.mp4", model="itmo"), extra_stages=[rec])
        assert rec.counts == {1} and cv2.getNumThreads() == 2
        assert rec.hugepages == {False} and _set_madvise_hugepage(True) is True
        with pytest.raises(Boom):
            convert(ConvertOptions(src, tmp_path / "p.mp4", model="itmo"), extra_stages=[FailOnFrame(2)])
        assert cv2.getNumThreads() == 2 and _set_madvise_hugepage(True) is True
    finally:
        cv2.setNumThreads(before)
        _set_madvise_hugepage(huge_before)


def test_a_split_inference_expands_in_frame_order_with_its_resets_where_the_cuts_are():
    """``Inference.stages()`` for an executor that ``overlaps``: the network part runs in one stage, the rest (which
    reads and moves the model's per-shot state) in the next, frame after frame, with the scene cut's reset between
    the last frame of one shot and the first of the next, never ahead of it; at most ``Expand.max_queue`` prepared
    frames wait between the two."""
    import numpy as np
    import torch

    from hdrvid.pipeline.frame import Batch, Frame
    from hdrvid.pipeline.inference import Expand, Inference, Network
    from hdrvid.pipeline.runner import Runner

    class Model:
        state = 0

        def enable_temporal(self, alpha: float) -> None:
            pass

        def reset_temporal(self) -> None:
            self.state = 0

    class Stub:
        overlaps, name = True, "stub"

        def __init__(self) -> None:
            self.model, self.log = Model(), []

        def prepare(self, x: torch.Tensor):
            i = int(x[0, 0, 0, 0])
            self.log.append(("network", i))

            def rest() -> torch.Tensor:
                self.model.state += 1  # the shot's frame count: what per-shot state would be
                self.log.append(("expand", i, self.model.state))
                return x * 0 + self.model.state

            return rest

        def close(self) -> None:
            self.log.append(("closed",))

    dark, light = np.eye(64)[5], np.eye(64)[50]

    class Source:
        name = "decode"

        def __iter__(self):
            for i in range(10):
                f = Frame(i, i, None, torch.full((3, 2, 2), float(i)))
                f.stats.hist = dark if i < 6 else light
                yield Batch([f], f.data[None], 1)

        def close(self) -> None:
            pass

    stub = Stub()
    stages = Inference(stub, video=True).stages()
    assert [type(s) for s in stages] == [Network, Expand]
    runner = Runner(Source(), stages, queue_size=8)
    assert runner.queues[1].maxsize == Expand.max_queue
    runner.run()
    expands = [e for e in stub.log if e[0] == "expand"]
    assert [e[1] for e in expands] == list(range(10))
    assert [e[2] for e in expands] == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4]  # the reset lands on frame 6
    assert stub.log[-1] == ("closed",)


ARENAS_SCRIPT = """
import ctypes, sys, threading
from hdrvid.machine import tune_allocator
if sys.argv[1] == "tuned":
    assert tune_allocator()
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
barrier = threading.Barrier(4)
def work():
    p = libc.malloc(1 << 20)  # each thread's first allocation picks (or makes) its arena
    barrier.wait()            # all four alive at once: none inherits an exited thread's arena
    libc.free(p)
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc.malloc_stats()           # one "Arena N:" block per arena, on stderr
class Info(ctypes.Structure):  # glibc's struct mallinfo2
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Info
before = libc.mallinfo2().hblkhd
big = libc.malloc(64 << 20)   # larger than glibc's largest mmap threshold
print(libc.mallinfo2().hblkhd - before)  # bytes of it in mmapped regions
libc.free(big)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator")
def test_tune_allocator_keeps_every_thread_in_one_malloc_arena_and_maps_nothing():
    """The command line's allocator setting (``machine.tune_allocator``): threads that allocate at the same time
    share one arena (whose freed frame buffers stay mapped) instead of one each (whose heaps give their pages back
    on every free), and blocks larger than 32 MiB come from the heap instead of a fresh ``mmap`` each
    (BENCHMARKS.md session 31); checked against glibc's own statistics."""
    def stats(mode: str) -> tuple[int, int]:
        r = subprocess.run([sys.executable, "-c", ARENAS_SCRIPT, mode], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        return len(re.findall(r"^Arena \d+:", r.stderr, re.M)), int(r.stdout.split()[-1])

    arenas, mapped = stats("default")
    assert arenas >= 3 and mapped >= 64 << 20  # glibc's default: an arena per thread (up to 8 per core); big blocks mapped
    assert stats("tuned") == (1, 0)  # one arena; every block from the heap


def test_opencv_threads_reach_an_opencv_imported_inside_the_block() -> None:
    """`opencv_threads` does not import OpenCV (~15 ms of every start): one imported inside the block starts with
    the block's thread count and has its default, the CPUs it may use, after it."""
    code = ("import os, sys; from hdrvid.machine import opencv_threads\n"
            "assert 'cv2' not in sys.modules\n"
            "with opencv_threads(1):\n"
            "    import cv2\n"
            "    inside = cv2.getNumThreads()\n"
            "print(inside, cv2.getNumThreads(), cv2.getNumberOfCPUs(), 'OPENCV_FOR_THREADS_NUM' in os.environ)")
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_FOR_THREADS_NUM"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    inside, after, cpus, leaked = r.stdout.split()
    assert (int(inside), int(after), leaked) == (1, int(cpus), "False")


@pytest.mark.parametrize("args, ok", [(["models"], True), (["convert", "missing.mp4", "out.mp4"], False)])
def test_the_command_keeps_its_exit_code_and_freezes_the_heap_at_the_end(tmp_path: Path, args: list, ok: bool):
    """The console script (`hdrvid.cli.run`): main's exit code, success or failure, and every object frozen out
    of the collector afterwards (the interpreter's closing collection would walk them all)."""
    code = ("import gc, sys\nfrom hdrvid.cli import run\n"
            f"sys.argv = ['hdrvid', *{args!r}]\n"
            "try:\n    run()\nexcept SystemExit as e:\n"
            "    print('exit', e.code or 0, gc.get_freeze_count() > 1000)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    last = r.stdout.strip().splitlines()[-1].split()
    assert last[0] == "exit" and (last[1] == "0") == ok and last[2] == "True", (r.stdout, r.stderr)
    if not ok:
        assert "missing.mp4" in r.stderr and not (tmp_path / "out.mp4").exists()
