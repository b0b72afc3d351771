"""The ``derive check --report OUT.html|OUT.tex`` report, rendered with Jinja2.

HTML: autoescape on; formulas as MathML (latex2mathml), so the page needs no JavaScript and no
network. LaTeX: ``\\BLOCK{}``/``\\VAR{}`` delimiters; every piece of user text goes through the
``tex`` filter (escaped, so ``\\input``, ``\\write18``, ``\\openout``, ``\\catcode`` are printed, never
run); the only maths typeset is our own SymPy-printed ``expected``, and only when every command
in it is on an allow-list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from .fileio import write_atomic
from .notation import GREEK

__all__ = ["render_html", "render_tex", "templates_dir", "write_report"]

_SAFE_COMMANDS = GREEK | {
    "frac",
    "left",
    "right",
    "cdot",
    "hat",
    "operatorname",
    "mathbb",
    "begin",
    "end",
    "log",
    "exp",
    "tanh",
    "sqrt",
    "sum",
    "lambda",
    "max",
    "min",
    "sin",
    "cos",
    "text",
    "mathrm",
    "delta",
    "otherwise",
    "quad",
    "for",
    "partial",
    "odot",
    "times",
    "wedge",
    "vee",
    "neq",
    "leq",
    "geq",
    "bar",
    "tilde",
    "widehat",
    "widetilde",
    "overline",
    "dot",
    "ell",
    "infty",
    "sinh",
    "cosh",
    "lor",
    "land",
}
_TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "^": r"\^{}",
    "_": r"\_",
    "%": r"\%",
    "~": r"\textasciitilde{}",
}


def templates_dir() -> Path:
    """The templates folder: inside the package (wheel) or beside it (source checkout)."""
    import derive

    here = Path(derive.__file__).parent
    for candidate in (here / "templates", here.parent / "templates"):
        if (candidate / "check.html.j2").exists():
            return candidate
    raise FileNotFoundError("the templates folder of derive is missing")


def tex_escape(text: object) -> str:
    """User text made inert for LaTeX: every special character printed, none interpreted."""
    s = "" if text is None else str(text)
    return "".join(_TEX_ESCAPES.get(c, c) for c in s)


def safe_math(latex: str | None) -> str | None:
    """Our own printed LaTeX, or None when it holds a command not on the allow-list (names come
    from the notes, and a name must never smuggle in \\input or \\write18)."""
    if not latex:
        return None
    if any(bad in latex for bad in ("^^", "#", "%", "$", "@", "~")):
        return None  # ^^5c spells a backslash in TeX; the others change how TeX reads the rest
    for cmd in re.findall(r"\\([A-Za-z]+)", latex):
        if cmd not in _SAFE_COMMANDS:
            return None
    if "\\\\" in latex.replace(r" \\ ", ""):
        return None
    return latex


_MATHML_TAGS = {
    "math",
    "mrow",
    "mi",
    "mn",
    "mo",
    "mtext",
    "mspace",
    "msub",
    "msup",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "mtable",
    "mtr",
    "mtd",
    "munder",
    "mover",
    "munderover",
    "mstyle",
    "mpadded",
    "menclose",
    "mphantom",
    "semantics",
    "annotation",
    "mfenced",
}
_MATHML_ATTRS = {
    "xmlns",
    "display",
    "stretchy",
    "fence",
    "separator",
    "mathvariant",
    "columnalign",
    "rowspacing",
    "columnspacing",
    "lspace",
    "rspace",
    "width",
    "minsize",
    "maxsize",
    "accent",
    "accentunder",
    "movablelimits",
    "form",
    "linethickness",
    "symmetric",
    "notation",
    "displaystyle",
    "scriptlevel",
}


def _mathml(latex: str | None) -> str | None:
    """MathML for ``latex``, rebuilt from a parse so that only MathML elements and harmless
    attributes survive (no href, no event handlers, no raw HTML from \\text{...})."""
    import xml.etree.ElementTree as ET

    import latex2mathml.converter

    if not latex:
        return None
    try:
        raw = latex2mathml.converter.convert(latex)
        root = ET.fromstring(raw)
    except Exception:  # noqa: BLE001 - a formula MathML cannot show is shown as text instead
        return None
    for el in root.iter():
        tag = el.tag.split("}", 1)[-1]
        if tag not in _MATHML_TAGS:
            return None
        for attr in list(el.attrib):
            if attr.split("}", 1)[-1] not in _MATHML_ATTRS:
                del el.attrib[attr]
    ET.register_namespace("", "http://www.w3.org/1998/Math/MathML")
    return ET.tostring(root, encoding="unicode")


def _context(cf: Any, results: list[Any]) -> dict[str, Any]:
    from .check import summarize

    claims = []
    for r in results:
        d = r.as_json()
        d.update(latex=r.latex, note=r.note)
        claims.append(d)
    return {"title": cf.title or "", "file": cf.path, "claims": claims, "summary": summarize(results)}


def render_html(cf: Any, results: list[Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    ctx = _context(cf, results)
    for c in ctx["claims"]:
        c["math"] = jinja2.utils.markupsafe.Markup(_mathml(c["latex"]) or "") if _mathml(c["latex"]) else ""
        c["expected_math"] = (
            jinja2.utils.markupsafe.Markup(_mathml(c["expected"])) if _mathml(c["expected"]) else (c["expected"] or "")
        )
    return env.get_template("check.html.j2").render(**ctx)


def render_tex(cf: Any, results: list[Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=False,
        block_start_string=r"\BLOCK{",
        block_end_string="}",
        variable_start_string=r"\VAR{",
        variable_end_string="}",
        comment_start_string=r"\#{",
        comment_end_string="}",
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["tex"] = tex_escape
    ctx = _context(cf, results)
    for c in ctx["claims"]:
        c["expected_tex"] = safe_math(c["expected"])
    return env.get_template("check.tex.j2").render(**ctx)


def write_report(out: str, cf: Any, results: list[Any]) -> Path:
    """Write the report to ``out`` atomically (.html or .tex by its suffix)."""
    text = render_tex(cf, results) if out.lower().endswith(".tex") else render_html(cf, results)
    return write_atomic(out, text)
