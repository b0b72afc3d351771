"""The ``derive check --report OUT.html|OUT.tex`` report, rendered with Jinja2.

HTML: autoescape on; formulas as MathML (latex2mathml), so the page needs no JavaScript and no
network. LaTeX: ``\\BLOCK{}``/``\\VAR{}`` delimiters; every piece of user text goes through the
``tex`` filter (the reports' ``tex_escape``, so ``\\input``, ``\\write18``, ``\\openout``,
``\\catcode`` are printed, never run); the only maths typeset is our own SymPy-printed
``expected``, and only when every command in it is on an allow-list.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from .fileio import write_atomic
from .notation import GREEK

__all__ = ["render_html", "render_tex", "write_report"]

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
    from .report import html_environment

    env = html_environment()  # the one HTML environment: autoescape on
    ctx = _context(cf, results)
    for c in ctx["claims"]:
        c["math"] = jinja2.utils.markupsafe.Markup(_mathml(c["latex"]) or "") if _mathml(c["latex"]) else ""
        c["expected_math"] = (
            jinja2.utils.markupsafe.Markup(_mathml(c["expected"])) if _mathml(c["expected"]) else (c["expected"] or "")
        )
    return env.get_template("check.html.j2").render(**ctx)


def render_tex(cf: Any, results: list[Any]) -> str:
    from .report import TexSafe, latex_environment, tex_escape

    env = latex_environment()  # the one LaTeX environment: every value escaped unless TexSafe
    env.filters["tex"] = tex_escape
    ctx = _context(cf, results)
    for c in ctx["claims"]:
        math = safe_math(c["expected"])  # our own SymPy LaTeX, and only on the allow-list
        c["expected_tex"] = TexSafe(math) if math else None
    return env.get_template("check.tex.j2").render(**ctx)


def write_report(out: str, cf: Any, results: list[Any]) -> Path:
    """Write the report to ``out`` atomically (.html or .tex by its suffix)."""
    text = render_tex(cf, results) if out.lower().endswith(".tex") else render_html(cf, results)
    return write_atomic(out, text)
