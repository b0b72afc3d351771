"""The expected value of a failing claim, tidied into the notes' own terms.

The true value of the left side is an expanded SymPy expression in the notes' inputs. A student
reads it best written with the names the notes define (a^{(L)} rather than σ(w a + b)), the
rules' own forms (σ(1 − σ) rather than e^{-z}/(1 + e^{-z})²), leading minus signs taken into a
sum, and arbitrary functions in Lagrange's notation (u' rather than d/dx u(x)). Each candidate
form is tried and the shortest kept; every step has a time limit and falls back to a plainer form.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.function import AppliedUndef

from ..exprs import as_expr
from ..timelimit import Deadline, deadline
from .meaning import IMPLICIT_VARIABLE, Env, Evaluator, MeaningError
from .notation import Node
from .printing import latex_of
from .values import Value, is_matrix

__all__ = ["EXPECTED_TIME_LIMIT", "expected_latex", "expected_of_side"]

EXPECTED_TIME_LIMIT = 3.0  # seconds to tidy one expected value before a plainer form is printed
SIGNIFICANT_DIGITS = 10  # of an expected value that is a number


def expected_of_side(env: Env, side: Node, assignment: dict[str, int]) -> str | None:
    """The expected value of ``side`` (evaluated at the index values ``assignment``), or None."""
    try:
        value = Evaluator(env, assignment).eval(side)
        return expected_latex(env, value)
    except (MeaningError, RecursionError, Deadline):
        return None


def expected_latex(env: Env, value: Value, budget: float = EXPECTED_TIME_LIMIT) -> str | None:
    """The true value ``value``, simplified and written with the notes' names, as LaTeX."""
    try:
        full = env.expand(value)
        with deadline(budget):
            if not _free_symbols(full):  # every input has a number: the expected value is one too
                return latex_of(full.applyfunc(_number) if is_matrix(full) else _number(full))  # type: ignore[union-attr]
            if is_matrix(full):
                nice = full.applyfunc(lambda e: _nicest(env, e))  # type: ignore[union-attr]
            else:
                nice = _nicest(env, full)
        return latex_of(nice)
    except Deadline:
        return latex_of(env.fold(env.expand(value)) if not is_matrix(value) else env.expand(value))
    except (RecursionError, ValueError, TypeError):
        return None


def _free_symbols(v: Value) -> set[sp.Symbol]:
    return set().union(*(as_expr(e).free_symbols for e in (v if is_matrix(v) else [v])))  # type: ignore[union-attr]


def _number(e: sp.Expr) -> sp.Expr:
    """An exact number as the notes would write it: a simple fraction as it is, anything else
    to 10 significant digits (the notes' numbers are decimals)."""
    e = as_expr(e)
    if e.is_Rational and e.q <= 1000:  # type: ignore[attr-defined]
        return e
    return sp.Float(e.evalf(30), SIGNIFICANT_DIGITS)


def _lagrange(e: sp.Expr) -> sp.Expr:
    """Arbitrary functions of the implicit x as the rules write them: u(x) -> u, u'(x) -> u'."""
    x = IMPLICIT_VARIABLE
    primes = {
        d: sp.Symbol(f"{d.expr.func}" + "'" * d.derivative_count, real=True)
        for d in e.atoms(sp.Derivative)
        if isinstance(d.expr, AppliedUndef) and d.expr.args == (x,) and set(d.variables) == {x}
    }
    outer = {  # d/dg(x) f(g(x)) -> f'(g(x))
        d: sp.Function(f"{d.expr.func}" + "'" * d.derivative_count)(d.expr.args[0])
        for d in e.atoms(sp.Derivative)
        if d not in primes
        and isinstance(d.expr, AppliedUndef)
        and len(d.expr.args) == 1
        and set(d.variables) == {d.expr.args[0]}
    }
    plain = {f: sp.Symbol(str(f.func), real=True) for f in e.atoms(AppliedUndef) if f.args == (x,)}
    if not (primes or outer or plain):
        return e
    return e.xreplace(primes).xreplace(outer).xreplace(plain)


def _nicest(env: Env, e: sp.Expr) -> sp.Expr:
    folded = [_lagrange(env.fold(as_expr(e))), _lagrange(env.fold(as_expr(e), algebraic=True))]
    factored = []
    for f in folded:
        try:
            factored.append(sp.factor(f))
        except (sp.PolynomialError, ValueError, TypeError):
            pass
    candidates = folded + [_absorb_sign(f) for f in factored] + factored
    return min(candidates, key=lambda c: (sp.count_ops(c), _leading_minuses(c)))


def _leading_minuses(e: sp.Expr) -> int:
    """How many sums start with a minus when printed: on a tie of size σ_1(1 - σ_1) reads better
    than -σ_1² + σ_1, and 2a(1 - a)(a - y) better than 2a(-a + y)(a - 1)."""
    text = sp.latex(e)
    return text.count(r"\left(- ") + text.startswith("-")


def _absorb_sign(e: sp.Expr) -> sp.Expr:
    """-σ(σ - 1) as σ(1 - σ): a leading minus taken into the one sum among the factors."""
    if not (isinstance(e, sp.Mul) and e.could_extract_minus_sign()):
        return e
    positive = -e
    sums = [f for f in positive.args if isinstance(f, sp.Add)] if isinstance(positive, sp.Mul) else []
    if len(sums) != 1:
        return e
    return sp.Mul(*[(-f if f == sums[0] else f) for f in positive.args])
