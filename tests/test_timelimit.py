"""Time limits (derive.timelimit) hold under a profiler or tracer, when their exception is
swallowed, and leave nothing behind once their block has ended."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from derive.timelimit import Deadline, time_limit

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("hook", ["cProfile", "settrace"])
def test_limits_stop_their_blocks_under_a_profiler_or_tracer(hook: str) -> None:
    # a limit taken back with PyThreadState_SetAsyncExc(id, NULL) left CPython 3.11 spinning on
    # the next call under a profiler: run in a child, so that a regression fails, not hangs
    script = textwrap.dedent(
        f"""
        import cProfile, sys
        from derive.timelimit import Deadline, time_limit

        def step():
            return 1

        def run_out():
            try:
                with time_limit(0.2):
                    while True:
                        step()
            except Deadline:
                return "stopped"

        if "{hook}" == "cProfile":
            profiler = cProfile.Profile()
            profiler.enable()
        else:
            sys.settrace(lambda frame, event, arg: None)
        print([run_out() for _ in range(3)])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.stdout.strip() == "['stopped', 'stopped', 'stopped']", done.stderr


def test_a_limit_whose_exception_is_swallowed_is_raised_again() -> None:
    swallowed = 0
    give_up = time.monotonic() + 60
    with pytest.raises(Deadline):
        with time_limit(0.2):
            try:
                while time.monotonic() < give_up:
                    pass
            except Deadline:  # code that catches everything and goes on working
                swallowed += 1
            while time.monotonic() < give_up:
                pass
    assert swallowed == 1 and time.monotonic() < give_up


def test_nothing_is_raised_after_a_block_has_ended() -> None:
    for _ in range(30):
        try:
            with time_limit(0.01):
                while True:
                    pass
        except Deadline:
            pass
        for _ in range(200_000):  # an exception of the limit still on its way would land here
            pass
