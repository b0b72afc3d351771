"""Turning internal values into SymPy expressions without ever parsing text.

``sympy.sympify`` accepts strings and evaluates them; derive never hands it anything, so a
stray user string can never be executed. ``as_expr`` takes only numbers and SymPy objects.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

__all__ = ["as_expr"]


def as_expr(value: object) -> sp.Basic:
    """``value`` as a SymPy object: SymPy objects as they are, Python numbers converted exactly.

    >>> as_expr(3), as_expr(0.5), as_expr(True)
    (3, 0.500000000000000, True)
    >>> as_expr("x + 1")
    Traceback (most recent call last):
    ...
    TypeError: as_expr takes numbers and SymPy objects, not str
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool):
        return sp.true if value else sp.false
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, float):
        return sp.Float(value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if hasattr(value, "dtype") and hasattr(value, "item"):  # a NumPy scalar
        return as_expr(value.item())
    raise TypeError(f"as_expr takes numbers and SymPy objects, not {type(value).__name__}")
