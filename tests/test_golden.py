"""The committed reports/ are what ``derive report`` writes today, and they say what they must.

Rendering the catalog runs the real derivation once (module fixture), in-process.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markupsafe import escape

from derive import cli
from derive.model.catalog import CATALOG
from derive.proof.derivation import Derivation
from derive.render import report

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "reports"
NOTES = "notes"  # the check reports of examples/notes/, written by scripts/regenerate_reports.py
REGENERATE = "derive report --out reports (from the repo root), or python scripts/regenerate_reports.py"
BADGES = {"proved": "proved exactly", "numeric": "numeric witness only", "fails": "fails"}


@pytest.fixture(scope="module")
def derivations() -> dict[str, Derivation]:
    """Each catalog network derived once for this module (the derivation is the slow part)."""
    return {name: net.derive() for name, net in CATALOG.items()}


def run_report(argv: list[str], derivations: dict[str, Derivation]) -> int:
    """``derive report ARGV`` through the CLI, reusing the module's derivations."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("derive.cli.report.derive", lambda net, **options: derivations[net.name])
        return cli.main(["report", *argv])


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, derivations) -> Path:
    """The catalog rendered now, into a fresh folder, as ``derive report`` writes it (beside the
    committed check reports of the notes, which the index links)."""
    out = tmp_path_factory.mktemp("reports")
    shutil.copytree(COMMITTED / NOTES, out / NOTES)
    run_report(["--out", str(out)], derivations)
    return out


def test_committed_reports_are_up_to_date(rendered):
    new = {p.name: p.read_bytes() for p in rendered.iterdir() if p.is_file() and not p.name.startswith(".")}
    old = {p.name: p.read_bytes() for p in COMMITTED.glob("*") if p.suffix in (".html", ".tex")}
    missing = sorted(set(new) - set(old))
    stale = sorted(set(old) - set(new))
    changed = sorted(name for name in set(new) & set(old) if new[name] != old[name])
    first = ""
    if changed:  # show where the first changed file starts to differ
        diff = difflib.unified_diff(old[changed[0]].decode().splitlines(), new[changed[0]].decode().splitlines(),
                                    f"reports/{changed[0]}", "rendered now", n=0, lineterm="")
        first = "\n" + "\n".join(list(diff)[:8])
    assert not (missing or stale or changed), (
        f"reports/ is out of date (missing {missing}, no longer written {stale}, changed {changed}); "
        f"regenerate with: {REGENERATE}{first}"
    )


def test_rendering_twice_gives_the_same_bytes(rendered, derivations, tmp_path):
    # the numeric point is seeded and timings stay on the terminal, so a second run is identical
    again = tmp_path / "again"
    run_report(["sigmoid-mse", "--out", str(again), "--format", "html,tex"], derivations)
    for name in ("sigmoid-mse.html", "sigmoid-mse.tex"):
        assert (again / name).read_bytes() == (rendered / name).read_bytes(), name


@pytest.mark.parametrize("case", list(CATALOG))
def test_each_report_holds_every_step_title_and_verdict(rendered, derivations, case):
    page = (rendered / f"{case}.html").read_text(encoding="utf-8")
    tex = (rendered / f"{case}.tex").read_text(encoding="utf-8")
    steps = derivations[case].steps
    assert steps
    for number, step in enumerate(steps, start=1):
        assert f"<h3>{escape(step.title)}</h3>" in page, step.title
        assert f"\\subsection*{{{number}.\\quad {report.tex_escape(step.title)}}}" in tex, step.title
    badges = page.count('class="badge badge-')
    assert badges == len(steps)
    for verdict, text in BADGES.items():
        expected = sum(step.verdict == verdict for step in steps)
        assert page.count(f'<span class="badge badge-{verdict}">') == expected
        assert tex.count(f"\\verdict{verdict}\n") == expected
        if expected:
            assert text in page
    summary = derivations[case].summary
    for label, key in [("steps", "steps"), ("proved exactly", "proved"), ("numeric only", "numeric"),
                       ("failing", "fails")]:
        assert f"<dt>{label}</dt><dd>{summary[key]}</dd>" in page
    assert "<svg" in page and "Generated NumPy source" in page and "\\begin{lstlisting}" in tex


# How many children each MathML element with a fixed layout needs (MathML Core); an extra or a
# missing child shifts every script after it ("tanh2" for tanh², a transposed matrix with four).
MATHML_ARITY = {"msup": 2, "msub": 2, "mfrac": 2, "mroot": 2, "munder": 2, "mover": 2, "msubsup": 3, "munderover": 3}
MATH = re.compile(r'<math xmlns="http://www.w3.org/1998/Math/MathML".*?</math>', re.S)
MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"


@pytest.mark.parametrize("case", list(CATALOG))
def test_every_mathml_element_has_the_children_its_tag_needs(rendered, case):
    page = (rendered / f"{case}.html").read_text(encoding="utf-8")
    formulas = MATH.findall(page)
    assert len(formulas) > 20
    wrong = []
    for formula in formulas:
        for element in ET.fromstring(formula).iter():
            tag = element.tag.removeprefix(MATHML_NS)
            if tag in MATHML_ARITY and len(element) != MATHML_ARITY[tag]:
                children = [child.tag.removeprefix(MATHML_NS) for child in element]
                wrong.append(f"<{tag}> with {len(element)} children {children}")
    assert wrong == []


def test_index_links_every_report(rendered):
    index = (rendered / "index.html").read_text(encoding="utf-8")
    for case in CATALOG:
        assert f'<a href="{case}.html">{case}</a>' in index and f'href="{case}.tex"' in index


def test_committed_index_links_every_checked_note():
    """reports/index.html links each check report under reports/notes/, one per example note."""
    index = (COMMITTED / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'href="([^"]+)"', index))
    notes = sorted(p.name for p in (COMMITTED / NOTES).glob("*.html"))
    examples = sorted(p.stem + ".html" for p in (ROOT / "examples" / "notes").glob("*.yaml"))
    assert notes == examples, "regenerate the check reports with python scripts/regenerate_reports.py"
    assert {f"{NOTES}/{name}" for name in notes} <= links
    for link in links:
        assert (COMMITTED / link).is_file(), f"reports/index.html links {link}, which does not exist"


@pytest.mark.skipif(
    shutil.which("latexmk") is None and shutil.which("pdflatex") is None,
    reason=f"no TeX installed (Debian: apt-get install {report.TEX_PACKAGES}); CI installs TeX",
)
def test_committed_tex_compiles(tmp_path):
    for tex in sorted(COMMITTED.glob("*.tex")):
        pdf = report.compile_pdf(tex.read_text(encoding="utf-8"), jobname=tex.stem)
        assert pdf.startswith(b"%PDF"), tex.name
    assert list(COMMITTED.glob("*.tex")), "no committed .tex reports"


@pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason=f"no pdflatex or pdftotext (Debian: apt-get install {report.TEX_PACKAGES} poppler-utils); CI installs TeX",
)
@pytest.mark.parametrize("case", ["softmax-cce", "bias-column", "l2"])
def test_no_heading_is_stranded_at_the_foot_of_a_pdf_page(rendered, tmp_path, case):
    """Each table heading of section 1 is on the same page as the first row of its table."""
    pdf = tmp_path / f"{case}.pdf"
    pdf.write_bytes(report.compile_pdf((rendered / f"{case}.tex").read_text(encoding="utf-8"), jobname=case))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("Definitions", "Rules the steps cite", "Notation"):
        page = next(p for p in text.split("\f") if re.search(rf"^\s*{heading}\s*$", p, re.M))
        after = page[re.search(rf"^\s*{heading}\s*$", page, re.M).end():]
        lines = [line for line in after.splitlines() if line.strip() and not line.strip().isdigit()]  # no folio
        assert lines, f"{heading!r} is the last line of its page"


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk is not installed")
def test_a_report_builds_with_latexmk(rendered, tmp_path):
    shutil.copy(rendered / "relu-hidden.tex", tmp_path)
    done = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "relu-hidden.tex"],
        cwd=tmp_path, capture_output=True, timeout=120, check=False,
        env={**os.environ, "openin_any": "p", "openout_any": "p"},
    )
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-2000:]
    assert (tmp_path / "relu-hidden.pdf").read_bytes().startswith(b"%PDF")
