"""``derive gradcheck``: the engine's gradients against finite differences and SymPy, per layer."""

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
        help="check the engine's gradients against finite differences and SymPy",
        description="Compare the compiled engine's dJ/dW and dJ/db with central finite differences "
        "(float64) and with sympy.diff of the symbolic cost at a random point. Prints the largest "
        "relative error per layer; exit status 1 when any exceeds --tol. Without CASE or --net: "
        "every catalog case.",
    )
    parser.add_argument("cases", nargs="*", metavar="CASE", help="catalog case names (default: all)")
    add_network_arguments(parser, "network (instead of a catalog case)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random point (default 0)")
    parser.add_argument(
        "--tol", type=positive_number, default=1e-7, help="largest relative error allowed (default 1e-7)"
    )
    parser.add_argument("--no-symbolic", action="store_true", help="skip the SymPy column")
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
    print(f"{'network':<{width}}  layer  finite differences  symbolic (sympy.diff)  verdict")
    failed = 0
    for name, net in nets:
        result = check_network(net, seed=args.seed, symbolic=not args.no_symbolic)
        for i, e in enumerate(result.layers):
            sym = f"{e.symbolic:.1e}" if e.symbolic is not None else "skipped"
            worst = max(e.finite_differences, e.symbolic or 0.0)
            verdict = "ok" if worst <= args.tol else "FAIL"
            label = name if i == 0 else ""
            print(f"{label:<{width}}  {e.layer:>5}  {e.finite_differences:>18.1e}  {sym:>21}  {verdict}")
        if result.cost_error is not None and result.cost_error > args.tol:
            print(f"{'':<{width}}  cost J differs from the symbolic cost by {result.cost_error:.1e}  FAIL")
        for note in result.notes:
            print(f"{'':<{width}}  note: {note}")
        failed += result.worst() > args.tol
    total = len(nets)
    print(f"{total - failed} of {total} networks within {args.tol:g}")
    return 1 if failed else 0
