"""Regenerate the committed reports: the same as ``derive report --out reports`` at the repo root.

Run it after a change to the derivation, the engine or the templates, review the diff, commit.
Only the ``report`` command is loaded, so this works while other commands are being written.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(ROOT))
    from derive import cli

    cli.COMMAND_MODULES = ("render.report",)  # the other commands are not needed to write reports
    extra = sys.argv[1:] if argv is None else argv
    return cli.main(["report", "--out", str(ROOT / "reports"), *extra])


if __name__ == "__main__":
    sys.exit(main())
