"""Benchmark ``derive check``: a generated 100-claim file must check in at most 60 s on one core,
and the slowest example notes (examples/notes/seed_001.yaml) must show their first line within 5 s.

    python benchmarks/bench_check.py [--claims 100] [--time-limit 30] [--budget 60] [--no-stream]

The file mixes the usual shapes of claims (chain rule links, activation derivatives, free
indices, matrix identities, wrong variants that need a diagnosis). Claims run one after another
in forked workers (one core); each has its own time limit, so one hard claim cannot stall the file.
Prints the total, the slowest claims and the verdict counts; then runs ``derive check`` on the
slowest example as a user would and prints when its first claim's line came and when it ended.
Exits 1 when over budget.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from derive.notes.check import check_file, summarize
from derive.notes.claims import load_claims

HEADER = r"""title: generated benchmark
symbols: {'\sigma': sigmoid, x: 'vector[3]', A: 'matrix[3, 2]', B: 'matrix[2, 3]'}
definitions:
  - 'z^{(L)} = w^{(L)} a^{(L-1)} + b^{(L)}'
  - 'a^{(L)} = \sigma(z^{(L)})'
  - 'C_0 = (a^{(L)} - y)^2'
  - 's_i = \frac{e^{x_i}}{\sum_{k=1}^{3} e^{x_k}}'
  - 'P = A B'
claims:
"""

CORRECT = [
    r"\frac{\partial C_0}{\partial b^{(L)}} = 2 \sigma'(z^{(L)}) (a^{(L)} - y)",
    r"\frac{\partial C_0}{\partial w^{(L)}} = 2 a^{(L-1)} a^{(L)} (1 - a^{(L)}) (a^{(L)} - y)",
    r"\frac{\partial C_0}{\partial a^{(L-1)}} = \frac{\partial z^{(L)}}{\partial a^{(L-1)}} "
    r"\frac{\partial a^{(L)}}{\partial z^{(L)}} \frac{\partial C_0}{\partial a^{(L)}}"
    r" = 2 w^{(L)} \sigma'(z^{(L)}) (a^{(L)} - y)",
    r"\frac{d}{dv}\sigma(v) = \frac{e^{-v}}{(1+e^{-v})^2} = \sigma(v)(1-\sigma(v))",
    r"\frac{\partial s_i}{\partial x_j} = s_i (\delta_{ij} - s_j)",
    r"P^T = B^T A^T",
    r"\frac{d}{du} \tanh(u) = 1 - \tanh(u)^2",
    r"\sum_{k=1}^{3} s_k = 1",
    r"\sum_{k=1}^{3} x_k^2 = x_1^2 + \cdots + x_3^2",
    r"x = \begin{bmatrix} x_1 \\ \vdots \\ x_n \end{bmatrix}",
]
WRONG = [
    r"\frac{\partial C_0}{\partial b^{(L)}} = \sigma'(z^{(L)}) (a^{(L)} - y)",
    r"\frac{\partial C_0}{\partial w^{(L)}} = 2 a^{(L)} a^{(L)} (1 - a^{(L)}) (a^{(L)} - y)",
    r"\frac{\partial C_0}{\partial z^{(L)}} = 2 (a^{(L)} - y)",
    r"\frac{\partial s_i}{\partial x_j} = - s_i s_j",
    r"P^T = A^T B^T",
    r"\frac{d}{du} \tanh(u) = 1 + \tanh(u)^2",
    r"\frac{\partial C_0}{\partial b^{(L)}} = -2 \sigma'(z^{(L)}) (a^{(L)} - y)",
    r"\sum_{k=1}^{3} x_k^2 = x_1 + \cdots + x_3",
]


def generate(n: int, seed: int = 0) -> str:
    """The claims file text; each claim carries ``expect:`` (holds for CORRECT, fails for WRONG)."""
    rng = random.Random(seed)
    lines = [HEADER]
    for k in range(n):
        good = rng.random() < 0.6
        latex = rng.choice(CORRECT if good else WRONG)
        quoted = latex.replace("'", "''")
        lines.append(f"  - id: c{k:03d}\n    latex: '{quoted}'\n    expect: {'holds' if good else 'fails'}\n")
    return "".join(lines)


ROOT = Path(__file__).resolve().parent.parent
SLOWEST_EXAMPLE = ROOT / "examples" / "notes" / "seed_001.yaml"
FIRST_LINE_BUDGET = 5.0  # seconds until the first claim's line of the slowest example


def stream_times(path: Path) -> tuple[float, float]:
    """Seconds until ``derive check path`` printed its first claim's line, and until it ended."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONUNBUFFERED", None)  # lines must come out as they are printed without it
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "derive", "check", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True, env=env,
    )
    first = None
    for line in proc.stdout:  # type: ignore[union-attr]
        if first is None and line[:1] in "✓✗?":
            first = time.perf_counter() - start
    proc.wait()
    return first if first is not None else float("inf"), time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per claim")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds for the whole file")
    parser.add_argument("--no-stream", action="store_true", help="skip the first-line timing of the slowest example")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(generate(args.claims))
        start = time.perf_counter()
        cf = load_claims(path)
        results = check_file(cf, time_limit=args.time_limit)
        total = time.perf_counter() - start
    counts = summarize(results)
    wrong = [(c.id, r.verdict) for c, r in zip(cf.claims, results, strict=True) if c.expect != r.verdict]
    slow = sorted(results, key=lambda r: r.seconds, reverse=True)[:3]
    print(
        f"{len(results)} claims in {total:.1f} s ({total / len(results) * 1000:.0f} ms per claim); "
        f"{counts['holds']} hold, {counts['fails']} fail, {counts['undecided']} undecided"
    )
    print("slowest: " + ", ".join(f"{r.id} {r.seconds:.2f} s" for r in slow))
    if wrong:
        print(f"verdicts differ from the generator's labels: {wrong[:5]}", file=sys.stderr)
        return 1
    if total > args.budget:
        print(f"over budget: {total:.1f} s > {args.budget:.0f} s", file=sys.stderr)
        return 1
    if not args.no_stream:
        first, whole = stream_times(SLOWEST_EXAMPLE)
        print(f"{SLOWEST_EXAMPLE.relative_to(ROOT)}: first line after {first:.1f} s, all claims in {whole:.1f} s")
        if first > FIRST_LINE_BUDGET:
            print(f"first line too late: {first:.1f} s > {FIRST_LINE_BUDGET:.0f} s", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
