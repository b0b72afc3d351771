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

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``derive check``."""
    p = subparsers.add_parser(
        "check",
        help="check hand-written backprop formulas (a YAML claims file)",
        description="Prove, refute (with a counterexample) or diagnose each claim of a claims file. "
        "Exit 0 when every claim holds, 1 when any fails or is undecided, 2 when the file is unusable.",
    )
    p.add_argument("file", metavar="FILE.yaml", help="the claims file (see CLAIMS_FORMAT.md)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--report", metavar="OUT", help="also write a report: OUT.html or OUT.tex")
    p.add_argument(
        "--time-limit",
        type=float,
        default=CLAIM_TIME_LIMIT,
        metavar="S",
        help=f"seconds per claim (default {CLAIM_TIME_LIMIT:g})",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    """Run ``derive check``; returns the exit status."""
    try:
        if args.report and Path(args.report).suffix.lower() not in (".html", ".htm", ".tex"):
            raise InputError("--report must end in .html or .tex", file=args.report)
        if args.time_limit <= 0:
            raise InputError("--time-limit must be positive")
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
