"""Check the labelled public sample (../shared/examples/claims by default) against its `expect:`.

    python scripts/check_shared_sample.py [DIR]

Prints one line per claim and exits 1 when any verdict differs from its label (CI runs this).
"""

from __future__ import annotations

import sys
from pathlib import Path

from derive.notes.check import check_file
from derive.notes.claims import load_claims


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1]
    folder = Path(argv[0]) if argv else root.parent / "shared" / "examples" / "claims"
    files = sorted(folder.glob("*.yaml"))
    if not files:
        print(f"no claims files in {folder}", file=sys.stderr)
        return 1
    wrong = 0
    for path in files:
        cf = load_claims(path)
        for spec, result in zip(cf.claims, check_file(cf), strict=True):
            ok = spec.expect is None or spec.expect == result.verdict
            wrong += not ok
            mark = "ok  " if ok else "DIFF"
            print(
                f"{mark} {path.name}:{spec.id}: {result.verdict} (expected {spec.expect})"
                + (f" - {result.diagnosis}" if result.diagnosis else "")
            )
    print(f"{wrong} verdict(s) differ from expect:" if wrong else "every verdict matches expect:")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
