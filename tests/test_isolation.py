"""Ctrl-C during a check reaches the main thread at once, wherever the kernel delivers it."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time

import pytest

from derive.notes import isolation
from derive.timelimit import wait_in_slices


def test_ctrl_c_while_forking_is_raised_after_the_fork_not_inside_it() -> None:
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt):
        with isolation._ctrl_c_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(1000):  # Python code runs here, as the fork handlers do: nothing raised
                time.sleep(0.001)
            reached_the_end = True
    assert reached_the_end
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_handed_to_another_thread_interrupts_the_wait_for_a_worker() -> None:
    # The kernel may deliver a process's SIGINT to any thread (a progress bar's monitor, say): the
    # flag is set, but only the main thread's wait returning to Python lets the handler run.
    recv, send = multiprocessing.Pipe(duplex=False)  # nothing is ever sent
    other_ready = threading.Event()
    stop = threading.Event()

    def other() -> None:
        other_ready.set()
        stop.wait(60)

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    other_ready.wait(10)
    timer = threading.Timer(0.3, lambda: signal.pthread_kill(thread.ident, signal.SIGINT))
    timer.start()
    start = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            wait_in_slices(recv.poll, 60)
    finally:
        stop.set()
        timer.cancel()
        recv.close()
        send.close()
    assert time.monotonic() - start < 30  # not the whole 60 s the claim had
