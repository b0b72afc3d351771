"""Time limits on pure-Python work (SymPy, mpmath) that work in any thread and any process.

``with time_limit(seconds):`` raises :class:`Deadline` inside the block once ``seconds`` have
passed. A single watchdog thread keeps the deadlines of every thread and, when one expires,
raises the exception in that thread between two bytecodes (``PyThreadState_SetAsyncExc``).
Unlike a SIGALRM timer this needs neither the main thread nor signals, so the checker can run
in a notebook's worker thread, a thread pool or a process pool. As with a signal, a long call
into C (a huge integer product) finishes before the exception is seen.

Limits nest: the innermost that expires raises its own exception class, which the outer blocks
let through; an outer limit that expires first interrupts whatever inner block is running.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["Deadline", "deadline", "time_limit", "wait_in_slices"]

RAISE_AGAIN_AFTER = 0.5  # seconds between raises of an expired limit whose block still runs


class Deadline(Exception):  # noqa: N818 - reads as what it is
    """A block ran past its time limit."""


@dataclass(order=True)
class _Limit:
    expires: float
    number: int
    thread_id: int = field(compare=False)
    error: type[BaseException] = field(compare=False)
    active: bool = field(default=True, compare=False)
    fired: bool = field(default=False, compare=False)


class _Watchdog:
    """One daemon thread that raises each expired limit's exception in its thread."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.heap: list[_Limit] = []
        self.counter = itertools.count()
        self.thread: threading.Thread | None = None

    def start(self, seconds: float, error: type[BaseException]) -> _Limit:
        limit = _Limit(time.monotonic() + seconds, next(self.counter), threading.get_ident(), error)
        with self.lock:
            heapq.heappush(self.heap, limit)
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="derive-time-limits", daemon=True)
                self.thread.start()
            self.lock.notify()
        return limit

    def stop(self, limit: _Limit) -> None:
        """End the limit in its own thread; an exception of it still on its way is absorbed here."""
        while True:
            try:
                with self.lock:  # no more raises once inactive: the watchdog fires under this lock
                    limit.active = False
                break
            except limit.error:  # its own exception arrived on the way in: the limit is over anyway
                continue
        if limit.fired:
            _absorb(limit.error)

    def _run(self) -> None:
        with self.lock:
            while True:
                while self.heap and not self.heap[0].active:
                    heapq.heappop(self.heap)
                if not self.heap:
                    self.lock.wait()
                    continue
                wait = self.heap[0].expires - time.monotonic()
                if wait > 0:
                    self.lock.wait(wait)
                    continue
                limit = heapq.heappop(self.heap)
                limit.fired = True
                _set_async_exc(limit.thread_id, limit.error)
                # raised again until the block ends: raised where Python only reports it (a
                # finalizer, a profiler's hook) or caught by code that catches everything, it
                # would be lost and the block would run on
                limit.expires = time.monotonic() + RAISE_AGAIN_AFTER
                heapq.heappush(self.heap, limit)


def _set_async_exc(thread_id: int, error: type[BaseException]) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(error))


def _absorb(error: type[BaseException]) -> None:
    """Let an exception set for this thread but not raised yet be raised here, and drop it.

    A pending asynchronous exception is raised at the next loop back-edge. Taking it back with
    ``PyThreadState_SetAsyncExc(id, NULL)`` instead leaves CPython 3.11's eval breaker set, and
    under a profiler or tracer (cProfile, coverage, a debugger) the thread then spins forever
    on its next function call."""
    try:
        for _ in range(_ABSORB_STEPS):
            pass
    except error:
        pass


_ABSORB_STEPS = 100  # back-edges: each one checks for a pending asynchronous exception


_watchdog = _Watchdog()


def _after_fork() -> None:  # a forked child has no watchdog thread: start afresh
    global _watchdog
    _watchdog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


@contextmanager
def time_limit(seconds: float | None, error: type[Exception] = Deadline) -> Iterator[None]:
    """Raise ``error`` inside the block after ``seconds``; None or 0 means no limit."""
    if not seconds:
        yield
        return
    limit = _watchdog.start(seconds, error)
    try:
        yield
    except error as err:
        if not limit.fired or not isinstance(err, error) or err.args:
            raise  # not ours: an inner limit's, or raised by the code itself
        raise error(f"exceeded the time limit of {seconds:g} s") from None
    finally:
        _watchdog.stop(limit)


@contextmanager
def deadline(seconds: float, error: type[Exception] = Deadline) -> Iterator[None]:
    """``time_limit`` for a budget that may already be spent: no time left raises at once."""
    if seconds <= 0:
        raise error("no time left")
    with time_limit(seconds, error):
        yield


WAKE_EVERY = 0.2  # seconds: how soon a wait in slices sees a signal delivered to another thread


def wait_in_slices(wait: Callable[[float], bool], seconds: float | None) -> bool:
    """``wait(seconds)`` (True once the awaited thing is ready; None: no end) as waits of at most
    WAKE_EVERY.

    A SIGINT that the kernel hands to another thread (a progress bar's monitor, say) sets
    Python's flag but does not interrupt this thread's wait; back in Python between slices, the
    handler runs and Ctrl-C is raised at once instead of when the wait is over."""
    end = float("inf") if seconds is None else time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return wait(0)
        if wait(min(left, WAKE_EVERY)):
            return True
