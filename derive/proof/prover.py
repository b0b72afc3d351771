"""Proving that two expressions are equal: exact computer algebra first, numbers as a second witness.

Every claim is a list of ``(lhs, rhs)`` pairs that must all be equal. ``verify`` runs

1. an exact proof under a time limit: function applications (σ(u), tanh(u), e^u, …) become fresh
   symbols, which turns each difference into a rational function of independent atoms; if it
   cancels to 0 the identity holds for every value of the atoms, hence everywhere. When it does
   not cancel, the registry functions are rewritten to their textbook forms (exp, log, Piecewise)
   and SymPy's ``simplify`` gets a try, still under the time limit;
2. an independent numeric witness: both sides at random points in 50-digit mpmath arithmetic.

A claim is "proved" when (1) reaches 0 and (2) agrees, "numeric" when only (2) agrees (the reason
is kept), and "fails" when (2) disagrees — with the point as a counterexample.
"""

from __future__ import annotations

import functools
import multiprocessing
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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

__all__ = [
    "DEFAULT_POINTS",
    "DEFAULT_TIMEOUT",
    "ProofTimeoutError",
    "Verification",
    "atomize",
    "numeric_witness",
    "prove_equal",
    "time_limit",
    "verify",
    "verify_groups",
]

DEFAULT_TIMEOUT = 20.0  # seconds of exact algebra per claim before falling back to numbers
DEFAULT_POINTS = 3  # random points for the numeric witness
DIGITS = 50
MAX_NODES = 400_000  # expression size above which exact algebra is not attempted

Pair = tuple[Expr, Expr]



class ProofTimeoutError(Exception):
    """The exact proof ran past its time limit."""


@contextmanager
def time_limit(seconds: float | None, error: type[Exception] = ProofTimeoutError) -> Iterator[None]:
    """Raise ``error`` inside the block after ``seconds``; None or 0 means no limit.

    SymPy is pure Python, so a SIGALRM timer interrupts it between bytecodes. Only the main thread
    can take signals: elsewhere (and without ``setitimer``) the block runs unlimited. Limits nest:
    an outer timer running on entry is re-armed on exit with what is left of it.
    """
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def _expire(signum: int, frame: object) -> None:
        raise error(f"exceeded the time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _expire)
    outer_delay, _ = signal.getitimer(signal.ITIMER_REAL)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - (time.monotonic() - start), 0.001))


def atomize(exprs: Sequence[Expr]) -> list[Expr]:
    """Replace every application of a function by one fresh symbol per distinct application.

    Inner applications are replaced first, so σ(w·σ(u)) becomes s2 with s2 standing for σ(w·s1).
    Equal applications share one symbol across all of ``exprs``. A difference that vanishes as a
    polynomial in these independent symbols vanishes for their true values: sound for any
    function. Unevaluated derivatives (of an arbitrary loss ℓ) are one symbol each, whole: what
    they differentiate must not become a constant inside them. Arbitrary functions stay as they
    are (their derivatives refer to them).
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
        if isinstance(e, (sp.Derivative, sp.Subs)):
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
    gens = sorted(e.free_symbols | set(inverses.values()), key=lambda s: (s.name, s.dummy_index or 0)
                  if isinstance(s, sp.Dummy) else (s.name, 0))
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


class _NotPolynomialError(Exception):
    """A node (a float, a non-integer power, a Piecewise) the polynomial test does not take."""


def _is_zero_exactly(d: Expr) -> bool:
    """Decide d == 0 by algebra; False means "not shown", never "shown nonzero"."""
    if d == 0:
        return True
    (a,) = atomize([d])
    if _polynomial_is_zero(a) or sp.expand(a) == 0:
        return True
    if sp.cancel(sp.together(a)) == 0:
        return True
    t = _elementary(rules.textbook_form(d)).rewrite(sp.tanh, sp.exp)
    t = sp.expand_log(sp.powsimp(t), force=True)
    s = sp.simplify(t)
    if s == 0:
        return True
    s = sp.piecewise_fold(s)  # ReLU-like rules: every branch must vanish
    return isinstance(s, sp.Piecewise) and all(sp.simplify(e) == 0 for e, _ in s.args)


def _elementary(e: Expr) -> Expr:
    """The overflow-free forms' helpers (log-add-exp, e^x − 1, max, min) by their definitions."""
    e = e.replace(logaddexp, lambda a, b: sp.log(sp.exp(a) + sp.exp(b))).replace(expm1, lambda x: sp.exp(x) - 1)
    return e.rewrite(sp.Piecewise) if e.has(sp.Max, sp.Min) else e


def prove_equal(pairs: Sequence[Pair], timeout: float | None = DEFAULT_TIMEOUT) -> tuple[bool, str]:
    """Try to prove every pair equal by exact algebra; (proved, what happened)."""
    try:
        with time_limit(timeout):
            for i, (lhs, rhs) in enumerate(pairs):
                d = as_expr(lhs) - as_expr(rhs)
                if _node_count(d, MAX_NODES) > MAX_NODES:
                    return False, f"expression larger than {MAX_NODES} nodes; exact proof not attempted"
                if not _is_zero_exactly(d):
                    return False, f"exact simplification did not reach 0 (entry {i + 1} of {len(pairs)})"
    except ProofTimeoutError as err:
        return False, str(err)
    except RecursionError:
        return False, "expression too deep for exact simplification"
    return True, f"exact: lhs − rhs simplifies to 0 for all {len(pairs)} entries"


@dataclass
class Witness:
    """The outcome of the numeric check: agreement, largest relative error, a counterexample."""

    agree: bool
    max_error: float
    points: int
    counterexample: dict[str, float] | None = None
    lhs_value: float | None = None
    rhs_value: float | None = None


def _sample(symbol: sp.Symbol, rng: random.Random) -> mpmath.mpf:
    name = symbol.name
    if name.startswith("y"):  # targets inside (0, 1): valid for every loss
        return mpmath.mpf(rng.uniform(0.05, 0.95))
    if name.startswith("lambda"):
        return mpmath.mpf(rng.uniform(0.1, 1.0))
    value = rng.uniform(-1.5, 1.5)
    if abs(value) < 1e-3:  # stay off the ReLU kink
        value = 0.5
    return mpmath.mpf(value)


# The elementary functions the registry's are written with; the registry's own are evaluated by
# their textbook definitions (``rules.mpmath_form``), independent of every closed form under test.
_MP_FUNCS = {
    sp.tanh: mpmath.tanh,
    sp.exp: mpmath.exp,
    sp.log: mpmath.log,
    sp.erf: mpmath.erf,
    sp.sqrt: mpmath.sqrt,
    expm1: mpmath.expm1,
}
_MP_BINARY = {
    sp.Max: max,
    sp.Min: min,
    logaddexp: lambda a, b: mpmath.log(mpmath.exp(a) + mpmath.exp(b)),
}


def evaluate(expr: Expr, values: dict[sp.Symbol, mpmath.mpf], memo: dict[Expr, object] | None = None) -> object:
    """Evaluate ``expr`` at ``values`` in mpmath, once per distinct subexpression (a DAG walk)."""
    memo = {} if memo is None else memo
    hit = memo.get(expr)
    if hit is not None:
        return hit
    if expr.is_Symbol:
        value = values[expr]
    elif expr.is_Number:
        value = mpmath.mpf(expr.p) / expr.q if expr.is_Rational else mpmath.mpf(str(expr.evalf(DIGITS)))
    elif expr.is_Add:
        value = mpmath.fsum(evaluate(a, values, memo) for a in expr.args)
    elif expr.is_Mul:
        value = mpmath.fprod(evaluate(a, values, memo) for a in expr.args)
    elif expr.is_Pow:
        value = evaluate(expr.base, values, memo) ** evaluate(expr.exp, values, memo)
    elif expr.func in _MP_FUNCS:
        value = _MP_FUNCS[expr.func](evaluate(expr.args[0], values, memo))
    elif rules.is_defined(expr):
        value = rules.mpmath_form(expr.func)(evaluate(expr.args[0], values, memo))
    elif expr.func in _MP_BINARY:
        value = functools.reduce(_MP_BINARY[expr.func], (evaluate(a, values, memo) for a in expr.args))
    elif isinstance(expr, sp.Piecewise):
        value = next(evaluate(e, values, memo) for e, c in expr.args if evaluate(c, values, memo))
    elif isinstance(expr, sp.core.relational.Relational):
        left, right = evaluate(expr.lhs, values, memo), evaluate(expr.rhs, values, memo)
        value = {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right,
                 "==": left == right, "!=": left != right}[expr.rel_op]
    elif expr in (sp.true, sp.false):
        value = bool(expr)
    elif isinstance(expr, sp.KroneckerDelta):
        value = mpmath.mpf(evaluate(expr.args[0], values, memo) == evaluate(expr.args[1], values, memo))
    elif expr is sp.E:
        value = mpmath.e
    elif expr is sp.pi:
        value = mpmath.pi
    else:
        raise TypeError(f"cannot evaluate {type(expr).__name__} numerically")
    memo[expr] = value
    return value


def numeric_witness(pairs: Sequence[Pair], points: int = DEFAULT_POINTS, seed: int = 0) -> Witness:
    """Evaluate both sides of every pair at random points with 50 significant digits."""
    exprs = [as_expr(side) for pair in pairs for side in pair]
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    rng = random.Random(seed)
    worst = 0.0
    tolerance = mpmath.mpf(10) ** (-(DIGITS - 10))
    with mpmath.workdps(DIGITS):
        for _ in range(points):
            values = {s: _sample(s, rng) for s in symbols}
            memo: dict[Expr, object] = {}
            for lhs, rhs in pairs:
                left, right = evaluate(as_expr(lhs), values, memo), evaluate(as_expr(rhs), values, memo)
                scale = max(mpmath.mpf(1), abs(left), abs(right))
                error = abs(left - right) / scale
                worst = max(worst, float(error))
                if not error <= tolerance:  # also catches NaN
                    point = {s.name: float(v) for s, v in values.items()}
                    return Witness(False, float(error), points, point, float(left), float(right))
    return Witness(True, worst, points)


@dataclass
class Verification:
    verdict: str  # "proved" | "numeric" | "fails"
    evidence: str
    seconds: float
    witness: Witness | None = field(default=None)


def _combine(results: list[tuple[bool, str, Witness]], n_pairs: int, seconds: float, workers: int) -> Verification:
    """One verdict from the verdicts of several groups of pairs."""
    worst = max((w.max_error for _, _, w in results), default=0.0)
    points = results[0][2].points if results else 0
    witness = Witness(True, worst, points)
    numbers = f"numeric: {points} random points at {DIGITS} digits, max relative error {worst:.1e}"
    for _, _, w in results:
        if not w.agree:
            return Verification("fails", f"counterexample: lhs = {w.lhs_value:.12g}, rhs = "
                                f"{w.rhs_value:.12g} at {w.counterexample}", seconds, w)
    unproved = [how for proved, how, _ in results if not proved]
    if not unproved:
        how = f"exact: lhs − rhs simplifies to 0 for all {n_pairs} entries"
        return Verification("proved", f"{how}; {numbers}", seconds, witness)
    return Verification("numeric", f"numeric witness only ({unproved[0]}); {numbers}", seconds, witness)


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
                raw = pool.starmap(_run_task, [(i, timeout, points, seed) for i in range(len(tasks))])
        else:
            raw = [_run_task(i, timeout, points, seed) for i in range(len(tasks))]
    finally:
        _TASKS = []
    results = [(p, h, w) for p, h, w, _ in raw]
    n_pairs = sum(n for *_, n in raw)
    return _combine(results, n_pairs, time.perf_counter() - start, workers if len(tasks) > 1 else 1)


def verify(
    pairs: Sequence[Pair],
    numeric_pairs: Sequence[Pair] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    points: int = DEFAULT_POINTS,
    seed: int = 0,
) -> Verification:
    """Prove ``pairs`` equal exactly, and check ``numeric_pairs`` (default: the same) numerically."""
    witness = numeric_witness(numeric_pairs if numeric_pairs is not None else pairs, points, seed)
    start = time.perf_counter()
    # A counterexample settles the claim: the exact proof is only attempted for claims that agree.
    proved, how = prove_equal(pairs, timeout) if witness.agree else (False, "refuted")
    seconds = time.perf_counter() - start
    numbers = f"numeric: {witness.points} random points at {DIGITS} digits, max relative error {witness.max_error:.1e}"
    if not witness.agree:
        return Verification("fails", f"counterexample: lhs = {witness.lhs_value:.12g}, rhs = "
                            f"{witness.rhs_value:.12g} at {witness.counterexample}", seconds, witness)
    if proved:
        return Verification("proved", f"{how}; {numbers}", seconds, witness)
    return Verification("numeric", f"numeric witness only ({how}); {numbers}", seconds, witness)
