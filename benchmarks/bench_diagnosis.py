"""Benchmark the diagnosis of ``derive check``: how often it names the planted mistake.

    python benchmarks/bench_diagnosis.py [--set dev|heldout|all] [--show] [--time-limit 20]

The claims are in ``tests/data/diagnosis/{dev,heldout}/``: formulas transcribed from textbooks
and course notes that derive's tests and seeds do not use, each true one (``why: '[true] …'``)
with copies that plant one mistake (``expect: fails``, ``why: '[class] …'``). A false claim counts
as *named* when it comes out ``fails`` and its diagnosis names its class (the patterns below). A
true claim that does not hold is listed too: the corpus, or the checker, is wrong there.

``dev/`` is what the diagnosis was tuned on; ``heldout/`` was written first and measured last.
Prints the rate per class and overall for each set; ``--show`` lists every miss with its diagnosis.
Exits 1 when a set's overall rate is under ``--goal`` (default 0.9).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

from derive.errors import InputError
from derive.notes.check import CLAIM_TIME_LIMIT, check_file
from derive.notes.claims import load_claims

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "diagnosis"

# What a diagnosis must say to name each class (case-insensitive, anywhere in the text).
NAMES: dict[str, str] = {
    "activation-derivative": r"activation derivative",
    "argument-sign": r"sign inside the argument",
    "swapped-indices": r"swapped indices|wrong index",
    "transpose": r"transpose",
    "layer-off-by-one": r"layer off by one",
    "outer-product": r"outer product",
    "product-order": r"product order",
    "operand-order": r"swapped operands",
    "softmax-sign": r"wrong sign of the term",
    "missing-factor": r"missing (derivative |jacobian )?factor|lacks the factor",
    "extra-factor": r"extra (derivative )?factor|a factor .* too many|has a factor .* that the true value lacks",
    "missing-term": r"missing term|the term .* is missing|missing regularization",
    "log-sum": r"log of a sum",
    "a-for-z": r"pre-activation",
    "product-rule": r"product rule",
    "sign": r"(^|; |\()sign: ",
    "factor": r"factor (\$?\d|1/|\$\\frac|\$\\tfrac)",
}


def claim_labels(path: Path) -> dict[str, str]:
    """The class each claim of a file plants (``true`` for a correct formula), by claim id."""
    out = {}
    for doc in yaml.safe_load_all(path.read_text()):
        for claim in (doc or {}).get("claims", []):
            m = re.match(r"\[([a-z-]+)\]", str(claim.get("why", "")))
            if not m:
                raise SystemExit(f"{path}: claim {claim.get('id')} has no [class] at the start of why:")
            if m.group(1) != "true" and m.group(1) not in NAMES:
                raise SystemExit(f"{path}: claim {claim.get('id')}: unknown class {m.group(1)}")
            out[str(claim["id"])] = m.group(1)
    return out


def names_class(label: str, diagnosis: str | None) -> bool:
    return bool(diagnosis) and re.search(NAMES[label], diagnosis, re.IGNORECASE) is not None  # type: ignore[arg-type]


def measure(name: str, show: bool, time_limit: float) -> float:
    files = sorted((DATA / name).glob("*.yaml"))
    named: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, wrong_truths = [], []
    start = time.monotonic()
    for path in files:
        labels = claim_labels(path)
        try:
            cf = load_claims(path)
        except InputError as err:  # an unusable file: every claim of it is missed
            for cid, label in labels.items():
                if label != "true":
                    named[label][1] += 1
                    misses.append((path.stem, cid, label, "unusable", str(err)))
            continue
        for result in check_file(cf, time_limit=time_limit):
            label = labels[result.id]
            if label == "true":
                if result.verdict != "holds":
                    wrong_truths.append((path.stem, result.id, result.verdict, result.reason or result.diagnosis))
                continue
            ok = result.verdict == "fails" and names_class(label, result.diagnosis)
            named[label][0] += ok
            named[label][1] += 1
            if not ok:
                misses.append((path.stem, result.id, label, result.verdict, result.diagnosis or result.reason))
    seconds = time.monotonic() - start
    total = sum(n for n, _ in named.values()), sum(t for _, t in named.values())
    print(f"== {name}: {len(files)} files, {total[1]} false claims, {seconds:.1f} s")
    for label in NAMES:
        if label in named:
            n, t = named[label]
            print(f"  {label:<22} {n:>3}/{t:<3} {n / t:6.1%}")
    rate = total[0] / total[1] if total[1] else 0.0
    print(f"  {'overall':<22} {total[0]:>3}/{total[1]:<3} {rate:6.1%}")
    if wrong_truths:
        print(f"  true formulas that did not hold: {len(wrong_truths)}")
        for item in wrong_truths:
            print("    ", *item)
    if show:
        for item in misses:
            print("  miss:", *item)
    return rate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("dev", "heldout", "all"), default="all")
    parser.add_argument("--show", action="store_true", help="list every miss with its diagnosis")
    parser.add_argument("--time-limit", type=float, default=CLAIM_TIME_LIMIT, help="seconds per claim")
    parser.add_argument("--goal", type=float, default=0.9)
    args = parser.parse_args(argv)
    sets = ("dev", "heldout") if args.set == "all" else (args.set,)
    rates = [measure(name, args.show, args.time_limit) for name in sets]
    return 0 if all(r >= args.goal for r in rates) else 1


if __name__ == "__main__":
    sys.exit(main())
