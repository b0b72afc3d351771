"""``derive report``: derive, verify and write the report of each network."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ..errors import InputError
from ..fileio import safe_join, write_atomic
from ..model.catalog import CATALOG, case
from ..model.network import Network
from ..proof.builder import derive
from ..proof.derivation import Derivation, Step
from ..proof.prover import DEFAULT_TIMEOUT
from ..render.report import (
    DEFAULT_FORMATS,
    FORMATS,
    MAX_NAME_BYTES,
    SUFFIX,
    pdflatex,
    render_index,
    write_reports,
)
from ..render.reportdata import SEED, ReportData, build_report, report_name
from .options import add_network_arguments, network_from_args, positive_seconds

__all__ = ["NOTES_FOLDER", "add_parser", "parse_formats", "run"]

NOTES_FOLDER = "notes"  # `derive check --report OUT/notes/NAME.html` reports, linked from the index


def parse_formats(text: str) -> tuple[str, ...]:
    """"html,tex" → ("html", "tex"); an argparse error naming the choices otherwise."""
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(map(repr, unknown)) or repr(text)}; choose from {','.join(FORMATS)}"
        )
    return tuple(dict.fromkeys(chosen))


def add_parser(subparsers: Any) -> None:
    """Register ``derive report``."""
    parser = subparsers.add_parser(
        "report",
        help="write the derivation reports (HTML, LaTeX, PDF, Markdown)",
        description=(
            "Derive, verify and report each network: its picture and definitions, every step with "
            "its verdict, a numeric gradient table and the generated NumPy source. Without CASE or "
            "--net, the whole built-in catalog. With html, DIR/index.html links every report, and the "
            "derive check reports found in DIR/notes/. Exit 0 when every step is proved exactly and the "
            "numbers agree, 1 when a step is numeric-only or fails, 2 on unusable input."
        ),
    )
    parser.add_argument("cases", nargs="*", metavar="CASE", help="catalog cases (default: all of them)")
    parser.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    parser.add_argument(
        "--format", dest="formats", type=parse_formats, default=DEFAULT_FORMATS, metavar="FMT[,FMT…]",
        help=f"any of {','.join(FORMATS)} (default: {','.join(DEFAULT_FORMATS)}); pdf needs pdflatex",
    )
    parser.add_argument("--name", default=None, help="name of the --net report (default: from its spec)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the numeric point (default: {SEED})")
    parser.add_argument(
        "--time-limit", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=(
            "time limit of the exact proof of each step, in seconds; a step that takes longer rests on "
            f"the 50-digit numeric witness and is reported as numeric (default: {DEFAULT_TIMEOUT:g})"
        ),
    )
    # the old name of --time-limit, kept working but no longer shown
    parser.add_argument(
        "--timeout", dest="time_limit", type=positive_seconds, default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress", dest="progress", action="store_true", default=None,
        help="show each step as it is verified (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show step progress")
    add_network_arguments(parser, "network (instead of a catalog case)")
    parser.set_defaults(func=run)


def _networks(args: argparse.Namespace) -> list[Network]:
    nets = [case(name) for name in args.cases]
    if args.net is not None:
        net = network_from_args(args)
        name = args.name if args.name is not None else report_name(net)
        nets.append(Network(net.sizes, net.hidden, net.output, net.loss, net.l2, net.bias, name=name))
    elif args.name is not None:
        raise InputError("--name names the --net network; there is no --net")
    return nets or list(CATALOG.values())


def _check_output(names: Sequence[str], out: Path, formats: Sequence[str]) -> None:
    """Refuse, before any work, names that are no file name or would leave ``out``."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a folder")
    for name in names:
        if not name or not name.strip() or any(not ch.isprintable() for ch in name):
            raise InputError(f"report name {name!r} cannot be a file name")
        if name == "index" and "html" in formats:
            raise InputError("report name 'index' is taken by the index page; choose another --name")
        for suffix in SUFFIX.values():
            safe_join(out, name + suffix)
        if "/" in name or "\\" in name or name in (".", ".."):
            raise InputError(f"report name {name!r} must be a file name, without '/' or '\\'")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise InputError(f"report name {name[:40]!r}… is longer than {MAX_NAME_BYTES} bytes")
    if len(set(names)) != len(names):
        raise InputError(f"two reports would have the same name: {', '.join(names)}")


def _slowest(derivation: Derivation) -> str:
    """", slowest proof 0.26 s (title)": timings go to the terminal, never into a report file."""
    timed = [s for s in derivation.steps if isinstance(getattr(s, "exact_seconds", None), (int, float))]
    if not timed:
        return ""
    step = max(timed, key=lambda s: s.exact_seconds)
    return f"; slowest proof {step.exact_seconds:.2f} s: {step.title}"


def _check_reports(out: Path) -> list[tuple[str, str]]:
    """(name, link) of the ``derive check`` reports under ``out/notes/``, for the index."""
    folder = out / NOTES_FOLDER
    if not folder.is_dir():
        return []
    return [(p.stem, f"{NOTES_FOLDER}/{p.name}") for p in sorted(folder.glob("*.html")) if p.is_file()]


@contextmanager
def _step_progress(name: str, show: bool) -> Iterator[Callable[[Step], None] | None]:
    """A ``progress(step)`` for derive(): a bar on stderr counting verified steps (None: no bar)."""
    if not show:
        yield None
        return
    bar = tqdm(  # every step redrawn (mininterval 0): steps take far longer than a redraw
        desc=name, file=sys.stderr, leave=False, mininterval=0, miniters=1,
        bar_format="{desc}: {n} steps verified, {elapsed}{postfix}",
    )

    def step_done(step: Step) -> None:
        bar.set_postfix_str(f"{step.verdict}: {step.title}", refresh=False)
        bar.update(1)

    try:
        yield step_done
    finally:
        bar.close()


def run(args: argparse.Namespace) -> int:
    """``derive report``: returns 0 when every report is fully proved and its numbers agree."""
    formats: tuple[str, ...] = args.formats
    if "pdf" in formats:
        pdflatex()  # before any work: a missing TeX is unusable input, said in one line
    out = Path(args.out)
    nets = _networks(args)
    _check_output([net.name for net in nets], out, formats)
    show = args.progress if args.progress is not None else sys.stderr.isatty()
    entries: list[tuple[ReportData, dict[str, str]]] = []
    all_ok = True
    for net in nets:
        started = time.perf_counter()
        with _step_progress(net.name, show) as progress:
            derivation = derive(net, timeout=args.time_limit, progress=progress)
        derived = time.perf_counter()
        data = build_report(derivation, seed=args.seed)
        written = write_reports(data, out, formats)
        done = time.perf_counter()
        entries.append((data, written))
        all_ok &= data.ok
        s = data.summary
        check = "numbers agree" if data.numeric.ok else "NUMBERS DISAGREE"
        if not data.numeric.engine_available:
            check += f" ({data.numeric.engine_note})"
        files = ", ".join(str(out / f) for f in written.values())
        print(
            f"{data.name}: {s['steps']} steps, {s['proved']} proved, {s['numeric']} numeric only, "
            f"{s['fails']} failing; {check} -> {files} "
            f"[derive {derived - started:.2f} s, report {done - derived:.2f} s{_slowest(derivation)}]",
            flush=True,  # someone reading a pipe (tee, a log, a test) sees each network as it is done
        )
    if "html" in formats:
        index = write_atomic(safe_join(out, "index.html"), render_index(entries, _check_reports(out)))
        print(f"index: {index}", flush=True)
    proved = sum(data.ok for data, _ in entries)
    print(
        f"{proved} of {len(entries)} report{'s' if len(entries) != 1 else ''} fully proved with agreeing numbers",
        flush=True,
    )
    return 0 if all_ok else 1
