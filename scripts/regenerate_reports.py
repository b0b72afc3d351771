"""Regenerate the committed reports: the same as ``derive report --out reports`` at the repo root.

Run it after a change to the derivation, the engine or the templates, review the diff, commit.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from derive import cli

    extra = sys.argv[1:] if argv is None else argv
    return cli.main(["report", "--out", str(ROOT / "reports"), *extra])


if __name__ == "__main__":
    sys.exit(main())
