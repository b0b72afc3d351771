"""How long the instance cross-check takes (SymPy's derivative of the written-out cost against the
closed forms, every parameter), and the largest network it finishes within a budget.

    python benchmarks/bench_instance_proof.py            # [4,8,8,3] + search for the largest
    python benchmarks/bench_instance_proof.py --quick    # [4,8,8,3] only

The lemmas prove the closed forms for every size (benchmarks/bench_widths.py); this cross-check is
the independent second route that derive() runs by default only for small networks. Its old goal:
every parameter of a [4,8,8,3] sigmoid/softmax+CCE network (139 parameters) exact in ≤ 60 s. The
search grows the hidden width of [4,h,h,3] until a derivation no
longer finishes inside the budget, and prints the largest that did.
"""

from __future__ import annotations

import argparse
import time

from derive import Network


def run(sizes: list[int], timeout: float) -> tuple[float, dict[str, int], int]:
    net = Network(sizes, hidden="sigmoid", output="softmax", loss="cce")
    start = time.perf_counter()
    derivation = net.derive(timeout=timeout, cross_check=True)
    return time.perf_counter() - start, derivation.summary, net.n_parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the [4,8,8,3] case")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args()

    seconds, summary, n_params = run([4, 8, 8, 3], timeout=args.budget)
    verdict = "PASS" if seconds <= args.budget and summary["proved"] == summary["steps"] else "FAIL"
    print(f"[4, 8, 8, 3] sigmoid/softmax+CCE: {n_params} parameters, {seconds:.1f} s, {summary} -> {verdict}")
    if args.quick:
        return
    best = None
    for width in range(9, 33):
        sizes = [4, width, width, 3]
        seconds, summary, n_params = run(sizes, timeout=args.budget)
        exact = summary["proved"] == summary["steps"]
        print(f"{sizes}: {n_params} parameters, {seconds:.1f} s, all exact: {exact}")
        if seconds > args.budget or not exact:
            break
        best = (sizes, n_params, seconds)
    if best:
        sizes, n_params, seconds = best
        print(f"largest network proved exactly within {args.budget:g} s: {sizes} "
              f"({n_params} parameters, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
