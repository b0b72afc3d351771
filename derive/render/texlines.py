"""Long formulas broken into lines for LaTeX: a chain one link a line, a long side at its + and −.

TeX does not break displayed maths, and an expected value or a transcribed derivation is often
wider than the page. ``display`` sets a chain ``a = b = c`` on one line when it fits, else as an
``aligned`` block with ``=`` under ``=`` and long sides continued at their top-level + and −
signs; whatever still does not fit (a wide matrix) is scaled down to the line by ``\\fitwidth``,
a macro of the check report's preamble (``FIT_WIDTH_MACRO``). Widths are estimated from the
LaTeX (about one unit per printed symbol), which is enough to decide where to break.
"""

from __future__ import annotations

import re

__all__ = ["FIT_WIDTH_MACRO", "LINE_WIDTH", "display", "split_terms", "width"]

LINE_WIDTH = 70  # symbols on a line of an A4 page with 2 cm margins at 11 pt, with room to spare
# Scales its argument down to the line width when wider, never up (our own TeX, in the preamble).
FIT_WIDTH_MACRO = (
    r"\newsavebox{\derivefitbox}"
    r"\newcommand{\fitwidth}[1]{\sbox{\derivefitbox}{#1}\ifdim\wd\derivefitbox>\linewidth"
    r"\resizebox{\linewidth}{!}{\usebox{\derivefitbox}}\else\usebox{\derivefitbox}\fi}"
)

_INVISIBLE = re.compile(r"\\(?:left|right|displaystyle|operatorname|mathrm|text|frac|sqrt)(?![A-Za-z])")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\{[A-Za-z*]+\}")
_MATRIX = re.compile(r"\\begin\{([bpv]?matrix|cases)\}(.*?)\\end\{\1\}", re.S)
_COMMAND = re.compile(r"\\[A-Za-z]+")


def width(latex: str) -> float:
    """About how many symbols wide ``latex`` is printed (fractions count both parts: generous)."""
    text = _MATRIX.sub(lambda m: "x" * int(_matrix_width(m.group(2))), latex)
    text = _INVISIBLE.sub("", text)
    text = _ENVIRONMENT.sub("", text)
    text = _COMMAND.sub("x", text)
    text = re.sub(r"\\.", "x", text)  # \{ \| \, ...
    scripts = len(re.findall(r"[_^]\{[^{}]*\}", text))  # scripts are small: count them at about half
    text = re.sub(r"[{}^_&\s]", "", text)
    return len(text) - 0.4 * scripts


def _matrix_width(body: str) -> float:
    rows = body.split(r"\\")
    return max(sum(width(cell) + 2 for cell in row.split("&")) for row in rows) + 2


def split_terms(latex: str) -> list[str]:
    """``latex`` cut before each + and − (and ±) that adds a term at the top level, outside
    braces, ``\\left…\\right`` and environments; the first term keeps a leading sign."""
    terms, depth, start, i = [], 0, 0, 0
    while i < len(latex):
        c = latex[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "\\":
            m = _COMMAND.match(latex, i)
            word = m.group(0) if m else latex[i : i + 2]
            if word in (r"\left", r"\begin"):
                depth += 1
            elif word in (r"\right", r"\end"):
                depth -= 1
            elif word in (r"\pm", r"\mp") and depth == 0 and latex[start:i].strip():
                terms.append(latex[start:i].strip())
                start = i
            i += len(word)
            continue
        elif c in "+-" and depth == 0 and latex[start:i].strip() and latex[i - 1 : i] == " ":
            if not re.search(r"[=+\-(,&]\s*$|\\[pm]m\s*$", latex[:i]):
                terms.append(latex[start:i].strip())
                start = i
        i += 1
    terms.append(latex[start:].strip())
    return [t for t in terms if t]


def _groups(latex: str) -> list[tuple[int, int, int, int]]:
    """The top-level ``\\left( … \\right)`` groups: (start, inner start, inner end, end)."""
    out, depth, opened = [], 0, None
    for m in re.finditer(r"\\left\(|\\right\)|\\left(?![A-Za-z])|\\right(?![A-Za-z])|\{|\}", latex):
        token = m.group(0)
        if token.startswith(r"\left") or token == "{":
            if depth == 0 and token == r"\left(":
                opened = (m.start(), m.end())
            depth += 1
        else:
            depth -= 1
            if depth == 0 and token == r"\right)" and opened is not None:
                out.append((opened[0], opened[1], m.start(), m.end()))
                opened = None
    return out


def _terms(latex: str, room: float) -> list[str]:
    """The terms of ``latex`` to set on lines of ``room``: its own + and − terms, or, for one
    long product such as \\frac{1}{m} \\left(a + b + …\\right), the terms of its widest
    parenthesized factor, opened with \\Bigl( and closed with \\Bigr) (\\left and \\right cannot
    span lines)."""
    terms = split_terms(latex)
    if len(terms) > 1 or width(latex) <= room:
        return terms
    groups = _groups(latex)
    if not groups:
        return terms
    start, inner_start, inner_end, end = max(groups, key=lambda g: width(latex[g[1] : g[2]]))
    inner = split_terms(latex[inner_start:inner_end])
    if len(inner) < 2:
        return terms
    inner[0] = latex[:start] + r"\Bigl(" + inner[0]
    inner[-1] = inner[-1] + r"\Bigr)" + latex[end:]
    return inner


def _pack(terms: list[str], room: float) -> list[str]:
    """The terms put on lines of at most ``room`` (a term wider than that has a line of its own)."""
    lines: list[str] = []
    for term in terms:
        if lines and width(lines[-1] + term) <= room:
            lines[-1] += " " + term
        else:
            lines.append(term)
    return lines


def display(sides: list[str], line: float = LINE_WIDTH, relations: list[str] | None = None) -> str:
    """A display of the chain ``sides[0] = sides[1] = …`` that fits the line (see the module);
    ``relations`` gives each link's relation when one is not "=" (":=")."""
    relations = relations if relations and len(relations) == len(sides) - 1 else ["="] * (len(sides) - 1)
    whole = sides[0] + "".join(f" {rel} {side}" for rel, side in zip(relations, sides[1:]))
    if width(whole) <= line:
        return f"\\begin{{center}}\\fitwidth{{$\\displaystyle {whole}$}}\\end{{center}}"
    rows: list[str] = []
    if len(sides) == 1:  # one long value: continued at its + and −
        pieces = _pack(_terms(whole, line), line)
        rows = [f"& {pieces[0]}"] + [f"&\\quad {piece}" for piece in pieces[1:]]
    else:
        first, lead = sides[0], width(sides[0])
        if lead > line / 2:
            rows.append(f"{first} &")  # a long left side on a line of its own
            first, lead = "", 0
        for relation, side in zip(relations, sides[1:]):
            room = max(line - lead - 2, line / 3)
            pieces = _pack(_terms(side, room), room)
            rows.append(f"{first} &{relation} {pieces[0]}")
            rows += [f"&\\quad {piece}" for piece in pieces[1:]]
            first = ""
    body = " \\\\\n".join(rows)
    return f"\\begin{{center}}\\fitwidth{{$\\displaystyle\\begin{{aligned}}\n{body}\n\\end{{aligned}}$}}\\end{{center}}"
