"""Regenerate the committed reports: the check reports of the example notes, then the catalog.

    python scripts/regenerate_reports.py [--catalog-only] [derive report options…]

1. ``reports/notes/NAME.html`` for every ``examples/notes/NAME.yaml``: what
   ``derive check examples/notes/NAME.yaml --report reports/notes/NAME.html`` writes
   (about a minute; ``--catalog-only`` skips it).
2. The catalog: the same as ``derive report --out reports`` at the repo root; its index.html
   links the reports of step 1.

Run it after a change to the derivation, the checker, the engine or the templates, review the
diff, commit.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from derive import cli  # noqa: E402 - the checkout's derive, not an installed one
from derive.cli.report import NOTES_FOLDER  # noqa: E402
from derive.notes.check import check  # noqa: E402
from derive.render.check_report import write_report  # noqa: E402

REPORTS = ROOT / "reports"
NOTES = ROOT / "examples" / "notes"


def check_notes() -> None:
    """Check every example note and write its HTML report under reports/notes/."""
    for path in sorted(NOTES.glob("*.yaml")):
        results = check(path.relative_to(ROOT))  # the report names the file as the repo does
        out = write_report(str(REPORTS / NOTES_FOLDER / f"{path.stem}.html"), results)
        counts = results.summary
        print(f"{out.relative_to(ROOT)}: {counts['holds']} hold, {counts['fails']} fail, "
              f"{counts['undecided']} undecided", flush=True)


def main(argv: list[str] | None = None) -> int:
    extra = sys.argv[1:] if argv is None else list(argv)
    os.chdir(ROOT)
    if "--catalog-only" in extra:
        extra.remove("--catalog-only")
    else:
        check_notes()
    return cli.main(["report", "--out", str(REPORTS), *extra])


if __name__ == "__main__":
    sys.exit(main())
