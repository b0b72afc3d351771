"""Running one claim under a hard time limit: in a forked worker when possible, else in this thread.

A forked worker per claim is the strongest limit: it is killed past its time, whatever it is
doing (a long call into C, memory running out), and the file goes on. A worker cannot always be
forked: daemonic processes (the workers of a ``multiprocessing.Pool``) may not have children,
platforms without ``fork`` have none, and forking from a thread other than the main one may copy
a lock some other thread holds. There the claim runs in the calling thread under the watchdog
time limits of ``derive.timelimit``, which need neither signals nor the main thread.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..timelimit import time_limit, wait_in_slices
from .results import ClaimResult

__all__ = ["GRACE", "can_fork_workers", "run_limited"]

GRACE = 1.0  # seconds a claim may run past its own budget (its stages stop themselves) before it is killed


class _ClaimTimeLimit(BaseException):  # noqa: N818 - a BaseException: no `except Exception` in SymPy swallows it
    """The in-process time limit of a whole claim ran out."""


def can_fork_workers() -> bool:
    """Whether a claim can run in a forked child here: fork exists, this process may have children
    (it is not a daemonic pool worker) and this is the main thread."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
        and threading.current_thread() is threading.main_thread()
    )


def run_limited(
    check: Callable[[], ClaimResult],
    on_timeout: Callable[[str], ClaimResult],
    seconds: float,
    isolate: bool = True,
) -> ClaimResult:
    """``check()`` stopped after ``seconds`` (+ ``GRACE``): in a forked worker when ``isolate`` and
    forking is safe here, else in this thread. ``on_timeout(reason)`` makes the result of a claim
    stopped by its limit, or of a worker that died. Ctrl-C (KeyboardInterrupt) goes through."""
    start = time.monotonic()
    if isolate and can_fork_workers():
        result = _in_worker(check, on_timeout, seconds)
    else:
        result = _in_thread(check, on_timeout, seconds)
    result.seconds = time.monotonic() - start
    return result


def _limit_reason(seconds: float) -> str:
    return f"time limit of {seconds:g} s reached: no proof or counterexample in time"


def _in_thread(
    check: Callable[[], ClaimResult], on_timeout: Callable[[str], ClaimResult], seconds: float
) -> ClaimResult:
    try:
        with time_limit(seconds + GRACE, _ClaimTimeLimit):  # type: ignore[arg-type]
            return check()
    except _ClaimTimeLimit:
        return on_timeout(_limit_reason(seconds))
    except Exception as err:  # noqa: BLE001 - any failure of one claim is that claim's "undecided"
        return on_timeout(f"internal error while checking: {type(err).__name__}: {err}")


def _die_with_parent(parent: int) -> None:
    """Linux: this worker is killed when its parent dies (killed with SIGKILL, say), so that no
    worker outlives the check that started it (and holds its output pipe open)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_PR_SET_PDEATHSIG = 1  # <sys/prctl.h>


def _worker(
    check: Callable[[], ClaimResult], on_timeout: Callable[[str], ClaimResult], conn: Any, parent: int
) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it kills this worker
    try:
        conn.send(check())
    except BaseException as err:  # noqa: BLE001 - the parent turns any failure into "undecided"
        try:
            conn.send(on_timeout(f"internal error while checking: {type(err).__name__}: {err}"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


@contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C noted, not raised, while forking, and raised just after. Raised inside the fork
    handlers (logging's, for one) it would be swallowed as an "exception ignored"; a handler that
    only notes it cannot be. (Blocking SIGINT instead hands it to another thread, whose handler
    then raises it in those same fork handlers.) Main thread only, as forking here is."""
    noted: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if noted:
        if callable(previous):
            previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


def _in_worker(
    check: Callable[[], ClaimResult], on_timeout: Callable[[str], ClaimResult], seconds: float
) -> ClaimResult:
    start = time.monotonic()
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(check, on_timeout, send, os.getpid()), daemon=True)
    result: ClaimResult | None = None
    try:
        with _ctrl_c_deferred():
            proc.start()
        send.close()
        if wait_in_slices(recv.poll, seconds + GRACE):
            try:
                result = recv.recv()
            except (EOFError, OSError):
                result = None
    finally:  # also on Ctrl-C: no worker outlives its claim
        if proc.pid is not None:  # started (Ctrl-C may come before)
            if proc.is_alive():
                proc.kill()
            proc.join(5)
        recv.close()
        send.close()
    if result is None:
        if time.monotonic() - start >= seconds:
            return on_timeout(_limit_reason(seconds))
        return on_timeout("the check stopped unexpectedly (out of memory?)")
    return result
