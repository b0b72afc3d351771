"""LaTeX of SymPy values in the notes' own names (symbols are keyed by how the notes write them)."""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.printing.latex import LatexPrinter

from ..model import rules
from .values import Value, is_matrix

__all__ = ["latex_of"]


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
