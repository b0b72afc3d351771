"""What the wheel ships and what its metadata says: typed, with its templates, CLAIMS_FORMAT.md
and licence, under a distribution name that is free on the package index."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from derive.version import DISTRIBUTION, __version__

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_the_distribution_name_is_the_one_the_hints_use():
    assert re.search(rf'^name = "{DISTRIBUTION}"$', PYPROJECT, re.M)
    assert re.search(r'^path = "derive/version.py"$', PYPROJECT, re.M), "the version has one home"
    assert re.search(r'^derive = "derive.cli:main"$', PYPROJECT, re.M), "the command stays derive"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"pip install '{DISTRIBUTION}[digits]'" in readme
    sources = [*sorted((ROOT / "derive").rglob("*.py")), ROOT / "README.md", ROOT / ".ci" / "run"]
    stale = [p.name for p in sources if re.search(r"pip install '?derive\[|derive-\*\.whl", p.read_text("utf-8"))]
    assert stale == [], "an install hint names the unrelated 'derive' distribution"


def test_the_source_is_marked_typed():
    assert (ROOT / "derive" / "py.typed").is_file()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel, built from this checkout without network (hatchling comes with the test extra)."""
    if importlib.util.find_spec("hatchling") is None:
        pytest.skip("hatchling is needed to build the wheel: pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("*.whl")
    assert path.name == f"{DISTRIBUTION.replace('-', '_')}-{__version__}-py3-none-any.whl"
    return zipfile.ZipFile(path)


def test_the_wheel_ships_types_templates_format_and_licence(wheel):
    names = set(wheel.namelist())
    assert "derive/py.typed" in names
    assert "derive/docs/CLAIMS_FORMAT.md" in names
    assert wheel.read("derive/docs/CLAIMS_FORMAT.md") == (ROOT / "docs" / "CLAIMS_FORMAT.md").read_bytes()
    templates = {p.relative_to(ROOT).as_posix() for p in (ROOT / "templates").rglob("*") if p.is_file()}
    assert templates and {f"derive/{t}" for t in templates} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "derive/cli/__main__.py" in names and not any(n.startswith("tests/") for n in names)


def test_the_wheel_metadata(wheel):
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    assert f"Name: {DISTRIBUTION}\n" in metadata and f"Version: {__version__}\n" in metadata
    assert "License-Expression: MIT\n" in metadata
    for classifier in ("Typing :: Typed", "Programming Language :: Python :: 3", "Intended Audience :: Education"):
        assert f"Classifier: {classifier}\n" in metadata
    entry_points = wheel.read(next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "derive = derive.cli:main" in entry_points
