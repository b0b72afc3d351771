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


def _pack(terms: list[str], room: float) -> list[str]:
    """The terms put on lines of at most ``room`` (a term wider than that has a line of its own)."""
    lines: list[str] = []
    for term in terms:
        if lines and width(lines[-1] + term) <= room:
            lines[-1] += " " + term
        else:
            lines.append(term)
    return lines


def display(sides: list[str], line: float = LINE_WIDTH) -> str:
    """A display of the chain ``sides[0] = sides[1] = …`` that fits the line (see the module)."""
    whole = " = ".join(sides)
    if width(whole) <= line:
        return f"\\begin{{center}}\\fitwidth{{$\\displaystyle {whole}$}}\\end{{center}}"
    rows: list[str] = []
    if len(sides) == 1:  # one long value: continued at its + and −
        pieces = _pack(split_terms(whole), line)
        rows = [f"& {pieces[0]}"] + [f"&\\quad {piece}" for piece in pieces[1:]]
    else:
        first, lead = sides[0], width(sides[0])
        if lead > line / 2:
            rows.append(f"{first} &")  # a long left side on a line of its own
            first, lead = "", 0
        for side in sides[1:]:
            pieces = _pack(split_terms(side), max(line - lead - 2, line / 3))
            rows.append(f"{first} &= {pieces[0]}")
            rows += [f"&\\quad {piece}" for piece in pieces[1:]]
            first = ""
    body = " \\\\\n".join(rows)
    return f"\\begin{{center}}\\fitwidth{{$\\displaystyle\\begin{{aligned}}\n{body}\n\\end{{aligned}}$}}\\end{{center}}"
