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

from markupsafe import escape

from ..fileio import write_atomic
from ..notes.notation import GREEK

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


def _mathml(latex: str | None) -> str | None:
    """MathML for ``latex`` through the reports' allow-list (only MathML elements and harmless
    attributes: no href, no event handlers, no raw HTML from \\text{...}); None when it has none."""
    from .report import clean_mathml

    return clean_mathml(latex) if latex else None


def _context(cf: Any, results: list[Any]) -> dict[str, Any]:
    from ..notes.check import summarize

    claims = []
    part = 0
    for k, r in enumerate(results):
        d = r.as_json()
        if r.section and (k == 0 or results[k - 1].section != r.section):
            part += 1
        d.update(latex=r.latex, note=r.note, section=r.section, part=part)
        claims.append(d)
    parts = [s.title or f"part {k + 1}" for k, s in enumerate(getattr(cf, "sections", None) or [])]
    # a file of parts has no title of its own (the first part's title would head the page twice)
    title = f"{len(parts)} parts, each read with its own symbols, sizes and definitions" if parts else cf.title
    return {"title": title or "", "parts": parts, "file": cf.path, "claims": claims, "summary": summarize(results)}


def render_html(cf: Any, results: list[Any]) -> str:
    from .report import html_environment

    env = html_environment()  # the one HTML environment: autoescape on
    ctx = _context(cf, results)
    for c in ctx["claims"]:
        c["math"] = _mathml(c["latex"]) or ""
        # the template marks this safe: MathML from the allow-list, or the LaTeX escaped as text
        c["expected_math"] = _mathml(c["expected"]) or escape(c["expected"] or "")
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
