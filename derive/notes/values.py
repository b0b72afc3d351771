"""Values of the notes' formulas and the errors of giving them a meaning.

A value is a SymPy scalar expression or an ``ImmutableMatrix`` (1×1 results collapse to
scalars). The errors are ``MeaningError`` subclasses with one-sentence messages; the checker
turns them into ``undecided`` (or, for a shape mismatch between the two sides, ``fails``).
"""

from __future__ import annotations

import sympy as sp

__all__ = [
    "DefSymbol",
    "MeaningError",
    "ShapeError",
    "UnknownName",
    "Value",
    "is_matrix",
    "shape_of",
    "shape_text",
]

Value = sp.Expr | sp.ImmutableMatrix


class MeaningError(ValueError):
    """A formula that reads but has no meaning; the message is one sentence."""


class UnknownName(MeaningError):  # noqa: N818 - reads as what it is
    def __init__(self, key: str) -> None:
        super().__init__(f"{key} has no meaning here (not defined, declared, or used in the definitions)")
        self.key = key


class ShapeError(MeaningError):
    """Shapes that do not fit (a shape mismatch)."""


class DefSymbol(sp.Symbol):
    """The placeholder of a defined name: a symbol that ``Env.expand`` replaces by its definition."""


def is_matrix(v: object) -> bool:
    return isinstance(v, sp.MatrixBase)


def shape_of(v: Value) -> tuple[int, int]:
    return v.shape if is_matrix(v) else (1, 1)  # type: ignore[union-attr,return-value]


def shape_text(v: Value) -> str:
    if not is_matrix(v):
        return "a scalar"
    r, c = v.shape  # type: ignore[union-attr]
    return f"{r}×{c}"
