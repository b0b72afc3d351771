"""The ``derive check`` report: HTML (MathML, no JavaScript), LaTeX, PDF; rendered with Jinja2.

Every formula a student reads is typeset: the claim, each step, the diagnosis's maths, the
expected value, the counterexample's point, the part headings. Text from derive and from the
notes may carry maths between ``$…$``, or a name written in LaTeX (``a^{(L)}``); both are set as
maths (``rich_html``, ``rich_tex``), the rest as text. The notes' LaTeX as written is shown once,
verbatim, beside the typeset claim.

HTML: autoescape on; MathML from latex2mathml through the reports' allow-list of elements and
attributes (``clean_mathml``), so the page needs no script and no network. LaTeX: nothing the
notes wrote runs as TeX. The claim and its steps are typeset from their parse tree
(``derive.notes.typeset``), and every piece of maths, ours or the notes', must pass ``safe_math``
(commands on an allow-list, braces and ``\\left``/``\\right`` balanced, known environments,
none of TeX's special characters); anything else is printed as text. PDF: the LaTeX compiled by
``compile_pdf`` (no shell escape, paranoid file access).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from ..errors import InputError
from ..fileio import write_atomic
from ..notes.notation import GREEK, ParseError, parse_chain
from ..notes.results import RENDERERS, CheckResults, ClaimResult, summarize
from ..notes.typeset import typeset
from .report import TexSafe, clean_mathml, compile_pdf, html_environment, latex_environment, tex_escape
from .texlines import FIT_WIDTH_MACRO, display

__all__ = ["SUFFIXES", "render_html", "render_html_fragment", "render_tex", "rich_html", "safe_math", "write_report"]

SUFFIXES = (".html", ".htm", ".tex", ".pdf")

_SAFE_COMMANDS = GREEK | {
    "frac", "left", "right", "cdot", "hat", "operatorname", "mathbb", "mathrm", "text", "begin", "end",
    "log", "ln", "exp", "tanh", "sqrt", "sum", "max", "min", "sin", "cos", "sinh", "cosh", "otherwise", "quad",
    "partial", "odot", "times", "ast", "circ", "wedge", "vee", "neq", "leq", "geq", "bar", "tilde", "widehat",
    "widetilde", "overline", "dot", "infty", "lor", "land", "top", "pm", "mp", "cdots", "ldots", "vdots",
    "ddots", "dots", "displaystyle", "prime", "in", "to", "approx", "equiv", "mid",
}
_SAFE_ENVIRONMENTS = {"bmatrix", "pmatrix", "matrix", "cases", "aligned"}
_ENVIRONMENT = re.compile(r"\\(begin|end)\s*(\{[^{}]*\})?")


def safe_math(latex: str | None) -> str | None:
    """``latex`` when TeX may typeset it, else None: only allow-listed commands, balanced braces
    and ``\\left``/``\\right``, known environments, no ``\\\\`` outside them, and none of the
    characters that change how TeX reads what follows (``^^5c`` spells a backslash, ``%`` ends
    the line, ``#``, ``$``, ``@``, ``~``)."""
    if not latex:
        return None
    if any(bad in latex for bad in ("^^", "#", "%", "$", "@", "~")):
        return None
    if any(cmd not in _SAFE_COMMANDS for cmd in re.findall(r"\\([A-Za-z]+)", latex)):
        return None
    depth = 0
    for m in re.finditer(r"\\[{}]|[{}]", latex):
        depth += {"{": 1, "}": -1}.get(m.group(0), 0)
        if depth < 0:
            return None
    if depth or len(re.findall(r"\\left(?![A-Za-z])", latex)) != len(re.findall(r"\\right(?![A-Za-z])", latex)):
        return None
    stack: list[str] = []
    for m in _ENVIRONMENT.finditer(latex):
        name = (m.group(2) or "{}")[1:-1]
        if name not in _SAFE_ENVIRONMENTS:
            return None
        if m.group(1) == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return None
    if stack:
        return None
    if ("\\\\" in latex or "&" in latex) and not re.search(r"\\begin\{", latex):
        return None  # rows and columns belong inside a matrix or cases
    return latex


# ----------------------------------------------------------------------------------------------
# Maths inside text
# ----------------------------------------------------------------------------------------------

_DOLLARS = re.compile(r"\$([^$]+)\$")
# A word written in LaTeX: a command, a braced script, or a one-character script (C_0, y^n, x_i)
_LATEX_WORD = re.compile(r"\\[A-Za-z]+|[\^_]\{|^[A-Za-z]{1,6}[_^][A-Za-z0-9]$|^[A-Za-z]{1,6}_[A-Za-z0-9][\^_]")
_OPERATOR = re.compile(r"^(?:[-+=<>/*·×−]|\\(?:cdot|times|odot|pm|mp|leq|geq|neq))$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_TRAILING = ".,;:!?'\""
_SPACING = re.compile(r"(?:\\(?:q?quad|[,;:!])\s*)+")  # TeX's spaces: nothing to show as maths


def _pieces(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is maths, piece): ``$…$`` spans, and runs of words written in LaTeX
    (``e^{2 x_{1}} + 2 e^{x_{1}}``, ``\\sum_{n=1}^{K}``) with the operators and numbers between
    them; a run ends at an ordinary word or a closing comma."""
    out: list[tuple[bool, str]] = []
    for k, part in enumerate(_DOLLARS.split(text or "")):
        if k % 2:
            out.append((True, part))
        else:
            out.extend(_latex_runs(part))
    return out


def _latex_runs(text: str) -> list[tuple[bool, str]]:
    words = re.split(r"(\s+)", text)
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.isspace() or not word or not _LATEX_WORD.search(word):
            out.append((False, word))
            i += 1
            continue
        run = [word]  # a run of maths: extend it while it is open or the next word is maths
        j = i + 1
        while j + 1 < len(words) and not re.search(r"[,;:]$", run[-1]):
            nxt = words[j + 1]
            opened = "".join(run).count("{") > "".join(run).count("}")
            after_operator = bool(_OPERATOR.match(run[-1]))
            if opened or _LATEX_WORD.search(nxt) or _OPERATOR.match(nxt) or _NUMBER.match(nxt.rstrip(_TRAILING)) or (
                after_operator and re.fullmatch(r"[A-Za-z][,.;:]?", nxt)
            ):
                run += [words[j], nxt]
                j += 2
            else:
                break
        while len(run) > 1 and (run[-1].isspace() or _OPERATOR.match(run[-1]) or _SPACING.fullmatch(run[-1])):
            run.pop()  # a run does not end on an operator or a space
        math = "".join(run)
        core = math.rstrip(_TRAILING)
        if core.endswith(")") and core.count(")") > core.count("("):
            core = core[:-1]  # (write \sum_{n=1}^{K}): the closing parenthesis is the text's
        if core and _balanced(core) and not _SPACING.fullmatch(core):
            out.append((True, core))  # (a \quad alone is a word about LaTeX, not maths to show)
            out.append((False, math[len(core) :]))
        else:
            out.append((False, math))
        i += len(run)
    return out


def _balanced(word: str) -> bool:
    return word.count("{") == word.count("}") and word.count("(") == word.count(")")


def rich_html(text: str | None) -> Markup:
    """Text with its maths as MathML; maths that cannot be made MathML stays escaped text."""
    out = Markup("")
    for is_math, piece in _pieces(text or ""):
        markup = clean_mathml(piece) if is_math else None
        out += markup if markup is not None else escape(piece)
    return out


def _reprinted(piece: str) -> str | None:
    """Maths found in text, printed again from its parse tree (well-formed LaTeX whatever was
    written: a^{(L)}' becomes {a^{(L)}}'), when it parses and passes ``safe_math``."""
    try:
        chain = parse_chain(piece)
        printed = typeset(chain.sides[0])
        for relation, side in zip(chain.relations, chain.sides[1:]):
            printed += f" {relation} {typeset(side)}"
        return safe_math(printed)
    except (ParseError, RecursionError):
        return None


def rich_tex(text: str | None) -> TexSafe:
    """Text with its maths typeset (reprinted from its parse, through ``safe_math``); maths that
    does not parse is escaped as text."""
    parts = []
    for is_math, piece in _pieces(text or ""):
        math = _reprinted(piece) if is_math else None
        parts.append(f"${math}$" if math else tex_escape(piece))
    return TexSafe("".join(parts))


def _number_latex(value: object) -> str:
    """A counterexample's number in LaTeX: 1.5e-07 as 1.5 \\cdot 10^{-7}."""
    if not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:.6g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa} \\cdot 10^{{{int(exponent)}}}"
    return text


def _point_items(point: dict[str, Any], latex: dict[str, str]) -> list[tuple[str, str]]:
    """(LaTeX, plain text) of each ``name = value`` of a counterexample's point (``latex``: the
    values that are not numbers, such as the random function standing in for an arbitrary u)."""
    items = []
    for key, value in point.items():
        if key == "entry":
            items.append((rf"\text{{entry }} {value}", f"entry {value}"))
        elif isinstance(value, str):
            items.append((f"{key} = {latex[key]}" if key in latex else "", f"{key} = {value}"))
        else:
            items.append((f"{key} = {_number_latex(value)}", f"{key} = {value}"))
    return items


# ----------------------------------------------------------------------------------------------
# The context both formats share
# ----------------------------------------------------------------------------------------------


def _claim(r: ClaimResult, part: int) -> dict[str, Any]:
    d = r.as_json()
    d.update(
        latex=r.latex,
        note=r.note,
        section=r.section,
        part=part,
        for_all_sizes=r.for_all_sizes,
        readings=list(r.readings),
        sides=list(r.sides_latex),
        relations=list(r.relations),
        typeset=_joined(r.sides_latex, r.relations),
        steps_latex=list(r.steps_latex),
        point=_point_items(r.counterexample["point"], r.point_latex) if r.counterexample else [],
    )
    return d


def _joined(sides: list[str], relations: list[str]) -> str:
    """The claim's sides joined by their relations (= or :=)."""
    if not sides:
        return ""
    relations = relations if len(relations) == len(sides) - 1 else ["="] * (len(sides) - 1)
    return sides[0] + "".join(f" {rel} {side}" for rel, side in zip(relations, sides[1:]))


def _context(results: CheckResults) -> dict[str, Any]:
    cf, claims_in = results.source, results.claims
    claims = []
    part = 0
    for k, r in enumerate(claims_in):
        if r.section and (k == 0 or claims_in[k - 1].section != r.section):
            part += 1
        claims.append(_claim(r, part))
    parts = [s.title or f"part {k + 1}" for k, s in enumerate(cf.sections)]
    # a file of parts has no title of its own (the first part's title would head the page twice)
    title = f"{len(parts)} parts, each read with its own symbols, sizes and definitions" if parts else cf.title
    return {
        "title": title or "",
        "parts": parts,
        "file": results.file,
        "claims": claims,
        "summary": summarize(claims_in),
        "interrupted": results.interrupted,
        "total": len(cf.claims),
    }


# ----------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------


def _first_mathml(*candidates: str | None, display: bool = False) -> Markup | None:
    for latex in candidates:
        markup = clean_mathml(latex, display) if latex else None
        if markup is not None:
            return markup
    return None


def _html(results: CheckResults, fragment: bool) -> str:
    ctx = _context(results)
    for c in ctx["claims"]:
        # the claim as derive read it (printed from its parse tree), else the notes' own LaTeX
        c["math"] = _first_mathml(c["typeset"], c["latex"], display=True)
        printed = c["steps_latex"] if len(c["steps_latex"]) == len(c["steps"]) else [(None, None)] * len(c["steps"])
        for s, (lhs, rhs) in zip(c["steps"], printed):
            s["lhs_math"] = _first_mathml(lhs, s["lhs"])
            s["rhs_math"] = _first_mathml(rhs, s["rhs"])
        c["expected_math"] = _first_mathml(c["expected"], display=True)
        c["point_math"] = [(_first_mathml(latex), text) for latex, text in c["point"]]
    env = html_environment()  # the one HTML environment: autoescape on
    template = env.get_template("check.html.j2")
    return template.render(**ctx, fragment=fragment, rich=rich_html)


def render_html(results: CheckResults) -> str:
    """A self-contained HTML page (inline CSS, MathML, no script, no external resource)."""
    return _html(results, fragment=False)


def render_html_fragment(results: CheckResults) -> str:
    """The report as one <div> with its scoped style, for a notebook (no <html> around it)."""
    return _html(results, fragment=True)


# ----------------------------------------------------------------------------------------------
# LaTeX and PDF
# ----------------------------------------------------------------------------------------------


def _tex_display(sides: list[str], relations: list[str] | None = None) -> TexSafe | None:
    """A broken display of ``sides`` when every side is safe to typeset, else None."""
    if not sides or any(safe_math(s) is None for s in sides):
        return None
    return TexSafe(display(sides, relations=relations))


def _breakable_code(text: str) -> TexSafe:
    """The notes' LaTeX as typewriter text that may break after } ) , = + (long sources)."""
    out = []
    for ch in text:
        out.append(tex_escape(ch))
        if ch in "}),=+":
            out.append(r"\allowbreak{}")
    return TexSafe("".join(out))


def render_tex(results: CheckResults) -> str:
    """A complete LaTeX document (amsmath, graphicx; compiles with pdflatex)."""
    ctx = _context(results)
    for c in ctx["claims"]:
        c["display"] = _tex_display(c["sides"], c["relations"])
        c["source_tex"] = _breakable_code(c["latex"])
        printed = c["steps_latex"] if len(c["steps_latex"]) == len(c["steps"]) else [None] * len(c["steps"])
        for s, pair in zip(c["steps"], printed):
            s["display"] = _tex_display(list(pair)) if pair else None
            s["source_tex"] = _breakable_code(f"{s['lhs']} = {s['rhs']}")
        c["expected_tex"] = _tex_display([c["expected"]]) if c["expected"] else None
        c["point_tex"] = [
            TexSafe(f"${safe_math(latex)}$") if safe_math(latex) else tex_escape(text) for latex, text in c["point"]
        ]
    env = latex_environment()  # the one LaTeX environment: every value escaped unless TexSafe
    template = env.get_template("check.tex.j2")
    colours = {"holds": "ok", "fails": "bad", "undecided": "warn"}  # the template's \definecolor names
    return template.render(**ctx, rich=rich_tex, fit_width=TexSafe(FIT_WIDTH_MACRO), colours=colours)


def write_report(out: str, results: CheckResults) -> Path:
    """Write the report to ``out`` atomically: .html (.htm), .tex or .pdf by its suffix."""
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError("--report must end in .html, .tex or .pdf", file=out)
    if suffix == ".pdf":
        return write_atomic(out, compile_pdf(render_tex(results), jobname="check"))
    return write_atomic(out, render_tex(results) if suffix == ".tex" else render_html(results))


_RENDER: dict[str, Callable[[CheckResults], str]] = {"html": render_html, "html_fragment": render_html_fragment}
RENDERERS.update(_RENDER)  # CheckResults.to_html() and its notebook display
