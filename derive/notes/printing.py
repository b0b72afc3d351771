"""LaTeX of SymPy values in the notes' own names (symbols are keyed by how the notes write them)."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ..model import rules
from .notation import (
    Abs,
    BinOp,
    Call,
    Deriv,
    Given,
    Index,
    Name,
    Neg,
    Node,
    Norm,
    Num,
    Pow,
    Prime,
    Sqrt,
    Sum,
    Transpose,
    script_text,
    to_latex,
)
from .values import Value, is_matrix

__all__ = ["latex_of", "node_latex"]


class _NotesPrinter(LatexPrinter):
    """Symbols are named by their LaTeX key (``a^{(L)}``, ``out_{h1}``): print them verbatim."""

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:  # noqa: ARG002
        name = expr.name
        if name in ("lambda",):
            return r"\lambda"
        return name

    def _print_Pow(self, expr: sp.Pow, **kwargs: Any) -> str:
        # The registry's functions print themselves without a power slot: σ(x)^2 -> \left(σ(x)\right)^{2}
        if rules.is_defined(expr.base) and expr.exp.is_Integer and expr.exp > 0:
            return r"\left(" + self._print(expr.base) + r"\right)^{" + self._print(expr.exp) + "}"
        return super()._print_Pow(expr, **kwargs)

    _print_DefSymbol = _print_Symbol  # noqa: N815 - SymPy's printer dispatches on class names
    _print_Dummy = _print_Symbol  # noqa: N815


def latex_of(value: Value) -> str:
    """LaTeX for a scalar or a matrix (bmatrix), names as the notes write them."""
    printer = _NotesPrinter({"mat_delim": "[", "mat_str": "bmatrix"})
    if is_matrix(value):
        rows = [
            " & ".join(printer.doprint(value[i, j]) for j in range(value.shape[1]))  # type: ignore[index,union-attr]
            for i in range(value.shape[0])
        ]  # type: ignore[union-attr]
        return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"
    return printer.doprint(value)


# ----------------------------------------------------------------------------------------------
# Syntax trees back to LaTeX, as a person writes them (diagnoses quote the notes' expressions)
# ----------------------------------------------------------------------------------------------

_PRODUCT_TEX = {"juxt": " ", "cdot": r" \cdot ", "times": r" \times ", "star": " * ", "odot": r" \odot "}


def node_latex(node: Node) -> str:
    """LaTeX for a syntax tree with only the parentheses precedence needs: ``W^{(2)T} (y - a)``,
    ``a \\odot (1 - a)``, ``\\sigma'(z^{(L)})`` (``notation.to_latex`` parenthesizes every operation,
    for round trips)."""
    if isinstance(node, Name):
        return _name_latex(node)
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Given):
        return node.latex
    if isinstance(node, Call):
        return f"{_function_latex(node.func)}({', '.join(node_latex(a) for a in node.args)})"
    if isinstance(node, BinOp):
        if node.op == "/":
            return rf"\frac{{{node_latex(node.left)}}}{{{node_latex(node.right)}}}"
        if node.op in ("+", "-"):
            right = node_latex(node.right)
            if node.op == "-" and _is_sum(node.right) or isinstance(node.right, Neg):
                right = f"({right})"
            return f"{node_latex(node.left)} {node.op} {right}"
        left, right = (_factor_latex(node.left, node.op, "left"), _factor_latex(node.right, node.op, "right"))
        return left + _PRODUCT_TEX[node.op] + right
    if isinstance(node, Neg):
        inner = node_latex(node.operand)
        return f"-({inner})" if _is_sum(node.operand) else f"-{inner}"
    if isinstance(node, Pow):
        return f"{_atom_latex(node.base)}^{{{node_latex(node.exponent)}}}"
    if isinstance(node, Transpose):
        return f"{_atom_latex(node.operand)}^T"
    if isinstance(node, Prime):
        return f"({node_latex(node.operand)})'"
    if isinstance(node, Index):
        return f"({node_latex(node.operand)})_{{{script_text(node.sub)}}}"
    if isinstance(node, Deriv):
        sign = "-" if node.sign < 0 else ""
        order = "^2" if node.order == 2 else ""
        return rf"\frac{{{sign}\partial{order} {node_latex(node.F)}}}{{\partial {node_latex(node.X)}{order}}}"
    if isinstance(node, Sum):
        if node.var is None:
            return rf"\sum {_atom_latex(node.body)}"
        lim = f"_{{{node.var}" + (f"={node_latex(node.lo)}" if node.lo is not None else "") + "}"
        if node.hi is not None:
            lim += f"^{{{node_latex(node.hi)}}}"
        body = node_latex(node.body)
        return rf"\sum{lim} " + (f"({body})" if _is_sum(node.body) else body)
    if isinstance(node, Sqrt):
        return rf"\sqrt{{{node_latex(node.operand)}}}"
    if isinstance(node, Norm):
        return rf"\|{node_latex(node.operand)}\|"
    if isinstance(node, Abs):
        return f"|{node_latex(node.operand)}|"
    return to_latex(node)


_LATEX_FUNCTIONS = {"log", "ln", "exp", "tanh", "sin", "cos", "sinh", "cosh", "max", "min", "sqrt"}


def _function_latex(func: Name) -> str:
    """A function's name as LaTeX writes it: ``\\log``, ``\\operatorname{ReLU}``, ``\\sigma'``."""
    if not func.base.startswith("\\") and func.sub is None and not func.sups and len(func.base) > 1:
        name = f"\\{func.base}" if func.base in _LATEX_FUNCTIONS else rf"\operatorname{{{func.base}}}"
        return name + "'" * func.primes
    return _name_latex(func)


def _name_latex(name: Name) -> str:
    plain = to_latex(Name(name.base, name.sub, name.sups, brackets=name.brackets)).strip()
    return plain + "'" * name.primes


def _is_sum(node: Node) -> bool:
    return isinstance(node, BinOp) and node.op in ("+", "-")


def _factor_latex(node: Node, op: str, side: str) -> str:
    text = node_latex(node)
    if _is_sum(node) or isinstance(node, Neg) and side == "right":
        return f"({text})"
    if isinstance(node, BinOp) and node.op in _PRODUCT_TEX and node.op != op:
        return f"({text})"  # a ⊙ (b c), (W^T δ) ⊙ σ': the grouping is the point
    if isinstance(node, BinOp) and node.op in _PRODUCT_TEX and side == "right":
        return f"({text})"  # a (b c) as written
    return text


def _atom_latex(node: Node) -> str:
    text = node_latex(node)
    if isinstance(node, (Name, Num, Call, Sqrt, Norm, Abs, Given)) and not (isinstance(node, Name) and node.sups):
        return text
    return f"({text})"
