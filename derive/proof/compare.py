"""Deciding whether two values are equal: random points first, then an exact proof.

* ``numeric_compare`` evaluates both sides at random points in 50-digit arithmetic (mpmath
  through SymPy's ``evalf``). A point where they differ is a counterexample: the claim fails.
* ``prove_zero`` tries exact simplification in stages (expand; exp-rational normal form;
  ``simplify``), each under a deadline, so one hard claim cannot stall the file.

Where no exact proof is reached in time but every point agrees, the claim holds with numeric
evidence, and says so. Nothing here ever calls ``sympify`` on user text.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sympy as sp

from ..exprs import as_expr
from ..model.rules import textbook_form
from ..notes.meaning import Value, is_matrix
from .prover import time_limit

__all__ = [
    "Deadline",
    "Outcome",
    "deadline",
    "numeric_compare",
    "numeric_value",
    "prove_zero",
    "random_points",
]

DIGITS = 50
REL_TOL = sp.Float("1e-30", DIGITS)


class Deadline(Exception):  # noqa: N818 - reads as what it is
    """A stage ran past its time limit."""


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ``Deadline`` inside the block after ``seconds`` (at once when none are left); the
    timer is the verifier's ``time_limit`` (main thread only; elsewhere the per-claim worker
    process is the backstop)."""
    if seconds <= 0:
        raise Deadline()
    with time_limit(seconds, Deadline):
        yield


def _numeric_form(expr: sp.Expr) -> sp.Expr:
    """Registry functions written out (σ -> 1/(1+e^{-x}), ReLU -> Piecewise) so evalf can work."""
    return textbook_form(as_expr(expr))


def random_points(symbols: list[sp.Symbol], count: int, seed: int) -> list[dict[sp.Symbol, sp.Rational]]:
    """Exact rational points in three regions: (0.1, 0.9) where sigmoids, logs and targets live;
    (-1.5, 1.5) to meet the negative side of ReLU and step; (0.5, 2.5) away from 0 and 1.
    Rational, so that substituting them never rounds: only ``evalf`` approximates, adaptively."""
    rng = random.Random(seed)
    regions = [(0.1, 0.9), (0.1, 0.9), (-1.5, 1.5), (0.1, 0.9), (0.5, 2.5), (-1.5, 1.5), (0.1, 0.9), (0.5, 2.5)]
    points = []
    for k in range(count):
        lo, hi = regions[k % len(regions)]
        pt = {}
        for s in symbols:
            v = rng.uniform(lo, hi)
            if s.is_nonnegative and v < 0:
                v = -v
            pt[s] = sp.Rational(repr(round(v, 6)))
        points.append(pt)
    return points


def _case_values(exprs: list[sp.Expr]) -> dict[sp.Symbol, list[sp.Rational]]:
    """Symbols that a case expression defines only at some values (``-log h if y = 1``,
    ``-log(1-h) if y = 0``, no otherwise): they are compared at those values, where the notes
    give the expression a meaning, instead of at random ones where it has none."""
    out: dict[sp.Symbol, list[sp.Rational]] = {}
    for e in exprs:
        for pw in e.atoms(sp.Piecewise):
            *pieces, last = pw.args
            if not (last.expr is sp.nan and last.cond is sp.true) or not pieces:
                continue
            conds = [p.cond for p in pieces]
            if not all(isinstance(c, sp.Eq) and c.lhs.is_Symbol and c.rhs.is_Rational for c in conds):
                continue
            symbols = {c.lhs for c in conds}
            if len(symbols) == 1:
                (s,) = symbols
                out[s] = sorted({*out.get(s, []), *(c.rhs for c in conds)})
    return out


def numeric_value(expr: sp.Expr, point: dict) -> sp.Float | None:
    """``expr`` at ``point`` to 50 digits, or None where it is not a finite real number. A value
    that is zero to the working precision comes back as 0."""
    try:
        e = as_expr(expr)
        if any(not p.exp.is_Number for p in e.atoms(sp.Pow)):
            # unevaluated: a rational to a rational power (y^n at y = 0.37, n = 0.81) would
            # otherwise send SymPy hunting for perfect powers of huge integers; evalf is exact enough
            with sp.evaluate(False):
                v = e.xreplace(point)
        else:
            v = e.xreplace(point)
        v = v.evalf(DIGITS, maxn=DIGITS * 6) if not v.is_Number else v
    except (ZeroDivisionError, ValueError, TypeError, OverflowError, RecursionError):
        return None
    if v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    if not v.is_Number:
        re, im = v.as_real_imag()
        try:
            re, im = sp.Float(re, DIGITS), sp.Float(im, DIGITS)
        except (TypeError, ValueError):
            return None
        if not im.is_zero and im._prec > 10 and abs(im) > sp.Float("1e-40"):
            return None
        v = re
    if isinstance(v, sp.Float) and not v.is_zero and v._prec < 20:
        return sp.Float(0)  # evalf found no significant digit: the value cancels to zero
    return sp.Float(v, DIGITS)


@dataclass
class Outcome:
    """What comparing two values found."""

    verdict: str  # holds | fails | undecided
    evidence: str | None = None  # symbolic | numeric
    reason: str | None = None
    point: dict | None = None
    lhs: float | None = None
    rhs: float | None = None
    entry: tuple[int, int] | None = None


def _entries(v: Value) -> list[sp.Expr]:
    return list(v) if is_matrix(v) else [v]  # type: ignore[arg-type]


def _difference_is_zero(a: sp.Expr, b: sp.Expr, point: dict) -> bool:
    """The difference evaluated as one expression at an exact point: evalf raises its precision
    until the *difference* has 50 correct digits, so a tiny genuine difference between huge values
    (1e-30 next to 1e70) is seen, and a true identity comes back as 0."""
    d = numeric_value(a - b, point)
    return d is None or bool(d.is_zero)


def _close(a: sp.Float, b: sp.Float, abs_tol: sp.Float | None) -> bool:
    if abs_tol is not None:
        return abs(a - b) <= abs_tol
    return abs(a - b) <= REL_TOL * max(1, abs(a), abs(b))


def numeric_compare(
    L: Value, R: Value, seed: int, count: int = 8, abs_tol: float | None = None, min_points: int = 3
) -> Outcome:
    """Compare at random points: ``fails`` with the first point that differs, ``holds`` (numeric)
    when all agree, ``undecided`` when too few points could be evaluated."""
    left = [_numeric_form(e) for e in _entries(L)]
    right = [_numeric_form(e) for e in _entries(R)]
    symbols = sorted(set().union(*(e.free_symbols for e in left + right)), key=lambda s: s.name)
    ncols = L.shape[1] if is_matrix(L) else 1  # type: ignore[union-attr]
    tol = sp.Float(abs_tol, DIGITS) if abs_tol is not None else None
    if not symbols:
        count = 1
        min_points = 1
    valid = 0
    cases = _case_values(left + right)
    for k, point in enumerate(random_points(symbols, count * 2 if symbols else 1, seed)):
        for s, options in cases.items():
            point[s] = options[k % len(options)]
        values = []
        ok = True
        for a, b in zip(left, right, strict=False):
            va, vb = numeric_value(a, point), numeric_value(b, point)
            if va is None or vb is None:
                ok = False
                break
            values.append((va, vb))
        if not ok:
            continue
        valid += 1
        for k, (va, vb) in enumerate(values):
            # the exact-difference test costs most on true identities: two points suffice for it
            exact_test = tol is None and valid <= 2
            if not _close(va, vb, tol) or (exact_test and not _difference_is_zero(left[k], right[k], point)):
                return Outcome(
                    "fails",
                    point=point,
                    lhs=float(va),
                    rhs=float(vb),
                    entry=(k // ncols + 1, k % ncols + 1) if is_matrix(L) else None,
                )
        if valid >= count:
            break
    if valid < min_points:
        return Outcome(
            "undecided",
            reason="the sides could not be evaluated at enough points (undefined or complex values)",
        )
    return Outcome("holds", evidence="numeric")


# ----------------------------------------------------------------------------------------------
# Exact proof
# ----------------------------------------------------------------------------------------------


def _tanh_to_exp(expr: sp.Expr) -> sp.Expr:
    return expr.replace(sp.tanh, lambda x: (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x)))


def _exp_rational(expr: sp.Expr) -> sp.Expr | None:
    """Replace each e^{c·m} (m a monomial, c an integer) by G_m^c: an exp-rational expression
    becomes a rational function, for which ``cancel`` decides zero exactly."""
    gens: dict[sp.Expr, sp.Symbol] = {}
    mapping = {}
    for atom in expr.atoms(sp.exp):
        arg = sp.expand(atom.args[0])
        factor = sp.S.One
        for term, coeff in arg.as_coefficients_dict().items():
            if not coeff.is_Integer:
                return None
            if term == 1:
                factor *= sp.exp(coeff)
                continue
            g = gens.setdefault(term, sp.Dummy("G", positive=True))
            factor *= g ** int(coeff)
        mapping[atom] = factor
    return expr.xreplace(mapping)


def prove_zero(d: sp.Expr, budget: float = 6.0) -> bool | None:
    """True when ``d`` is proved identically 0; None when no proof was reached in ``budget``
    seconds (or the tools gave up). Never True for a nonzero expression."""
    d = as_expr(d)
    if d == 0:
        return True
    start = time.monotonic()

    def left() -> float:
        return budget - (time.monotonic() - start)

    try:
        with deadline(min(left(), budget * 0.25)):
            if sp.expand(d) == 0:
                return True
        tb = _tanh_to_exp(_numeric_form(d))
        if not tb.has(sp.Piecewise):
            with deadline(min(left(), budget * 0.35)):
                r = _exp_rational(sp.expand(tb))
                if r is not None and sp.cancel(sp.together(r)) == 0:
                    return True
        with deadline(left()):
            s = sp.simplify(tb)
            if s == 0:
                return True
            if s.has(sp.Piecewise):
                s = sp.piecewise_fold(s)
                if isinstance(s, sp.Piecewise) and all(sp.simplify(e) == 0 for e, _c in s.args):
                    return True
    except Deadline:
        return None
    except (
        RecursionError,
        MemoryError,
        ValueError,
        TypeError,
        NotImplementedError,
        AttributeError,
        ZeroDivisionError,
    ):
        return None
    return None
