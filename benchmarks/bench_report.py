"""How long a cold ``derive report`` takes: the whole catalog, html+tex, on one core.

Each run is a fresh process (imports, derivation, numeric check, rendering, writing), pinned to
CPU 0 with ``taskset`` when it is available. The command's own per-report lines split the time
into derivation and report; the rest is start-up (imports, engine compilation being in "report").

    python benchmarks/bench_report.py [--runs 3] [--budget 10]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"\[derive (?P<derive>[\d.]+) s, report (?P<report>[\d.]+) s")


def command(out: str) -> list[str]:
    """``derive report --out OUT`` as a fresh interpreter runs it, pinned to one core if possible."""
    cli = [sys.executable, "-m", "derive.cli", "report", "--out", out, "--format", "html,tex"]
    probe = subprocess.run([sys.executable, "-c", "import derive.cli as c; c.build_parser()"],
                           cwd=ROOT, capture_output=True, check=False)
    if probe.returncode != 0:  # another command module is missing: run the report command alone
        cli = [sys.executable, str(ROOT / "scripts" / "regenerate_reports.py"), "--out", out]
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    return pin + cli


def one_run() -> tuple[float, float, float]:
    """(wall seconds, derivation seconds, report seconds) of one cold run."""
    with tempfile.TemporaryDirectory(prefix="bench-report-") as out:
        cmd = command(out)
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"bench_report: {' '.join(cmd)} exited {done.returncode}:\n{done.stderr}")
    parts = [m.groupdict() for m in LINE.finditer(done.stdout)]
    return wall, sum(float(p["derive"]) for p in parts), sum(float(p["report"]) for p in parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds allowed (default 10)")
    args = parser.parse_args()
    pinned = "pinned to CPU 0" if shutil.which("taskset") else "not pinned (no taskset)"
    print(f"cold `derive report` (catalog, html+tex), {args.runs} runs, {pinned}")
    runs = [one_run() for _ in range(args.runs)]
    for i, (wall, derive, report) in enumerate(runs, start=1):
        print(f"  run {i}: {wall:6.2f} s  (derivation {derive:5.2f} s, report {report:5.2f} s, "
              f"start-up and index {wall - derive - report:5.2f} s)")
    best = min(r[0] for r in runs)
    median = statistics.median(r[0] for r in runs)
    share = statistics.median(r[2] / r[0] for r in runs)
    print(f"best {best:.2f} s, median {median:.2f} s; budget {args.budget:.0f} s "
          f"({median / args.budget:.0%} of it); rendering is {share:.0%} of the wall time")
    return 0 if median <= args.budget else 1


if __name__ == "__main__":
    sys.exit(main())
