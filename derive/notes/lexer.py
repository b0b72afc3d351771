"""Tokens of the notes' LaTeX: the first stage of ``derive.notation``.

The lexer does two jobs. It cuts the text into tokens that remember their offset (so a
parse error can point at a column), and it drops what carries no meaning in the notes:
``\\large``, ``\\color{red}``, ``\\left``/``\\right``, ``\\,``, ``\\tag{1}``, ``\\displaystyle`` ...
Wrappers whose content is maths (``\\text{sig}``, ``\\mathrm{d}``, ``\\mathbf{x}``) become the
content's words; text that is a sentence (``\\text{if } x > 0``) becomes one TEXT token that
the parser reads only where prose is allowed (conditions of ``cases``, labels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LexError", "Token", "tokenize"]


class LexError(ValueError):
    """A character the notation cannot read; ``pos`` is its offset in the text."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.pos = pos


@dataclass(frozen=True)
class Token:
    """One token. ``kind`` is NUM, WORD, CMD, OP, TEXT or EOF; ``pos`` the offset in the source."""

    kind: str
    value: str
    pos: int
    space_before: bool = False

    def __repr__(self) -> str:  # compact in test failures
        return f"{self.kind}:{self.value}@{self.pos}"


# Commands that are pure presentation: dropped with no argument.
_NOISE = {
    "large",
    "Large",
    "LARGE",
    "huge",
    "Huge",
    "small",
    "normalsize",
    "displaystyle",
    "textstyle",
    "left",
    "right",
    "big",
    "Big",
    "bigg",
    "Bigg",
    "bigl",
    "bigr",
    "Bigl",
    "Bigr",
    "biggl",
    "biggr",
    "Biggl",
    "Biggr",
    "middle",
    "nonumber",
    "notag",
    "limits",
    "nolimits",
    "mathstrut",
    "strut",
    "phantom",
    "bf",
    "it",
    "rm",
    "hfill",
}
# Presentation commands that take arguments to drop: name -> how many braced arguments.
_NOISE_WITH_ARGS = {"color": 1, "tag": 1, "label": 1, "hspace": 1, "vspace": 1, "textcolor": 1}
# Wrappers whose braced argument is maths or a word of maths (\text{sig}, \mathrm{d}).
_WRAPPERS = {
    "text",
    "textrm",
    "textit",
    "textbf",
    "mathrm",
    "mathit",
    "mathbf",
    "mathsf",
    "mathtt",
    "mathcal",
    "mathbb",
    "boldsymbol",
    "bm",
    "operatorname",
    "mbox",
    "vec",
    "boxed",
    "emph",
    "textsf",
}
# Unicode that appears in pasted notes, read as the LaTeX it stands for.
_UNICODE = {
    "−": "-",
    "–": "-",
    "·": r"\cdot ",
    "×": r"\times ",
    "⊙": r"\odot ",
    "∘": r"\circ ",
    "∂": r"\partial ",
    "σ": r"\sigma ",
    "θ": r"\theta ",
    "Θ": r"\Theta ",
    "δ": r"\delta ",
    "Δ": r"\Delta ",
    "λ": r"\lambda ",
    "α": r"\alpha ",
    "η": r"\eta ",
    "Φ": r"\Phi ",
    "φ": r"\phi ",
    "π": r"\pi ",
    "ζ": r"\zeta ",
    "γ": r"\gamma ",
    "β": r"\beta ",
    "ε": r"\epsilon ",
    "∇": r"\nabla ",
    "‖": r"\Vert ",
    "Σ": r"\sum ",
    "∑": r"\sum ",
    "′": "'",
    "’": "'",
    "⊤": r"\top ",
    "≠": r"\neq ",
    "≤": r"\leq ",
    "≥": r"\geq ",
    "\u00a0": " ",
    "\u2009": " ",
    "\u200b": " ",
}
_WORD_TEXT = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
_OPS = "+-*/=^_()[]|,'<>!:;&.?"


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, presentation dropped, ending with an EOF token."""
    return _Lexer(text).run()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.src = text
        self.i = 0
        self.out: list[Token] = []
        self.space = False
        # Braces opened by a dropped wrapper such as \color{red}{...}: their closing brace is
        # dropped too, so `\color{red}{-}\partial y` reads as `-\partial y`.
        self.depth = 0
        self.dropped_closers: list[int] = []

    def emit(self, kind: str, value: str, pos: int) -> None:
        self.out.append(Token(kind, value, pos, self.space))
        self.space = False

    def run(self) -> list[Token]:
        src = self.src
        while self.i < len(src):
            c = src[self.i]
            pos = self.i
            if c in _UNICODE:
                self.lex_unicode(c, pos)
            elif c.isspace() or c == "~":
                self.space = True
                self.i += 1
            elif c == "%":  # a LaTeX comment runs to the end of the line
                nl = src.find("\n", self.i)
                self.i = len(src) if nl < 0 else nl
            elif c == "\\":
                self.lex_command()
            elif c.isdigit() or (c == "." and self.i + 1 < len(src) and src[self.i + 1].isdigit()):
                m = re.compile(r"\d*\.?\d*").match(src, self.i)
                assert m is not None
                value = m.group()
                if value.endswith(".") and not (m.end() < len(src) and src[m.end()] == "*"):
                    value = value[:-1]  # "2." at the end of a sentence: the dot is punctuation
                elif value.endswith("."):
                    value = value[:-1]  # "2.*x": the dot belongs to the elementwise .*
                self.emit("NUM", value, pos)
                self.i += len(value)
            elif c.isalpha() and c.isascii():
                m = re.compile(r"[A-Za-z]+").match(src, self.i)
                assert m is not None
                self.emit("WORD", m.group(), pos)
                self.i = m.end()
            elif c == "{":
                self.depth += 1
                self.emit("OP", "{", pos)
                self.i += 1
            elif c == "}":
                if self.dropped_closers and self.dropped_closers[-1] == self.depth:
                    self.dropped_closers.pop()
                else:
                    self.emit("OP", "}", pos)
                self.depth -= 1
                self.i += 1
            elif c == "." and src.startswith(".*", self.i):
                self.emit("OP", ".*", pos)
                self.i += 2
            elif c == ":" and src.startswith(":=", self.i):
                self.emit("OP", "=", pos)
                self.i += 2
            elif c == "$":
                self.i += 1  # math delimiters of a pasted note
                self.space = True
            elif c in _OPS:
                self.emit("OP", c, pos)
                self.i += 1
            else:
                raise LexError(f"unexpected character {c!r}", pos)
        self.emit("EOF", "", len(src))
        return self.out

    def lex_unicode(self, c: str, pos: int) -> None:
        repl = _UNICODE[c]
        self.i += 1
        if repl.startswith("\\"):
            self.emit("CMD", repl.strip()[1:], pos)
        elif repl.strip() == "":
            self.space = True
        else:
            self.emit("OP", repl, pos)

    def read_command_name(self) -> str:
        src = self.src
        j = self.i + 1
        if j >= len(src):
            raise LexError("a backslash at the end of the formula", self.i)
        if src[j].isascii() and src[j].isalpha():
            m = re.compile(r"[A-Za-z]+").match(src, j)
            assert m is not None
            self.i = m.end()
            return m.group()
        self.i = j + 1
        return src[j]

    def skip_space(self) -> None:
        while self.i < len(self.src) and self.src[self.i].isspace():
            self.i += 1

    def read_group(self) -> tuple[str, int]:
        """The raw text of the next braced group (or single token) and its start offset."""
        self.skip_space()
        src = self.src
        if self.i >= len(src):
            raise LexError("an argument was expected here", self.i)
        if src[self.i] == "{":
            depth, j = 0, self.i
            while j < len(src):
                if src[j] == "\\":
                    j += 2
                    continue
                if src[j] == "{":
                    depth += 1
                elif src[j] == "}":
                    depth -= 1
                    if depth == 0:
                        start = self.i + 1
                        self.i = j + 1
                        return src[start:j], start
                j += 1
            raise LexError("this '{' is never closed", self.i)
        if src[self.i] == "\\":
            start = self.i
            self.read_command_name()
            return src[start : self.i], start
        start = self.i
        self.i += 1
        return src[start], start

    def lex_command(self) -> None:
        pos = self.i
        name = self.read_command_name()
        if name in (",", ";", "!", " ", ":", ">"):
            self.space = True
        elif name in ("{", "}"):
            self.emit("OP", "(" if name == "{" else ")", pos)  # \{ \}: set braces, read as parentheses
        elif name == "|":
            self.emit("CMD", "Vert", pos)
        elif name == "\\":
            self.emit("CMD", "newline", pos)
            self.skip_optional_bracket()
        elif name in ("quad", "qquad"):
            self.emit("CMD", "quad", pos)  # the parser drops it, and a label after it
        elif name in _NOISE:
            self.space = True
        elif name in _NOISE_WITH_ARGS:
            if name == "color" or name == "textcolor":
                self.read_group()
                # \color{red}{X}: X stays, its braces go (they only scoped the colour).
                self.skip_space()
                if self.i < len(self.src) and self.src[self.i] == "{":
                    self.depth += 1
                    self.dropped_closers.append(self.depth)
                    self.i += 1
            else:
                self.read_group()
            self.space = True
        elif name == "bbox":
            self.skip_optional_bracket()
            self.skip_space()
            if self.i < len(self.src) and self.src[self.i] == "{":  # a frame: its braces go too
                self.depth += 1
                self.dropped_closers.append(self.depth)
                self.i += 1
        elif name in _WRAPPERS:
            self.lex_wrapper(name, pos)
        elif name in ("underbrace", "overbrace"):
            self.lex_underbrace(pos)
        elif name == "frac" or name in ("dfrac", "tfrac", "cfrac"):
            self.emit("CMD", "frac", pos)
        else:
            self.emit("CMD", name, pos)

    def skip_optional_bracket(self) -> None:
        save = self.i
        self.skip_space()
        if self.i < len(self.src) and self.src[self.i] == "[":
            end = self.src.find("]", self.i)
            if end > 0:
                self.i = end + 1
                return
        self.i = save

    def lex_wrapper(self, name: str, pos: int) -> None:
        body, start = self.read_group()
        words = body.strip()
        if name in ("vec", "boxed", "boldsymbol", "bm", "mathbf", "mathit", "mathsf", "mathcal", "mathbb"):
            # Maths inside: lex it in place.
            self.lex_inner(body, start, pos)
            return
        if words == "":
            self.space = True
            return
        if name == "text" and words != body and _WORD_TEXT.match(words):
            # \text{mit }, \text{ where }: a word with the spaces of a sentence is prose
            self.emit("TEXT", words, pos)
            return
        if _WORD_TEXT.match(words):
            # \text{sig}, \mathrm{d}, \operatorname{softmax}, \text{net}: a word of maths.
            self.emit("WORD", words, start + body.index(words))
            return
        if name in ("mathrm", "operatorname") and not re.search(r"[ ]{1}[A-Za-z]{2,}", words):
            self.lex_inner(body, start, pos)
            return
        self.emit("TEXT", words, pos)

    def lex_inner(self, body: str, start: int, pos: int) -> None:
        inner = _Lexer(body)
        for tok in inner.run()[:-1]:
            self.out.append(Token(tok.kind, tok.value, start + tok.pos, tok.space_before or self.space))
            self.space = False

    def lex_underbrace(self, pos: int) -> None:
        """\\underbrace{X}_{label}: X stays, the label (a comment on X) goes."""
        body, start = self.read_group()
        self.lex_inner(body, start, pos)
        save = self.i
        self.skip_space()
        if self.i < len(self.src) and self.src[self.i] in "_^":
            self.i += 1
            self.read_group()
        else:
            self.i = save
