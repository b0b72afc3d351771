"""``derive check``: check the claims of a notes file, printing each verdict as it is decided.

Each claim's line is printed (and flushed) as soon as the claim is decided; a progress bar on
stderr counts the claims when stderr is a terminal (``--progress``/``--no-progress``). Ctrl-C
stops the check: what was decided so far and the summary are printed (with ``--json``, the JSON
of those claims with ``"interrupted": true``), no report is written, and the exit status is 130.
``FILE`` ``-`` reads the claims file from standard input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import DeriveError, InputError
from ..notes.check import CLAIM_TIME_LIMIT, iter_check
from ..notes.claims import MAX_BYTES, ClaimsFile, load_claims, load_claims_bytes
from ..notes.results import CheckResults, format_line, format_section, format_summary, to_json
from ..render.check_report import SUFFIXES, write_report
from ..render.report import pdflatex
from .options import positive_seconds

__all__ = ["EXIT_INTERRUPTED", "FORMAT_DOC", "STDIN", "add_parser", "format_doc", "run"]

FORMAT_DOC = "CLAIMS_FORMAT.md"  # the claims-file format; in the wheel at derive/docs/, in a checkout at docs/
STDIN = "-"  # FILE that means standard input
STDIN_NAME = "<stdin>"
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it
BAR_DELAY = 2.0  # seconds before the progress bar appears: short files never show one
MAX_ID_WIDTH = 32  # the id column of the terminal lines is at most this wide


def format_doc() -> str:
    """The text of CLAIMS_FORMAT.md: the installed package's copy, else the source checkout's."""
    package = Path(__file__).resolve().parent.parent
    for path in (package / "docs" / FORMAT_DOC, package.parent / "docs" / FORMAT_DOC):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise DeriveError(f"{FORMAT_DOC} is not installed (looked in {package / 'docs'} and {package.parent / 'docs'})")


class _PrintFormat(argparse.Action):
    """``--format-help``: print the claims-file format and exit, like --help (no FILE needed)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help)

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: object, values: object, option: object = None
    ) -> None:
        try:
            text = format_doc()
        except DeriveError as err:
            parser.exit(2, f"derive: error: {err}\n")
        sys.stdout.write(text if text.endswith("\n") else text + "\n")  # to stdout, like --help
        parser.exit(0)


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``derive check``."""
    p = subparsers.add_parser(
        "check",
        help="check hand-written backprop formulas (a YAML claims file)",
        description="Prove, refute (with a counterexample) or diagnose each claim of a claims file, printing "
        "each verdict as it is decided. Exit 0 when every claim holds, 1 when any fails or is undecided, "
        "2 when the file is unusable, 130 when interrupted (Ctrl-C prints what was decided so far).",
    )
    p.add_argument(
        "file", metavar="FILE.yaml",
        help=f"the claims file, or {STDIN} for standard input (its format: derive check --format-help)",
    )
    p.add_argument("--format-help", action=_PrintFormat, help=f"print {FORMAT_DOC}, the claims-file format, and exit")
    p.add_argument("--json", action="store_true", help="print the results as JSON (at the end)")
    p.add_argument("--report", metavar="OUT", help="also write a report: OUT.html, OUT.tex or OUT.pdf")
    p.add_argument(
        "--time-limit",
        type=positive_seconds,
        default=CLAIM_TIME_LIMIT,
        metavar="SECONDS",
        help=(
            "time limit of each claim, in seconds; a claim not decided in time is undecided "
            f"(default: {CLAIM_TIME_LIMIT:g})"
        ),
    )
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress", dest="progress", action="store_true", default=None,
        help="show a progress bar on stderr (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    p.set_defaults(func=run)
    return p


def _load(file: str) -> ClaimsFile:
    if file != STDIN:
        return load_claims(file)
    data = sys.stdin.buffer.read(MAX_BYTES + 1)  # one byte more than allowed: "too large" is said
    return load_claims_bytes(data, STDIN_NAME)


def run(args: argparse.Namespace) -> int:
    """Run ``derive check``; returns the exit status."""
    report = getattr(args, "report", None)
    try:
        if report and Path(report).suffix.lower() not in SUFFIXES:
            raise InputError("--report must end in .html, .tex or .pdf", file=report)
        if report and report.lower().endswith(".pdf"):
            pdflatex()  # before any work: a missing TeX is unusable input, said in one line
        cf = _load(args.file)
    except DeriveError as err:
        print(f"derive: error: {err}", file=sys.stderr)
        return err.exit_code
    name = STDIN_NAME if args.file == STDIN else args.file
    results = _stream(cf, name, args)
    if args.json:
        print(json.dumps(to_json(name, results.claims, results.interrupted), indent=2, ensure_ascii=False), flush=True)
    else:
        print(format_summary(name, results.claims, total=len(cf.claims)), flush=True)
    if results.interrupted:
        print("derive: interrupted" + (f"; no report written to {report}" if report else ""), file=sys.stderr)
        return EXIT_INTERRUPTED
    if report:
        try:
            write_report(report, results)
        except DeriveError as err:
            print(f"derive: error: {err}", file=sys.stderr)
            return err.exit_code
    return 0 if results.ok else 1


def _stream(cf: ClaimsFile, name: str, args: argparse.Namespace) -> CheckResults:
    """Check every claim, printing each line as it is decided (not with --json); Ctrl-C stops."""
    progress = getattr(args, "progress", None)
    show_bar = progress if progress is not None else sys.stderr.isatty()
    colour = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
    width = min(max([len(spec.id) for spec in cf.claims] + [4]), MAX_ID_WIDTH)
    bar = tqdm(
        total=len(cf.claims), file=sys.stderr, disable=not show_bar, leave=False, unit="claim",
        delay=0 if progress else BAR_DELAY, dynamic_ncols=True, mininterval=0, miniters=1,
    )  # redrawn at every claim: claims take far longer than a redraw
    results = CheckResults(name, [], cf)
    section = None
    try:
        for result in iter_check(cf, args.time_limit):
            results.claims.append(result)
            if not args.json:
                lines = []
                if result.section is not None and result.section != section:
                    section = result.section
                    lines.append(format_section(section))
                lines.append(format_line(result, width, colour))
                tqdm.write("\n".join(lines), file=sys.stdout)  # clears the bar, prints, redraws it
                sys.stdout.flush()
            bar.set_postfix_str(result.id, refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        results.interrupted = True
    finally:
        bar.close()
    return results
