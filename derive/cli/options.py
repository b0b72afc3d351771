"""Options shared by several subcommands: one network described on the command line."""

from __future__ import annotations

import argparse

from ..model.network import Network, NetworkError

__all__ = ["add_network_arguments", "network_from_args", "positive_seconds"]


def add_network_arguments(
    parser: argparse.ArgumentParser, title: str = "network (instead of a catalog case)"
) -> argparse._ArgumentGroup:
    """The options that describe one network (report, train, gradcheck), in a group called ``title``."""
    group = parser.add_argument_group(title)
    group.add_argument("--net", metavar="SIZES", help="layer sizes, e.g. 2,2,2")
    group.add_argument(
        "--hidden", default="sigmoid", metavar="ACT",
        help="hidden activation, or one per hidden layer: sigmoid,tanh (default: sigmoid)",
    )
    group.add_argument("--output", default=None, metavar="ACT", help="output activation (default: by loss)")
    group.add_argument("--loss", default="mse", choices=["mse", "sq", "bce", "cce"], help="loss (default: mse)")
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
    output = args.output or {"cce": "softmax"}.get(args.loss, "sigmoid")
    return Network(sizes, hidden=hidden, output=output, loss=args.loss, l2=args.l2, bias=args.bias)


def positive_seconds(text: str) -> float:
    """A time limit as a finite number of seconds above 0 (an argparse error otherwise)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (0 < seconds < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r}: the time limit must be a positive number of seconds")
    return seconds
