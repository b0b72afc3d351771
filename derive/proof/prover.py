"""The one prover of the package: is lhs = rhs? A numeric witness first, an exact proof second.

Both the derivation (``derive()``) and the claims checker (``derive check``) ask it. A claim is a
list of ``(lhs, rhs)`` pairs that must all be equal.

1. **Witness.** Both sides are evaluated at random points in 50-digit mpmath arithmetic, one pass
   over each expression's DAG (every distinct subexpression once, so the derivatives of deep
   networks stay cheap). The registry's functions are evaluated by their textbook definitions,
   independently of every closed form under test. A point where the sides differ is a
   counterexample. With ``exact_difference`` the first points are evaluated again at rising
   precision, so that a tiny genuine difference between huge values (1e-30 beside 1e70) is seen.
2. **Exact proof**, under a time limit, in stages: every function application becomes an
   independent symbol and the difference must vanish as a polynomial in those symbols and the
   inverses of the sums it divides by (sound for any function; fast); then ``expand``/``cancel``;
   then the registry's functions by their textbook forms, exponentials as powers of independent
   generators (an exp-rational expression becomes rational) and ``cancel``; then ``simplify``,
   piecewise branch by branch.

The verdict is "proved" (exact), "numeric" (the witness agrees, no exact proof in time: the
reason is kept), "fails" (a counterexample) or "undecided" (too few points where both sides are
real numbers).
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mpmath
import sympy as sp
from sympy import QQ, Expr
from sympy.codegen.cfunctions import expm1
from sympy.codegen.numpy_nodes import logaddexp
from sympy.core.function import AppliedUndef
from sympy.polys.rings import ring

from ..exprs import as_expr
from ..model import rules
from ..timelimit import Deadline, time_limit, wait_in_slices
from .sums import normal_sums

__all__ = [
    "DEFAULT_POINTS",
    "DEFAULT_TIMEOUT",
    "DIGITS",
    "NotReal",
    "ProofTimeoutError",
    "Verification",
    "Witness",
    "atomize",
    "evaluate",
    "normal_sums",
    "numeric_value",
    "numeric_witness",
    "prove_equal",
    "random_points",
    "verify",
    "verify_groups",
]

DEFAULT_TIMEOUT = 20.0  # seconds of exact algebra per claim before falling back to numbers
DEFAULT_POINTS = 3  # random points for the numeric witness
DIGITS = 50
REL_TOL = mpmath.mpf(10) ** -30  # sides closer than this (relative) agree at a point
MAX_NODES = 400_000  # expression size above which exact algebra is not attempted
EXACT_DIGITS = (100, 200, 400)  # precisions at which an agreeing difference is looked at again

Pair = tuple[Expr, Expr]
Point = dict[sp.Symbol, sp.Rational]


class ProofTimeoutError(Deadline):
    """The exact proof ran past its time limit."""


class _StageTimeout(Deadline):
    """One stage of the exact proof ran past its share of the time."""


# ------------------------------------------------------------------------------------------
# Evaluation at a point.
# ------------------------------------------------------------------------------------------


class NotReal(Exception):  # noqa: N818 - reads as what it is
    """The expression has no finite real value at the point (log of a negative, 1/0, a case the
    notes leave undefined)."""


# The elementary functions the registry's are written with. The registry's own are evaluated by
# their textbook definitions (``rules.mpmath_form``), independent of every closed form under test.
_MP_UNARY: dict[type, Callable[[mpmath.mpf], mpmath.mpf]] = {
    sp.exp: mpmath.exp,
    sp.log: mpmath.log,
    sp.tanh: mpmath.tanh,
    sp.erf: mpmath.erf,
    sp.Abs: abs,
    expm1: mpmath.expm1,
}
_MP_BINARY = {
    sp.Max: max,
    sp.Min: min,
    logaddexp: lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
}
_RELATIONS = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _real(value: object) -> object:
    """A finite real value, or NotReal (mpmath gives complex numbers for log(−1), √−1)."""
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > mpmath.mpf(10) ** (-mpmath.mp.dps + 5) * max(1, abs(value.real)):
            raise NotReal("complex value")
        value = value.real
    if isinstance(value, mpmath.mpf) and not mpmath.isfinite(value):
        raise NotReal("not finite")
    return value


def evaluate(expr: Expr, values: dict[sp.Symbol, object], memo: dict[Expr, object] | None = None) -> object:
    """``expr`` at ``values`` in mpmath at the current precision, once per distinct subexpression.

    Raises NotReal where the value is not a finite real number, TypeError for a node it cannot
    evaluate."""
    memo = {} if memo is None else memo
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if expr.is_Symbol:
        value = values[expr]
    elif expr.is_Rational:
        value = mpmath.mpf(expr.p) / expr.q
    elif expr.is_Float:
        value = mpmath.mpf(expr)
    elif expr.is_Add:
        value = mpmath.fsum(evaluate(a, values, memo) for a in expr.args)
    elif expr.is_Mul:
        value = mpmath.fprod(evaluate(a, values, memo) for a in expr.args)
    elif expr.is_Pow:
        base, exponent = evaluate(expr.base, values, memo), evaluate(expr.exp, values, memo)
        if base == 0 and exponent < 0:
            raise NotReal("division by zero")
        value = base**exponent
    elif expr in (sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise NotReal("undefined")
    elif rules.is_defined(expr):
        value = rules.mpmath_form(expr.func)(evaluate(expr.args[0], values, memo))
    elif expr.func in _MP_UNARY:
        value = _MP_UNARY[expr.func](evaluate(expr.args[0], values, memo))
    elif expr.func in _MP_BINARY:
        value = functools.reduce(_MP_BINARY[expr.func], (evaluate(a, values, memo) for a in expr.args))
    elif isinstance(expr, sp.Piecewise):
        value = next((evaluate(e, values, memo) for e, c in expr.args if evaluate(c, values, memo)), None)
        if value is None:
            raise NotReal("no case applies")
    elif isinstance(expr, sp.core.relational.Relational):
        value = _RELATIONS[expr.rel_op](evaluate(expr.lhs, values, memo), evaluate(expr.rhs, values, memo))
    elif isinstance(expr, (sp.And, sp.Or, sp.Not)):
        parts = [bool(evaluate(a, values, memo)) for a in expr.args]
        value = all(parts) if isinstance(expr, sp.And) else any(parts) if isinstance(expr, sp.Or) else not parts[0]
    elif expr in (sp.true, sp.false):
        value = bool(expr)
    elif isinstance(expr, sp.KroneckerDelta):
        value = mpmath.mpf(evaluate(expr.args[0], values, memo) == evaluate(expr.args[1], values, memo))
    elif expr.is_NumberSymbol or expr is sp.E:
        value = mpmath.mpf(expr.evalf(mpmath.mp.dps + 5))
    elif isinstance(expr, sp.Function) and hasattr(mpmath, type(expr).__name__.lower()):
        # sin, cos, sinh, sqrt, … : mpmath's function of the same name
        value = getattr(mpmath, type(expr).__name__.lower())(*(evaluate(a, values, memo) for a in expr.args))
    else:
        raise TypeError(f"cannot evaluate {type(expr).__name__} numerically")
    value = _real(value)
    memo[expr] = value
    return value


def _mp_point(point: Point) -> dict[sp.Symbol, mpmath.mpf]:
    """The point's exact rationals (or floats) as mpmath numbers at the working precision."""
    return {s: mpmath.mpf(v.p) / v.q if v.is_Rational else mpmath.mpf(v) for s, v in point.items()}


def numeric_value(expr: Expr, point: Point, digits: int = DIGITS) -> sp.Float | None:
    """``expr`` at ``point`` to ``digits`` digits, or None where it is not a finite real number."""
    with mpmath.workdps(digits):
        try:
            value = evaluate(as_expr(expr), _mp_point(point))
        except (NotReal, ZeroDivisionError, ValueError, TypeError, OverflowError, RecursionError):
            return None
        return sp.Float(value, digits)


# Regions the points cycle through: where sigmoids, logs and targets live (0.1, 0.9); the
# negative side of ReLU-like rules (−1.5, 1.5); away from 0 and 1 (0.5, 2.5).
_REGIONS = [(0.1, 0.9), (-1.5, 1.5), (0.1, 0.9), (0.5, 2.5), (-1.5, 1.5), (0.1, 0.9), (0.5, 2.5), (-1.5, 1.5)]


def random_points(symbols: Sequence[sp.Symbol], count: int, seed: int) -> list[Point]:
    """Exact rational points (6 decimals), one region per point; nonnegative symbols stay so.
    Rational, so that nothing is rounded before evaluation."""
    rng = random.Random(seed)
    points = []
    for k in range(count):
        lo, hi = _REGIONS[k % len(_REGIONS)]
        point = {}
        for s in symbols:
            v = rng.uniform(lo, hi)
            if abs(v) < 1e-3:  # off the kink of ReLU-like rules
                v = 0.5
            if s.is_nonnegative and v < 0:
                v = -v
            point[s] = sp.Rational(repr(round(v, 6)))
        points.append(point)
    return points


def _case_values(exprs: Sequence[Expr]) -> dict[sp.Symbol, list[sp.Rational]]:
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


@dataclass
class Witness:
    """What the numeric check found: agreement, the largest relative error, a counterexample."""

    agree: bool
    max_error: float
    points: int  # points where every side was evaluated
    counterexample: Point | None = None
    lhs_value: float | None = None
    rhs_value: float | None = None
    entry: int | None = None  # the pair that differs

    @property
    def counterexample_text(self) -> dict[str, float]:
        return {s.name: float(v) for s, v in (self.counterexample or {}).items()}


def _agree(a: object, b: object, abs_tol: mpmath.mpf | None) -> tuple[bool, float]:
    scale = mpmath.mpf(1) if abs_tol is not None else max(mpmath.mpf(1), abs(a), abs(b))
    error = abs(a - b) / scale
    return (error <= (abs_tol if abs_tol is not None else REL_TOL)), float(error)


def _differs_at_high_precision(lhs: Expr, rhs: Expr, point: Point) -> bool:
    """The sides evaluated again with more and more digits: a difference that stands above the
    rounding of every precision is genuine, however small beside the values."""
    for digits in EXACT_DIGITS:
        with mpmath.workdps(digits):
            try:
                values = _mp_point(point)
                a, b = evaluate(lhs, values), evaluate(rhs, values)
            except (NotReal, ZeroDivisionError, ValueError, TypeError, OverflowError):
                return False
            if abs(a - b) > mpmath.mpf(10) ** (-digits + 10) * max(1, abs(a), abs(b)):
                return True
    return False


def numeric_witness(
    pairs: Sequence[Pair],
    points: int = DEFAULT_POINTS,
    seed: int = 0,
    *,
    abs_tol: float | None = None,
    exact_difference: bool = False,
    tries: int | None = None,
) -> Witness:
    """Evaluate both sides of every pair at ``points`` random points with 50 significant digits.

    Points where a side has no real value are skipped (up to ``tries`` points are drawn, default
    twice ``points``); ``Witness.points`` counts the points used. ``abs_tol`` compares absolute
    differences (a decimal written in the notes); ``exact_difference`` looks again at the first
    two points at higher precision."""
    exprs = [as_expr(side) for pair in pairs for side in pair]
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    tolerance = mpmath.mpf(abs_tol) if abs_tol is not None else None
    cases = _case_values(exprs)
    candidates = random_points(symbols, (tries or 2 * points) if symbols else 1, seed)
    worst = 0.0
    used = 0
    with mpmath.workdps(DIGITS):
        for k, point in enumerate(candidates):
            for s, options in cases.items():
                point[s] = options[k % len(options)]
            values = _mp_point(point)
            memo: dict[Expr, object] = {}
            try:
                sides = [
                    (evaluate(as_expr(lhs), values, memo), evaluate(as_expr(rhs), values, memo)) for lhs, rhs in pairs
                ]
            except (NotReal, ZeroDivisionError, ValueError, OverflowError):
                continue
            used += 1
            for i, ((left, right), (lhs, rhs)) in enumerate(zip(sides, pairs, strict=True)):
                same, error = _agree(left, right, tolerance)
                worst = max(worst, error)
                if not same or (exact_difference and used <= 2 and _differs_at_high_precision(lhs, rhs, point)):
                    return Witness(False, error, used, point, float(left), float(right), i)
            if used >= points:
                break
    return Witness(True, worst, used)


# ------------------------------------------------------------------------------------------
# Exact proof.
# ------------------------------------------------------------------------------------------


def atomize(exprs: Sequence[Expr]) -> list[Expr]:
    """Replace every application of a function by one fresh symbol per distinct application.

    Inner applications are replaced first, so σ(w·σ(u)) becomes s2 with s2 standing for σ(w·s1).
    Equal applications share one symbol across all of ``exprs``. A difference that vanishes as a
    polynomial in these independent symbols vanishes for their true values: sound for any
    function. Unevaluated derivatives (of an arbitrary loss ℓ) and sums are one symbol each,
    whole: what they bind must not become a constant inside them; entries of indexed arrays
    (W_{ik}) are symbols too. Arbitrary functions stay as they are (their derivatives refer to
    them).
    """
    table: dict[Expr, sp.Symbol] = {}
    memo: dict[Expr, Expr] = {}

    def fresh(e: Expr) -> sp.Symbol:
        return table.setdefault(e, sp.Dummy(f"f{len(table)}", real=True))

    def walk(e: Expr) -> Expr:
        if e.is_Atom:
            return e
        hit = memo.get(e)
        if hit is not None:
            return hit
        if isinstance(e, (sp.Derivative, sp.Subs, sp.Sum, sp.Indexed)):
            new = fresh(e)
        else:
            args = tuple(walk(a) for a in e.args)
            new = e.func(*args) if args != e.args else e
            if isinstance(new, sp.Function) and not isinstance(new, AppliedUndef):
                new = fresh(new)
        memo[e] = new
        return new

    return [walk(as_expr(e)) for e in exprs]


def _node_count(e: Expr, limit: int) -> int:
    n = 0
    for _ in sp.preorder_traversal(e):
        n += 1
        if n > limit:
            break
    return n


class _NotPolynomialError(Exception):
    """A node (a float, a non-integer power, a Piecewise) the polynomial test does not take."""


def _polynomial_is_zero(e: Expr) -> bool:
    """True when ``e`` (already atomized) is the zero polynomial in its symbols and the inverses
    1/u of the sums u it divides by, each taken as one more independent symbol.

    Zero there means zero for every value (substitute the true 1/u back), so True is a proof;
    False only means "not shown this way". Sparse polynomial arithmetic over the expression DAG,
    each distinct subexpression once: far faster than ``expand`` on the derivatives of deep nets.
    """
    inverses: dict[Expr, sp.Dummy] = {}
    seen: set[Expr] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.is_Pow and node.exp.is_Integer and node.exp < 0 and node.base not in inverses:
            inverses[node.base] = sp.Dummy("inv")
        stack.extend(node.args)
    gens = sorted(
        e.free_symbols | set(inverses.values()),
        key=lambda s: (s.name, s.dummy_index or 0) if isinstance(s, sp.Dummy) else (s.name, 0),
    )
    if not gens:
        return e == 0
    R, *G = ring(gens, QQ)
    gen = dict(zip(gens, G))
    memo: dict[Expr, object] = {}

    def poly(node: Expr) -> object:
        hit = memo.get(node)
        if hit is not None:
            return hit
        if node.is_Symbol:
            value = gen[node]
        elif node.is_Rational:
            value = R(QQ(int(node.p), int(node.q)))
        elif node.is_Add:
            value = R.zero
            for arg in node.args:
                value = value + poly(arg)
        elif node.is_Mul:
            value = R.one
            for arg in node.args:
                value = value * poly(arg)
        elif node.is_Pow and node.exp.is_Integer:
            k = int(node.exp)
            value = poly(node.base) ** k if k >= 0 else gen[inverses[node.base]] ** (-k)
        else:
            raise _NotPolynomialError
        memo[node] = value
        return value

    try:
        return poly(e) == 0
    except _NotPolynomialError:
        return False


def _elementary(e: Expr) -> Expr:
    """Registry functions and the overflow-free forms' helpers (log-add-exp, e^x − 1, max, min)
    by their definitions; tanh by exponentials."""
    e = rules.textbook_form(e)
    e = e.replace(logaddexp, lambda a, b: sp.log(sp.exp(a) + sp.exp(b))).replace(expm1, lambda x: sp.exp(x) - 1)
    e = e.rewrite(sp.Piecewise) if e.has(sp.Max, sp.Min) else e
    return e.rewrite(sp.tanh, sp.exp) if e.has(sp.tanh) else e


def _exp_rational(expr: Expr) -> Expr | None:
    """Each e^{c·m} (m a monomial, c an integer) as G_m^c: an exp-rational expression becomes a
    rational function, for which ``cancel`` decides zero exactly; None when it is not one."""
    gens: dict[Expr, sp.Symbol] = {}
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


def _stage(share: float, end: float, test: Callable[[], bool]) -> bool:
    """Run one stage of the proof with ``share`` of the time left before ``end``; False when it
    runs out (the later stages still get their turn) or the tools give up."""
    left = end - time.monotonic()
    if left <= 0:  # checked here too: the watchdog only interrupts at the interpreter's switch interval
        return False
    try:
        with time_limit(left * share if left != float("inf") else None, _StageTimeout):
            return bool(test())
    except _StageTimeout:
        return False
    except (ValueError, TypeError, NotImplementedError, AttributeError, ZeroDivisionError, sp.PolynomialError):
        return False


def _is_zero_exactly(d: Expr, end: float = float("inf")) -> bool:
    """Decide d == 0 by algebra; False means "not shown", never "shown nonzero"."""
    if d == 0:
        return True
    (a,) = atomize([normal_sums(d)])
    if _stage(0.3, end, lambda: _polynomial_is_zero(a) or sp.expand(a) == 0 or sp.cancel(sp.together(a)) == 0):
        return True
    t = _elementary(d)
    if not t.has(sp.Piecewise):

        def exp_rational_cancels() -> bool:
            rational = _exp_rational(sp.expand(t))
            return rational is not None and sp.cancel(sp.together(rational)) == 0

        if _stage(0.5, end, exp_rational_cancels):
            return True

    def simplified() -> bool:
        s = sp.simplify(sp.expand_log(sp.powsimp(t), force=True))
        if s == 0:
            return True
        s = sp.piecewise_fold(s)  # ReLU-like rules: every branch must vanish
        return isinstance(s, sp.Piecewise) and all(sp.simplify(e) == 0 for e, _ in s.args)

    return _stage(1.0, end, simplified)


def prove_equal(pairs: Sequence[Pair], timeout: float | None = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """Try to prove every pair equal by exact algebra; (proved, what happened)."""
    end = time.monotonic() + timeout if timeout else float("inf")
    try:
        with time_limit(timeout, ProofTimeoutError):
            for i, (lhs, rhs) in enumerate(pairs):
                d = as_expr(lhs) - as_expr(rhs)
                if _node_count(d, MAX_NODES) > MAX_NODES:
                    return False, f"expression larger than {MAX_NODES} nodes; exact proof not attempted"
                if not _is_zero_exactly(d, end):
                    why = "exact simplification did not reach 0"
                    if time.monotonic() >= end:
                        why = f"exceeded the time limit of {timeout:g} s"
                    return False, f"{why} (entry {i + 1} of {len(pairs)})"
    except ProofTimeoutError as err:
        return False, str(err)
    except (RecursionError, MemoryError):
        return False, "expression too large for exact simplification"
    return True, f"exact: lhs − rhs simplifies to 0 for all {len(pairs)} entries"


# ------------------------------------------------------------------------------------------
# Verdicts.
# ------------------------------------------------------------------------------------------


@dataclass
class Verification:
    verdict: str  # "proved" | "numeric" | "fails" | "undecided"
    evidence: str
    seconds: float
    witness: Witness | None = field(default=None)

    @property
    def holds(self) -> bool:
        return self.verdict in ("proved", "numeric")


def _numbers(w: Witness) -> str:
    return f"numeric: {w.points} random points at {DIGITS} digits, max relative error {w.max_error:.1e}"


def _refuted(w: Witness, seconds: float) -> Verification:
    return Verification(
        "fails",
        f"counterexample: lhs = {w.lhs_value:.12g}, rhs = {w.rhs_value:.12g} at {w.counterexample_text}",
        seconds,
        w,
    )


def verify(
    pairs: Sequence[Pair],
    numeric_pairs: Sequence[Pair] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    points: int = DEFAULT_POINTS,
    seed: int = 0,
    *,
    abs_tol: float | None = None,
    exact_difference: bool = False,
    min_points: int = 1,
) -> Verification:
    """Check ``numeric_pairs`` (default: ``pairs``) at random points, then prove ``pairs`` exactly.

    A counterexample settles the claim (no proof is attempted); fewer than ``min_points`` points
    where every side is real leave it undecided. With ``abs_tol`` (sides compared to a written
    decimal) no exact proof is attempted: agreement within the rounding is what is claimed."""
    start = time.perf_counter()
    witness = numeric_witness(
        numeric_pairs if numeric_pairs is not None else pairs, points, seed,
        abs_tol=abs_tol, exact_difference=exact_difference,
    )
    if not witness.agree:
        return _refuted(witness, time.perf_counter() - start)
    if witness.points < min_points:
        return Verification(
            "undecided", "the sides could not be evaluated at enough points (undefined or complex values)",
            time.perf_counter() - start, witness,
        )
    if abs_tol is not None:
        return Verification("numeric", f"agrees within the written decimals; {_numbers(witness)}",
                            time.perf_counter() - start, witness)
    proved, how = prove_equal(pairs, timeout)
    seconds = time.perf_counter() - start
    if proved:
        return Verification("proved", f"{how}; {_numbers(witness)}", seconds, witness)
    return Verification("numeric", f"numeric witness only ({how}); {_numbers(witness)}", seconds, witness)


def _combine(results: list[tuple[bool, str, Witness]], n_pairs: int, seconds: float) -> Verification:
    """One verdict from the verdicts of several groups of pairs."""
    worst = max((w.max_error for _, _, w in results), default=0.0)
    witness = Witness(True, worst, min((w.points for _, _, w in results), default=0))
    for _, _, w in results:
        if not w.agree:
            return _refuted(w, seconds)
    unproved = [how for proved, how, _ in results if not proved]
    if not unproved:
        how = f"exact: lhs − rhs simplifies to 0 for all {n_pairs} entries"
        return Verification("proved", f"{how}; {_numbers(witness)}", seconds, witness)
    return Verification("numeric", f"numeric witness only ({unproved[0]}); {_numbers(witness)}", seconds, witness)


_TASKS: list[Callable[[], list[Pair]]] = []


def _run_task(index: int, timeout: float | None, points: int, seed: int) -> tuple[bool, str, Witness, int]:
    pairs = _TASKS[index]()
    witness = numeric_witness(pairs, points, seed + index)
    if not witness.agree:  # a counterexample settles it; no proof to attempt
        return False, "refuted by a counterexample", witness, len(pairs)
    proved, how = prove_equal(pairs, timeout)
    return proved, how, witness, len(pairs)


def verify_groups(
    tasks: Sequence[Callable[[], list[Pair]]],
    timeout: float | None = DEFAULT_TIMEOUT,
    points: int = DEFAULT_POINTS,
    seed: int = 0,
    workers: int = 1,
) -> Verification:
    """Verify several groups of pairs, each built by a task, in ``workers`` forked processes.

    Each group gets its own time limit. Building the pairs happens in the worker too, so the
    (large) expressions never cross a process boundary: only verdicts come back.
    """
    global _TASKS
    start = time.perf_counter()
    _TASKS = list(tasks)
    try:
        if workers > 1 and len(tasks) > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(min(workers, len(tasks))) as pool:
                pending = pool.starmap_async(_run_task, [(i, timeout, points, seed) for i in range(len(tasks))])

                def done(seconds: float) -> bool:
                    pending.wait(seconds)
                    return pending.ready()

                wait_in_slices(done, None)
                raw = pending.get()
        else:
            raw = [_run_task(i, timeout, points, seed) for i in range(len(tasks))]
    finally:
        _TASKS = []
    results = [(p, h, w) for p, h, w, _ in raw]
    n_pairs = sum(n for *_, n in raw)
    return _combine(results, n_pairs, time.perf_counter() - start)
