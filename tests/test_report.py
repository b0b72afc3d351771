"""The reports: escaping, self-containment, numeric table, the ``derive report`` command.

Most tests use a derivation built by hand (``fake_derivation``) so that they test the report, not
the derivation; the golden tests (test_golden.py) render the real catalog.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape

from derive import Network, cli
from derive.cli import report as report_command
from derive.engine.witness import gradient_witness, witness_point
from derive.model.catalog import CATALOG
from derive.proof.derivation import Derivation, Step
from derive.render import report, reportdata

HOSTILE_NAMES = [
    "<script>alert(1)</script>",
    r"\input{/etc/passwd}",
    r"a & b $x$ 100% #1 ~_^ {}",
    '"><img src=x onerror=alert(1)>',
]
PDFLATEX = shutil.which("pdflatex")
NEEDS_TEX = pytest.mark.skipif(
    PDFLATEX is None,
    reason=f"pdflatex is not installed (Debian: apt-get install {report.TEX_PACKAGES}); CI installs TeX",
)


def fake_derivation(net: Network, verdicts: tuple[str, ...] = ("proved",) * 5) -> Derivation:
    """A small derivation by hand: one step per verdict, two of them boxed closed forms."""
    T = r"^{\top}"
    templates = [
        ("sigmoid derivative σ′ = σ(1 − σ)", r"\sigma'(x) = \sigma(x)\,(1 - \sigma(x))",
         "sigmoid derivative", None, "identity", False),
        ("output error δ⁽²⁾", r"\delta^{(2)} = (a^{(2)} - y) \odot \sigma'(z^{(2)})", "chain rule", 2,
         "chain", True),
        ("error of layer 1",
         rf"\delta^{{(1)}} = \left(W^{{(2)}}\right){T} \delta^{{(2)}} \odot \sigma'(z^{{(1)}})",
         r"chain rule: \partial z_j / \partial a_k = W_{jk}", 1, "chain", False),
        ("gradient of J, layer 1",
         rf"\frac{{\partial J}}{{\partial W^{{(1)}}}} = \frac{{1}}{{m}} \sum_{{e}} \delta^{{(1)(e)}} "
         rf"\left(a^{{(0)}}^{{(e)}}\right){T}", "sum rule", 1, "instance", True),
        ("ReLU derivative", r"\operatorname{ReLU}'(z) = \mathbb{1}[z > 0]", "ReLU derivative", None,
         "identity", False),
    ]
    steps = []
    for verdict, (title, latex, rule, layer, kind, boxed) in zip(verdicts, templates * 3, strict=False):
        evidence = {
            "proved": "exact: lhs − rhs simplifies to 0 in 0.02 s",
            "numeric": "exact proof timed out after 5 s; 3 random points at 50 digits agree",
            "fails": "lhs − rhs = 2 x at x = 1",
        }[verdict]
        steps.append(Step(title, latex, rule, layer=layer, kind=kind, boxed=boxed, verdict=verdict,
                          evidence=evidence, numeric_max_error=3e-51 if verdict != "fails" else None))
    return Derivation(net, steps)


def named(name: str, base: str = "sigmoid-mse") -> Network:
    net = CATALOG[base]
    return Network(net.sizes, net.hidden, net.output, net.loss, net.l2, net.bias, name=name)


class WrongEngine:
    """An engine whose gradient is off by 1e-3 in one entry: the numeric table must catch it."""

    source = "def loss_and_grad(params, X, Y):\n    return 0.0, params  # wrong on purpose\n"

    def __init__(self, net: Network) -> None:
        self.inner = net.compile()

    def loss_and_grad(self, params, X, Y):
        loss, grads = self.inner.loss_and_grad(params, X, Y)
        grads = [(np.array(gW), np.array(gb)) for gW, gb in grads]
        grads[0][0][0, 0] += 1e-3
        return loss, grads


@pytest.fixture
def run(monkeypatch, capsys):
    """Run ``derive report …`` through the real CLI with the derivation built by hand;
    returns (exit status, stdout, stderr)."""
    verdicts: dict[str, tuple[str, ...]] = {}

    def fake_derive(net: Network, **options: object) -> Derivation:
        return fake_derivation(net, verdicts.get(net.name, ("proved",) * 5))

    monkeypatch.setattr("derive.cli.report.derive", fake_derive)

    def _run(*argv: str, steps: dict[str, tuple[str, ...]] | None = None) -> tuple[int, str, str]:
        verdicts.clear()
        verdicts.update(steps or {})
        try:
            status = cli.main(["report", *argv])
        except SystemExit as exit_:  # argparse refuses bad options by exiting, as the real command does
            status = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return status, out, err

    return _run


# ---- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\\", r"\textbackslash{}"), ("{", r"\{"), ("}", r"\}"), ("$", r"\$"), ("&", r"\&"), ("#", r"\#"),
        ("%", r"\%"), ("_", r"\_"), ("^", r"\textasciicircum{}"), ("~", r"\textasciitilde{}"),
        ("<", r"\textless{}"), (">", r"\textgreater{}"), ("σ", r"\ensuremath{\sigma}"),
        ("−", r"\textminus{}"), ("∂J", r"\ensuremath{\partial}J"), ("é", "é"), ("\x00", ""),
    ],
)
def test_tex_escape(text, expected):
    assert report.tex_escape(text) == expected


def test_tex_escape_leaves_no_command():
    escaped = report.tex_escape(r"\input{/etc/passwd}\write18{rm -rf /}")
    assert r"\input" not in escaped and r"\write18" not in escaped
    assert re.fullmatch(r"(?:[^\\]|\\(?:textbackslash\{\}|[{}]))*", escaped)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_user_strings_are_escaped_in_every_format(name):
    data = reportdata.build_report(fake_derivation(named(name)))
    page = report.render_html(data)
    assert "<script" not in page.lower() and "<img" not in page.lower()
    assert str(escape(name)) in page
    tex = report.render_latex(data)
    assert name not in tex and report.tex_escape(name) in tex
    md = report.render_markdown(data)
    assert not re.search(r"(?<!\\)<(?:script|img)", md)  # CommonMark shows \< as a literal <


def test_mathml_that_is_not_math_is_shown_as_escaped_latex():
    out = report.mathml(r"\text{<script>alert(1)</script>}")
    assert "<script" not in out and "&lt;script&gt;" in out and out.startswith('<code class="tex">')


def test_mathml_fixes_double_superscripts_and_blackboard_one():
    out = report.mathml(r"\left(a^{(1)}^{(e)}\right) \mathbb{1}[z > 0]")
    assert out.startswith("<math") and "𝟙" in out and 'class="tex"' not in out


# ---- the HTML page --------------------------------------------------------------------------


def test_html_is_self_contained():
    page = report.render_html(fake_derivation(CATALOG["softmax-cce"]))
    lowered = page.lower()
    assert "<script" not in lowered and "javascript:" not in lowered
    assert not re.search(r"<(?:link|img|iframe|object|embed)\b", lowered)
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", lowered)
    assert "@import" not in lowered and "url(" not in lowered
    # the only URLs are XML namespace names, which are never fetched
    for match in re.finditer(r"https?://[^\s\"'<>]+", page):
        before = page[max(0, match.start() - 8): match.start()]
        assert before.endswith('xmlns="'), f"a URL outside an xmlns attribute: {match.group()}"
    assert "prefers-color-scheme: dark" in page and "@media print" in page


def test_html_shows_summary_badges_boxes_and_reason():
    d = fake_derivation(CATALOG["sigmoid-mse"], ("proved", "proved", "numeric", "proved", "fails"))
    page = report.render_html(d)
    assert "3 of 5 steps proved exactly" not in page  # a failing step wins over numeric-only
    assert "1 of 5 steps fail" in page
    assert page.count('class="badge badge-numeric"') == 1
    assert page.count('class="badge badge-fails"') == 1
    assert page.count('class="equation boxed"') == 2
    assert "reason:</span> exact proof timed out after 5 s" in page
    assert " in 0.02 s" not in page  # timings never reach a committed file
    assert "<svg" in page and page.count('<circle class="unit') == sum(CATALOG["sigmoid-mse"].sizes)


def test_fragment_for_jupyter_has_no_page_around_it():
    d = fake_derivation(CATALOG["sigmoid-mse"])
    fragment = report.render_html_fragment(d)
    assert "<html" not in fragment and "<body" not in fragment and "<!doctype" not in fragment.lower()
    assert '<div class="derive-report">' in fragment
    css = re.sub(r"/\*.*?\*/", "", fragment.split("<style>")[1].split("</style>")[0], flags=re.S)
    # every rule is scoped, so a notebook page keeps its own look
    selectors = [p.strip() for s in re.findall(r"([^{};]+)\{", css) if not s.strip().startswith("@")
                 for p in s.split(",")]
    assert len(selectors) > 50
    # every rule under the report's root, two classes strong (as strong as a notebook's output rules)
    assert all(s.startswith((".derive-report.derive-report", ".derive-page")) for s in selectors), selectors
    assert d.to_html().startswith("<!DOCTYPE html>")
    latex = d._repr_latex_()
    assert latex.startswith("$$") and latex.endswith("$$") and r"\boxed{" in latex


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
NEEDS_CHROMIUM = pytest.mark.skipif(CHROMIUM is None, reason="no chromium to lay the page out (Debian: chromium)")
# Measures the laid-out page and writes what it found into <pre id="probe"> (read back with --dump-dom).
PROBE = """<pre id="probe"></pre><script>
const root = document.querySelector('.derive-report');
const style = (el) => getComputedStyle(el);
const found = {cells: [], cards: [], tables: [], rows: [], boxes: []};
for (const cell of root.querySelectorAll('table.defs th, table.defs td')) found.cells.push(style(cell).textAlign);
for (const card of root.querySelectorAll('.counts div')) {
  const dt = card.querySelector('dt').getBoundingClientRect(), dd = card.querySelector('dd').getBoundingClientRect();
  found.cards.push(dd.top >= dt.bottom - 1);
}
for (const table of root.querySelectorAll('table')) found.tables.push(style(table).tableLayout);
for (const row of root.querySelectorAll('tbody tr:not(.bad)')) found.rows.push(style(row).backgroundColor);
for (const box of root.querySelectorAll('.equation.boxed .box')) {
  const b = box.getBoundingClientRect(), m = box.querySelector('math').getBoundingClientRect();
  found.boxes.push([m.left - b.left, b.right - m.right]);
}
document.getElementById('probe').textContent = JSON.stringify(found);
</script>"""


def _laid_out(page: str, tmp_path: Path) -> dict:
    """What Chromium measures on ``page`` (with PROBE appended)."""
    path = tmp_path / "page.html"
    path.write_text(page.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1000,2000", "--virtual-time-budget=5000", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    probe = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert probe and probe[1], done.stderr[-2000:]
    return json.loads(html.unescape(probe[1]))


def _assert_laid_out_as_designed(found: dict) -> None:
    assert found["cells"] and set(found["cells"]) <= {"left", "start"}, found["cells"]
    assert found["cards"] and all(found["cards"]), "each count sits under its label"
    assert found["tables"] and set(found["tables"]) == {"auto"}
    assert found["rows"] and set(found["rows"]) == {"rgba(0, 0, 0, 0)"}, "no striped rows"
    assert found["boxes"] and all(left >= 8 and right >= 8 for left, right in found["boxes"]), found["boxes"]
    assert all(abs(left - right) < 4 for left, right in found["boxes"]), "as much room on the right as on the left"


@NEEDS_CHROMIUM
def test_report_page_is_laid_out_as_designed(tmp_path):
    page = report.render_html(fake_derivation(CATALOG["sigmoid-mse"]))
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)  # let the probe run
    _assert_laid_out_as_designed(_laid_out(page, tmp_path))


@NEEDS_CHROMIUM
def test_notebook_styles_do_not_reach_into_the_report(tmp_path):
    """The fragment Jupyter shows, inside a page with a notebook's output styles
    (tests/data/notebook.css: right-aligned cells, fixed table layout, striped rows, run-in dt/dd)."""
    notebook_css = (Path(__file__).parent / "data" / "notebook.css").read_text(encoding="utf-8")
    fragment = fake_derivation(CATALOG["sigmoid-mse"])._repr_html_()
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{notebook_css}</style></head><body>"
        f"<div class='jp-OutputArea-output jp-RenderedHTMLCommon'>{fragment}</div></body></html>"
    )
    _assert_laid_out_as_designed(_laid_out(page, tmp_path))
    bare = page.replace(fragment, report.render_html_fragment(fake_derivation(CATALOG["sigmoid-mse"])).replace(
        "<style>", "<style media='not all'>"))  # the same fragment without its own sheet
    found = _laid_out(bare, tmp_path)
    assert "right" in found["cells"] and not all(found["cards"]), "the notebook sheet is hostile, as meant"


# ---- the numeric table -------------------------------------------------------------------------


def _witness(net: Network, engine: object | None = None, note: str = "engine not available (test)"):
    params, X, Y = witness_point(net, reportdata.SEED, 3)
    return gradient_witness(net, params, X, Y, engine, note, seed=reportdata.SEED)


@pytest.mark.parametrize("case", list(CATALOG))
def test_closed_form_agrees_with_finite_differences(case):
    check = reportdata.numeric_check(CATALOG[case], _witness(CATALOG[case]))
    assert check.ok and len(check.rows) == check.total == CATALOG[case].n_parameters
    assert all(row.fd_error == "< 1e-12" for row in check.rows)


def test_a_wrong_engine_is_caught():
    net = CATALOG["sigmoid-mse"]
    data = reportdata.build_report(fake_derivation(net), engine=WrongEngine(net))
    assert not data.numeric.ok and not data.ok
    assert [row.ok for row in data.numeric.rows].count(False) == 1
    assert "Some entries disagree" in report.render_html(data)
    assert WrongEngine.source.splitlines()[0] in report.render_html(data)


def test_engine_not_available_is_said(monkeypatch):
    def no_engine(self, **options):
        raise ImportError("derive.engine.compiled is being written")

    monkeypatch.setattr(Network, "compile", no_engine)
    data = reportdata.build_report(fake_derivation(CATALOG["sigmoid-bce"]))
    assert data.numeric.ok and not data.numeric.engine_available and data.engine_source is None
    page = report.render_html(data)
    assert "engine not available" in page and "being written" in page
    assert "engine not available" in report.render_latex(data)


def test_a_crashing_engine_is_a_finding_not_a_crash(run, tmp_path, monkeypatch):
    def broken(self, **options):
        raise IndexError("tuple index out of range")

    monkeypatch.setattr(Network, "compile", broken)
    status, out, err = run("sigmoid-mse", "--out", str(tmp_path))
    assert status == 1, err
    assert "engine failed: IndexError" in out
    assert "engine failed: IndexError: tuple index out of range" in (tmp_path / "sigmoid-mse.html").read_text()


def test_big_networks_show_a_capped_table():
    net = Network([30, 20, 10], hidden="tanh", output="softmax", loss="cce")
    check = reportdata.numeric_check(net, _witness(net))
    assert check.capped and len(check.rows) <= reportdata.TABLE_CAP and check.ok
    assert {row.label_text.split("[")[0] for row in check.rows} == {"W(1)", "b(1)", "W(2)", "b(2)"}
    picture = reportdata.diagram(net)
    assert max(len(layer.units) for layer in picture.layers) < reportdata.MAX_DRAWN
    assert picture.layers[0].ellipsis_y is not None


@pytest.mark.parametrize(
    ("error", "text"), [(0.0, "< 1e-12"), (3e-13, "< 1e-12"), (3.4e-9, "3e-09"), (0.26, "3e-01"), (None, "—")]
)
def test_errors_are_printed_coarsely(error, text):
    assert reportdata.format_error(error) == text


# ---- LaTeX and PDF ---------------------------------------------------------------------------


def test_latex_environment_delimiters_and_autoescape():
    env = report.latex_environment()
    out = env.from_string(r"\BLOCK{if x}\VAR{x} \VAR{y|math}\BLOCK{endif}\#{ a comment }").render(
        x="50%_{}", y=r"\alpha_1"
    )
    assert out == r"50\%\_\{\} \alpha_1"


@NEEDS_TEX
@pytest.mark.parametrize("name", [HOSTILE_NAMES[1], HOSTILE_NAMES[2]])
def test_tex_compiles_with_hostile_names(name):
    d = fake_derivation(named(name, "softmax-cce"), ("proved", "numeric", "fails", "proved", "proved"))
    pdf = report.compile_pdf(report.render_latex(d))
    assert pdf.startswith(b"%PDF")


@NEEDS_TEX
def test_broken_tex_is_a_one_line_error():
    with pytest.raises(report.ReportError, match=r"pdflatex failed on report.tex: ! "):
        report.compile_pdf("\\documentclass{article}\\begin{document}\\undefinedcommand\\end{document}")


# ---- the command -------------------------------------------------------------------------------


def test_report_writes_the_catalog_under_reports_by_default(run, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run()
    assert status == 0, err
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    expected = sorted([f"{c}.html" for c in CATALOG] + [f"{c}.tex" for c in CATALOG] + ["index.html"])
    assert written == expected
    index = (tmp_path / "reports" / "index.html").read_text()
    assert all(f'href="{c}.html"' in index and f'href="{c}.tex"' in index for c in CATALOG)
    assert all(f"{c}: 5 steps, 5 proved" in out for c in CATALOG)
    assert not list((tmp_path / "reports").glob(".*.tmp"))


def test_exit_status_follows_the_verdicts(run, tmp_path):
    out = str(tmp_path)
    assert run("sigmoid-mse", "--out", out)[0] == 0
    numeric = ("proved", "numeric", "proved", "proved", "proved")
    assert run("sigmoid-mse", "--out", out, steps={"sigmoid-mse": numeric})[0] == 1
    fails = ("proved", "proved", "fails", "proved", "proved")
    assert run("sigmoid-mse", "l2", "--out", out, steps={"l2": fails})[0] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["no-such-case"], "unknown case 'no-such-case'"),
        (["--net", "2,x,2"], "layer sizes must be integers"),
        (["--net", "2,0,2"], "must be at least 1"),
        (["--net", "2,2", "--loss", "cce", "--output", "sigmoid"], "needs a softmax output"),
        (["--format", "html,docx"], "unknown format 'docx'"),
        (["--format", ""], "unknown format"),
        (["--net", "2,2", "--name", "../../escaped"], "would escape the output directory"),
        (["--net", "2,2", "--name", "/tmp/elsewhere"], "would escape the output directory"),
        (["--net", "2,2", "--name", "index"], "taken by the index page"),
        (["--name", "x"], "there is no --net"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(run, tmp_path, argv, message):
    status, out, err = run(*argv, "--out", str(tmp_path / "out"))
    assert status == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escaped.html").exists()


def test_out_must_be_a_folder(run, tmp_path):
    (tmp_path / "file").write_text("")
    status, _, err = run("sigmoid-mse", "--out", str(tmp_path / "file"))
    assert status == 2 and "not a folder" in err


def test_formats_are_parsed_and_validated():
    assert report_command.parse_formats("html,tex") == ("html", "tex")
    assert report_command.parse_formats(" MD , html,md") == ("md", "html")
    with pytest.raises(Exception, match="choose from html,tex,pdf,md"):
        report_command.parse_formats("pdf,doc")


def test_custom_network_and_markdown(run, tmp_path):
    status, out, err = run("--net", "2,3,1", "--hidden", "relu", "--output", "identity", "--format", "md",
                           "--out", str(tmp_path))
    assert status == 0, err
    md = (tmp_path / "net-2-3-1-relu-identity-mse.md").read_text()
    assert md.startswith("# net-2-3-1-relu-identity-mse") and "$$\\boxed{" in md
    assert "| $\\partial J / \\partial W^{(1)}_{11}$ |" in md and "```python" in md
    assert not (tmp_path / "index.html").exists()  # the index is an HTML page


def test_pdf_without_tex_names_the_packages(run, tmp_path, monkeypatch):
    monkeypatch.setattr(report.shutil, "which", lambda exe: None)
    status, _, err = run("sigmoid-mse", "--format", "pdf", "--out", str(tmp_path))
    assert status == 2
    assert "texlive-latex-base texlive-latex-recommended lmodern latexmk" in err
    assert not list(tmp_path.iterdir())


@NEEDS_TEX
def test_pdf_format_writes_a_pdf(run, tmp_path):
    status, _, err = run("relu-hidden", "--format", "pdf", "--out", str(tmp_path))
    assert status == 0, err
    assert (tmp_path / "relu-hidden.pdf").read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "relu-hidden.tex").exists()


def test_templates_are_found_in_the_checkout():
    dirs = report.template_dirs()
    assert any((d / "report.html.j2").is_file() for d in dirs)
    assert Path(report.__file__).resolve().parents[2] / "templates" in dirs


# ---- progress, the index of checked notes, the options ---------------------------------------


def test_progress_shows_each_step_as_it_is_verified(tmp_path, capsys):
    status = cli.main(["report", "--net", "1,1", "--out", str(tmp_path), "--format", "md", "--progress"])
    out, err = capsys.readouterr()
    assert status == 0, err
    shown = [int(n) for n in re.findall(r"(\d+) steps verified", err)]
    steps = int(re.search(r": (\d+) steps, ", out)[1])
    assert steps >= 5 and shown == list(range(steps + 1)), err[-1000:]  # each step, in order
    assert "steps verified" not in out, "progress goes to stderr; stdout keeps one line per network"


def test_no_progress_when_not_on_a_terminal(run, tmp_path):
    status, _, err = run("sigmoid-mse", "--out", str(tmp_path))  # stderr is captured: not a terminal
    assert status == 0 and "steps verified" not in err


def test_index_links_the_check_reports_under_notes(run, tmp_path):
    (tmp_path / "notes").mkdir()
    for name in ("seed_b", "seed_a"):
        (tmp_path / "notes" / f"{name}.html").write_text("<!DOCTYPE html>")
    status, _, _ = run("sigmoid-mse", "--out", str(tmp_path))
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert status == 0 and "Checked notes" in index
    assert index.index('<a href="notes/seed_a.html">seed_a</a>') < index.index('<a href="notes/seed_b.html">seed_b</a>')
    status, _, _ = run("sigmoid-mse", "--out", str(tmp_path / "alone"))
    assert "Checked notes" not in (tmp_path / "alone" / "index.html").read_text(encoding="utf-8")


def test_time_limit_is_the_one_name_and_timeout_still_works(run, tmp_path):
    assert run("sigmoid-mse", "--out", str(tmp_path), "--time-limit", "3")[0] == 0
    assert run("sigmoid-mse", "--out", str(tmp_path), "--timeout", "3")[0] == 0  # the old name, hidden


@pytest.mark.parametrize(
    ("command", "title"),
    [("report", "network (instead of a catalog case):"), ("gradcheck", "network (instead of a catalog case):"),
     ("train", "network (default: chosen for the data set):")],
)
def test_each_command_names_its_network_options(command, title, capsys):
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert title in out
    if command in ("report", "check"):
        assert "--time-limit" in out and "--timeout" not in out


def test_check_format_help_prints_the_claims_format(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["check", "--format-help"])
    out, err = capsys.readouterr()
    assert exit_.value.code == 0 and err == ""
    assert out == (Path(__file__).resolve().parent.parent / "docs" / "CLAIMS_FORMAT.md").read_text(encoding="utf-8")
