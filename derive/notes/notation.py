"""The notes' LaTeX, parsed into a small syntax tree (no meaning yet).

A hand-written recursive-descent parser over the tokens of ``derive.latex_lexer``. It owns its
grammar and never hands user text to ``sympify``, ``parse_expr``, ``eval`` or SymPy's
``parse_latex``. What a name *means* (a scalar, an entry of a matrix, a function, a definition)
is decided later by ``derive.meaning``; the parser only records how it was written.

Grammar, loosely (``juxt`` is two factors side by side)::

    chain   := expr (('=' | ':=') expr)*        (a = b = c is a derivation, link by link)
    expr    := [+|-|\\pm|\\mp] term (('+'|'-'|\\pm|\\mp) term)*
    term    := factor ((op | juxt) factor)*      op: * \\cdot \\times / \\odot \\circ .*
    factor  := [-] postfix
    postfix := primary (^sup | _sub | ' | ^T)*
    primary := number | name | (expr) | [expr] | {expr} | \\frac | \\sqrt | \\sum | |x| | \\|x\\|
             | \\begin{bmatrix|cases} | function(args) | \\partial F / \\partial X

A superscript in parentheses (``a^{(L-1)}``, ``a_j^{(t)(l)}``) is part of the name; any
other superscript is a power, or a transpose when it is ``T``/``\\top``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from .lexer import LexError, Token, tokenize

T = TypeVar("T")

__all__ = [
    "Abs",
    "BinOp",
    "Call",
    "Cases",
    "Chain",
    "Cond",
    "Deriv",
    "Index",
    "Matrix",
    "Name",
    "Neg",
    "Node",
    "Norm",
    "Num",
    "ParseError",
    "PlusMinus",
    "Pow",
    "Prime",
    "Sqrt",
    "Sum",
    "Transpose",
    "map_children",
    "parse_chain",
    "parse_condition",
    "parse_expression",
    "to_latex",
]

GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "varepsilon",
    "zeta",
    "eta",
    "theta",
    "vartheta",
    "iota",
    "kappa",
    "varkappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "pi",
    "varpi",
    "rho",
    "varrho",
    "sigma",
    "varsigma",
    "tau",
    "upsilon",
    "phi",
    "varphi",
    "chi",
    "psi",
    "omega",
    "Gamma",
    "Delta",
    "Theta",
    "Lambda",
    "Xi",
    "Pi",
    "Sigma",
    "Upsilon",
    "Phi",
    "Psi",
    "Omega",
    "ell",
    "nabla",
}
MAX_NUMBER_DIGITS = 1000  # a longer number is refused (Python reads at most 4300 digits into an int)
FUNCTION_COMMANDS = {"exp", "log", "ln", "sqrt", "tanh", "sin", "cos", "max", "min", "sinh", "cosh"}
ACCENTS = {"hat", "widehat", "bar", "overline", "tilde", "widetilde", "dot"}
MUL_OPS = {
    "*": "star",
    "cdot": "cdot",
    "times": "times",
    "ast": "star",
    "odot": "odot",
    "circ": "odot",
    ".*": "odot",
    "bullet": "cdot",
}
RELATIONS = {
    "<": "<",
    ">": ">",
    "leq": "<=",
    "le": "<=",
    "geq": ">=",
    "ge": ">=",
    "neq": "!=",
    "ne": "!=",
    "=": "=",
    "leqslant": "<=",
    "geqslant": ">=",
}
ELLIPSES = {"cdots", "dots", "ldots", "vdots", "ddots"}
MATRIX_ENVS = {"bmatrix", "pmatrix", "matrix", "Bmatrix", "smallmatrix"}
ALIGN_ENVS = {
    "align",
    "align*",
    "aligned",
    "split",
    "equation",
    "equation*",
    "gather",
    "gather*",
    "eqnarray",
    "multline",
}


class ParseError(ValueError):
    """The formula cannot be read: ``pos`` is the offset, the message says what was expected."""

    def __init__(self, message: str, pos: int, text: str = "") -> None:
        self.pos = pos
        self.problem = message
        self.text = text
        super().__init__(f"at column {pos + 1}: {message}")


# ----------------------------------------------------------------------------------------------
# The syntax tree
# ----------------------------------------------------------------------------------------------


@dataclass
class Node:
    """Base of the syntax tree; ``pos`` is the offset in the source text."""

    pos: int = field(default=0, kw_only=True)


@dataclass
class Num(Node):
    """A number as written: ``text`` keeps its decimals (``0.7413`` has 4)."""

    text: str

    @property
    def decimals(self) -> int:
        return len(self.text.split(".", 1)[1]) if "." in self.text else 0


Script = tuple[Token, ...]  # the tokens of one subscript group or one parenthesized superscript


@dataclass
class Name(Node):
    """A name as written: ``base`` (``a``, ``out``, ``\\Theta``, ``\\hat{y}``), its subscript
    tokens ``sub`` (None when absent) and its parenthesized superscripts ``sups``
    (``a_j^{(t)(l)}`` has two). ``primes`` counts ``'`` (``\\sigma'``). ``brackets`` says how each
    superscript was written, one character per superscript: ``(`` or ``[`` (``W^{[l]}``, the
    deep-learning course's layers); empty when all are in parentheses."""

    base: str
    sub: Script | None = None
    sups: tuple[Script, ...] = ()
    primes: int = 0
    brackets: str = ""

    def bracket(self, k: int) -> str:
        """How superscript ``k`` was written: ``(`` or ``[``."""
        return self.brackets[k] if k < len(self.brackets) else "("


@dataclass
class Call(Node):
    """``f(x, y)``: a function applied, or a name times a parenthesized factor (meaning decides)."""

    func: Name
    args: list[Node]
    paren: bool = True  # False for \sigma' z, an argument written without parentheses


@dataclass
class BinOp(Node):
    """``op`` is + - / or a product kind: juxt, cdot, times, star (meaning decides matrix vs
    elementwise), odot (always elementwise)."""

    op: str
    left: Node
    right: Node


@dataclass
class Neg(Node):
    operand: Node


@dataclass
class PlusMinus(Node):
    """``left \\pm right`` (``left`` None for a leading ``\\pm right``); ``sign`` is "pm" for ±
    and "mp" for ∓. A claim with ± stands for two equations: every ± read as +, then as − (∓ the
    other way round)."""

    sign: str
    left: Node | None
    right: Node


@dataclass
class Pow(Node):
    """``base^exponent``; ``raw`` is the superscript tokens, so ``y^n`` can still be read as a
    declared name."""

    base: Node
    exponent: Node
    raw: Script = ()


@dataclass
class Prime(Node):
    """``(expr)'``: the derivative of an expression of one variable (Lagrange's notation)."""

    operand: Node


@dataclass
class Transpose(Node):
    operand: Node


@dataclass
class Index(Node):
    """``(h_\\Theta(x))_k``: an entry of a parenthesized value."""

    operand: Node
    sub: Script


@dataclass
class Deriv(Node):
    """``∂F/∂X`` (``sign`` -1 for ``\\frac{-\\partial F}{\\partial X}``); ``order`` 1 or 2."""

    F: Node
    X: Node
    order: int = 1
    sign: int = 1


@dataclass
class Sum(Node):
    """``\\sum_{var=lo}^{hi} body``; var None for a bare ``\\sum``; lo/hi None when omitted."""

    var: str | None
    lo: Node | None
    hi: Node | None
    body: Node


@dataclass
class Matrix(Node):
    rows: list[list[Node]]


@dataclass
class Dots(Node):
    """An ellipsis as a term of a sum (``x_1 + \\cdots + x_n``) or a cell of a matrix
    (``\\dots``, ``\\vdots``, ``\\ddots``; ``kind`` "blank" for an empty cell). derive.ellipsis
    rebuilds what it stands for."""

    kind: str


@dataclass
class Given(Node):
    """A value supplied by the checker, not written in the notes: an entry hidden behind an
    ellipsis, taken from the other side of the claim (only written entries are then compared)."""

    value: object
    latex: str = ""


@dataclass
class Cond(Node):
    """A condition ``left op right`` (op one of < > <= >= = !=), or ``otherwise`` when op is None."""

    op: str | None
    left: Node | None = None
    right: Node | None = None


@dataclass
class Cases(Node):
    pieces: list[tuple[Node, Cond]]


@dataclass
class Abs(Node):
    operand: Node


@dataclass
class Norm(Node):
    operand: Node


@dataclass
class Sqrt(Node):
    operand: Node


@dataclass
class Chain:
    """An equation chain ``a = b = c``: the sides, their source text and where it starts, and the
    relation of each link: "=" (also for ``\\approx``, ``\\equiv``) or ":=" (an assignment)."""

    sides: list[Node]
    texts: list[str]
    starts: list[int] = field(default_factory=list)
    relations: list[str] = field(default_factory=list)


# ----------------------------------------------------------------------------------------------
# Token preparation: labels, align environments, \quad
# ----------------------------------------------------------------------------------------------


def _prepare(tokens: list[Token]) -> list[Token]:
    """Drop what is not maths at the top level: \\tag-like labels after \\quad, trailing
    ``(\\text{..})`` and punctuation, the ``&`` and ``\\\\`` of an align environment."""
    toks = tokens[:-1]
    eof = tokens[-1]
    toks = _strip_align(toks)
    # leading prose: \text{Recall: } z = ...
    while len(toks) > 1 and toks[0].kind == "TEXT":
        toks = toks[1:]
    # a trailing label: \quad followed by anything without '=' ... or (text) / (number) after \quad
    depth = 0
    for i, t in enumerate(toks):
        if t.kind == "OP" and t.value in "([{":
            depth += 1
        elif t.kind == "OP" and t.value in ")]}":
            depth -= 1
        elif t.kind == "CMD" and t.value in ("begin", "end"):
            depth += 1 if t.value == "begin" else -1  # inside cases/bmatrix nothing is a label
        elif t.kind == "CMD" and t.value == "quad" and depth == 0:
            rest = toks[i + 1 :]
            if _is_label(rest) or (rest and rest[0].kind == "TEXT"):
                toks = toks[:i]  # a label, or prose after the formula (\quad \text{only if} ...)
                break
        elif t.kind == "OP" and t.value == ";" and depth == 0:
            toks = toks[:i]  # `a = X; (1)`, `...; l = 2...L`: what follows ';' comments the formula
            break
        elif t.kind == "TEXT" and depth == 0 and i > 0 and t.value.strip().rstrip(":,").lower() == "where":
            toks = toks[:i]  # `... \text{ where } n \text{ is the number of ...}`: prose about the formula
            break
    while toks and toks[-1].kind == "OP" and toks[-1].value in ".,;":
        toks = toks[:-1]
    if len(toks) >= 3 and toks[-1].kind == "OP" and toks[-1].value == ")":
        # (\text{chain rule}) at the very end
        j = len(toks) - 2
        while j >= 0 and toks[j].kind == "TEXT":
            j -= 1
        if j < len(toks) - 2 and j >= 0 and toks[j].kind == "OP" and toks[j].value == "(":
            toks = toks[:j]
    while toks and toks[-1].kind == "OP" and toks[-1].value in ".,;":
        toks = toks[:-1]
    out: list[Token] = []
    space = False
    for t in toks:
        if t.kind == "CMD" and t.value == "quad":
            space = True
            continue
        if space:
            t = Token(t.kind, t.value, t.pos, True)
            space = False
        out.append(t)
    out.append(eof)
    return out


def _is_label(rest: list[Token]) -> bool:
    if not rest:
        return True
    if all(t.kind == "TEXT" for t in rest):
        return True
    if rest[0].kind == "OP" and rest[0].value == "(" and rest[-1].kind == "OP" and rest[-1].value == ")":
        inner = rest[1:-1]
        return all(t.kind in ("TEXT", "NUM") or (t.kind == "OP" and t.value in ".*") for t in inner)
    return False


def _strip_align(toks: list[Token]) -> list[Token]:
    """\\begin{align} a &= b \\\\ &= c \\end{align} reads as the chain a = b = c."""
    out: list[Token] = []
    env_stack: list[str] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "CMD" and t.value in ("begin", "end") and i + 3 < len(toks) + 1:
            name, j = _env_name(toks, i + 1)
            if name is not None:
                if name in ALIGN_ENVS:
                    if t.value == "begin":
                        env_stack.append(name)
                    elif env_stack:
                        env_stack.pop()
                    i = j
                    continue
                env_stack.append(name) if t.value == "begin" else (env_stack.pop() if env_stack else None)
        if (
            env_stack
            and env_stack[-1] in ALIGN_ENVS
            and ((t.kind == "OP" and t.value == "&") or (t.kind == "CMD" and t.value == "newline"))
        ):
            i += 1
            continue
        out.append(t)
        i += 1
    return out


def _env_name(toks: list[Token], i: int) -> tuple[str | None, int]:
    if i < len(toks) and toks[i].kind == "OP" and toks[i].value == "{":
        j = i + 1
        parts = []
        while j < len(toks) and not (toks[j].kind == "OP" and toks[j].value == "}"):
            parts.append(toks[j].value)
            j += 1
        return "".join(parts), j + 1
    return None, i


# ----------------------------------------------------------------------------------------------
# The parser
# ----------------------------------------------------------------------------------------------


def _lex(text: str) -> list[Token]:
    try:
        return tokenize(text)
    except LexError as err:
        raise ParseError(str(err), err.pos, text) from None


def parse_chain(text: str) -> Chain:
    """Parse an equation chain ``a = b = c`` (a single expression is a chain of one side)."""
    return _parse(text, _Parser.chain)


def parse_expression(text: str) -> Node:
    """Parse one expression (no ``=``)."""
    return _parse(text, _Parser.expr)


def _parse(text: str, rule: Callable[[_Parser], T]) -> T:
    """The whole of ``text`` read by one grammar rule; too deep a nesting is a parse error."""
    p = _Parser(_prepare(_lex(text)), text)
    try:
        result = rule(p)
    except RecursionError:
        raise ParseError("the formula is nested too deeply to read", p.tok.pos, text) from None
    p.expect_end()
    return result


def parse_script(script: tuple[Token, ...]) -> Node:
    """A script's tokens read as an expression (``e^{(-z)}``: the notes' parentheses hold a power)."""
    end = script[-1].pos + len(script[-1].value) if script else 0
    p = _Parser([*script, Token("EOF", "", end)], "")
    node = p.expr()
    p.expect_end()
    return node


def parse_condition(text: str) -> list[Cond]:
    """Parse a ``when:`` restriction: conditions joined by commas or ``\\text{and}``."""
    p = _Parser(_prepare(_lex(text)), text)
    try:
        return _conditions(p)
    except RecursionError:
        raise ParseError("the condition is nested too deeply to read", p.tok.pos, text) from None


def _conditions(p: _Parser) -> list[Cond]:
    conds = [p.condition()]
    while p.peek_op(",") or (p.tok.kind == "TEXT" and p.tok.value.strip() == "and") or p.peek_cmd("land"):
        p.advance()
        conds.append(p.condition())
    p.expect_end()
    return conds


def children(node: Node) -> list[Node]:
    """The direct subexpressions of ``node``."""
    out: list[Node] = []
    for attr in ("left", "right", "operand", "base", "exponent", "body", "F", "X", "lo", "hi"):
        v = getattr(node, attr, None)
        if isinstance(v, Node):
            out.append(v)
    if isinstance(node, Call):
        out.append(node.func)
        out.extend(node.args)
    if isinstance(node, Matrix):
        for row in node.rows:
            out.extend(row)
    if isinstance(node, Cases):
        for v, c in node.pieces:
            out.append(v)
            out.extend(x for x in (c.left, c.right) if x is not None)
    if isinstance(node, Cond):
        out.extend(x for x in (node.left, node.right) if x is not None)
    return out


def map_children(node: Node, f: Callable[[Node], Node]) -> Node:
    """``node`` with ``f`` applied to each direct subexpression (a new node when any changed)."""
    changes = {}
    for fld in dataclasses.fields(node):
        v = getattr(node, fld.name)
        if isinstance(v, Node):
            changes[fld.name] = f(v)
        elif isinstance(v, list):
            changes[fld.name] = _map_item(v, f)
    return dataclasses.replace(node, **changes) if changes else node


def _map_item(x: object, f: Callable[[Node], Node]) -> object:
    if isinstance(x, Node):
        return f(x)
    if isinstance(x, list):
        return [_map_item(y, f) for y in x]
    if isinstance(x, tuple) and not (x and isinstance(x[0], Token)):
        return tuple(_map_item(y, f) for y in x)
    return x


def walk(node: Node) -> Iterable[Node]:
    """Every node, parents before children (a loop with a stack: any depth)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))


def _uses_index(node: Node, var: str) -> bool:
    """Whether ``var`` appears as an index (a subscript or parenthesized superscript) in ``node``."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, Name):
            for script in ((n.sub,) if n.sub is not None else ()) + tuple(n.sups):
                if any(t.kind == "WORD" and var in t.value and len(t.value) <= 3 for t in script):
                    return True
        if isinstance(n, Sum) and n.var == var:
            continue  # bound again inside: not this sum's index
        stack.extend(children(n))
    return False


def _is_transpose_mark(t: Token) -> bool:
    return (t.kind == "WORD" and t.value == "T") or (t.kind == "CMD" and t.value in ("top", "intercal"))


class _Parser:
    def __init__(self, tokens: list[Token], text: str) -> None:
        self.toks = tokens
        self.i = 0
        self.text = text

    # ---- token helpers ------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def advance(self) -> Token:
        t = self.toks[self.i]
        if t.kind != "EOF":
            self.i += 1
        return t

    def peek_op(self, value: str, k: int = 0) -> bool:
        t = self.toks[min(self.i + k, len(self.toks) - 1)]
        return t.kind == "OP" and t.value == value

    def peek_cmd(self, value: str, k: int = 0) -> bool:
        t = self.toks[min(self.i + k, len(self.toks) - 1)]
        return t.kind == "CMD" and t.value == value

    def error(self, expected: str, tok: Token | None = None) -> ParseError:
        t = tok or self.tok
        found = "the end of the formula" if t.kind == "EOF" else _describe(t)
        return ParseError(f"expected {expected}, found {found}", t.pos, self.text)

    def expect_op(self, value: str, what: str | None = None) -> Token:
        if not self.peek_op(value):
            raise self.error(what or f"'{value}'")
        return self.advance()

    def expect_end(self) -> None:
        if self.tok.kind != "EOF":
            if self.tok.kind == "OP" and self.tok.value in ")]}":
                raise ParseError(f"unbalanced '{self.tok.value}'", self.tok.pos, self.text)
            raise self.error("an operator or the end of the formula")

    def push_word(self, value: str, pos: int) -> None:
        """Put back the rest of a word or number that a script took one character of."""
        kind = "NUM" if value[0].isdigit() else "WORD"
        self.toks.insert(self.i, Token(kind, value, pos))

    # ---- chain, expressions, terms -------------------------------------------------------------

    def chain(self) -> Chain:
        starts = [self.tok.pos]
        sides = [self.expr()]
        ends = []
        relations = []
        while self.peek_op("=") or self.peek_cmd("approx") or self.peek_cmd("equiv"):
            ends.append(self.tok.pos)
            # the lexer gives := as '=' at the position of its colon
            relations.append(":=" if self.text.startswith(":", self.tok.pos) else "=")
            self.advance()
            starts.append(self.tok.pos)
            sides.append(self.expr())
        if self.tok.kind == "CMD" and self.tok.value in RELATIONS or (self.tok.kind == "OP" and self.tok.value in "<>"):
            raise self.error("'=' (only equations can be checked)")
        ends.append(self.tok.pos)
        texts = [self.text[s:e].strip() for s, e in zip(starts, ends, strict=False)]
        return Chain(sides, texts, starts, relations)

    def expr(self) -> Node:
        pos = self.tok.pos
        if self.peek_op("+"):
            self.advance()
            node = self.term()
        elif self.peek_op("-"):
            self.advance()
            node = Neg(self.term(), pos=pos)
        elif self.peek_cmd("pm") or self.peek_cmd("mp"):
            sign = self.advance()
            node = PlusMinus(sign.value, None, self.term(), pos=sign.pos)
        else:
            node = self.term()
        while True:
            if self.peek_op("+") or self.peek_op("-"):
                op = self.advance()
                dots = self.dots_alone()
                right = dots if dots is not None else self.term(signed=True)  # a + -b, as pasted notes write it
                node = BinOp(op.value, node, right, pos=op.pos)
            elif self.peek_cmd("pm") or self.peek_cmd("mp"):
                sign = self.advance()
                node = PlusMinus(sign.value, node, self.term(signed=True), pos=sign.pos)
            else:
                return node

    def dots_alone(self, blank: bool = False) -> Dots | None:
        """An ellipsis standing alone as a term (``+ \\cdots +``) or a matrix cell; with ``blank``,
        an empty cell is one too. Anywhere else an ellipsis is a parse error (``a \\cdots b``)."""
        t = self.tok
        if blank and (self.peek_op("&") or self.peek_cmd("newline") or self.peek_cmd("end")):
            return Dots("blank", pos=t.pos)
        if t.kind != "CMD" or t.value not in ELLIPSES:
            return None
        self.advance()
        if self.starts_factor():
            self.i -= 1
            return None
        return Dots(t.value, pos=t.pos)

    def starts_factor(self) -> bool:
        t = self.tok
        if t.kind in ("NUM", "WORD"):
            return True
        if t.kind == "OP":
            return t.value in "([{|"
        if t.kind == "CMD":
            return (
                t.value not in MUL_OPS
                and t.value not in RELATIONS
                and t.value
                not in (
                    "newline",
                    "end",
                    "approx",
                    "equiv",
                    "pm",
                    "mp",
                    "quad",
                    "to",
                    "rightarrow",
                    "Rightarrow",
                    "implies",
                    "in",
                    "mid",
                    "rVert",
                    "right",
                    "land",
                )
                and not (t.value == "Vert" and self._closing_norm)
            )
        return False

    _closing_norm = False

    def term(self, signed: bool = False) -> Node:
        node = self.factor(signed=signed)
        while True:
            t = self.tok
            if t.kind == "OP" and t.value in ("*", ".*"):
                self.advance()
                node = BinOp(MUL_OPS[t.value], node, self.factor(signed=True), pos=t.pos)
            elif t.kind == "CMD" and t.value in MUL_OPS:
                self.advance()
                node = BinOp(MUL_OPS[t.value], node, self.factor(signed=True), pos=t.pos)
            elif t.kind == "OP" and t.value == "/":
                self.advance()
                node = BinOp("/", node, self.factor(signed=True), pos=t.pos)
            elif t.kind == "CMD" and t.value == "div":
                self.advance()
                node = BinOp("/", node, self.factor(signed=True), pos=t.pos)
            elif t.kind == "OP" and t.value == "|" and self._in_abs:
                return node
            elif self.starts_factor():
                node = BinOp("juxt", node, self.factor(), pos=t.pos)
            else:
                return node

    _in_abs = False

    def factor(self, signed: bool = False) -> Node:
        if signed and (self.peek_op("-") or self.peek_op("+")):
            t = self.advance()
            inner = self.factor(signed=True)
            return Neg(inner, pos=t.pos) if t.value == "-" else inner
        return self.postfix(self.primary())

    # ---- postfix: scripts, primes, calls --------------------------------------------------------

    def postfix(self, node: Node) -> Node:
        while True:
            t = self.tok
            if t.kind == "OP" and t.value == "^":
                self.advance()
                node = self.superscript(node, t.pos)
            elif t.kind == "OP" and t.value == "_" and isinstance(node, Norm):
                self.advance()
                self.norm_subscript()
            elif t.kind == "OP" and t.value == "_" and (not isinstance(node, Name) or node.sub is not None):
                self.advance()  # (A_{out})_{ik}: an entry of a parenthesized value
                node = Index(node, self.script_group(), pos=t.pos)
            elif t.kind == "OP" and t.value == "'":
                self.advance()  # (u)': Lagrange's prime on an expression of one variable
                node = Prime(node, pos=t.pos)
            elif t.kind == "OP" and t.value == "!":
                raise self.error("an operator (factorials cannot be checked)")
            else:
                return node

    def superscript(self, base: Node, pos: int) -> Node:
        """After '^': a transpose, a power, or (for names) a parenthesized layer handled earlier."""
        start = self.i
        if self.peek_op("{"):
            # ^{T}, ^{\top}: transpose
            if (
                self.toks[self.i + 1].kind == "WORD"
                and self.toks[self.i + 1].value == "T"
                or self.toks[self.i + 1].kind == "CMD"
                and self.toks[self.i + 1].value in ("top", "intercal")
            ) and self.peek_op("}", 2):
                self.i += 3
                return Transpose(base, pos=pos)
            self.advance()
            exp = self.expr()
            self.expect_op("}", "'}' to close the superscript")
        elif self.tok.kind == "CMD" and self.tok.value in ("top", "intercal", "prime"):
            v = self.advance().value
            if v == "prime":
                raise self.error("a function name before ' (write f'(x))")
            return Transpose(base, pos=pos)
        elif self.tok.kind == "WORD":
            w = self.advance()
            if len(w.value) > 1:
                self.push_word(w.value[1:], w.pos + 1)
            if w.value[0] == "T":
                return Transpose(base, pos=pos)
            exp = Name(w.value[0], pos=w.pos)
        elif self.tok.kind == "NUM":
            n = self.advance()
            if len(n.value) > 1:
                self.push_word(n.value[1:], n.pos + 1)
            exp = Num(n.value[0], pos=n.pos)
        elif self.tok.kind == "CMD" and self.tok.value in GREEK:
            exp = self.primary()
        elif self.peek_op("-"):
            t = self.advance()
            exp = Neg(self.primary(), pos=t.pos)
        else:
            raise self.error("a superscript")
        raw = tuple(self.toks[start : self.i])
        return Pow(base, exp, raw, pos=pos)

    def script_group(self) -> Script:
        """The tokens of one subscript: ``{...}`` or one character of the next word/number."""
        if self.peek_op("{"):
            self.advance()
            depth = 0
            start = self.i
            while True:
                t = self.tok
                if t.kind == "EOF":
                    raise self.error("'}' to close the subscript")
                if t.kind == "OP" and t.value == "{":
                    depth += 1
                elif t.kind == "OP" and t.value == "}":
                    if depth == 0:
                        break
                    depth -= 1
                self.advance()
            group = tuple(x for x in self.toks[start : self.i] if not (x.kind == "OP" and x.value in "{}_"))
            self.advance()
            if not group:
                raise self.error("a subscript", self.toks[self.i - 1])
            return group
        t = self.tok
        if t.kind in ("WORD", "NUM"):
            self.advance()
            if len(t.value) > 1:
                self.push_word(t.value[1:], t.pos + 1)
            return (Token(t.kind, t.value[0], t.pos),)
        if t.kind == "CMD" and (t.value in GREEK or t.value in ACCENTS):
            self.advance()
            return (t,)
        raise self.error("a subscript")

    def name_scripts(self, name: Name) -> Node:
        """Subscripts and parenthesized superscripts of a name, in either order; then primes."""
        sub = name.sub
        sups = list(name.sups)
        brackets = name.brackets.ljust(len(sups), "(")
        transposed = False
        while True:
            if self.peek_op("_") and sub is None:
                self.advance()
                sub = self.script_group()
            elif self.peek_op("^") and not transposed and self._paren_sup_ahead():
                self.advance()
                groups, kinds, transposed = self.layer_sups()
                sups.extend(groups)
                brackets += kinds
            else:
                break
        name = Name(name.base, sub, tuple(sups), brackets=brackets if "[" in brackets else "", pos=name.pos)
        if transposed:  # A^{[1]T}, h^{(k-1)\top}: the layer, then the transpose
            return Transpose(name, pos=name.pos)
        primes = 0
        while self.peek_op("'") or self.peek_cmd("prime"):
            self.advance()
            primes += 1
        if self.peek_op("^") and self.toks[self.i + 1].kind == "CMD" and self.toks[self.i + 1].value == "prime":
            self.i += 2
            primes += 1
        if primes:
            name = Name(name.base, name.sub, name.sups, primes, brackets=name.brackets, pos=name.pos)
        if self.peek_op("("):
            return self.call(name)  # f(x) or a(1-a): meaning decides which
        if primes and not self.peek_op("("):
            if self.tok.kind == "WORD" or (
                self.tok.kind == "CMD"
                and self.tok.value not in MUL_OPS
                and self.tok.value not in RELATIONS
                and self.tok.value not in ("pm", "mp")  # u' \pm v': a sign, not u' applied to something
            ):
                # \sigma' z: a derivative applied without parentheses
                arg = self.factor()
                return Call(name, [arg], paren=False, pos=name.pos)
        return name

    def _paren_sup_ahead(self) -> bool:
        t1 = self.toks[self.i + 1]
        if t1.kind == "OP" and t1.value in "([":
            return True
        if t1.kind == "OP" and t1.value == "{":
            t2 = self.toks[self.i + 2]
            return t2.kind == "OP" and t2.value in "([" and self._paren_group_fills_braces(self.i + 1)
        return False

    def _paren_group_fills_braces(self, j: int) -> bool:
        """True when ``{ (...)[...] }`` holds only parenthesized or bracketed groups (a layer, not a
        power), possibly followed by a transpose (``{(k)T}``, ``{[1]\top}``)."""
        depth = 0
        k = j + 1
        while k < len(self.toks):
            t = self.toks[k]
            if t.kind == "EOF":
                return False
            if t.kind == "OP" and t.value in "([":
                depth += 1
            elif t.kind == "OP" and t.value in ")]":
                depth -= 1
            elif t.kind == "OP" and t.value == "}" and depth == 0:
                return True
            elif depth == 0:
                return _is_transpose_mark(t) and self.peek_op("}", k + 1 - self.i)
            k += 1
        return False

    def layer_sups(self) -> tuple[list[Script], str, bool]:
        """After '^': the layer groups ``(l)``, ``[l]`` (braced or not), how each was written, and
        whether a transpose mark closes the braces (``^{[1]T}``)."""
        braced = self.peek_op("{")
        if braced:
            self.advance()
        groups: list[Script] = []
        kinds = ""
        while self.peek_op("(") or self.peek_op("["):
            kinds += self.tok.value
            groups.append(self._layer_group(")" if self.tok.value == "(" else "]"))
            if not braced:
                break
        transposed = False
        if braced and _is_transpose_mark(self.tok):
            self.advance()
            transposed = True
        if braced:
            self.expect_op("}", "'}' to close the superscript")
        return groups, kinds, transposed

    def _layer_group(self, close: str) -> Script:
        opening = self.advance().value
        start = self.i
        depth = 0
        while True:
            t = self.tok
            if t.kind == "EOF":
                raise self.error(f"'{close}' to close the layer superscript")
            if t.kind == "OP" and t.value == opening:
                depth += 1
            elif t.kind == "OP" and t.value == close:
                if depth == 0:
                    break
                depth -= 1
            self.advance()
        group = tuple(self.toks[start : self.i])
        if not group:
            raise self.error("a layer inside the parentheses")
        self.advance()
        return group

    def call(self, func: Name) -> Node:
        open_tok = self.expect_op("(")
        args = [self.expr()]
        while self.peek_op(","):
            self.advance()
            args.append(self.expr())
        if not self.peek_op(")"):
            raise self.error(f"')' to close the '(' at column {open_tok.pos + 1}")
        self.advance()
        return Call(func, args, pos=func.pos)

    # ---- primaries -----------------------------------------------------------------------------

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "NUM":
            digits = sum(c.isdigit() for c in t.value)
            if digits > MAX_NUMBER_DIGITS:
                raise ParseError(
                    f"a number of {digits} digits is too long to check (at most {MAX_NUMBER_DIGITS})", t.pos, self.text
                )
            self.advance()
            return Num(t.value, pos=t.pos)
        if t.kind == "WORD":
            self.advance()
            return self.name_scripts(Name(t.value, pos=t.pos))
        if t.kind == "TEXT":
            raise ParseError(f"expected maths, found the text {t.value!r}", t.pos, self.text)
        if t.kind == "OP":
            if t.value == "(" or t.value == "[":
                return self.group(t)
            if t.value == "{":
                self.advance()
                node = self.expr()
                self.expect_op("}", "'}'")
                if isinstance(node, Name) and node.sub is None and not node.primes:
                    return self.name_scripts(node)  # {\delta}_i^{(l)} is \delta_i^{(l)}
                return node
            if t.value == "|":
                return self.abs_value(t)
            raise self.error("a number, a name or '('")
        if t.kind == "CMD":
            return self.command(t)
        raise self.error("a number, a name or '('")

    def group(self, t: Token) -> Node:
        close = ")" if t.value == "(" else "]"
        self.advance()
        saved = self._in_abs
        self._in_abs = False
        first = self.expr()
        if close == "]" and self.peek_op(";"):
            rows = [[first]]
            while self.peek_op(";"):
                self.advance()
                rows.append([self.expr()])
            self.expect_op("]", "']'")
            self._in_abs = saved
            return Matrix(rows, pos=t.pos)
        if not self.peek_op(close):
            if close == ")" and self.peek_op("]") or close == "]" and self.peek_op(")"):
                pass  # \left( ... \right] as written in some notes
            else:
                raise self.error(f"'{close}' to close the '{t.value}' at column {t.pos + 1}")
        self.advance()
        self._in_abs = saved
        return first

    def abs_value(self, t: Token) -> Node:
        self.advance()
        saved = self._in_abs
        self._in_abs = True
        inner = self.expr()
        self._in_abs = saved
        self.expect_op("|", "'|' to close the absolute value")
        return Abs(inner, pos=t.pos)

    def command(self, t: Token) -> Node:
        v = t.value
        if v == "nabla" and self.peek_op("_", 1):
            return self.nabla(t)
        if v in GREEK:
            self.advance()
            base = "\\" + v
            return self.name_scripts(Name(base, pos=t.pos))
        if v in ACCENTS:
            self.advance()
            arg = self.accent_arg()
            return self.name_scripts(
                Name(f"\\hat{{{arg}}}" if v in ("hat", "widehat") else f"\\{v}{{{arg}}}", pos=t.pos)
            )
        if v == "frac":
            return self.frac(t)
        if v == "partial":
            return self.partial_slash(t)
        if v == "sqrt":
            self.advance()
            if self.peek_op("["):
                raise self.error("a square root (n-th roots are not supported)")
            return Sqrt(self.postfix(self.primary()), pos=t.pos)
        if v in FUNCTION_COMMANDS:
            self.advance()
            return self.function_command(Name(v, pos=t.pos))
        if v in ("sum", "prod"):
            if v == "prod":
                raise self.error("an expression (products \\prod are not supported)")
            return self.sum(t)
        if v == "begin":
            return self.environment(t)
        if v in ("Vert", "lVert", "|"):
            return self.norm(t)
        if v in ("lvert",):
            return self.abs_value_cmd(t)
        if v in ("cdots", "dots", "ldots", "vdots", "ddots"):
            raise ParseError(f"an ellipsis (\\{v}) cannot be checked", t.pos, self.text)
        if v in ("infty",):
            raise ParseError("infinity cannot be checked", t.pos, self.text)
        if v == "mathrm" or v == "operatorname":
            raise self.error("a name")
        raise ParseError(f"unknown command \\{v}", t.pos, self.text)

    def accent_arg(self) -> str:
        if self.peek_op("{"):
            self.advance()
            t = self.advance()
            self.expect_op("}", "'}'")
        else:
            t = self.advance()
            if t.kind == "WORD" and len(t.value) > 1:
                self.push_word(t.value[1:], t.pos + 1)
                return t.value[0]
        if t.kind == "WORD":
            return t.value
        if t.kind == "CMD":
            return "\\" + t.value
        raise self.error("a letter under the accent", t)

    def function_command(self, fname: Name) -> Node:
        """``\\exp(x)``, ``\\log x``, ``\\tanh^2(x)`` ... (a power right after the name)."""
        power: Node | None = None
        if self.peek_op("^"):
            self.advance()
            if self.peek_op("{"):
                self.advance()
                power = self.expr()
                self.expect_op("}", "'}'")
            else:
                power = self.primary()
        sub: Script | None = None
        if self.peek_op("_") and fname.base in ("log",):
            self.advance()
            sub = self.script_group()
            if not (len(sub) == 1 and sub[0].value == "e"):
                raise self.error("log or ln (logarithms to another base are not supported)", sub[0])
        if self.peek_op("("):
            node: Node = self.call(fname)
        else:
            arg = self.postfix(self.primary()) if fname.base != "max" else None
            if arg is None:
                raise self.error("'(' after \\max")
            node = Call(fname, [arg], pos=fname.pos)
        if power is not None:
            node = Pow(node, power, pos=fname.pos)
        return node

    def frac(self, t: Token) -> Node:
        self.advance()
        if self.is_derivative_frac():
            return self.derivative_frac(t)
        num = self.frac_arg()
        den = self.frac_arg()
        return BinOp("/", num, den, pos=t.pos)

    def frac_arg(self) -> Node:
        if self.peek_op("{"):
            self.advance()
            node = self.expr()
            self.expect_op("}", "'}' to close the fraction")
            return node
        t = self.tok
        if t.kind == "NUM":
            self.advance()
            if len(t.value) > 1:
                self.push_word(t.value[1:], t.pos + 1)
            return Num(t.value[0], pos=t.pos)
        if t.kind == "WORD":
            self.advance()
            if len(t.value) > 1:
                self.push_word(t.value[1:], t.pos + 1)
            return Name(t.value[0], pos=t.pos)
        if t.kind == "CMD" and t.value in GREEK:
            return self.primary()
        raise self.error("'{' after \\frac")

    def _group_end(self, i: int) -> int:
        """Index of the '}' closing the group that opens at ``i``."""
        depth = 0
        while i < len(self.toks):
            t = self.toks[i]
            if t.kind == "OP" and t.value == "{":
                depth += 1
            elif t.kind == "OP" and t.value == "}":
                depth -= 1
                if depth == 0:
                    return i
            elif t.kind == "EOF":
                break
            i += 1
        raise self.error("'}' to close the fraction")

    @staticmethod
    def _is_d(t: Token) -> bool:
        return (t.kind == "CMD" and t.value == "partial") or (t.kind == "WORD" and t.value[0] == "d")

    def is_derivative_frac(self) -> bool:
        if not self.peek_op("{"):
            return False
        end = self._group_end(self.i)
        j = self.i + 1
        if self.toks[j].kind == "OP" and self.toks[j].value == "-":
            j += 1
        if j >= end or not self._is_d(self.toks[j]):
            return False
        if not (self.toks[end + 1].kind == "OP" and self.toks[end + 1].value == "{"):
            return False
        return self._is_d(self.toks[end + 2])

    def d_marker(self) -> tuple[str, int]:
        """Consume 'd' or '\\partial' (leaving the rest of a word like ``dy`` as the name y);
        returns the marker and the order (``\\partial^2``)."""
        t = self.advance()
        if t.kind == "WORD" and len(t.value) > 1:
            self.push_word(t.value[1:], t.pos + 1)
        order = 1
        if self.peek_op("^"):
            self.advance()
            n = self.advance()
            if n.kind == "OP" and n.value == "{":
                n = self.advance()
                self.expect_op("}")
            if n.kind != "NUM" or n.value not in ("1", "2"):
                raise self.error("a derivative of order 1 or 2", n)
            order = int(n.value)
        return t.value, order

    def derivative_frac(self, t: Token) -> Node:
        self.expect_op("{")
        sign = 1
        if self.peek_op("-"):
            self.advance()
            sign = -1
        _, order = self.d_marker()
        F: Node | None = None
        if not self.peek_op("}"):
            F = self.expr()
        self.expect_op("}", "'}' to close the numerator")
        self.expect_op("{")
        self.d_marker()
        X = self.postfix_name_only(order)
        self.expect_op("}", "'}' after the variable of the derivative")
        if F is None:
            F = self.factor()
        return Deriv(F, X, order, sign, pos=t.pos)

    def postfix_name_only(self, order: int = 1) -> Node:
        """The variable of a derivative: a name with its scripts (no power, no call)."""
        t = self.tok
        if t.kind == "WORD":
            self.advance()
            node = self.name_scripts(Name(t.value, pos=t.pos))
        elif t.kind == "CMD" and (t.value in GREEK or t.value in ACCENTS):
            node = self.command(t)
        elif t.kind == "OP" and t.value in "({":
            node = self.primary()
        else:
            raise self.error("the variable of the derivative")
        if self.peek_op("^") and not isinstance(node, Call):
            pos = self.advance().pos
            if order == 2:  # \partial x^2: the order, written again
                self.superscript(node, pos)
            else:  # \partial y^n: the variable is the power as written (meaning may read a name)
                node = self.superscript(node, pos)
        return node

    def partial_slash(self, t: Token) -> Node:
        """``\\partial F / \\partial X``."""
        self.advance()
        F = self.postfix(self.primary())
        if not self.peek_op("/"):
            raise self.error("'/' in \\partial F / \\partial X")
        self.advance()
        if not self.peek_cmd("partial"):
            raise self.error("\\partial after '/'")
        self.advance()
        X = self.postfix_name_only()
        return Deriv(F, X, pos=t.pos)

    def sum(self, t: Token) -> Node:
        self.advance()
        var: str | None = None
        lo: Node | None = None
        hi: Node | None = None
        if self.peek_op("_"):
            self.advance()
            if self.peek_op("{"):
                self.advance()
                v = self.advance()
                if v.kind != "WORD" or len(v.value) != 1:
                    raise self.error("the index of the sum (one letter)", v)
                var = v.value
                if self.peek_op("="):
                    self.advance()
                    lo = self.expr()
                elif self.peek_cmd("in"):
                    # \sum_{n \in \text{training set}}: the range is not maths; keep the index
                    while not self.peek_op("}") and self.tok.kind != "EOF":
                        self.advance()
                self.expect_op("}", "'}' to close the index of the sum")
            else:
                v = self.advance()
                if v.kind != "WORD":
                    raise self.error("the index of the sum", v)
                if len(v.value) > 1:
                    self.push_word(v.value[1:], v.pos + 1)
                var = v.value[0]
        if self.peek_op("^"):
            self.advance()
            if self.peek_op("{"):
                self.advance()
                hi = self.expr()
                self.expect_op("}", "'}' to close the upper limit")
            else:
                tok = self.advance()
                if tok.kind == "NUM":
                    if len(tok.value) > 1:
                        self.push_word(tok.value[1:], tok.pos + 1)
                    hi = Num(tok.value[0], pos=tok.pos)
                elif tok.kind == "WORD":
                    if len(tok.value) > 1:
                        self.push_word(tok.value[1:], tok.pos + 1)
                    hi = Name(tok.value[0], pos=tok.pos)
                else:
                    raise self.error("the upper limit of the sum", tok)
        if not self.starts_factor():
            raise self.error("the body of the sum")
        body = self.sum_body(var)
        return Sum(var, lo, hi, body, pos=t.pos)

    def sum_body(self, var: str | None = None) -> Node:
        """The body of a sum runs over one term: factors up to the next + or -, and on over the
        terms after it that still use the sum's index (ng's cost: \\sum_k y_k \\log a_k + (1-y_k) \\log(1-a_k),
        where a k outside the sum would be meaningless)."""
        body = self.term()
        while var is not None and self.tok.kind == "OP" and self.tok.value in "+-":
            start = self.i
            op = self.tok.value
            self.advance()
            try:
                more = self.term()
            except ParseError:
                self.i = start
                break
            if not _uses_index(more, var):
                self.i = start
                break
            body = BinOp(op, body, more, pos=body.pos)
        return body

    def norm(self, t: Token) -> Node:
        self.advance()
        saved = self._closing_norm
        self._closing_norm = True
        inner = self.expr()
        self._closing_norm = saved
        if not (self.peek_cmd("Vert") or self.peek_cmd("rVert")):
            raise self.error("'\\|' to close the norm")
        self.advance()
        return Norm(inner, pos=t.pos)

    def norm_subscript(self) -> None:
        """``\\|W\\|_F`` (Frobenius) and ``\\|x\\|_2`` are the norm every claim means; others are refused."""
        script = self.script_group()
        if tuple(t.value for t in script) not in (("F",), ("2",)):
            raise self.error("the norm _F or _2 (other norms are not supported)", script[0])

    def nabla(self, t: Token) -> Node:
        """``\\nabla_W J``: the gradient of J by W, which is ``\\frac{\\partial J}{\\partial W}``."""
        self.advance()
        self.advance()  # '_'
        script = self.script_group()
        try:
            X = parse_script(script)
        except ParseError as err:
            raise ParseError(f"the variable of \\nabla: {err.problem}", script[0].pos, self.text) from None
        if not self.starts_factor():
            raise self.error("what \\nabla_{..} differentiates")
        F = self.postfix(self.primary())
        return Deriv(F, X, pos=t.pos)

    def abs_value_cmd(self, t: Token) -> Node:
        self.advance()
        inner = self.expr()
        if not self.peek_cmd("rvert"):
            raise self.error("'\\rvert'")
        self.advance()
        return Abs(inner, pos=t.pos)

    def environment(self, t: Token) -> Node:
        self.advance()
        name, j = _env_name(self.toks, self.i)
        if name is None:
            raise self.error("'{' and the name of the environment")
        self.i = j
        if name in MATRIX_ENVS:
            node: Node = Matrix(self.rows(cases=False), pos=t.pos)
        elif name == "cases":
            rows = self.rows(cases=True)
            node = Cases([(r[0], r[1]) for r in rows], pos=t.pos)  # type: ignore[misc]
        else:
            raise ParseError(f"the environment {name!r} is not supported here", t.pos, self.text)
        if not self.peek_cmd("end"):
            raise self.error(f"\\end{{{name}}}")
        self.advance()
        end_name, j = _env_name(self.toks, self.i)
        if end_name != name:
            raise self.error(f"\\end{{{name}}}")
        self.i = j
        return node

    def rows(self, cases: bool) -> list[list]:
        rows: list[list] = []
        while True:
            if self.peek_cmd("end"):
                break
            row: list = [self.cell(cases)]
            if cases:
                if not self.peek_op("&"):
                    raise self.error("'&' before the condition of the case")
                self.advance()
                row.append(self.condition())
            else:
                while self.peek_op("&"):
                    self.advance()
                    row.append(self.cell(cases))
            rows.append(row)
            if self.peek_cmd("newline"):
                self.advance()
                continue
            if self.peek_op(",") and cases:
                self.advance()
                continue
            if not self.peek_cmd("end"):
                raise self.error("'\\\\' or \\end")
        if not rows:
            raise self.error("at least one row")
        widths = {len(r) for r in rows if not all(isinstance(c, Dots) for c in r)}  # a row of \vdots may be short
        if not cases and len(widths) > 1:
            raise ParseError("the rows of the matrix have different lengths", self.tok.pos, self.text)
        return rows

    def cell(self, cases: bool) -> Node:
        dots = None if cases else self.dots_alone(blank=True)
        return dots if dots is not None else self.expr()

    def condition(self) -> Cond:
        pos = self.tok.pos
        while self.tok.kind == "TEXT" or (self.tok.kind == "WORD" and self.tok.value in ("if", "for")):
            words = self.tok.value.strip().rstrip(",").lower()
            if words in ("otherwise", "else", "sonst") or words.startswith("otherwise"):
                self.advance()
                return Cond(None, pos=pos)
            self.advance()
            if self.peek_cmd("newline") or self.peek_cmd("end"):
                raise self.error("a condition such as x > 0")
        if self.tok.kind == "WORD" and self.tok.value in ("otherwise", "else"):
            self.advance()
            return Cond(None, pos=pos)
        left = self.expr()
        t = self.tok
        if t.kind == "OP" and t.value in ("<", ">", "="):
            self.advance()
            op = t.value
            if op in "<>" and self.peek_op("="):
                self.advance()
                op += "="
        elif t.kind == "OP" and t.value == "!" and self.peek_op("=", 1):
            self.i += 2
            op = "!="
        elif t.kind == "CMD" and t.value in RELATIONS:
            self.advance()
            op = RELATIONS[t.value]
        else:
            raise self.error("a comparison (<, >, \\leq, \\geq, =, \\neq)")
        right = self.expr()
        return Cond(op, left, right, pos=pos)


def _describe(t: Token) -> str:
    if t.kind == "CMD":
        return f"'\\{t.value}'"
    if t.kind == "TEXT":
        return f"the text {t.value!r}"
    return f"'{t.value}'"


# ----------------------------------------------------------------------------------------------
# Printing back (tests check that printing and parsing again gives the same tree)
# ----------------------------------------------------------------------------------------------


def script_text(script: Script) -> str:
    """The tokens of a script as LaTeX (``{i,j}`` -> ``i,j``)."""
    out = []
    for t in script:
        if t.kind == "CMD":
            out.append("\\" + t.value + " ")
        else:
            out.append(t.value)
    return "".join(out).strip()


def to_latex(node: Node) -> str:
    """LaTeX for ``node`` that parses back to the same tree (fully parenthesized)."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Name):
        s = node.base
        if node.base.startswith("\\") and not node.base.endswith("}"):
            s += " "
        if node.sups:
            groups = (
                f"[{script_text(sup)}]" if node.bracket(k) == "[" else f"({script_text(sup)})"
                for k, sup in enumerate(node.sups)
            )
            s = s.rstrip() + "^{" + "".join(groups) + "}"
        if node.sub is not None:
            s = f"{s.rstrip()}_{{{script_text(node.sub)}}}"
        return s + "'" * node.primes
    if isinstance(node, Call):
        return f"{to_latex(node.func)}({', '.join(to_latex(a) for a in node.args)})"
    if isinstance(node, BinOp):
        op = {
            "+": "+",
            "-": "-",
            "/": "/",
            "juxt": " ",
            "cdot": r"\cdot",
            "times": r"\times",
            "star": "*",
            "odot": r"\odot",
        }[node.op]
        if node.op == "/":
            return rf"\frac{{{to_latex(node.left)}}}{{{to_latex(node.right)}}}"
        if node.op == "juxt":  # braces keep `y (x)` a product, not the call y(x)
            return f"({{{to_latex(node.left)}}} {{{to_latex(node.right)}}})"
        return f"({to_latex(node.left)} {op} {to_latex(node.right)})"
    if isinstance(node, Neg):
        return f"(-{to_latex(node.operand)})"
    if isinstance(node, PlusMinus):
        left = "" if node.left is None else to_latex(node.left) + " "
        return f"({left}\\{node.sign} {to_latex(node.right)})"
    if isinstance(node, Pow):
        return f"({to_latex(node.base)})^{{{to_latex(node.exponent)}}}"
    if isinstance(node, Transpose):
        return f"({to_latex(node.operand)})^T"
    if isinstance(node, Prime):
        return f"({to_latex(node.operand)})'"
    if isinstance(node, Index):
        return f"({to_latex(node.operand)})_{{{script_text(node.sub)}}}"
    if isinstance(node, Deriv):
        d = r"\partial"
        sign = "-" if node.sign < 0 else ""
        order = "^2" if node.order == 2 else ""
        return rf"\frac{{{sign}{d}{order} {to_latex(node.F)}}}{{{d} {to_latex(node.X)}{order}}}"
    if isinstance(node, Sum):
        if node.var is None:
            return rf"\sum ({to_latex(node.body)})"
        lim = f"_{{{node.var}" + (f"={to_latex(node.lo)}" if node.lo is not None else "") + "}"
        if node.hi is not None:
            lim += f"^{{{to_latex(node.hi)}}}"
        return rf"(\sum{lim} ({to_latex(node.body)}))"
    if isinstance(node, Matrix):
        rows = r" \\ ".join(" & ".join(to_latex(c) for c in r) for r in node.rows)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}"
    if isinstance(node, Cases):
        rows = r" \\ ".join(f"{to_latex(v)} & {_cond_latex(c)}" for v, c in node.pieces)
        return rf"\begin{{cases}} {rows} \end{{cases}}"
    if isinstance(node, Abs):
        return f"|{to_latex(node.operand)}|"
    if isinstance(node, Norm):
        return rf"\|{to_latex(node.operand)}\|"
    if isinstance(node, Sqrt):
        return rf"\sqrt{{{to_latex(node.operand)}}}"
    if isinstance(node, Given):
        return f"{{{node.latex}}}"
    if isinstance(node, Dots):
        return "" if node.kind == "blank" else f"\\{node.kind}"
    raise TypeError(f"cannot print {type(node).__name__}")


def _cond_latex(c: Cond) -> str:
    if c.op is None:
        return r"\text{otherwise}"
    op = {"<": "<", ">": ">", "<=": r"\leq", ">=": r"\geq", "=": "=", "!=": r"\neq"}[c.op]
    return f"{to_latex(c.left)} {op} {to_latex(c.right)}"  # type: ignore[arg-type]
