"""Bounded work: every bad or hostile input through the real CLI, with its time and peak memory.

Runs each case of tests/test_bad_input.py, the hostile cases of tests/test_hostile.py and a few
more (LaTeX/HTML injection, paths, YAML bombs, deep nesting, huge numbers, many claims), then the
biggest *valid* work (a 4-8-8-3 softmax report, training on digits, checking the largest notes
file), each as a fresh ``python -m derive`` process. Time is wall-clock; peak memory is the
largest resident set of the command and the workers it waited for (``RUSAGE_CHILDREN`` of a small launcher).

A case is *handled* when it ends with a one-line error (exit 2) or a clean verdict (exit 0/1),
with no traceback and no "internal error" anywhere in its output.

    python benchmarks/bench_limits.py [--skip-valid] [--only SUBSTRING] [--timeout 600]

Exit status 0 when every case is handled and every peak stays under the memory budget (2 GB).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
MEMORY_BUDGET_MB = 2048.0
DEFAULT_TIMEOUT = 600.0  # seconds for one case before it is killed (and counted as not handled)


@dataclass(frozen=True)
class Case:
    """One command: ``argv`` after ``derive``; ``{dir}`` in an argument is the case's folder."""

    name: str
    group: str  # "bad input", "hostile", "valid work"
    argv: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Outcome:
    case: Case
    status: int | None  # None: killed at the timeout
    seconds: float
    peak_mb: float | None  # None: killed before it could be measured
    stdout: str
    stderr: str

    @property
    def problem(self) -> str:
        """ "" when handled, otherwise why not."""
        text = self.stdout + self.stderr
        if self.status is None:
            return "killed at the timeout"
        if "Traceback" in text:
            return "traceback"
        if "internal error" in text:
            line = next(line for line in text.splitlines() if "internal error" in line)
            return "internal error: " + line.split("internal error", 1)[1].strip(" :")[:70]
        if self.status == 2:
            lines = [line for line in self.stderr.splitlines() if line.strip()]
            return "" if len(lines) == 1 else f"{len(lines)} lines on stderr"
        if self.status in (0, 1):
            return ""
        return f"exit status {self.status}"

    @property
    def handled(self) -> bool:
        return not self.problem


# ---------------------------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------------------------

GOOD_HEAD = "definitions:\n  - 'z = w x + b'\nclaims:\n  - id: c1\n    latex: "


def check_case(name: str, group: str, content: bytes | str, *extra: str) -> Case:
    data = content.encode() if isinstance(content, str) else content
    return Case(name, group, ("check", "{dir}/claims.yaml", *extra), {"claims.yaml": data})


def claims_doc(claims: list[dict[str, str]], **top: object) -> str:
    return yaml.safe_dump({**top, "claims": claims}, allow_unicode=True, width=1_000_000)


def npz(X: np.ndarray, Y: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, X=X, Y=Y)
    return buffer.getvalue()


def bad_input_cases() -> list[Case]:
    """The cases of tests/test_bad_input.py, one for one."""
    g = "bad input"
    cases = [
        check_case("check: empty file", g, b""),
        check_case("check: binary junk", g, bytes(range(256)) * 8),
        check_case("check: invalid YAML", g, b"claims: [\n  - id: x\n  latex: : :\n"),
        check_case("check: unknown key", g, b"claimz:\n  - id: a\n    latex: 'x = x'\n"),
        check_case(
            "check: bad definition", g, b"definitions:\n  - 'z = \\frac{1}{'\nclaims:\n  - id: a\n    latex: 'z = z'\n"
        ),
        check_case(
            "check: layer of size 0",
            g,
            b"network:\n  notation: 3b1b\n  layers: [1, 0, 1]\nclaims:\n  - id: a\n    latex: 'x = x'\n",
        ),
        check_case(
            "check: layer of size 1e9",
            g,
            b"network:\n  notation: 3b1b\n  layers: [1, 1000000000, 1]\nclaims:\n  - id: a\n    latex: 'x = x'\n",
        ),
        check_case(
            "check: unknown activation",
            g,
            b"network:\n  notation: 3b1b\n  layers: [1, 1, 1]\n  hidden: swish\n"
            b"claims:\n  - id: a\n    latex: 'x = x'\n",
        ),
        Case("check: missing file", g, ("check", "{dir}/nope.yaml")),
        Case("check: a directory", g, ("check", "{dir}")),
        check_case("check: unbalanced braces", g, GOOD_HEAD + "'\\frac{\\partial z}{\\partial w} = x + {'\n", "--json"),
        check_case(
            "check: 10000 nested parentheses", g, GOOD_HEAD + "'" + "(" * 10_000 + "x" + ")" * 10_000 + " = x'\n"
        ),
        check_case("check: 5 MB claim", g, GOOD_HEAD + "'x = " + "x + " * 1_300_000 + "x'\n"),
    ]
    for command in ("report", "train", "gradcheck"):
        extra = ("--data", "xor") if command == "train" else ()
        for net in ("2,0,1", "2,-3,1", "2,1000000000,1", "2,x,1"):
            cases.append(Case(f"{command}: --net {net}", g, (command, "--net", net, *extra)))
    cases += [
        Case("report: unknown activation", g, ("report", "--net", "2,2,1", "--hidden", "swish", "--out", "{dir}/out")),
        Case("report: unknown case", g, ("report", "no-such-case", "--out", "{dir}/out")),
    ]
    train = ("train", "--net", "2,3,1", "--loss", "bce", "--data", "{dir}/data.npz", "--epochs", "1")
    for label, X, Y in [
        ("NaN", np.array([[0.0, np.nan], [1.0, 0.0]]), np.array([[0.0], [1.0]])),
        ("inf", np.array([[0.0, np.inf], [1.0, 0.0]]), np.array([[0.0], [1.0]])),
        ("wrong width", np.zeros((4, 3)), np.zeros((4, 1))),
        ("row mismatch", np.zeros((4, 2)), np.zeros((5, 1))),
    ]:
        cases.append(Case(f"train: data with {label}", g, train, {"data.npz": npz(X, Y)}))
    cases += [
        Case(
            "train: labels out of range",
            g,
            ("train", "--net", "2,3,3", "--loss", "cce", "--data", "{dir}/labels.csv", "--epochs", "1"),
            {"labels.csv": b"0.1,0.2,0\n0.3,0.4,7\n"},
        ),
        Case("train: missing data file", g, ("train", "--net", "2,3,1", "--data", "{dir}/none.npz")),
    ]
    return cases


TEX_PAYLOADS = [
    r"\input{/etc/passwd}",
    r"\write18{touch /tmp/derive-pwned}",
    r"\immediate\openout5=pwned",
    r"\catcode`\^^5c=0",
    r"\def\x{\input{/etc/passwd}}\x",
    r"^^5cinput{/etc/passwd}",
    r"\end{document}",
]
HTML_PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)"]
PAYLOADS = TEX_PAYLOADS + HTML_PAYLOADS


def hostile_cases() -> list[Case]:
    """Injection, escaping paths, and inputs built to exhaust time, memory or the stack."""
    g = "hostile"
    injected = claims_doc(
        [
            {"id": f"c{k} {p}", "latex": ["z = w x + b", f"z = w x {p}", f"{p} = z"][k % 3], "note": " ".join(PAYLOADS)}
            for k, p in enumerate(PAYLOADS)
        ],
        title=" ".join(PAYLOADS),
        definitions=["z = w x + b"],
    )
    name = "x_{^^5cinput^^20derivesecret^^20}"
    cases = [
        check_case("check: injection, --report tex", g, injected, "--report", "{dir}/out.tex"),
        check_case("check: injection, --report html", g, injected, "--report", "{dir}/out.html"),
        check_case(
            "check: ^^5c in a name, --report tex",
            g,
            claims_doc([{"id": "a", "latex": f"{name} + 1 = {name}"}]),
            "--report",
            "{dir}/out.tex",
        ),
        check_case(
            "check: \\text{<script>}, --report html",
            g,
            claims_doc([{"id": "a", "latex": r"z = \text{<script>alert(1)</script>}"}]),
            "--report",
            "{dir}/o.html",
        ),
        check_case(
            "check: --report ../ (the user's own path)",
            g,
            claims_doc([{"id": "a", "latex": "x = x"}]),
            "--report",
            "{dir}/../derive-bench-outside.html",
        ),
        check_case(
            "check: --report with a bad suffix",
            g,
            claims_doc([{"id": "a", "latex": "x = x"}]),
            "--report",
            "{dir}/out.sh",
        ),
        check_case("check: --time-limit -1", g, claims_doc([{"id": "a", "latex": "x = x"}]), "--time-limit", "-1"),
        Case(
            "report: hostile HTML name",
            g,
            (
                "report",
                "--net",
                "1,1",
                "--name",
                '"><img src=x onerror=alert(1)> javascript:alert(1)',
                "--out",
                "{dir}/o",
            ),
        ),
        Case("report: --name ../x", g, ("report", "--net", "1,1", "--name", "../x", "--out", "{dir}/o")),
        Case(
            "report: --name /tmp/x (absolute)",
            g,
            ("report", "--net", "1,1", "--name", "/tmp/derive-x", "--out", "{dir}/o"),
        ),
        Case("report: --name a/b", g, ("report", "--net", "1,1", "--name", "a/b", "--out", "{dir}/o")),
        Case(
            "report: --name of 300 characters", g, ("report", "--net", "1,1", "--name", "n" * 300, "--out", "{dir}/o")
        ),
        Case("report: --name with a newline", g, ("report", "--net", "1,1", "--name", "a\nb", "--out", "{dir}/o")),
        Case("report: --out is a file", g, ("report", "--net", "1,1", "--out", "{dir}/file"), {"file": b"x"}),
        Case("report: --out cannot be made", g, ("report", "--net", "1,1", "--out", "/proc/derive-bench/o")),
        Case("report: --time-limit 0", g, ("report", "--net", "1,1", "--time-limit", "0", "--out", "{dir}/o")),
        Case("report: --time-limit nan", g, ("report", "--net", "1,1", "--time-limit", "nan", "--out", "{dir}/o")),
        Case("report: softmax over one unit", g, ("report", "--net", "2,3,1", "--loss", "cce", "--out", "{dir}/o")),
        Case(
            "report: --net beyond the parameter limit", g, ("report", "--net", "20000,20000,10", "--out", "{dir}/o")
        ),
        Case("report: --l2 nan", g, ("report", "--net", "1,1", "--l2", "nan", "--out", "{dir}/o")),
        Case("report: --format docx", g, ("report", "--net", "1,1", "--format", "docx", "--out", "{dir}/o")),
        Case("train: --epochs -1", g, ("train", "--data", "xor", "--epochs", "-1")),
        Case("train: --batch 0", g, ("train", "--data", "xor", "--batch", "0")),
        Case("train: --lr nan", g, ("train", "--data", "xor", "--lr", "nan", "--epochs", "2")),
        Case("train: --lr -1", g, ("train", "--data", "xor", "--lr", "-1", "--epochs", "2")),
        Case("train: --save is a folder", g, ("train", "--data", "xor", "--epochs", "1", "--save", "{dir}")),
        Case("train: CSV of junk", g, ("train", "--data", "{dir}/junk.csv"), {"junk.csv": bytes(range(256)) * 64}),
        Case(
            "train: npz with a pickled object",
            g,
            ("train", "--data", "{dir}/obj.npz"),
            {"obj.npz": npz(np.array([{"a": 1}], dtype=object), np.zeros((1, 1)))},
        ),
        check_case(
            "check: YAML alias bomb",
            g,
            "\n".join(
                ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                + [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
                + ["claims:\n  - id: a\n    latex: 'x = x'"]
            ),
        ),
        check_case(
            "check: an alias as a size",
            g,
            "definitions: &d\n  - 'z = w x'\nclaims:\n  - id: a\n    latex: 'x = x'\nsizes: {a: *d}\n",
        ),
        check_case("check: recursive YAML alias", g, "claims: &c [*c]\n"),
        check_case("check: 10000 nested YAML lists", g, "claims: " + "[" * 10_000 + "]" * 10_000 + "\n"),
        check_case(
            "check: !!python/object tag",
            g,
            "claims:\n  - id: !!python/object/apply:os.system ['touch /tmp/derive-pwned']\n    latex: 'x = x'\n",
        ),
        check_case(
            "check: \\σ in a definition", g, "definitions:\n  - 'z = \\σ x'\nclaims:\n  - id: a\n    latex: 'z = z'\n"
        ),
        check_case("check: \\σ in a claim", g, claims_doc([{"id": "a", "latex": "z = \\σ"}])),
        check_case(
            "check: flat sum of 1500 terms",
            g,
            claims_doc([{"id": "a", "latex": " + ".join(f"x_{{{i}}}" for i in range(1500)) + " = 0"}]),
        ),
        check_case("check: a 5000-digit number", g, claims_doc([{"id": "a", "latex": "1" * 5000 + " = 1"}])),
        check_case(
            "check: 100 nested sigmoids",
            g,
            claims_doc(
                [{"id": "a", "latex": "\\sigma(" * 100 + "x" + ")" * 100 + " = x"}], symbols={"\\sigma": "sigmoid"}
            ),
        ),
        check_case("check: power tower 10^10^10^10", g, claims_doc([{"id": "a", "latex": "10^{10^{10^{10}}} = 1"}])),
        check_case("check: x^{999999999999}", g, claims_doc([{"id": "a", "latex": "x^{999999999999} = x"}])),
        check_case(
            "check: a sum over 1e9 terms", g, claims_doc([{"id": "a", "latex": "\\sum_{k=1}^{1000000000} k = 1"}])
        ),
        check_case(
            "check: 64x64 matrix products",
            g,
            "symbols:\n  x: vector[n]\n  W: matrix[n, n]\n  V: matrix[n, n]\nsizes: {n: 64}\n"
            + "claims:\n  - id: a\n    latex: 'W V W V x = V W V W x'\n",
        ),
        check_case(
            "check: a size of 1e9",
            g,
            "symbols:\n  x: vector[n]\nsizes: {n: 1000000000}\nclaims:\n  - id: a\n    latex: 'x = x'\n",
        ),
        check_case("check: a chain of 2000 links", g, claims_doc([{"id": "a", "latex": " = ".join(["x"] * 2000)}])),
        check_case(
            "check: any size, a sum to n^100",
            g,
            "symbols:\n  z: vector[n]\nsizes: {n: any}\n"
            "claims:\n  - id: a\n    latex: '\\sum_{k=1}^{n^{100}} z_k = 0'\n",
        ),
        check_case(
            "check: any size, 19 nested sums",
            g,
            "symbols:\n  z: vector[n]\nsizes: {n: any}\nclaims:\n  - id: a\n    latex: '"
            + "".join(f"\\sum_{{{c}=1}}^{{n}} " for c in "abcdfghijklmopqrstu") + "z_{a} = n'\n",
        ),
        check_case(
            "check: any size, whole vectors of size n",
            g,
            "symbols:\n  x: vector[n]\n  W: matrix[n, n]\nsizes: {n: any}\n"
            "claims:\n  - id: a\n    latex: 'W W x = W x'\n",
        ),
        check_case(
            "check: 300 claims", g, claims_doc([{"id": f"c{k}", "latex": f"x_{{{k}}} = x_{{{k}}}"} for k in range(300)])
        ),
    ]
    return cases


def valid_cases() -> list[Case]:
    """The biggest ordinary work derive is asked to do."""
    g = "valid work"
    try:
        import sklearn  # noqa: F401

        data = "digits"
    except ImportError:
        data = "spirals"
    notes = max((ROOT / "examples" / "notes").glob("*.yaml"), key=lambda p: p.stat().st_size)
    return [
        Case(
            "report --net 4,8,8,3 softmax/cce",
            g,
            ("report", "--net", "4,8,8,3", "--loss", "cce", "--output", "softmax", "--out", "{dir}/o"),
        ),
        Case(
            "report --net 784,1024,1024,10 softmax/cce",
            g,
            ("report", "--net", "784,1024,1024,10", "--loss", "cce", "--out", "{dir}/o"),
        ),
        Case(f"train --data {data}", g, ("train", "--data", data, "--no-progress")),
        Case(f"check examples/notes/{notes.name}", g, ("check", str(notes))),
    ]


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


# A small interpreter runs the command and reports the peak memory of what it waited for. Measuring
# from this process instead would be wrong: a child's peak starts at the RSS of the process that
# forked it (Linux records the pre-exec memory), and this one holds every case's data.
LAUNCHER = """
import os, resource, signal, subprocess, sys
status = subprocess.run(sys.argv[2:]).returncode
with open(sys.argv[1], "w") as fh:
    fh.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
if status < 0:
    signal.signal(-status, signal.SIG_DFL)
    os.kill(os.getpid(), -status)
sys.exit(status)
"""


def run_case(case: Case, timeout: float) -> Outcome:
    """Run one case in a fresh folder; time it and take the peak memory of the command and its workers."""
    with tempfile.TemporaryDirectory(prefix="bench-limits-") as tmp:
        folder, logs = Path(tmp) / "case", Path(tmp) / "logs"
        folder.mkdir()
        logs.mkdir()
        for name, data in case.files.items():
            (folder / name).write_bytes(data)
        argv = [a.replace("{dir}", str(folder)) for a in case.argv]
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "NO_COLOR": "1"}
        command = [sys.executable, "-c", LAUNCHER, str(logs / "maxrss"), sys.executable, "-m", "derive", *argv]
        with open(logs / "out", "wb") as out, open(logs / "err", "wb") as err:
            start = time.perf_counter()
            proc = subprocess.Popen(
                command, cwd=folder, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env, start_new_session=True
            )
            try:
                proc.wait(timeout)
                killed = False
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                killed = True
            seconds = time.perf_counter() - start
        stdout = (logs / "out").read_text(encoding="utf-8", errors="replace")
        stderr = (logs / "err").read_text(encoding="utf-8", errors="replace")
        maxrss = (logs / "maxrss").read_text() if (logs / "maxrss").exists() else ""
    peak = int(maxrss) / 1024.0 if maxrss else None
    return Outcome(case, None if killed else proc.returncode, seconds, peak, stdout, stderr)


def mb(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def table(outcomes: Iterable[Outcome]) -> str:
    rows = [("case", "group", "exit", "seconds", "peak MB", "handled")]
    for o in outcomes:
        rows.append(
            (
                o.case.name,
                o.case.group,
                "killed" if o.status is None else str(o.status),
                f"{o.seconds:.2f}",
                mb(o.peak_mb),
                "yes" if o.handled else f"NO: {o.problem}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(w) if i in (0, 1, 5) else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
        for r in rows
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary(outcomes: list[Outcome]) -> tuple[str, bool]:
    handled = [o for o in outcomes if o.handled]
    slowest = max(outcomes, key=lambda o: o.seconds)
    biggest = max(outcomes, key=lambda o: o.peak_mb or 0.0)
    hostile = [o for o in outcomes if o.case.group != "valid work"]
    text = "\n".join(
        [
            f"cases tried: {len(outcomes)} ({len(hostile)} bad or hostile, {len(outcomes) - len(hostile)} valid work)",
            "handled (one-line error or clean verdict, no traceback, no internal error): "
            f"{len(handled)} of {len(outcomes)} ({sum(o.handled for o in hostile)} of {len(hostile)} bad or hostile)",
            f"worst time: {slowest.seconds:.1f} s ({slowest.case.name})",
            f"worst memory: {mb(biggest.peak_mb)} MB ({biggest.case.name}); budget {MEMORY_BUDGET_MB:.0f} MB",
        ]
    )
    ok = len(handled) == len(outcomes) and (biggest.peak_mb or 0.0) < MEMORY_BUDGET_MB
    return text, ok


def main(argv: list[str] | None = None, run: Callable[[Case, float], Outcome] = run_case) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-valid", action="store_true", help="only the bad and hostile inputs")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose name contains TEXT")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds before a case is killed")
    args = parser.parse_args(argv)
    cases = bad_input_cases() + hostile_cases() + ([] if args.skip_valid else valid_cases())
    if args.only:
        cases = [c for c in cases if args.only.lower() in c.name.lower()]
    if not cases:
        parser.error("no case matches --only")
    outcomes = []
    for k, case in enumerate(cases, start=1):
        outcome = run(case, args.timeout)
        outcomes.append(outcome)
        mark = "ok" if outcome.handled else f"NOT HANDLED: {outcome.problem}"
        print(
            f"[{k}/{len(cases)}] {case.name}: exit {outcome.status}, {outcome.seconds:.1f} s, "
            f"{mb(outcome.peak_mb)} MB, {mark}",
            file=sys.stderr,
            flush=True,
        )
    leftovers = sorted(str(p) for p in Path("/tmp").glob("derive-pwned*"))
    print(table(outcomes))
    print()
    text, ok = summary(outcomes)
    print(text)
    if leftovers:
        print(f"FILES WRITTEN BY AN INJECTION: {', '.join(leftovers)}")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
