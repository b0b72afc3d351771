"""The README's Python blocks run as they are written (a newcomer copies them into a file)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S | re.M)


def test_the_readme_has_python_to_run():
    assert BLOCKS, "no ```python block found in README.md"


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_python_block_runs_as_written(number: int, tmp_path: Path) -> None:
    """Each block on its own, in a fresh interpreter and an empty folder, as a user would run it."""
    script = tmp_path / f"readme_{number}.py"
    script.write_text(BLOCKS[number], encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
