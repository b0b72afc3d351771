"""Reports of a derivation: HTML (MathML, no JavaScript), LaTeX and PDF, Markdown.

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

import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from latex2mathml.converter import convert as _latex2mathml
from markupsafe import Markup, escape

from ..errors import DeriveError, InputError
from ..fileio import safe_join, write_atomic
from ..proof import derivation as derivation_module
from .reportdata import ReportData, build_report

if TYPE_CHECKING:
    from ..proof.derivation import Derivation

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "TEX_PACKAGES",
    "ReportError",
    "TexSafe",
    "compile_pdf",
    "html_environment",
    "latex_environment",
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
# A name with a script (\tanh^2 z, \tanh' z) gets the space after the script, never inside the
# <msup>, whose two children are its base and its exponent.
_NAMES = r"(?:log|ln|exp|tanh|sinh|cosh|sin|cos|tan|max|min|det|diag|sup|inf)"
_NO_BRACKET = r"(?!<mo[^>]*>(?:\(|\[|&#x00028;|&#x0005B;|&#x02061;))"
_FUNCTION_NAME = re.compile(rf"(?<!<msup>)(?<!<msub>)(?<!<msubsup>)(<mi>{_NAMES}</mi>){_NO_BRACKET}")
_SCRIPTED_FUNCTION_NAME = re.compile(
    rf"(<(msup|msub|msubsup)><mi>{_NAMES}</mi>(?:(?!</?(?:msup|msub|msubsup)>).)*?</\2>){_NO_BRACKET}"
)
_THIN_SPACE = '<mspace width="0.167em" />'
# latex2mathml puts the three parts of a matrix environment (bracket, table, bracket) straight
# into an <msup> when a script follows it; braced, the matrix is one <mrow> and the <msup> has two.
_MATRIX_ENV = re.compile(r"\\(begin|end)\{([pbBvV]?matrix)\}")
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


def _brace_scripted_matrices(latex: str) -> str:
    r"""``\begin{bmatrix}…\end{bmatrix}^{\top}`` → ``{\begin{bmatrix}…\end{bmatrix}}^{\top}`` (nested
    matrices too), so that latex2mathml gives the script one base."""
    starts: list[int] = []
    opens: list[int] = []  # where to put "{" for each matrix that turns out to carry a script
    closes: list[int] = []
    for m in _MATRIX_ENV.finditer(latex):
        if m[1] == "begin":
            starts.append(m.start())
        elif starts:
            start = starts.pop()
            if latex[m.end():].lstrip().startswith(("^", "_")):
                opens.append(start)
                closes.append(m.end())
    out = latex
    for pos, text in sorted([(p, "{") for p in opens] + [(p, "}") for p in closes], reverse=True):
        out = out[:pos] + text + out[pos:]
    return out


@lru_cache(maxsize=4096)
def clean_mathml(latex: str, display: bool = False) -> Markup | None:
    """``latex`` as MathML (block when ``display``) made only of allowed elements and attributes;
    None when latex2mathml cannot convert it or its output is not clean."""
    try:
        markup = _latex2mathml(
            _brace_scripted_matrices(_brace_superscripts(latex)), display="block" if display else "inline"
        )
    except Exception:  # latex2mathml raises assorted errors on LaTeX it does not know
        return None
    markup = _DS_RE.sub(lambda m: f"<{m[1]}>{_DOUBLE_STRUCK[m[2]]}</{m[1]}>", markup)
    markup = _FUNCTION_NAME.sub(rf"\1{_THIN_SPACE}", markup)
    markup = _SCRIPTED_FUNCTION_NAME.sub(rf"\1{_THIN_SPACE}", markup)
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


def render_index(
    entries: Sequence[tuple[ReportData, dict[str, str]]], notes: Sequence[tuple[str, str]] = ()
) -> str:
    """The index page: one row per report, its summary and links (format → file name), then
    ``notes``, the checked notes' reports as (name, link)."""
    return html_environment().get_template("index.html.j2").render(entries=entries, notes=notes)


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
# Writing reports.
# ------------------------------------------------------------------------------------------


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


derivation_module.RENDERERS.update(
    html=render_html, latex=render_latex, html_fragment=render_html_fragment, latex_fragment=render_latex_fragment
)
