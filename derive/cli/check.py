"""``derive check``: check the claims of a notes file and print (or write) the verdicts."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..errors import DeriveError, InputError
from ..notes.check import CLAIM_TIME_LIMIT, check_file, format_terminal, to_json
from ..notes.claims import load_claims
from ..render.check_report import write_report
from .options import positive_seconds

__all__ = ["FORMAT_DOC", "add_parser", "format_doc", "run"]

FORMAT_DOC = "CLAIMS_FORMAT.md"  # the claims-file format; in the wheel at derive/docs/, in a checkout at docs/


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
        description="Prove, refute (with a counterexample) or diagnose each claim of a claims file. "
        "Exit 0 when every claim holds, 1 when any fails or is undecided, 2 when the file is unusable.",
    )
    p.add_argument("file", metavar="FILE.yaml", help="the claims file (its format: derive check --format-help)")
    p.add_argument("--format-help", action=_PrintFormat, help=f"print {FORMAT_DOC}, the claims-file format, and exit")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--report", metavar="OUT", help="also write a report: OUT.html or OUT.tex")
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
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``derive check``; returns the exit status."""
    try:
        if args.report and Path(args.report).suffix.lower() not in (".html", ".htm", ".tex"):
            raise InputError("--report must end in .html or .tex", file=args.report)
        cf = load_claims(args.file)
        results = check_file(cf, args.time_limit)
        if args.report:
            write_report(args.report, cf, results)
    except DeriveError as err:
        print(f"derive: error: {err}", file=sys.stderr)
        return err.exit_code
    if args.json:
        print(json.dumps(to_json(args.file, results), indent=2, ensure_ascii=False))
    else:
        colour = sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
        print(format_terminal(args.file, results, colour))
    return 0 if all(r.verdict == "holds" for r in results) else 1
