"""Runs a source and a chain of stages, each in its own thread, joined by bounded queues.

Contract:
- every ``put``/``get`` waits at most ``POLL`` seconds at a time and re-checks the stop event, so no
  thread stays blocked once anything fails;
- the first exception in any stage stops all stages and is re-raised in the caller as the original
  exception (its stage is recorded on ``Runner.failed_stage``);
- SIGINT and SIGTERM in the caller become :class:`hdrvid.errors.Interrupted` after the threads stop;
- end of stream is the ``EOS`` sentinel; each stage's ``flush()`` runs before it passes EOS on, and
  ``close()`` always runs.
"""

from __future__ import annotations

import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from hdrvid.errors import Interrupted
from hdrvid.pipeline.frame import EOS

POLL = 0.05


class Stage(Protocol):
    name: str

    def process(self, item: Any) -> Iterable[Any]: ...

    def flush(self) -> Iterable[Any]: ...

    def close(self) -> None: ...


class Source(Protocol):
    name: str

    def __iter__(self) -> Iterator[Any]: ...

    def close(self) -> None: ...


class _Stopped(Exception):
    """Internal: raised inside a worker when the stop event is set."""


@dataclass
class StageStats:
    name: str
    busy_seconds: float = 0.0
    items_in: int = 0
    items_out: int = 0


@dataclass
class QueueStats:
    name: str
    capacity: int
    samples: int = 0
    total: int = 0
    peak: int = 0

    def sample(self, size: int) -> None:
        self.samples += 1
        self.total += size
        self.peak = max(self.peak, size)

    def as_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "mean": round(self.total / self.samples, 3) if self.samples else 0.0,
            "max": self.peak,
        }


@dataclass
class RunStats:
    seconds: float = 0.0
    stages: list[StageStats] = field(default_factory=list)
    queues: list[QueueStats] = field(default_factory=list)


class Runner:
    def __init__(self, source: Source, stages: list[Stage], queue_size: int = 8) -> None:
        if queue_size < 1:
            raise ValueError("queue size must be at least 1")
        self.source = source
        self.stages = stages
        self.stop = threading.Event()
        # a stage may take fewer items in than the run's queue size (``max_queue``: items that each hold a frame)
        sizes = [min(queue_size, int(getattr(s, "max_queue", queue_size))) for s in stages]
        self.queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=n) for n in sizes]
        self.stats = RunStats(
            stages=[StageStats(source.name)] + [StageStats(s.name) for s in stages],
            queues=[QueueStats(f"{a}->{b.name}", n)
                    for a, b, n in zip([source.name] + [s.name for s in stages], stages, sizes)],
        )
        self.error: BaseException | None = None
        self.failed_stage: str | None = None
        self._lock = threading.Lock()

    # --- plumbing -----------------------------------------------------------------------------------

    def _fail(self, stage: str, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error, self.failed_stage = exc, stage
        self.stop.set()

    def _put(self, i: int, item: Any) -> None:
        q = self.queues[i]
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                q.put(item, timeout=POLL)
                self.stats.queues[i].sample(q.qsize())
                return
            except queue.Full:
                continue

    def _get(self, i: int) -> Any:
        q = self.queues[i]
        while True:
            if self.stop.is_set():
                raise _Stopped
            try:
                return q.get(timeout=POLL)
            except queue.Empty:
                continue

    def _run_source(self) -> None:
        st = self.stats.stages[0]
        try:
            it = iter(self.source)
            while True:
                t0 = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    st.busy_seconds += time.perf_counter() - t0
                    break
                st.busy_seconds += time.perf_counter() - t0
                st.items_out += 1
                if self.stages:
                    self._put(0, item)
            if self.stages:
                self._put(0, EOS)
        except _Stopped:
            pass
        except BaseException as e:  # noqa: BLE001 - any failure must stop the pipeline
            self._fail(self.source.name, e)
        finally:
            self._close(self.source)

    def _run_stage(self, k: int) -> None:
        stage = self.stages[k]
        st = self.stats.stages[k + 1]
        last = k == len(self.stages) - 1
        try:
            while True:
                item = self._get(k)
                t0 = time.perf_counter()
                if item is EOS:
                    outs = list(stage.flush())
                else:
                    st.items_in += 1
                    outs = list(stage.process(item))
                st.busy_seconds += time.perf_counter() - t0
                st.items_out += len(outs)
                if not last:
                    for out in outs:
                        self._put(k + 1, out)
                if item is EOS:
                    if not last:
                        self._put(k + 1, EOS)
                    return
        except _Stopped:
            pass
        except BaseException as e:  # noqa: BLE001
            self._fail(stage.name, e)
        finally:
            self._close(stage)

    def _close(self, stage: Any) -> None:
        try:
            stage.close()
        except BaseException as e:  # noqa: BLE001
            self._fail(getattr(stage, "name", "?"), e)

    # --- public -------------------------------------------------------------------------------------

    def run(self, on_tick: Callable[[], None] | None = None, tick: float = 0.2) -> RunStats:
        """Run to completion; re-raise the first stage error, or Interrupted on SIGINT/SIGTERM."""
        threads = [threading.Thread(target=self._run_source, name=f"hdrvid-{self.source.name}", daemon=True)]
        threads += [
            threading.Thread(target=self._run_stage, args=(k,), name=f"hdrvid-{s.name}", daemon=True)
            for k, s in enumerate(self.stages)
        ]
        t0 = time.perf_counter()
        interrupt: Interrupted | None = None
        with _signals_as_exceptions():
            try:
                for t in threads:
                    t.start()
                while any(t.is_alive() for t in threads):
                    for t in threads:
                        t.join(timeout=tick / max(1, len(threads)))
                    if on_tick is not None:
                        on_tick()
            except Interrupted as e:
                interrupt = e
                self.stop.set()
            finally:
                if interrupt is not None or self.error is not None:
                    self.stop.set()
                _join_all(threads, timeout=30.0)
        self.stats.seconds = time.perf_counter() - t0
        if interrupt is not None:
            raise interrupt
        if self.error is not None:
            raise self.error
        return self.stats


def run_sequential(runner: Runner) -> RunStats:
    """The same stages one item at a time in the calling thread, with no overlap: the baseline that shows
    what the pipelining gains (``hdrvid bench``). Errors propagate as they are; no signal handling."""
    stats = runner.stats
    stages = runner.stages

    def push(k: int, item: Any) -> None:
        if k == len(stages):
            return
        st = stats.stages[k + 1]
        t0 = time.perf_counter()
        if item is EOS:
            outs = list(stages[k].flush())
        else:
            st.items_in += 1
            outs = list(stages[k].process(item))
        st.busy_seconds += time.perf_counter() - t0
        st.items_out += len(outs)
        for out in outs:
            push(k + 1, out)
        if item is EOS:
            push(k + 1, EOS)

    t_start = time.perf_counter()
    try:
        it = iter(runner.source)
        while True:
            t0 = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                break
            finally:
                stats.stages[0].busy_seconds += time.perf_counter() - t0
            stats.stages[0].items_out += 1
            push(0, item)
        push(0, EOS)
    finally:
        for stage in [runner.source, *stages]:
            stage.close()
    stats.seconds = time.perf_counter() - t_start
    return stats


def _join_all(threads: list[threading.Thread], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))


class _signals_as_exceptions:
    """In the main thread, turn SIGINT/SIGTERM into :class:`Interrupted` for the duration of a run."""

    def __enter__(self) -> None:
        self.saved: dict[int, Any] = {}
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, _frame: Any) -> None:
            raise Interrupted(signum)

        for s in (signal.SIGINT, signal.SIGTERM):
            self.saved[s] = signal.signal(s, handler)

    def __exit__(self, *exc: object) -> None:
        for s, h in self.saved.items():
            signal.signal(s, h)
