"""Hostile input: no code execution, no injection into reports, nothing written outside, nothing lost.

* Static: derive never evaluates text (sympify, parse_expr, parse_latex, eval, exec outside the
  engine's own generated code), never unpickles, never runs a shell, and writes files only through
  ``write_atomic``.
* LaTeX: user strings that would read /etc/passwd, write files or run commands in TeX are printed,
  never run: the reports are compiled by pdflatex in a sandbox folder with decoy files and we look
  for any file read or written.
* HTML: scripts, event handlers and ``javascript:`` links in every user string stay text.
* Bounded: very big or deep input is refused in one line or answered "undecided", never an
  internal error (benchmarks/bench_limits.py times every such case and takes its peak memory).
* Output paths: report names that would leave ``--out`` are refused with exit status 2.
* Nothing lost: Ctrl-C during ``derive report`` leaves every file whole (old or new), no temp files.
"""

from __future__ import annotations

import ast
import html.parser
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from derive import Network, cli, fileio
from derive.errors import DeriveError, OutputError
from derive.notes.check import check_file
from derive.notes.claims import load_claims_text
from derive.render import report
from derive.render.reportdata import build_report

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "derive"
PDFLATEX, PDFTOTEXT = shutil.which("pdflatex"), shutil.which("pdftotext")
NEEDS_TEX = pytest.mark.skipif(
    PDFLATEX is None or PDFTOTEXT is None,
    reason=f"pdflatex/pdftotext are not installed (Debian: apt-get install {report.TEX_PACKAGES} poppler-utils)",
)
CLI_TIME_LIMIT = 60  # seconds per command


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m derive ARGS`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "derive", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIME_LIMIT,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        stdin=subprocess.DEVNULL,
    )


# ================================================================================================
# Static: what derive's own source may call
# ================================================================================================


@dataclass(frozen=True)
class Finding:
    line: int
    what: str


_TEXT_EVALUATORS = {"sympify": "sympify", "parse_expr": "parse_expr", "parse_latex": "parse_latex"}
_PICKLERS = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "jsonpickle"}
_SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}


def _name(node: ast.AST) -> str:
    """``a.b.c`` for a Name/Attribute chain, "" otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _name(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return ""


def dangerous_calls(source: str) -> list[Finding]:
    """Calls and imports that can run text as code, unpickle, or start a shell (by parsing, not grep,
    so ``.eval(`` methods, ``evaluate(``, comments and docstrings never count)."""
    found: list[Finding] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.module == "os":
                modules += [f"os.{a.name}" for a in node.names]
            for module in modules:
                if module.split(".")[0] in _PICKLERS:
                    found.append(Finding(node.lineno, "pickle"))
                if module in ("os.system", "os.popen"):
                    found.append(Finding(node.lineno, "os.system"))
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        last = name.rsplit(".", 1)[-1]
        if last in _TEXT_EVALUATORS:
            found.append(Finding(node.lineno, _TEXT_EVALUATORS[last]))
        if isinstance(node.func, ast.Name) and node.func.id in ("eval", "exec"):
            found.append(Finding(node.lineno, node.func.id))
        if name in ("os.system", "os.popen", "system", "popen"):
            found.append(Finding(node.lineno, "os.system"))
        if name.split(".")[0] in _PICKLERS:
            found.append(Finding(node.lineno, "pickle"))
        if name in ("yaml.load", "yaml.load_all"):
            loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
            if loader is None and len(node.args) > 1:
                loader = node.args[1]
            if loader is None or _name(loader).rsplit(".", 1)[-1] not in _SAFE_YAML_LOADERS:
                found.append(Finding(node.lineno, "yaml.load without a safe Loader"))
        if name in ("yaml.unsafe_load", "yaml.full_load", "yaml.unsafe_load_all", "yaml.full_load_all"):
            found.append(Finding(node.lineno, "yaml.load without a safe Loader"))
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append(Finding(node.lineno, "shell=True"))
            if kw.arg == "allow_pickle" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append(Finding(node.lineno, "pickle"))
    return found


def source_files() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20, f"derive/**/*.py not found under {PACKAGE}"
    return files


def findings(files: list[Path], kinds: set[str]) -> list[str]:
    out = []
    for path in files:
        for f in dangerous_calls(path.read_text(encoding="utf-8")):
            if f.what in kinds and not (f.what == "exec" and path.name == "compiled.py"):
                out.append(f"derive/{path.name}:{f.line}: {f.what}")
    return out


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ("import sympy as sp\nsp.sympify(text)", "sympify"),
        ("from sympy import sympify\nsympify(text)", "sympify"),
        ("from sympy.parsing.sympy_parser import parse_expr\nparse_expr(s)", "parse_expr"),
        ("from sympy.parsing.latex import parse_latex\nparse_latex(s)", "parse_latex"),
        ("eval(s)", "eval"),
        ("exec(code)", "exec"),
        ("import yaml\nyaml.load(s)", "yaml.load without a safe Loader"),
        ("import yaml\nyaml.load(s, Loader=yaml.Loader)", "yaml.load without a safe Loader"),
        ("import yaml\nyaml.full_load(s)", "yaml.load without a safe Loader"),
        ("import pickle", "pickle"),
        ("from pickle import loads", "pickle"),
        ("import numpy as np\nnp.load(p, allow_pickle=True)", "pickle"),
        ("import subprocess\nsubprocess.run(cmd, shell=True)", "shell=True"),
        ("import os\nos.system('ls')", "os.system"),
        ("from os import system", "os.system"),
    ],
)
def test_the_scanner_finds_each_forbidden_call(snippet: str, what: str) -> None:
    assert [f.what for f in dangerous_calls(snippet)] == [what]


@pytest.mark.parametrize(
    "snippet",
    [
        "class F:\n    @classmethod\n    def eval(cls, x):\n        return None\nF.eval(1)",
        "expr.evalf(50)\nsimplify(e, evaluate=False)\nevaluate(x)",
        "import yaml\nyaml.safe_load(s)\nyaml.load(s, Loader=yaml.SafeLoader)\nyaml.compose(s, Loader=yaml.SafeLoader)",
        "import numpy as np\nnp.load(p, allow_pickle=False)",
        "import subprocess\nsubprocess.run(['pdflatex', 'x.tex'], check=False)",
        "'''Never calls sympify(text) or eval(s).'''\n# exec(x) in a comment",
    ],
)
def test_the_scanner_leaves_safe_code_alone(snippet: str) -> None:
    assert dangerous_calls(snippet) == []


def test_derive_never_runs_text_unpickles_or_starts_a_shell() -> None:
    kinds = {
        "parse_expr",
        "parse_latex",
        "eval",
        "exec",
        "yaml.load without a safe Loader",
        "pickle",
        "shell=True",
        "os.system",
    }
    assert findings(source_files(), kinds) == []


def test_derive_never_sympifies() -> None:
    assert findings(source_files(), {"sympify"}) == [], "use derive.exprs.as_expr (numbers and SymPy objects only)"


# ---- every file derive writes goes through write_atomic ----------------------------------------

_WRITERS = {"write_text", "write_bytes", "save", "savez", "savez_compressed", "savetxt", "tofile", "dump"}
# (file, function): writes that need no atomic rename, and why
_PRIVATE_WRITES = {
    ("report.py", "compile_pdf"): "the .tex goes into a private temporary folder for pdflatex",
    ("train.py", "save_params"): "np.savez into an in-memory buffer, then write_atomic",
}


def _open_mode(call: ast.Call, name: str) -> str | None:
    """The mode string of ``open(path, mode)``, ``os.fdopen(fd, mode)`` or ``path.open(mode)``."""
    mode = next((k.value for k in call.keywords if k.arg == "mode"), None)
    if mode is None:
        position = 0 if name.endswith(".open") else 1  # a Path's open takes the mode first
        mode = call.args[position] if len(call.args) > position else None
    return mode.value if isinstance(mode, ast.Constant) and isinstance(mode.value, str) else None


def direct_writes(source: str) -> list[tuple[int, str, str]]:
    """(line, enclosing function, call) of every call that writes a file without write_atomic."""
    out = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Call):
                name = _name(child.func)
                last = name.rsplit(".", 1)[-1]
                mode = _open_mode(child, name) if last in ("open", "fdopen") else None
                if last in _WRITERS or (mode is not None and any(c in mode for c in "wax+")):
                    out.append((child.lineno, function, name))
            visit(child, inner)

    visit(ast.parse(source), "<module>")
    return out


def test_the_write_scanner_sees_direct_writes() -> None:
    src = (
        "def f(p):\n    p.write_text('x')\n    open(p, 'w')\n    np.save(p, a)\n    open(p).read()\n"
        "    p.open('ab')\n    p.open()\n    os.fdopen(fd, mode='wb')\n    p.open(newline='')\n"
    )
    assert [(line, call) for line, _, call in direct_writes(src)] == [
        (2, "p.write_text"),
        (3, "open"),
        (4, "np.save"),
        (6, "p.open"),
        (8, "os.fdopen"),
    ]


def test_every_file_is_written_through_write_atomic() -> None:
    direct = [
        f"derive/{path.name}:{line}: {call} in {function}()"
        for path in source_files()
        if path.name != "fileio.py"
        for line, function, call in direct_writes(path.read_text(encoding="utf-8"))
        if (path.name, function) not in _PRIVATE_WRITES
    ]
    assert direct == [], "write user-visible files with derive.fileio.write_atomic"


# ================================================================================================
# LaTeX: compiled in a sandbox, nothing read or written
# ================================================================================================

DECOY = "root:x:0:0:DECOY-SECRET:/root:/bin/bash\n"
TEX_PAYLOADS = [
    r"\input{/etc/passwd}",
    r"\input{derivesecret}",
    r"\input derivesecret ",
    r"\include{derivesecret}",
    r"\write18{touch /tmp/derive-pwned-w18}",
    r"\immediate\write18{touch derive-pwned-iw18}",
    r"\immediate\openout5=derive-pwned-out \immediate\write5{x}\immediate\closeout5",
    r"\newwrite\f\immediate\openout\f=derive-pwned-nw\immediate\closeout\f",
    r"\openin5=derivesecret \read5 to\x \x",
    r"\catcode`\^^5c=0 \catcode`\{=1 \catcode`\}=2",
    r"\def\x{\input{derivesecret}}\x",
    r"\csname input\endcsname{derivesecret}",
    r"^^5cinput{derivesecret}",
    r"^^5cinput^^20derivesecret^^20",
    r"\lstinputlisting{/etc/passwd}",
    r"\end{document}",
    "% comment $ & # _ ~ ^ { } \\\\",
]
HTML_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "</title><script>alert(2)</script>",
    "<iframe src=javascript:alert(3)>",
    "<!-- ]]> <style>*{}</style>",
]
ALL_PAYLOADS = TEX_PAYLOADS + HTML_PAYLOADS
# The files pdflatex may leave in its folder; anything else was written by the document.
TEX_OUTPUTS = {".tex", ".aux", ".log", ".pdf", ".out"}


@dataclass
class Compiled:
    returncode: int
    text: str  # the PDF's text (pdftotext)
    log: str


def _snapshot(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def _pwned_in_tmp() -> set[str]:
    return {p.name for p in Path("/tmp").glob("derive-pwned*")}


def _is_font_cache(path: Path, home: Path) -> bool:
    """TeX Live's own cache of generated bitmap fonts under $HOME (mktexpk), not the document's doing."""
    if home not in path.parents:
        return False
    parts = path.relative_to(home).parts
    return parts[0].startswith(".texlive") and (len(parts) < 3 or parts[1:3] == ("texmf-var", "fonts"))


def compile_sandboxed(tex: str, sandbox: Path) -> Compiled:
    """Compile ``tex`` as pdflatex -no-shell-escape with paranoid file access, in ``sandbox/build``,
    beside decoy files a successful \\input would print; fail on any file read or written."""
    build = sandbox / "build"
    build.mkdir(parents=True)
    (build / "derivesecret.tex").write_text(DECOY)
    (sandbox / "derivesecret.tex").write_text(DECOY)
    (build / "job.tex").write_text(tex, encoding="utf-8")
    home = sandbox / "home"
    home.mkdir()
    before, tmp_before = _snapshot(sandbox), _pwned_in_tmp()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXMF")}
    env.update(openin_any="p", openout_any="p", shell_escape="f", HOME=str(home))
    done = subprocess.run(
        [PDFLATEX, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", "job.tex"],
        cwd=build,
        env=env,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    created = sorted(
        str(p.relative_to(sandbox))
        for p in _snapshot(sandbox) - before
        if not (p.parent == build and p.stem == "job" and p.suffix in TEX_OUTPUTS) and not _is_font_cache(p, home)
    )
    assert created == [], f"the document created files: {created}"
    assert _pwned_in_tmp() == tmp_before, "the document wrote into /tmp"
    log = (build / "job.log").read_text(encoding="latin-1") if (build / "job.log").exists() else ""
    text = ""
    if (build / "job.pdf").exists():
        text = subprocess.run(
            [PDFTOTEXT, "job.pdf", "-"], cwd=build, capture_output=True, text=True, timeout=60, check=False
        ).stdout
    opened = re.findall(r"\((\./[^\s()]+)", log)
    assert set(opened) <= {"./job.tex", "./job.aux", "./job.out"}, f"the document read {opened}"
    for needle in ("Not reading from", "Not writing to", "runsystem", "derivesecret.tex"):
        assert needle not in log, f"the log shows a file access: {needle!r}"
    assert "root:" not in text and "DECOY" not in text and "root:" not in log and "DECOY" not in log
    return Compiled(done.returncode, text, log)


def claims_yaml(
    claims: list[dict[str, str]],
    title: str,
    definitions: list[str] | None = None,
    symbols: dict[str, str] | None = None,
) -> str:
    doc: dict[str, object] = {"title": title}
    if symbols:
        doc["symbols"] = symbols
    if definitions:
        doc["definitions"] = definitions
    doc["claims"] = claims
    return yaml.safe_dump(doc, allow_unicode=True, width=10_000)


def hostile_claims(latex_for: list[str]) -> str:
    """A claims file with every payload in its title, the claim ids, notes and LaTeX."""
    claims = []
    for k, payload in enumerate(ALL_PAYLOADS):
        claims.append(
            {
                "id": f"c{k} {payload}",
                "latex": latex_for[k % len(latex_for)].format(p=payload),
                "note": f"note {payload} " + " ".join(ALL_PAYLOADS),
            }
        )
    return claims_yaml(claims, title="Title " + " ".join(ALL_PAYLOADS), definitions=["z = w x + b"])


# LaTeX around the payloads: some claims parse and hold or fail, the others are undecided.
TEX_CLAIM_LATEX = ["z = w x + b", "z = w x {p}", "{p} = z", "\\frac{{\\partial z}}{{\\partial w}} = x"]


@NEEDS_TEX
def test_check_latex_report_is_inert(tmp_path: Path) -> None:
    claims = tmp_path / "hostile.yaml"
    claims.write_text(hostile_claims(TEX_CLAIM_LATEX), encoding="utf-8")
    out = tmp_path / "out.tex"
    result = run_cli("check", str(claims), "--report", str(out), "--time-limit", "10")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    compiled = compile_sandboxed(out.read_text(encoding="utf-8"), tmp_path / "sandbox")
    assert compiled.returncode == 0, compiled.log[-3000:]
    assert "derivesecret" in compiled.text  # the payloads are printed as text


@NEEDS_TEX
def test_check_latex_report_expected_value_is_inert(tmp_path: Path) -> None:
    """TeX reads ^^5c as a backslash: a name written with it must not reach the expected value's maths."""
    name = "x_{^^5cinput^^20derivesecret^^20}"
    claims = tmp_path / "names.yaml"
    claims.write_text(claims_yaml([{"id": "a", "latex": f"{name} + 1 = {name}"}], title="names"))
    out = tmp_path / "out.tex"
    assert cli.main(["check", str(claims), "--report", str(out)]) == 1
    compile_sandboxed(out.read_text(encoding="utf-8"), tmp_path / "sandbox")


@pytest.fixture(scope="module")
def hostile_derivation():
    """A real derivation of a network whose name holds every payload (one network, derived once)."""
    return Network([1, 1], name="N " + " ".join(ALL_PAYLOADS)).derive()


@NEEDS_TEX
def test_derivation_latex_report_with_a_hostile_name_is_inert(tmp_path: Path, hostile_derivation) -> None:
    tex = report.render_latex(build_report(hostile_derivation))
    compiled = compile_sandboxed(tex, tmp_path)
    assert compiled.returncode == 0, compiled.log[-3000:]
    assert "derivesecret" in compiled.text


# ================================================================================================
# HTML: nothing but text from user strings
# ================================================================================================

_URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "background"}


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img", "base", "form", "meta") and not (
            tag == "meta" and all(name in ("charset", "name", "content", "http-equiv") for name, _ in attrs)
        ):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if name in _URL_ATTRS and re.sub(r"[\s\x00-\x1f]", "", value or "").lower().startswith(
                ("javascript:", "data:text/html", "vbscript:")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style" and re.search(r"expression\(|javascript:|url\(", (value or "").lower()):
                self.problems.append(f"<{tag} style=…>")


def assert_inert_html(page: str, what: str) -> None:
    """No script, no event handler, no javascript: URL, no active element: user strings stayed text.

    ``onerror=`` and ``javascript:`` may appear as escaped text (that is what the user wrote); the
    check is on the tags a browser would build, plus the raw ``<script`` the brief forbids outright.
    """
    assert "<script" not in page.lower(), f"{what}: <script in the page"
    parser = _Tags()
    parser.feed(page)
    parser.close()
    assert parser.problems == [], f"{what}: {parser.problems}"


def test_the_html_check_catches_active_content() -> None:
    for bad in [
        '<img src=x onerror="alert(1)">',
        '<a href=" JaVaScRiPt:alert(1)">x</a>',
        "<p onclick=x>",
        "<script>x</script>",
        "<math><mtext><iframe></iframe></mtext></math>",
    ]:
        with pytest.raises(AssertionError):
            assert_inert_html(f"<p>{bad}</p>", "sample")
    assert_inert_html("<p>&lt;script&gt; onerror=alert(1) javascript:alert(1)</p>", "escaped text")


def test_derivation_html_and_markdown_with_a_hostile_name(hostile_derivation) -> None:
    data = build_report(hostile_derivation)
    assert_inert_html(report.render_html(data), "report")
    assert_inert_html(report.render_index([(data, {"html": f"{data.name}.html", "tex": f"{data.name}.tex"})]), "index")
    assert not re.search(r"(?<!\\)<(?:script|img|svg|iframe|a )", report.render_markdown(data))


def test_index_links_cannot_be_javascript(hostile_derivation) -> None:
    """A report called "javascript:alert(1)" is a file of that name, linked relatively, never a script URL."""
    data = build_report(hostile_derivation)
    files = {"html": "javascript:alert(1).html", "tex": " JavaScript:alert(2).tex"}
    assert_inert_html(report.render_index([(data, files)]), "index")


def test_report_command_with_a_hostile_name(tmp_path: Path) -> None:
    """Through the real CLI: the name (no '/', so it is a valid file name) is text in every page."""
    name = '"><img src=x onerror=alert(1)> javascript:alert(1) <svg onload=alert(1)> %$&#{}~^_'
    out = tmp_path / "out"
    result = run_cli("report", "--net", "1,1", "--name", name, "--out", str(out), "--format", "html,md,tex")
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == sorted(["index.html", f"{name}.html", f"{name}.md", f"{name}.tex"])
    for page in ("index.html", f"{name}.html"):
        assert_inert_html((out / page).read_text(encoding="utf-8"), page)
    assert 'href="javascript' not in (out / "index.html").read_text(encoding="utf-8").lower()


# Formulas that latex2mathml turns into markup: only plain maths for the enforced test.
HTML_CLAIM_LATEX = ["z = w x + b", "z = w x + b {p}", "x_{{1}} < x_{{2}} = {p}"]


def test_check_html_report_is_inert(tmp_path: Path) -> None:
    claims = tmp_path / "hostile.yaml"
    claims.write_text(hostile_claims(HTML_CLAIM_LATEX), encoding="utf-8")
    out = tmp_path / "out.html"
    result = run_cli("check", str(claims), "--report", str(out), "--time-limit", "10")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert_inert_html(out.read_text(encoding="utf-8"), "check report")


@pytest.mark.parametrize(
    "latex",
    [
        r"z = \text{<script>alert(1)</script>}",
        r"z = \href{javascript:alert(1)}{x}",
        r"z = \mbox{<img/src/onerror=alert(1)>}",
        r"z = \style{background:url(javascript:alert(1))}{x}",
    ],
    ids=["text-script", "href-javascript", "mbox-img", "style-url"],
)
def test_check_html_report_mathml_is_inert(tmp_path: Path, latex: str) -> None:
    """latex2mathml copies \\text{…} into <mtext> unescaped and \\href/\\style into attributes."""
    claims = tmp_path / "mathml.yaml"
    claims.write_text(claims_yaml([{"id": "a", "latex": latex}], title="mathml", definitions=["z = w x + b"]))
    out = tmp_path / "out.html"
    assert cli.main(["check", str(claims), "--report", str(out), "--time-limit", "10"]) == 1
    assert_inert_html(out.read_text(encoding="utf-8"), "check report")


# ================================================================================================
# Bounded: big or deep input is refused in one line or answered "undecided", never an internal error
# ================================================================================================


def test_deeply_nested_yaml_is_a_one_line_error() -> None:
    with pytest.raises(DeriveError) as info:
        load_claims_text("claims: " + "[" * 1000 + "]" * 1000 + "\n", "deep.yaml")
    assert "deep.yaml" in str(info.value) and "\n" not in str(info.value)


# Each was an internal error once; now a flat sum is simply checked, the rest are undecided.
BIG_FORMULAS = {
    "flat-sum-1500": " + ".join(f"x_{{{i}}}" for i in range(1500)) + " = 0",
    "5000-digit-number": "1" * 5000 + " = 1",
    "100-nested-sigmoids": "\\sigma(" * 100 + "x" + ")" * 100 + " = x",
    "flat-sum-1500-with-ellipsis": " + ".join(f"x_{{{i}}}" for i in range(1, 1500)) + " + \\cdots + x_{1600} = 0",
    "ellipsis-for-a-billion-terms": "x_1 + \\cdots + x_{1000000000} = 0",
    "ellipsis-matrix-of-a-billion-rows": "\\begin{bmatrix} x_1 \\\\ \\vdots \\\\ x_{1000000000} \\end{bmatrix} = 0",
    "ellipsis-matrix-sized-by-itself": (
        "\\begin{bmatrix} x_1 & \\dots & x_{1000000000} \\end{bmatrix} \\begin{bmatrix} 1 \\end{bmatrix} = 0"
    ),
}


@pytest.mark.parametrize("latex", list(BIG_FORMULAS.values()), ids=list(BIG_FORMULAS))
def test_big_formulas_are_undecided_not_internal_errors(latex: str) -> None:
    cf = load_claims_text(claims_yaml([{"id": "big", "latex": latex}], "big", symbols={"\\sigma": "sigmoid"}))
    (result,) = check_file(cf, time_limit=10.0, isolate=False)
    assert result.verdict in ("holds", "fails", "undecided")
    assert "internal error" not in (result.reason or ""), result.reason


# ================================================================================================
# Output paths
# ================================================================================================


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("../x", "would escape the output directory"),
        ("../../x", "would escape the output directory"),
        ("{abs}/x", "would escape the output directory"),
        ("sub/x", "without '/'"),
        ("sub\\x", "without '/'"),
        ("..", "without '/'"),
        ("x\x00y", "cannot be a file name"),
        ("x\ny", "cannot be a file name"),
        ("a" * 300, "longer than"),
        ("index", "taken by the index page"),
    ],
    ids=["parent", "grandparent", "absolute", "subfolder", "backslash", "dotdot", "nul", "newline", "long", "index"],
)
def test_report_names_that_leave_the_output_folder_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, needle: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = outside / "out"
    before = _snapshot(tmp_path)
    status = cli.main(["report", "--net", "1,1", "--name", name.format(abs=outside), "--out", str(out)])
    err = capsys.readouterr().err
    assert status == 2, err
    assert len(err.strip().splitlines()) == 1 and needle in err, err
    assert _snapshot(tmp_path) == before, "nothing is written for refused input"


def test_an_output_folder_that_cannot_be_made_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "file").write_text("")
    status = cli.main(["report", "--net", "1,1", "--out", str(tmp_path / "file" / "sub"), "--format", "md"])
    err = capsys.readouterr().err
    assert status == 2 and len(err.strip().splitlines()) == 1 and "cannot write" in err, err
    assert "Traceback" not in err


# ================================================================================================
# Nothing lost
# ================================================================================================


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(fileio.TEMP_SUFFIX))


def test_write_atomic_interrupted_at_the_rename_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "report.html"
    target.write_bytes(b"old complete file")

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio.write_atomic(target, "new " * 100_000)
    assert target.read_bytes() == b"old complete file"
    assert _temp_files(tmp_path) == []


class _HalfWriter:
    """A file object that writes half of what it is given, then is interrupted (Ctrl-C mid-write)."""

    def __init__(self, fh, error: BaseException) -> None:
        self.fh, self.error = fh, error

    def __enter__(self) -> _HalfWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.fh.close()

    def write(self, data: bytes) -> int:
        self.fh.write(data[: len(data) // 2])
        self.fh.flush()
        raise self.error

    def __getattr__(self, name: str):
        return getattr(self.fh, name)


@pytest.mark.parametrize(
    "error", [KeyboardInterrupt(), OSError(28, "No space left on device")], ids=["ctrl-c", "disk-full"]
)
def test_write_atomic_interrupted_mid_write_keeps_the_old_file(tmp_path: Path, monkeypatch, error) -> None:
    target = tmp_path / "report.tex"
    target.write_bytes(b"old complete file")
    real_fdopen = os.fdopen
    monkeypatch.setattr(fileio.os, "fdopen", lambda fd, mode: _HalfWriter(real_fdopen(fd, mode), error))
    expected = KeyboardInterrupt if isinstance(error, KeyboardInterrupt) else OutputError
    with pytest.raises(expected) as info:
        fileio.write_atomic(target, "new " * 100_000)
    assert target.read_bytes() == b"old complete file"
    assert _temp_files(tmp_path) == []
    if expected is OutputError:
        assert (
            isinstance(info.value, DeriveError)
            and str(info.value) == f"{target}: cannot write: No space left on device"
        )


def test_write_atomic_handles_names_near_the_file_name_limit(tmp_path: Path) -> None:
    target = tmp_path / ("n" * 250 + ".html")
    fileio.write_atomic(target, "x")
    assert target.read_text() == "x" and _temp_files(tmp_path) == []


def _complete(path: Path, data: bytes) -> bool:
    """A whole report: it ends the way the template ends it."""
    ends = {".html": b"</html>\n", ".tex": b"\\end{document}\n"}
    return data.endswith(ends[path.suffix])


def _users_environment() -> dict[str, str]:
    """The environment of an ordinary shell: output to a pipe is block-buffered unless derive flushes."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONWARNINGS"] = "ignore"
    return env


def test_ctrl_c_during_report_loses_nothing(tmp_path: Path) -> None:
    """SIGINT while the catalog is being written: exit 130; every file is its old bytes or a whole new
    report; no temp file is left behind."""
    out = tmp_path / "reports"
    out.mkdir()
    old = {}
    for src in sorted((ROOT / "reports").glob("*")):
        if src.suffix in (".html", ".tex"):
            old[src.name] = src.read_bytes() + (b"<!-- old -->\n" if src.suffix == ".html" else b"% old\n")
            (out / src.name).write_bytes(old[src.name])
    assert len(old) >= 5, "the committed reports/ are needed as the previous run"
    child = subprocess.Popen(
        [sys.executable, "-m", "derive", "report", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        env=_users_environment(),
    )
    try:
        first = child.stdout.readline()  # the first report is written: now interrupt the next one
        assert first and "->" in first, first
        os.killpg(child.pid, signal.SIGINT)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 130, (child.returncode, stderr[-2000:])
    assert "Traceback" not in stderr and "interrupted" in stderr, stderr
    assert "index:" not in stdout, "the interrupt came too late to test anything"
    replaced = 0
    for name, before in old.items():
        now = (out / name).read_bytes()
        if now != before:
            assert _complete(out / name, now), f"{name} was left partly written"
            replaced += 1
    assert replaced >= 2, "the first report was rewritten before the interrupt"
    assert (out / "index.html").read_bytes() == old["index.html"]
    assert [p.name for p in out.iterdir() if p.name.startswith(".") or p.suffix == ".tmp"] == []


def test_atomic_writes_get_ordinary_permissions(tmp_path: Path) -> None:
    from derive.fileio import write_atomic

    fresh = write_atomic(tmp_path / "new.html", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    kept = tmp_path / "kept.html"
    kept.write_text("old")
    kept.chmod(0o640)
    write_atomic(kept, "new")
    assert kept.stat().st_mode & 0o777 == 0o640 and kept.read_text() == "new"
