"""Reports of a derivation: HTML (MathML, no JavaScript), LaTeX and PDF, Markdown; ``derive report``.

One Jinja2 environment per format, all reading ``templates/``:

* HTML — autoescape on; LaTeX becomes MathML through latex2mathml, checked against a whitelist
  of MathML elements so that nothing but math can reach the page.
* LaTeX — delimiters ``\\BLOCK{…}``, ``\\VAR{…}``, ``\\#{…}``; every value is passed through
  ``tex_escape`` unless it is marked as LaTeX already (``|math``), so a network called
  ``\\input{/etc/passwd}`` prints as text.
* Markdown — a plain text version with ``$$…$$`` math.

``html_environment()``, ``latex_environment()`` and ``tex_escape`` are public so that other
reports (the claims checker's) reuse the same environments, filters and style sheet.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
from latex2mathml.converter import convert as _latex2mathml
from markupsafe import Markup, escape

from ..errors import DeriveError, InputError
from ..fileio import safe_join, write_atomic
from ..proof.prover import DEFAULT_TIMEOUT
from .reportdata import SEED, ReportData, build_report, report_name

if TYPE_CHECKING:
    from ..model.network import Network
    from ..proof.derivation import Derivation

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "TEX_PACKAGES",
    "ReportError",
    "TexSafe",
    "add_parser",
    "compile_pdf",
    "html_environment",
    "latex_environment",
    "main",
    "markdown_environment",
    "mathml",
    "render_html",
    "render_html_fragment",
    "render_index",
    "render_latex",
    "render_latex_fragment",
    "render_markdown",
    "tex_escape",
    "template_dirs",
    "write_reports",
]

FORMATS = ("html", "tex", "pdf", "md")
DEFAULT_FORMATS = ("html", "tex")
SUFFIX = {"html": ".html", "tex": ".tex", "pdf": ".pdf", "md": ".md"}
TEX_PACKAGES = "texlive-latex-base texlive-latex-recommended lmodern latexmk"
PDFLATEX_TIMEOUT = 120  # seconds; a report compiles in about one
MAX_NAME_BYTES = 200  # a report name, so that name + suffix stays under the 255-byte file-name limit


class ReportError(DeriveError):
    """The report ran but could not be produced (e.g. pdflatex rejected it): exit status 1."""

    exit_code = 1


# ------------------------------------------------------------------------------------------
# Templates.
# ------------------------------------------------------------------------------------------


def template_dirs() -> list[Path]:
    """Where templates are looked up: the installed package's, then the source checkout's."""
    package = Path(__file__).resolve().parent.parent
    candidates = [package / "templates", package.parent / "templates"]
    return [d for d in candidates if d.is_dir()]


def _loader() -> jinja2.BaseLoader:
    dirs = template_dirs()
    if not dirs:
        raise DeriveError(f"report templates not found (looked in {Path(__file__).resolve().parent.parent})")
    return jinja2.FileSystemLoader([str(d) for d in dirs])


def _template_text(name: str) -> str:
    """A template file's raw text (the CSS is inlined as it is, never parsed as a template)."""
    for directory in template_dirs():
        path = directory / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    raise DeriveError(f"report template {name!r} not found in {', '.join(map(str, template_dirs()))}")


# ---- HTML --------------------------------------------------------------------------------

# latex2mathml does not escape text (\text{<b>} comes out as a <b> element), so its output is
# parsed and every element and attribute checked; anything else falls back to the LaTeX as code.
_MATHML_TAGS = frozenset(
    "math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mstyle merror mpadded "
    "mphantom mfenced menclose munder mover munderover mtable mtr mtd mlabeledtr semantics "
    "annotation".split()
)
_MATHML_ATTRS = frozenset(
    "xmlns display stretchy fence form mathvariant width height depth minsize maxsize notation "
    "linebreak displaystyle scriptlevel columnalign rowalign columnspacing rowspacing columnlines "
    "rowlines frame separator accent accentunder lspace rspace movablelimits largeop symmetric "
    "class encoding linethickness".split()
)
_NS = "{http://www.w3.org/1998/Math/MathML}"
# latex2mathml writes \log a as <mi>log</mi><mi>a</mi>, which MathML Core sets as "loga": add the
# thin space TeX puts after an operator name, except before an opening bracket (TeX adds none).
_FUNCTION_NAME = re.compile(
    r"(<mi>(?:log|ln|exp|tanh|sinh|cosh|sin|cos|tan|max|min|det|diag|sup|inf)</mi>)"
    r"(?!<mo[^>]*>(?:\(|\[|&#x00028;|&#x0005B;|&#x02061;))"
)
# MathML Core renders mathvariant only on <mi>; write double-struck digits and letters directly.
_DOUBLE_STRUCK = {str(d): chr(0x1D7D8 + d) for d in range(10)}
_DOUBLE_STRUCK.update({"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ"})
_DS_RE = re.compile(r'<(m[in])(?: [^>]*)? mathvariant="double-struck"(?: [^>]*)?>([0-9A-Z])</\1>')


def _is_clean_mathml(markup: str) -> bool:
    try:
        root = ET.fromstring(markup)
    except ET.ParseError:
        return False
    for element in root.iter():
        tag = element.tag.removeprefix(_NS)
        if tag not in _MATHML_TAGS or any(attr not in _MATHML_ATTRS for attr in element.attrib):
            return False
    return True


_DOUBLE_SUPERSCRIPT = re.compile(r"([A-Za-z])\^\{([^{}]*)\}\^")


def _brace_superscripts(latex: str) -> str:
    """``a^{(1)}^{(e)}`` → ``{a^{(1)}}^{(e)}``: a double superscript is an error in TeX and in
    latex2mathml, and this is what it means."""
    return _DOUBLE_SUPERSCRIPT.sub(r"{\1^{\2}}^", latex)


@lru_cache(maxsize=4096)
def clean_mathml(latex: str, display: bool = False) -> Markup | None:
    """``latex`` as MathML (block when ``display``) made only of allowed elements and attributes;
    None when latex2mathml cannot convert it or its output is not clean."""
    try:
        markup = _latex2mathml(_brace_superscripts(latex), display="block" if display else "inline")
    except Exception:  # latex2mathml raises assorted errors on LaTeX it does not know
        return None
    markup = _DS_RE.sub(lambda m: f"<{m[1]}>{_DOUBLE_STRUCK[m[2]]}</{m[1]}>", markup)
    markup = _FUNCTION_NAME.sub(r'\1<mspace width="0.167em" />', markup)
    return Markup(markup) if markup and _is_clean_mathml(markup) else None


def mathml(latex: str, display: bool = False) -> Markup:
    """``latex`` as clean MathML; the escaped LaTeX in <code> if it cannot be."""
    markup = clean_mathml(latex, display)
    return markup if markup is not None else Markup('<code class="tex">{}</code>').format(latex)


_MATH_SPLIT = re.compile(r"\$([^$]+)\$")


def _rich_html(text: str) -> Markup:
    """Text with ``$…$`` math (code-written strings only): escaped text, inline MathML."""
    parts = _MATH_SPLIT.split(text)
    return Markup("").join(mathml(p) if i % 2 else escape(p) for i, p in enumerate(parts))


@lru_cache(maxsize=1)
def html_environment() -> jinja2.Environment:
    """The HTML environment: autoescape on; filters ``math``, ``display_math``, ``rich``."""
    env = jinja2.Environment(
        loader=_loader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["math"] = lambda latex: mathml(str(latex))
    env.filters["display_math"] = lambda latex: mathml(str(latex), display=True)
    # inline, but with displaystyle fractions and sums: formulas standing alone in a table cell
    env.filters["table_math"] = lambda latex: mathml(r"\displaystyle " + str(latex))
    env.filters["rich"] = lambda text: _rich_html(str(text))
    env.globals["stylesheet"] = lambda: Markup(_template_text("style.css"))
    return env


# ---- LaTeX -------------------------------------------------------------------------------


class TexSafe(str):
    """A string that is LaTeX already: the LaTeX environment prints it without escaping."""

    __slots__ = ()


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "%": r"\%", "_": r"\_", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': r"\textquotedbl{}",
    "\n": " ", "\t": " ", "\r": " ",
}
# Characters outside Latin-1 that appear in rule names and evidence (σ′, ∂J/∂W, ‖·‖, ≤ …):
# pdflatex knows none of them, so they become math.
_TEX_UNICODE = {
    "−": r"\textminus{}", "–": "--", "—": "---", "…": r"\dots{}", "‘": "`", "’": "'", "“": "``", "”": "''",
    "\u00a0": "~", "·": r"\ensuremath{\cdot}", "×": r"\ensuremath{\times}", "÷": r"\ensuremath{\div}",
    "∂": r"\ensuremath{\partial}", "≤": r"\ensuremath{\le}", "≥": r"\ensuremath{\ge}",
    "≠": r"\ensuremath{\ne}", "≈": r"\ensuremath{\approx}", "⊙": r"\ensuremath{\odot}",
    "‖": r"\ensuremath{\|}", "ᵀ": r"\ensuremath{^{\mathsf{T}}}", "′": r"\ensuremath{'}",
    "∑": r"\ensuremath{\sum}", "Σ": r"\ensuremath{\Sigma}", "∈": r"\ensuremath{\in}",
    "∞": r"\ensuremath{\infty}", "→": r"\ensuremath{\to}", "←": r"\ensuremath{\leftarrow}",
    "⇒": r"\ensuremath{\Rightarrow}", "√": r"\ensuremath{\surd}", "±": r"\ensuremath{\pm}",
    "∘": r"\ensuremath{\circ}", "⋮": r"\ensuremath{\vdots}", "✓": r"\ensuremath{\checkmark}",
    "²": r"\ensuremath{^2}", "³": r"\ensuremath{^3}", "¹": r"\ensuremath{^1}", "ℓ": r"\ensuremath{\ell}",
    "∇": r"\ensuremath{\nabla}", "≡": r"\ensuremath{\equiv}", "⁻": r"\ensuremath{^-}",
}
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta",
    "θ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "π": "pi",
    "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi",
    "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
    "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega",
}
_TEX_UNICODE.update({ch: rf"\ensuremath{{\{name}}}" for ch, name in _GREEK.items()})
_TEX_UNICODE.update({chr(0x2080 + d): rf"\ensuremath{{_{d}}}" for d in range(10)})
_TEX_UNICODE.update({chr(0x2070 + d): rf"\ensuremath{{^{d}}}" for d in (0, 4, 5, 6, 7, 8, 9)})


def _tex_char(ch: str) -> str:
    if ch in _TEX_SPECIAL:
        return _TEX_SPECIAL[ch]
    if ch.isascii():
        return ch if ch.isprintable() else ""
    if ch in _TEX_UNICODE:
        return _TEX_UNICODE[ch]
    if "\u00c0" <= ch <= "\u00ff":  # accented Latin-1 letters: utf8 inputenc + T1 handle these
        return ch
    ascii_form = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    return "".join(_tex_char(c) for c in ascii_form) if ascii_form else "?"


def tex_escape(text: object) -> TexSafe:
    """``text`` as LaTeX text: specials escaped, known Unicode as math, the rest made ASCII.

    >>> str(tex_escape(r"\\input{/etc/passwd} 50% σ"))
    '\\\\textbackslash{}input\\\\{/etc/passwd\\\\} 50\\\\% \\\\ensuremath{\\\\sigma}'
    """
    if isinstance(text, TexSafe):
        return text
    return TexSafe("".join(_tex_char(ch) for ch in str(text)))


def _tex_finalize(value: object) -> object:
    """Every ``\\VAR{}`` is escaped unless it is LaTeX already (TexSafe) or a number."""
    if value is None:
        return ""
    if isinstance(value, (TexSafe, int, float)):
        return value
    return tex_escape(value)


def _rich_tex(text: str) -> TexSafe:
    parts = _MATH_SPLIT.split(str(text))
    return TexSafe("".join(f"${_tex_math(p)}$" if i % 2 else tex_escape(p) for i, p in enumerate(parts)))


def _tex_source(source: str) -> TexSafe:
    """Code for a ``lstlisting`` block: ASCII only (pdflatex) and unable to end the block early."""
    out = []
    for ch in source:
        if ch.isascii() or ch == "\n":
            out.append(ch)
        elif ch in _GREEK:
            out.append(_GREEK[ch])
        else:
            out.append(unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?")
    text = "".join(out).replace("\t", "    ")
    return TexSafe(re.sub(r"\\(\s*)end(\s*)\{(\s*)lstlisting", r"\\\1 end\2{\3lstlisting", text))


def _tex_math(latex: str) -> TexSafe:
    """LaTeX math for pdflatex: ``a^{(1)}^{(e)}`` (fine in MathML, an error in TeX) is braced as
    ``{a^{(1)}}^{(e)}``; amssymb has no blackboard digits, so 𝟙 is printed as a bold 1."""
    return TexSafe(_brace_superscripts(str(latex)).replace(r"\mathbb{1}", r"\mathbf{1}"))


def _tex_equation(latex: str, boxed: bool = False) -> TexSafe:
    """A display for one equation: align* when it has & columns, gather* otherwise."""
    latex = _tex_math(latex)
    if "&" in latex:
        return TexSafe(f"\\begin{{align*}}\n{latex}\n\\end{{align*}}")
    if boxed and "\\\\" not in latex:
        latex = f"\\boxed{{{latex}}}"
    return TexSafe(f"\\begin{{gather*}}\n{latex}\n\\end{{gather*}}")


@lru_cache(maxsize=1)
def latex_environment() -> jinja2.Environment:
    r"""The LaTeX environment: ``\BLOCK{}``, ``\VAR{}``, ``\#{}``, values escaped by default.

    Filters: ``tex_escape``, ``math`` (mark a string as LaTeX), ``rich`` (text with $math$),
    ``equation`` (a display block), ``source`` (code for lstlisting).
    """
    env = jinja2.Environment(
        loader=_loader(),
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        line_statement_prefix="%%",
        line_comment_prefix="%#",
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=_tex_finalize,
    )
    env.filters["tex_escape"] = tex_escape
    env.filters["math"] = _tex_math
    env.filters["rich"] = _rich_tex
    env.filters["equation"] = lambda latex, boxed=False: _tex_equation(str(latex), bool(boxed))
    env.filters["source"] = lambda text: _tex_source(str(text))
    env.filters["pt"] = lambda px: TexSafe(f"{float(px) * 0.6:.1f}")
    return env


# ---- Markdown ----------------------------------------------------------------------------


class MarkdownSafe(str):
    """A string that is Markdown already."""

    __slots__ = ()


def md_escape(text: object) -> MarkdownSafe:
    """Text for Markdown: HTML and Markdown specials backslash-escaped (``\\<script>`` is text), one line."""
    if isinstance(text, MarkdownSafe):
        return text
    out = []
    for ch in str(text):
        if ch in "\\`*_[]#|<>&$~":
            out.append("\\" + ch)  # CommonMark: a backslash makes any ASCII punctuation literal
        elif ch in "\r\n\t":
            out.append(" ")
        elif ch.isprintable():
            out.append(ch)
    return MarkdownSafe("".join(out))


def _md_finalize(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, (MarkdownSafe, int, float)):
        return value
    return md_escape(value)


def _md_fence(text: str) -> MarkdownSafe:
    fence = "```"
    while fence in text:
        fence += "`"
    return MarkdownSafe(f"{fence}python\n{text.rstrip()}\n{fence}")


@lru_cache(maxsize=1)
def markdown_environment() -> jinja2.Environment:
    """The Markdown environment: values escaped by default; ``math`` and ``code`` filters."""
    env = jinja2.Environment(
        loader=_loader(),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_md_finalize,
    )
    env.filters["math"] = lambda latex: MarkdownSafe(str(latex).replace("\n", " "))
    env.filters["rich"] = lambda text: MarkdownSafe(
        "".join(f"${p}$" if i % 2 else md_escape(p) for i, p in enumerate(_MATH_SPLIT.split(str(text))))
    )
    env.filters["code"] = lambda text: _md_fence(str(text))
    return env


# ------------------------------------------------------------------------------------------
# Rendering.
# ------------------------------------------------------------------------------------------


def _data(obj: Derivation | ReportData) -> ReportData:
    return obj if isinstance(obj, ReportData) else build_report(obj)


def render_html(obj: Derivation | ReportData) -> str:
    """A self-contained HTML page (inline CSS, MathML, no script, no external resource)."""
    return html_environment().get_template("report.html.j2").render(r=_data(obj), fragment=False)


def render_html_fragment(obj: Derivation | ReportData) -> str:
    """The report as one <div> with its scoped style, for Jupyter (no <html> wrapper)."""
    return html_environment().get_template("report.html.j2").render(r=_data(obj), fragment=True)


def render_latex(obj: Derivation | ReportData) -> str:
    """A complete LaTeX document (amsmath, amssymb, listings; compiles with pdflatex)."""
    return latex_environment().get_template("report.tex.j2").render(r=_data(obj))


def render_latex_fragment(obj: Derivation | ReportData) -> str:
    """The steps as one ``$$…$$`` display (Jupyter's ``_repr_latex_``); closed forms boxed."""
    steps = obj.steps if isinstance(obj, ReportData) else [s for s in obj.steps]
    lines = []
    for step in steps:
        latex = str(getattr(step, "latex", ""))
        if "&" in latex:
            latex = f"\\begin{{aligned}}{latex}\\end{{aligned}}"
        elif getattr(step, "boxed", False) and "\\\\" not in latex:
            latex = f"\\boxed{{{latex}}}"
        lines.append(latex)
    return "$$\\begin{gathered}\n" + " \\\\\n".join(lines) + "\n\\end{gathered}$$"


def render_markdown(obj: Derivation | ReportData) -> str:
    """A plain-text (Markdown) version of the report, math as $$…$$."""
    return markdown_environment().get_template("report.md.j2").render(r=_data(obj))


def render_index(entries: Sequence[tuple[ReportData, dict[str, str]]]) -> str:
    """The index page: one row per report, its summary and links (format → file name)."""
    return html_environment().get_template("index.html.j2").render(entries=entries)


# ------------------------------------------------------------------------------------------
# PDF.
# ------------------------------------------------------------------------------------------


def pdflatex() -> str:
    """The pdflatex executable, or an InputError naming the Debian packages to install."""
    exe = shutil.which("pdflatex")
    if exe is None:
        raise InputError(
            f"--format pdf needs pdflatex, which is not installed (Debian: apt-get install {TEX_PACKAGES})"
        )
    return exe


def compile_pdf(tex: str, jobname: str = "report") -> bytes:
    """``tex`` compiled by pdflatex (no shell escape, paranoid file access) in a temp dir."""
    exe = pdflatex()
    env = {**os.environ, "openin_any": "p", "openout_any": "p", "shell_escape": "f"}
    with tempfile.TemporaryDirectory(prefix="derive-tex-") as tmp:
        (Path(tmp) / f"{jobname}.tex").write_text(tex, encoding="utf-8")
        command = [exe, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{jobname}.tex"]
        try:
            done = subprocess.run(command, cwd=tmp, env=env, capture_output=True, timeout=PDFLATEX_TIMEOUT,
                                  stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"pdflatex took longer than {PDFLATEX_TIMEOUT} s on {jobname}.tex") from None
        pdf = Path(tmp) / f"{jobname}.pdf"
        if done.returncode != 0 or not pdf.is_file():
            log = done.stdout.decode("utf-8", "replace")
            errors = [line for line in log.splitlines() if line.startswith("!")]
            first_error = errors[0] if errors else "no error line in the log"
            raise ReportError(f"pdflatex failed on {jobname}.tex: {first_error}")
        return pdf.read_bytes()


# ------------------------------------------------------------------------------------------
# Writing reports and the ``derive report`` command.
# ------------------------------------------------------------------------------------------


def parse_formats(text: str) -> tuple[str, ...]:
    """"html,tex" → ("html", "tex"); an argparse error naming the choices otherwise."""
    chosen = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(map(repr, unknown)) or repr(text)}; choose from {','.join(FORMATS)}"
        )
    return tuple(dict.fromkeys(chosen))


def write_reports(data: ReportData, out: Path, formats: Iterable[str]) -> dict[str, str]:
    """Write ``data`` in each format to ``out/<name>.<suffix>`` atomically; format → file name."""
    written = {}
    for fmt in formats:
        path = safe_join(out, data.name + SUFFIX[fmt])
        if fmt == "html":
            content: str | bytes = render_html(data)
        elif fmt == "tex":
            content = render_latex(data)
        elif fmt == "md":
            content = render_markdown(data)
        else:
            content = compile_pdf(render_latex(data), jobname="report")
        write_atomic(path, content)
        written[fmt] = path.relative_to(out.resolve()).as_posix()
    return written


def add_parser(subparsers: Any) -> None:
    """Register ``derive report``."""
    from ..cli import add_network_arguments

    parser = subparsers.add_parser(
        "report",
        help="write the derivation reports (HTML, LaTeX, PDF, Markdown)",
        description=(
            "Derive, verify and report each network: its picture and definitions, every step with "
            "its verdict, a numeric gradient table and the generated NumPy source. Without CASE or "
            "--net, the whole built-in catalog. Exit 0 when every step is proved exactly and the "
            "numbers agree, 1 when a step is numeric-only or fails, 2 on unusable input."
        ),
    )
    parser.add_argument("cases", nargs="*", metavar="CASE", help="catalog cases (default: all of them)")
    parser.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    parser.add_argument(
        "--format", dest="formats", type=parse_formats, default=DEFAULT_FORMATS, metavar="FMT[,FMT…]",
        help=f"any of {','.join(FORMATS)} (default: {','.join(DEFAULT_FORMATS)}); pdf needs pdflatex",
    )
    parser.add_argument("--name", default=None, help="name of the --net report (default: from its spec)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the numeric point (default: {SEED})")
    parser.add_argument(
        "--timeout", type=_positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
        help=(
            "time limit of the exact proof of each step, in seconds; a step that takes longer rests on "
            f"the 50-digit numeric witness and is reported as numeric (default: {DEFAULT_TIMEOUT:g})"
        ),
    )
    add_network_arguments(parser)
    parser.set_defaults(func=main)


def _positive_seconds(text: str) -> float:
    """``--timeout`` as a finite number of seconds above 0 (an argparse error otherwise)."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (0 < seconds < float("inf")):
        raise argparse.ArgumentTypeError(f"{text!r}: the time limit must be a positive number of seconds")
    return seconds


def _networks(args: argparse.Namespace) -> list[Network]:
    from ..cli import network_from_args
    from ..model.catalog import CATALOG, case
    from ..model.network import Network

    nets = [case(name) for name in args.cases]
    if args.net is not None:
        net = network_from_args(args)
        name = args.name if args.name is not None else report_name(net)
        nets.append(Network(net.sizes, net.hidden, net.output, net.loss, net.l2, net.bias, name=name))
    elif args.name is not None:
        raise InputError("--name names the --net network; there is no --net")
    return nets or list(CATALOG.values())


def _check_output(names: Sequence[str], out: Path, formats: Sequence[str]) -> None:
    """Refuse, before any work, names that are no file name or would leave ``out``."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} exists and is not a folder")
    for name in names:
        if not name or not name.strip() or any(not ch.isprintable() for ch in name):
            raise InputError(f"report name {name!r} cannot be a file name")
        if name == "index" and "html" in formats:
            raise InputError("report name 'index' is taken by the index page; choose another --name")
        for suffix in SUFFIX.values():
            safe_join(out, name + suffix)
        if "/" in name or "\\" in name or name in (".", ".."):
            raise InputError(f"report name {name!r} must be a file name, without '/' or '\\'")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise InputError(f"report name {name[:40]!r}… is longer than {MAX_NAME_BYTES} bytes")
    if len(set(names)) != len(names):
        raise InputError(f"two reports would have the same name: {', '.join(names)}")


def _slowest(derivation: Derivation) -> str:
    """", slowest proof 0.26 s (title)": timings go to the terminal, never into a report file."""
    timed = [s for s in derivation.steps if isinstance(getattr(s, "exact_seconds", None), (int, float))]
    if not timed:
        return ""
    step = max(timed, key=lambda s: s.exact_seconds)
    return f"; slowest proof {step.exact_seconds:.2f} s: {step.title}"


def main(args: argparse.Namespace) -> int:
    """``derive report``: returns 0 when every report is fully proved and its numbers agree."""
    from ..proof.derivation import derive

    formats: tuple[str, ...] = args.formats
    if "pdf" in formats:
        pdflatex()  # before any work: a missing TeX is unusable input, said in one line
    out = Path(args.out)
    nets = _networks(args)
    _check_output([net.name for net in nets], out, formats)
    entries: list[tuple[ReportData, dict[str, str]]] = []
    all_ok = True
    for net in nets:
        started = time.perf_counter()
        derivation = derive(net, timeout=args.timeout)
        derived = time.perf_counter()
        data = build_report(derivation, seed=args.seed)
        written = write_reports(data, out, formats)
        done = time.perf_counter()
        entries.append((data, written))
        all_ok &= data.ok
        s = data.summary
        check = "numbers agree" if data.numeric.ok else "NUMBERS DISAGREE"
        if not data.numeric.engine_available:
            check += f" ({data.numeric.engine_note})"
        files = ", ".join(str(out / f) for f in written.values())
        print(
            f"{data.name}: {s['steps']} steps, {s['proved']} proved, {s['numeric']} numeric only, "
            f"{s['fails']} failing; {check} -> {files} "
            f"[derive {derived - started:.2f} s, report {done - derived:.2f} s{_slowest(derivation)}]"
        )
    if "html" in formats:
        index = write_atomic(safe_join(out, "index.html"), render_index(entries))
        print(f"index: {index}")
    proved = sum(data.ok for data, _ in entries)
    print(f"{proved} of {len(entries)} report{'s' if len(entries) != 1 else ''} fully proved with agreeing numbers")
    sys.stdout.flush()
    return 0 if all_ok else 1
