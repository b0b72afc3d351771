"""The ``derive`` command: argparse front end; every subcommand lives in its own module.

Each command module exposes ``add_parser(subparsers)`` that registers its subcommand and sets
``func`` (a function ``args -> int`` exit status). Errors meant for the user are
``DeriveError`` and become one line on stderr with exit status 2 (tracebacks only with --debug);
Ctrl-C exits 130. An ``OSError`` (a folder that cannot be created, no permission, a full disk)
is the machine refusing, not a bug: one line and exit status 2 as well.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from ..errors import DeriveError
from ..model import rules

__all__ = ["add_network_arguments", "main", "network_from_args"]

COMMAND_MODULES = ("render.report", "notes.check", "engine.train", "engine.gradcheck")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line and exit 2, as for any unusable input
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_network_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that describe one network on the command line (report, train, gradcheck)."""
    group = parser.add_argument_group("network (instead of a catalog case)")
    group.add_argument("--net", metavar="SIZES", help="layer sizes, e.g. 2,2,2")
    group.add_argument(
        "--hidden", default="sigmoid", metavar="ACT",
        help="hidden activation, or one per hidden layer: sigmoid,tanh (default: sigmoid)",
    )
    group.add_argument("--output", default=None, metavar="ACT", help="output activation (default: by loss)")
    group.add_argument("--loss", default="mse", choices=list(rules.LOSSES), help="loss (default: mse)")
    group.add_argument("--l2", type=float, default=0.0, metavar="LAMBDA", help="L2 strength (default: 0)")
    group.add_argument("--bias", default="separate", choices=["separate", "column"], help="bias convention")


def network_from_args(args: argparse.Namespace):  # -> Network
    """The Network described by --net/--hidden/--output/--loss/--l2, or a one-line DeriveError."""
    from ..model.network import Network, NetworkError

    try:
        sizes = [int(s) for s in str(args.net).split(",")]
    except ValueError:
        raise NetworkError(f"--net {args.net!r}: layer sizes must be integers separated by commas") from None
    hidden: str | list[str] = args.hidden.split(",") if "," in args.hidden else args.hidden
    output = args.output or rules.default_output(args.loss)
    return Network(sizes, hidden=hidden, output=output, loss=args.loss, l2=args.l2, bias=args.bias)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Prove backpropagation: derive, verify, compile, report.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    parser.add_argument("--version", action="version", version=f"derive {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"derive.{name}").add_parser(sub)
    return parser


def _version() -> str:
    from .. import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
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


