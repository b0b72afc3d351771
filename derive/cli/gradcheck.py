"""``derive gradcheck``: the engine's gradients against the high-precision witness, per layer."""

from __future__ import annotations

import argparse
from typing import Any

from ..engine.gradcheck import check_network
from ..model.catalog import CATALOG, case
from ..model.network import Network
from .options import add_network_arguments, network_from_args, positive_number

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register ``derive gradcheck``."""
    parser = subparsers.add_parser(
        "gradcheck",
        help="check the engine's gradients against a high-precision reference and finite differences",
        description="Compare the compiled engine's dJ/dW and dJ/db at a random point with a high-precision "
        "reference of the closed forms (exact fixed-point sums, 50-digit functions) and the reference with "
        "central differences of the cost J at the same precision, at the network's own sizes (every entry "
        "of a small network, a sample of a large one). Prints the largest relative error per layer; exit "
        "status 1 when any exceeds --tol. Without CASE or --net: every catalog case.",
    )
    parser.add_argument("cases", nargs="*", metavar="CASE", help="catalog case names (default: all)")
    add_network_arguments(parser, "network (instead of a catalog case)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random point (default 0)")
    parser.add_argument(
        "--tol", type=positive_number, default=1e-7, help="largest relative error allowed (default 1e-7)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``derive gradcheck``; returns the exit status."""
    nets: list[tuple[str, Network]] = [(name, case(name)) for name in args.cases]
    if args.net is not None:
        net = network_from_args(args)
        nets.append((net.label, net))
    if not nets:
        nets = list(CATALOG.items())

    width = max(len(name) for name, _ in nets)
    print(f"{'network':<{width}}  layer  engine vs reference  finite differences vs reference  verdict")
    failed = 0
    for name, net in nets:
        result = check_network(net, seed=args.seed)
        for i, e in enumerate(result.layers):
            fd = f"{e.finite_differences:.1e}" if e.finite_differences is not None else "—"
            verdict = "ok" if max(e.engine, e.finite_differences or 0.0) <= args.tol else "FAIL"
            label = name if i == 0 else ""
            print(f"{label:<{width}}  {e.layer:>5}  {e.engine:>19.1e}  {fd:>32}  {verdict}")
        w = result.witness
        if w.compared < w.total:
            print(f"{'':<{width}}  note: {w.compared} sampled entries of {w.total}, {w.fd_entries} differenced")
        failed += result.worst() > args.tol
    total = len(nets)
    print(f"{total - failed} of {total} networks within {args.tol:g}")
    return 1 if failed else 0
