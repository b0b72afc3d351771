"""The ``derive`` command: argparse front end; each subcommand is a module of this package.

Each command module (report, check, train, gradcheck) exposes ``add_parser(subparsers)``, which
registers its subcommand and sets ``func`` (a function ``args -> int`` exit status). Errors meant
for the user are ``DeriveError`` and become one line on stderr with exit status 2 (tracebacks
only with --debug); Ctrl-C exits 130. An ``OSError`` (a folder that cannot be created, no
permission, a full disk) is the machine refusing, not a bug: one line and exit status 2 as well.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from ..errors import DeriveError
from ..version import __version__
from . import check, gradcheck, report, train
from .options import add_network_arguments, network_from_args

__all__ = ["COMMANDS", "add_network_arguments", "build_parser", "main", "network_from_args"]

COMMANDS = (report, check, train, gradcheck)  # in the order `derive --help` lists them


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)  # `check --format json` must not run --format-help
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line and exit 2, as for any unusable input
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Prove backpropagation: derive, verify, compile, report.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--version", action="version", version=f"derive {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _line_buffered() -> None:
    """Each line reaches a pipe (tee, a log, a test) as it is printed, not when a block fills up."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(line_buffering=True)
            except (ValueError, OSError):  # a closed or unusual stream: leave it as it is
                pass


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    _line_buffered()
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args))
    except KeyboardInterrupt:
        print("derive: interrupted", file=sys.stderr)
        return 130
    except DeriveError as err:
        if debug:
            raise
        print(f"derive: error: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as err:  # the machine said no (a missing folder, no permission, disk full): input, not a bug
        if debug:
            raise
        where = f"{err.filename}: " if err.filename is not None else ""
        print(f"derive: error: {where}{err.strerror or err}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug, not a user error: still one line unless --debug
        if debug:
            raise
        print(f"derive: internal error: {type(err).__name__}: {err} (rerun with --debug)", file=sys.stderr)
        return 3
