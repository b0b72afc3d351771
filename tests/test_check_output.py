"""derive check's output: lines streamed as claims are decided, Ctrl-C, standard input, the
Python API (from threads and process pools), and reports a student reads (every formula typeset)."""

from __future__ import annotations

import html.parser
import json
import multiprocessing
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import derive
from derive import cli
from derive.cli import check as check_command
from derive.errors import InputError
from derive.notes.results import ClaimResult, format_line
from derive.render.check_report import render_html, render_tex, rich_html, rich_tex, safe_math
from derive.render.texlines import display, split_terms

ROOT = Path(__file__).resolve().parent.parent
SEED_001 = ROOT / "examples" / "notes" / "seed_001.yaml"
FIRST_LINE_WITHIN = 5.0  # seconds: the slowest seed file shows its first verdict within this
WAIT_LIMIT = 120.0  # seconds a test waits for a condition before it gives up (a loaded machine)
PDFLATEX = shutil.which("pdflatex")

THREEB1B = """
title: 'One neuron: $C_0 = (a^{(L)} - y)^2$'
symbols: {'\\sigma': sigmoid}
definitions:
  - 'z^{(L)} = w^{(L)} a^{(L-1)} + b^{(L)}'
  - 'a^{(L)} = \\sigma(z^{(L)})'
  - 'C_0 = (a^{(L)} - y)^2'
claims:
  - id: holds
    latex: '\\frac{\\partial C_0}{\\partial b^{(L)}} = 2 \\sigma''(z^{(L)}) (a^{(L)} - y)'
  - id: fails
    latex: '\\frac{\\partial C_0}{\\partial b^{(L)}} = \\sigma''(z^{(L)}) (a^{(L)} - y)'
    note: 'the factor $2$ of $\\frac{\\partial C_0}{\\partial a^{(L)}}$ is lost'
  - id: chain
    latex: '\\frac{\\partial C_0}{\\partial a^{(L)}} = 3(a^{(L)} - y) = 3 a^{(L)} - 3 y'
  - id: unknown
    latex: '\\frac{\\partial C_0}{\\partial w^{(L)}} = 2 q^{(L)} (a^{(L)} - y)'
"""
CLAIM_IDS = ["holds", "fails", "chain", "unknown"]
VERDICTS = ["holds", "fails", "fails", "undecided"]


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONUNBUFFERED", None)  # as in a user's shell: lines must be flushed by derive itself
    return env


def _derive(*args: str, stdin: str | None = None, timeout: float = WAIT_LIMIT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "derive", *args], input=stdin, capture_output=True, text=True,
        timeout=timeout, env=_env(), cwd=ROOT,
    )


# ---- streaming ---------------------------------------------------------------------------------


class _Lines:
    """The lines of a process's stdout as they come, read by a daemon thread (readline blocks)."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            self.queue.put(line)
        self.queue.put("")  # the end of the output

    def next(self, limit: float = WAIT_LIMIT) -> str:
        return self.queue.get(timeout=limit)

    def rest(self, limit: float = WAIT_LIMIT) -> str:
        """Every line up to the end of the output."""
        lines = []
        while line := self.next(limit):
            lines.append(line)
        return "".join(lines)


def test_the_slowest_seed_streams_its_first_line_at_once():
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "derive", "check", str(SEED_001)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(), cwd=ROOT,
    )
    try:
        lines = _Lines(proc)
        heading = lines.next()
        first = lines.next()
        seconds = time.monotonic() - start
    finally:
        proc.kill()
        proc.wait()
    assert heading.startswith("— ") and first.split()[1] in ("holds", "fails", "undecided"), (heading, first)
    assert seconds < FIRST_LINE_WITHIN  # the whole file takes far longer


def test_ctrl_c_prints_what_was_decided_and_the_summary_and_exits_130(tmp_path):
    # the first claim is quick, the second runs until its 60 s limit: Ctrl-C comes in between
    path = tmp_path / "slow.yaml"
    path.write_text(
        "claims:\n  - id: quick\n    latex: 'a + b = b + a'\n"
        "  - id: slow\n    latex: '\\sum_{i=1}^{400} \\sum_{j=1}^{400} \\sum_{k=1}^{400} i j k = 0'\n"
        "  - id: never\n    latex: 'a = a'\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "derive", "check", str(path), "--time-limit", "60", "--report", str(tmp_path / "r.pdf")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT,
    )
    try:
        lines = _Lines(proc)
        first = lines.next()
        assert "quick" in first and "holds" in first
        proc.send_signal(signal.SIGINT)
        out = lines.rest()
        err = proc.stderr.read()  # type: ignore[union-attr]
        proc.wait(timeout=WAIT_LIMIT)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert out.strip().splitlines()[-1] == f"{path}: 1 hold, 0 fail, 0 undecided (interrupted after 1 of 3 claims)"
    assert "interrupted" in err and "Traceback" not in err and not (tmp_path / "r.pdf").exists()


def test_json_after_ctrl_c_holds_the_decided_claims(monkeypatch, capsys, tmp_path):
    def one_then_ctrl_c(cf, time_limit, isolate=True):
        yield ClaimResult("a", "holds", "symbolic")
        raise KeyboardInterrupt

    monkeypatch.setattr(check_command, "iter_check", one_then_ctrl_c)
    path = tmp_path / "c.yaml"
    path.write_text("claims:\n  - id: a\n    latex: 'a = a'\n  - id: b\n    latex: 'b = b'\n")
    code = cli.main(["check", str(path), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 130 and data["interrupted"] is True and [c["id"] for c in data["claims"]] == ["a"]


def test_standard_input_is_read_with_a_dash():
    done = _derive("check", "-", "--json", stdin=THREEB1B)
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["file"] == "<stdin>" and [c["verdict"] for c in data["claims"]] == VERDICTS
    bad = _derive("check", "-", stdin="claims: [")
    assert bad.returncode == 2 and bad.stderr.startswith("derive: error: <stdin>:") and "\n" not in bad.stderr.strip()


def test_a_progress_bar_is_drawn_on_stderr_when_asked():
    done = _derive("check", "-", "--progress", stdin=THREEB1B)
    assert "claim" in done.stderr and "4/4" in done.stderr
    assert [line.split()[2] for line in done.stdout.splitlines()[:4]] == CLAIM_IDS  # stdout: lines only
    quiet = _derive("check", "-", stdin=THREEB1B)  # stderr is a pipe here: no bar
    assert quiet.stderr == ""


# ---- the Python API ----------------------------------------------------------------------------


def test_check_takes_a_path_or_yaml_text(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(THREEB1B)
    by_path, by_text, by_str_path = derive.check(path), derive.check(THREEB1B), derive.check(str(path))
    for results in (by_path, by_text, by_str_path):
        assert [r.verdict for r in results] == VERDICTS
        assert results.summary == {"holds": 1, "fails": 2, "undecided": 1} and not results.ok
    assert by_text["fails"].diagnosis and by_text[0].id == "holds"
    data = by_path.to_json()
    assert data["file"] == str(path) and data["summary"] == by_path.summary
    one_line = derive.check("claims: ['a + b = b + a']")
    assert one_line.ok and one_line.file == "<string>"
    with pytest.raises(InputError, match="no such file"):
        derive.check(str(tmp_path / "missing.yaml"))


def test_check_results_show_themselves_in_a_notebook():
    results = derive.check(THREEB1B)
    fragment = results._repr_html_()
    assert fragment.lstrip().startswith("<style>") and "<html" not in fragment and "<math" in fragment
    assert 'class="derive-report"' in fragment
    assert results.to_html().lstrip().startswith("<!DOCTYPE html>")
    assert "1 hold, 2 fail, 1 undecided" in repr(results) and "✗ fails" in str(results)


def _check_text(text: str) -> dict:
    return derive.check(text, time_limit=3).to_json()


HOSTILE = """claims:
  - id: slow
    latex: '\\sum_{i=1}^{400} \\sum_{j=1}^{400} \\sum_{k=1}^{400} i j k = 0'
  - id: fine
    latex: 'a + b = b + a'
"""


def _verdicts(data: dict) -> list[tuple[str, str]]:
    return [(c["id"], c["verdict"]) for c in data["claims"]]


def test_check_from_a_thread_pool():
    """No SIGALRM, no main thread: each claim runs in its thread under watchdog time limits."""
    start = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        plain, hostile = pool.map(_check_text, [THREEB1B, HOSTILE])
    assert [v for _id, v in _verdicts(plain)] == VERDICTS
    assert _verdicts(hostile) == [("slow", "undecided"), ("fine", "holds")]
    assert "time limit of 3 s" in hostile["claims"][0]["reason"]
    assert time.monotonic() - start < WAIT_LIMIT


def test_check_from_a_process_pool():
    """A pool's workers are daemonic and may not fork a worker per claim: they check in-process."""
    with multiprocessing.get_context("fork").Pool(2) as pool:
        plain, hostile = pool.map(_check_text, [THREEB1B, HOSTILE], chunksize=1)
    assert [v for _id, v in _verdicts(plain)] == VERDICTS
    assert _verdicts(hostile) == [("slow", "undecided"), ("fine", "holds")]
    assert "time limit of 3 s" in hostile["claims"][0]["reason"]


# ---- what the lines and reports say --------------------------------------------------------------


def test_readings_are_part_of_the_output():
    r = ClaimResult("c", "holds", "symbolic", readings=[r"$f(x)$ read as the product $f \cdot x$"])
    assert format_line(r).endswith(r"reading: f(x) read as the product f \cdot x")
    assert r.as_json()["readings"] == [r"$f(x)$ read as the product $f \cdot x$"]
    assert "readings" not in ClaimResult("d", "holds").as_json()  # the contract's keys when there are none
    page = str(rich_html(r.readings[0]))
    assert page.count("<math") == 2 and " read as the product " in page
    assert str(rich_tex(r.readings[0])) == r"$f\left(x\right)$ read as the product $f \cdot x$"


def test_readings_of_the_evaluator_reach_the_claim():
    """How an undeclared name applied to parentheses was read reaches the claim (and its JSON)."""
    (r,) = derive.check("claims: ['f(x) = f x']", isolate=False)
    assert r.readings == ["$f(x)$ read as the product $f \\cdot x$ ($f$ is not declared as a function)"]
    assert r.as_json()["readings"] == r.readings
    (declared,) = derive.check("symbols: {f: sigmoid}\nclaims: ['f(x) = \\frac{1}{1 + e^{-x}}']", isolate=False)
    assert declared.verdict == "holds" and not declared.readings


class _VisibleText(html.parser.HTMLParser):
    """The text a reader sees, outside <math>, the notes' own LaTeX (<pre class="source">) and the
    notes' annotations (<p class="note">, prose the notes' author wrote), and outside <head>."""

    SKIP = ("math", "style", "head", "title")
    VOID = ("meta", "link", "br", "hr", "img", "input", "col", "wbr", "mspace")

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []  # open elements, and whether their text is skipped
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        skipped = bool(self.stack and self.stack[-1][1])
        self.stack.append((tag, skipped or tag in self.SKIP or "source" in classes or "note" in classes))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        pass  # <mspace/>: no text

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip() and not (self.stack and self.stack[-1][1]):
            self.texts.append(data.strip())


RAW_LATEX = re.compile(r"\\[A-Za-z]+|[_^]\{|\$")

A_REPORT = THREEB1B + """
  - id: numbers
    latex: 'e^{-x} = 0.5'
  - id: alias
    latex: '\\frac{\\partial C_0}{\\partial w^{(L)}} = 2 \\alpha^{(L)} (a^{(L)} - y)'
---
title: 'Functions $u$ and $v$'
symbols: {u: function, v: function}
claims:
  - id: product
    latex: '(u v)'' = u'' v'' \\pm 0'
"""


def _assert_no_raw_latex(page: str) -> None:
    parser = _VisibleText()
    parser.feed(page)
    assert any("hold" in t for t in parser.texts)  # the parser sees the page's text
    raw = [t for t in parser.texts if RAW_LATEX.search(t)]
    assert raw == []


def test_the_visible_text_parser_sees_raw_latex():
    page = '<html><head><meta charset="utf-8"><title>x</title></head><body><p>3 hold</p>'
    parser = _VisibleText()
    parser.feed(page + r'<p>a \frac{1}{2} b</p><math><mi>x</mi></math><pre class="source">\alpha</pre></body></html>')
    assert [t for t in parser.texts if RAW_LATEX.search(t)] == [r"a \frac{1}{2} b"]


def test_no_visible_text_of_a_check_report_holds_raw_latex():
    results = derive.check(A_REPORT)
    assert {r.verdict for r in results} == {"holds", "fails", "undecided"}
    assert any(r.counterexample and "u(x)" in r.counterexample["point"] for r in results)
    page = render_html(results)
    _assert_no_raw_latex(page)
    assert page.count('<pre class="source">') >= len(results)  # the notes' LaTeX is still there, as written


@pytest.mark.parametrize("seed", sorted((ROOT / "reports" / "notes").glob("*.html")), ids=lambda p: p.stem)
def test_the_committed_seed_reports_hold_no_raw_latex(seed):
    _assert_no_raw_latex(seed.read_text(encoding="utf-8"))


def test_expected_values_are_written_in_the_notes_terms():
    ng = """
sizes: {m: 2}
network: {notation: ng, layers: [2, 2, 1], hidden: sigmoid, output: sigmoid, loss: bce, l2: '\\lambda'}
claims:
  - 'D^{(1)}_{1,1} = \\frac{1}{m}\\Delta^{(1)}_{1,1}'
"""
    (no_reg,) = derive.check(ng, isolate=False)
    assert no_reg.expected.startswith(r"\frac{1}{m}") and r"\lambda" in no_reg.expected
    assert "(2)(" not in no_reg.expected  # an example's names are not doubled superscripts
    aliases = """
symbols: {'\\sigma': sigmoid, '\\alpha': a, '\\gamma': y, g: sigmoid}
definitions:
  - 'z^{(L)} = w^{(L)} \\alpha^{(L-1)} + b^{(L)}'
  - 'a^{(L)} = \\sigma(z^{(L)})'
claims:
  - '\\frac{\\partial \\alpha^{(L)}}{\\partial b^{(L)}} = 2 \\alpha^{(L)}'
  - 'g''(z) = \\frac{e^{z}}{(1 + e^{z})}'
"""
    alias, derivative = derive.check(aliases, isolate=False)
    assert r"\alpha^{(L)}" in alias.expected and not re.search(r"(?<![A-Za-z])a\^", alias.expected)
    assert "e^" not in derivative.expected and derivative.expected.count("g{") == 2  # g(z)(1 − g(z))


# ---- LaTeX and PDF -------------------------------------------------------------------------------


def test_safe_math_refuses_what_is_not_plain_maths():
    assert safe_math(r"\frac{a^{(L)}}{2}") == r"\frac{a^{(L)}}{2}"
    assert safe_math(r"\begin{bmatrix} a \\ b \end{bmatrix}")
    for bad in (
        r"\input{x}", r"x^^5cinput{y}", "a % b", "a}{b", r"\left( a", r"\begin{document}",
        r"\end{bmatrix}", "a & b", r"a \\ b",
    ):
        assert safe_math(bad) is None, bad


def test_long_formulas_are_broken_at_their_plus_and_minus():
    terms = [f"a_{{{k}}} b_{{{k}}} c_{{{k}}}" for k in range(30)]
    long = " + ".join(terms[:15]) + " - " + " - ".join(terms[15:])
    assert len(split_terms(long)) == 30
    assert split_terms(r"-x + \left(a - b\right) - e^{-x}") == ["-x", r"+ \left(a - b\right)", "- e^{-x}"]
    shown = display(["y", long])
    assert r"\begin{aligned}" in shown and shown.count(r"\\") >= 3
    assert display(["y", "a + b"]).count(r"\\") == 0


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed (Debian: apt-get install texlive-latex-base)")
def test_tex_and_pdf_reports_typeset_every_claim(tmp_path):
    results = derive.check(A_REPORT)
    tex = render_tex(results)
    assert tex.count(r"\fitwidth{$\displaystyle") >= len(results)  # each claim typeset, not only its source
    assert r"\frac{\partial C_{0}}{\partial b^{(L)}}" in tex
    (tmp_path / "r.tex").write_text(tex, encoding="utf-8")
    done = subprocess.run(
        [PDFLATEX, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "r.tex"],
        cwd=tmp_path, capture_output=True, text=True, timeout=WAIT_LIMIT, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    overfull = re.findall(r"Overfull \\hbox \((\d+\.\d+)pt too wide\) in paragraph", done.stdout)
    assert [w for w in overfull if float(w) > 5] == []
    path = tmp_path / "c.yaml"
    path.write_text(A_REPORT)
    pdf = tmp_path / "c.pdf"
    cli = _derive("check", str(path), "--report", str(pdf))
    assert cli.returncode == 1 and "Traceback" not in cli.stderr, cli.stderr
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_report_of_another_kind_is_refused_before_any_work(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(THREEB1B)
    done = _derive("check", str(path), "--report", str(tmp_path / "r.docx"))
    assert done.returncode == 2 and "--report must end in .html, .tex or .pdf" in done.stderr and done.stdout == ""


def test_one_long_product_is_opened_at_its_widest_parentheses():
    terms = " + ".join(f"a_{{{k}}} b_{{{k}}} \\left(1 - c_{{{k}}}\\right)" for k in range(12))
    shown = display([f"\\frac{{1}}{{m}} \\left({terms}\\right)"])
    assert r"\frac{1}{m} \Bigl(a_{0}" in shown and shown.rstrip().count(r"\\") >= 1
    assert shown.count(r"\Bigl(") == 1 and shown.count(r"\Bigr)") == 1  # \left( \right) cannot span lines


def _processes_reading(path: Path) -> list[int]:
    """The processes whose command line names ``path`` (Linux: from /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(path).encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:  # the process ended meanwhile
            continue
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals and /proc are Linux's")
def test_a_claims_worker_dies_with_its_check(tmp_path):
    """Killed outright (SIGKILL: no finally runs), derive check leaves no worker computing behind."""
    path = tmp_path / "slow.yaml"
    path.write_text(
        "claims:\n  - 'a = a'\n  - '\\sum_{i=1}^{400} \\sum_{j=1}^{400} \\sum_{k=1}^{400} i j k = 0'\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "derive", "check", str(path), "--time-limit", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=_env(), cwd=ROOT,
    )
    try:
        lines = _Lines(proc)
        assert "holds" in lines.next()  # the second claim's worker is running now
        proc.kill()
        proc.wait(timeout=WAIT_LIMIT)
        deadline = time.monotonic() + WAIT_LIMIT
        while _processes_reading(path) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_reading(path) == []
        assert lines.rest() == ""  # no worker holds the output open
    finally:
        for pid in _processes_reading(path):
            os.kill(pid, signal.SIGKILL)
