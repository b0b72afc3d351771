"""Options shared by several subcommands: one network described on the command line, and
argparse types that refuse a bad value before any work is done (one line, exit status 2)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from ..model import rules
from ..model.network import Network, NetworkError

__all__ = [
    "add_network_arguments",
    "at_least",
    "fraction",
    "network_from_args",
    "output_file",
    "positive_number",
    "positive_seconds",
]


def add_network_arguments(parser: argparse.ArgumentParser, title: str) -> argparse._ArgumentGroup:
    """The options that describe one network (report, train, gradcheck), in a group called ``title``."""
    group = parser.add_argument_group(title)
    group.add_argument("--net", metavar="SIZES", help="layer sizes, e.g. 2,2,2")
    group.add_argument(
        "--hidden", default="sigmoid", metavar="ACT",
        help="hidden activation, or one per hidden layer: sigmoid,tanh (default: sigmoid)",
    )
    group.add_argument("--output", default=None, metavar="ACT", help="output activation (default: by loss)")
    group.add_argument("--loss", default="mse", choices=list(rules.LOSSES), help="loss (default: mse)")
    group.add_argument("--l2", type=float, default=0.0, metavar="LAMBDA", help="L2 strength (default: 0)")
    group.add_argument("--bias", default="separate", choices=["separate", "column"], help="bias convention")
    return group


def network_from_args(args: argparse.Namespace) -> Network:
    """The Network described by --net/--hidden/--output/--loss/--l2, or a one-line DeriveError."""
    try:
        sizes = [int(s) for s in str(args.net).split(",")]
    except ValueError:
        raise NetworkError(f"--net {args.net!r}: layer sizes must be integers separated by commas") from None
    hidden: str | list[str] = args.hidden.split(",") if "," in args.hidden else args.hidden
    output = args.output or rules.default_output(args.loss)
    return Network(sizes, hidden=hidden, output=output, loss=args.loss, l2=args.l2, bias=args.bias)


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_number(text: str) -> float:
    """A finite number above 0 (a learning rate)."""
    value = _number(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number")
    return value


def positive_seconds(text: str) -> float:
    """A time limit: a finite number of seconds above 0."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (0 < seconds < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r}: the time limit must be a positive number of seconds")
    return seconds


def fraction(text: str) -> float:
    """A number in [0, 1) (momentum, a held-out share)."""
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: must be at least 0 and below 1")
    return value


def at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r}: must be at least {minimum}")
        return value

    parse.__name__ = f"whole number >= {minimum}"
    return parse


def output_file(text: str) -> str:
    """A file to write later: refused now if it is a folder, so that no work is lost at the end."""
    if not text or Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file name")
    return text
