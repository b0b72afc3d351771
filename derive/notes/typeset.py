"""A claim printed back from its parse tree as LaTeX a reader sees: the fewest parentheses.

Reports typeset this, never the notes' own text: it is built only from what the parser read
(names, numbers, the operators of the grammar), so what reaches TeX is known maths. It reads
like the notes (``2 a (1 - a)``, ``\\frac{\\partial C_0}{\\partial w}``); ``notation.to_latex``,
fully parenthesized, stays the printer that parses back to the same tree.
"""

from __future__ import annotations

from .notation import (
    FUNCTION_COMMANDS,
    Abs,
    BinOp,
    Call,
    Cases,
    Cond,
    Deriv,
    Dots,
    Given,
    Index,
    Matrix,
    Name,
    Neg,
    Node,
    Norm,
    Num,
    PlusMinus,
    Pow,
    Prime,
    Sqrt,
    Sum,
    Transpose,
    script_text,
    to_latex,
)

__all__ = ["typeset"]

# How tightly each kind of node binds; an operand that binds less tightly than its place needs
# is put in parentheses.
SUM, NEG, PRODUCT, POWER, ATOM = 1, 2, 3, 4, 5
_PRODUCT_OPS = {"juxt": " ", "cdot": r" \cdot ", "times": r" \times ", "star": r" \ast ", "odot": r" \odot "}
_ASSOCIATIVE = {"juxt", "cdot", "times", "star"}
_RELATIONS = {"<": "<", ">": ">", "<=": r"\leq", ">=": r"\geq", "=": "=", "!=": r"\neq"}


def typeset(node: Node) -> str:
    """LaTeX for ``node`` with parentheses only where the reading needs them."""
    return _print(node)[0]


def _print(node: Node) -> tuple[str, int]:
    """The LaTeX of ``node`` and how tightly it binds."""
    if isinstance(node, Num):
        return node.text, ATOM
    if isinstance(node, Name):
        return _name(node), ATOM
    if isinstance(node, Given):
        return f"{{{node.latex}}}", ATOM
    if isinstance(node, Dots):
        return ("" if node.kind == "blank" else f"\\{node.kind}"), ATOM
    if isinstance(node, BinOp):
        return _binop(node)
    if isinstance(node, PlusMinus):
        sign = rf"\{node.sign}"
        right = _operand(node.right, SUM + 1)
        if node.left is None:
            return f"{sign} {right}", NEG
        return f"{_operand(node.left, SUM)} {sign} {right}", SUM
    if isinstance(node, Neg):
        return f"-{_operand(node.operand, PRODUCT)}", NEG
    if isinstance(node, Pow):
        return f"{_base(node.base)}^{{{typeset(node.exponent)}}}", POWER
    if isinstance(node, Transpose):
        return f"{_base(node.operand)}^{{\\top}}", POWER
    if isinstance(node, Prime):
        return rf"\left({typeset(node.operand)}\right)'", POWER
    if isinstance(node, Index):
        return rf"\left({typeset(node.operand)}\right)_{{{script_text(node.sub)}}}", POWER
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, Deriv):
        return _deriv(node), ATOM
    if isinstance(node, Sum):
        return _sum(node), SUM
    if isinstance(node, Matrix):
        rows = r" \\ ".join(" & ".join(typeset(c) for c in row) for row in node.rows)
        return rf"\begin{{bmatrix}} {rows} \end{{bmatrix}}", ATOM
    if isinstance(node, Cases):
        rows = r" \\ ".join(f"{typeset(v)} & {_condition(c)}" for v, c in node.pieces)
        return rf"\begin{{cases}} {rows} \end{{cases}}", ATOM
    if isinstance(node, Abs):
        return rf"\left|{typeset(node.operand)}\right|", ATOM
    if isinstance(node, Norm):
        return rf"\left\|{typeset(node.operand)}\right\|", ATOM
    if isinstance(node, Sqrt):
        return rf"\sqrt{{{typeset(node.operand)}}}", ATOM
    return to_latex(node), ATOM  # a node this printer does not know: the parse-back form


def _operand(node: Node, needs: int) -> str:
    """``node`` as an operand of a place that needs at least ``needs``: in parentheses if looser."""
    text, strength = _print(node)
    return text if strength >= needs else rf"\left({text}\right)"


def _name(node: Name) -> str:
    if node.primes and (node.sups or node.sub is not None):  # a prime is a superscript too: brace the name
        plain = Name(node.base, node.sub, node.sups, pos=node.pos)
        return f"{{{to_latex(plain).strip()}}}" + "'" * node.primes
    return to_latex(node).strip()


def _base(node: Node) -> str:
    """The base of a power or transpose: a scripted name is braced (a^{(L)} squared is
    {a^{(L)}}^{2}, never the double superscript a^{(L)}^{2}), anything looser is parenthesized."""
    text, strength = _print(node)
    if isinstance(node, Name) and (node.sups or node.primes):
        return f"{{{text}}}"
    if strength >= ATOM and not isinstance(node, (Call, Deriv, Sum)):
        return text
    return rf"\left({text}\right)"


def _binop(node: BinOp) -> tuple[str, int]:
    if node.op == "/":
        return rf"\frac{{{typeset(node.left)}}}{{{typeset(node.right)}}}", ATOM
    if node.op in ("+", "-"):
        left = _operand(node.left, SUM)
        right_text, strength = _print(node.right)
        if strength <= (NEG if node.op == "-" else SUM) or right_text.startswith("-"):
            right_text = rf"\left({right_text}\right)"
        return f"{left} {node.op} {right_text}", SUM
    left = _operand(node.left, NEG)  # -a b: the minus of the first factor is the product's
    right_text, strength = _print(node.right)
    if isinstance(node.right, Sum):
        strength = POWER  # the last factor: a sum sign reaches to the end of its product anyway
    # a b c reads left to right; a right operand that is itself a product keeps its parentheses
    # unless both products are of one associative kind (A ⊙ (B C) is not (A ⊙ B) C)
    associative = node.op in _ASSOCIATIVE and isinstance(node.right, BinOp) and node.right.op in _ASSOCIATIVE
    if strength < PRODUCT or (strength == PRODUCT and not associative):
        right_text = rf"\left({right_text}\right)"
    op = _PRODUCT_OPS[node.op]
    if op == " " and left[-1:].isdigit() and right_text[:1].isdigit():
        op = r" \cdot "  # 2 3 would read as 23
    return f"{left}{op}{right_text}", PRODUCT


def _call(node: Call) -> tuple[str, int]:
    func = node.func
    if not func.base.startswith("\\") and func.base in FUNCTION_COMMANDS:
        name = f"\\{func.base}" + "'" * func.primes  # \exp, \log, \tanh as the notes typeset them
    elif not func.base.startswith("\\") and len(func.base) > 1 and func.sub is None and not func.sups:
        name = rf"\operatorname{{{func.base}}}" + "'" * func.primes  # ReLU, softmax, GELU
    else:
        name = _name(func)
    args = ", ".join(typeset(a) for a in node.args)
    if not node.paren:
        return f"{name} {_operand(node.args[0], POWER)}", PRODUCT
    return rf"{name}\left({args}\right)", POWER


def _deriv(node: Deriv) -> str:
    order = "^{2}" if node.order == 2 else ""
    sign = "-" if node.sign < 0 else ""
    x_text, _ = _print(node.X)
    x = f"{{{x_text}}}" + order if order and isinstance(node.X, Name) and node.X.sups else x_text + order
    f_text, strength = _print(node.F)
    if strength >= POWER and not isinstance(node.F, Deriv):
        return rf"\frac{{{sign}\partial{order} {f_text}}}{{\partial {x}}}"
    return rf"\frac{{{sign}\partial{order}}}{{\partial {x}}} \left({f_text}\right)"


def _sum(node: Sum) -> str:
    body = _operand(node.body, PRODUCT)
    if node.var is None:
        return rf"\sum {body}"
    limits = f"_{{{node.var}" + (f"={typeset(node.lo)}" if node.lo is not None else "") + "}"
    if node.hi is not None:
        limits += f"^{{{typeset(node.hi)}}}"
    return rf"\sum{limits} {body}"


def _condition(c: Cond) -> str:
    if c.op is None:
        return r"\text{otherwise}"
    left = typeset(c.left) if c.left is not None else ""
    right = typeset(c.right) if c.right is not None else ""
    return rf"\text{{if }} {left} {_RELATIONS[c.op]} {right}"
