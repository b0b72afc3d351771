"""One link ``lhs = rhs`` of a claim's chain, checked at every value of its free indices.

Both sides are evaluated (``meaning``), compared by the one prover at random points and then
proved exactly (``proof.prover``). A failing link gets a counterexample, the expected value
(``expected``) and a diagnosis (``diagnose``). Arbitrary functions (``symbols: {u: function}``)
stay arbitrary in the proof; the numeric witness draws random smooth functions for them.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from ..exprs import as_expr
from ..proof.prover import DIGITS, Verification, Witness, numeric_value, numeric_witness, verify
from ..timelimit import Deadline, deadline
from .diagnose import diagnose, diagnose_shape
from .expected import NotesNames, expected_latex, expected_of_side
from .meaning import IMPLICIT_VARIABLE, Env, Evaluator, MeaningError, ShapeError, UnknownName
from .notation import Neg, Node, Num
from .printing import latex_of
from .values import Value, is_matrix, shape_text

__all__ = ["Link", "check_link"]

DIAGNOSIS_TIME_LIMIT = 8.0  # seconds at most to name the mistake of one failing link


@dataclass
class Link:
    """The outcome of one link: its verdict and, when it fails, what the reader needs."""

    verdict: str  # holds, fails or undecided
    evidence: str | None = None  # symbolic or numeric (holds and fails)
    reason: str | None = None  # why undecided
    expected: str | None = None
    counterexample: dict[str, Any] | None = None
    diagnosis: str | None = None
    readings: list[str] = field(default_factory=list)
    point_latex: dict[str, str] = field(default_factory=dict)  # the counterexample's functions, as LaTeX


def _readings(*evaluators: Evaluator) -> list[str]:
    """How the evaluators read undeclared names applied to parentheses (in order, once each)."""
    out: list[str] = []
    for ev in evaluators:
        for text in ev.readings:
            if text not in out:
                out.append(text)
    return out


def check_link(
    env: Env,
    cf: object,
    lhs: Node,
    rhs: Node,
    assignments: list[dict[str, int]],
    layer_letters: set[str],
    seed: int,
    budget: float,
    free_names: frozenset[str] = frozenset(),
    names: NotesNames | None = None,
) -> Link:
    """``lhs = rhs`` over every index assignment: holds, fails or undecided, within ``budget`` s
    (``names``: how the notes write the names of an expected value)."""
    start = time.monotonic()
    tol = _decimals_tolerance(rhs) or _decimals_tolerance(lhs)
    evidence = "symbolic"
    applicable = 0
    readings: list[str] = []
    for a in assignments:
        if time.monotonic() - start > budget:
            return Link("undecided", reason="time limit reached before every index value was checked")
        ev_l = Evaluator(env, a)
        ev_r = Evaluator(env, a)
        try:
            L = ev_l.eval(lhs)
            R = ev_r.eval(rhs)
        except ShapeError as err:
            expected = expected_of_side(env, lhs, a, names)
            diagnosis = diagnose_shape(env, cf, lhs, rhs, a, str(err), seed, _left(budget, start), assignments)
            return Link("fails", "symbolic", expected=expected, diagnosis=diagnosis)
        except MeaningError as err:  # UnknownName included
            if layer_letters and any(c in a for c in layer_letters):
                continue  # this layer does not have all the symbols: not checked there
            return Link("undecided", reason=str(err))
        except (RecursionError, MemoryError):
            return Link("undecided", reason="the formula is too large to evaluate")
        except Deadline:
            return Link("undecided", reason="time limit reached while evaluating")
        readings += [text for text in _readings(ev_l, ev_r) if text not in readings]
        if env.strict:
            bad = _unexplained_names(ev_l, ev_r, free_names)
            if bad and layer_letters and any(c in a for c in layer_letters):
                continue  # this layer does not have all the symbols: not checked there
            if bad:
                return Link("undecided", reason=str(UnknownName(bad)), readings=readings)
        applicable += 1
        if is_matrix(L) != is_matrix(R) or (is_matrix(L) and L.shape != R.shape):  # type: ignore[union-attr]
            problem = f"the left side is {shape_text(L)}, the right side is {shape_text(R)}"
            return Link(
                "fails",
                "symbolic",
                expected=expected_latex(env, L, names=names),
                diagnosis=diagnose_shape(env, cf, lhs, rhs, a, problem, seed, _left(budget, start), assignments),
                readings=readings,
            )
        Lf, Rf = env.expand(L), env.expand(R)
        exact_l, exact_r = Lf, Rf  # what is proved; generic functions stay generic there
        instances = _function_instances(Lf, Rf, seed)
        if instances:  # random smooth functions stand in for u, v at the random points
            Lf, Rf = _instantiate(Lf, instances), _instantiate(Rf, instances)
        remaining = budget - (time.monotonic() - start)
        proof_budget = max(min(remaining / max(1, len(assignments)), 8.0), 0.5)
        try:
            with deadline(max(remaining, 0.5)):
                out = _compare(exact_l, exact_r, Lf, Rf, seed, tol, proof_budget)
        except Deadline:
            return Link("undecided", reason="time limit reached while evaluating at random points", readings=readings)
        if out.verdict == "undecided":
            return Link("undecided", reason=out.evidence, readings=readings)
        if out.verdict == "fails":
            failed = Link("fails", readings=readings)
            failed.evidence = _failure_evidence(Lf, Rf, out, budget - (time.monotonic() - start))
            failed.counterexample = _counterexample(Lf, out, a)
            for f, body in instances.items():
                failed.counterexample["point"][f"{f}(x)"] = sp.sstr(body(IMPLICIT_VARIABLE))
                failed.point_latex[f"{f}(x)"] = latex_of(body(IMPLICIT_VARIABLE))
            failed.expected = expected_latex(env, L, names=names)
            diag_budget = _left(budget, start)
            try:
                failed.diagnosis = diagnose(env, cf, lhs, rhs, a, L, R, Lf, Rf, seed, diag_budget, assignments)
            except Deadline:
                failed.diagnosis = None
            return failed
        if out.verdict == "numeric":
            evidence = "numeric"
    if applicable == 0:
        return Link("undecided", reason="no index value has all of the claim's symbols", readings=readings)
    return Link("holds", evidence, readings=readings)


def _decimals_tolerance(node: Node) -> float | None:
    """A side written as a decimal with d digits holds when the true value rounds to it."""
    inner = node.operand if isinstance(node, Neg) else node
    if isinstance(inner, Num) and inner.decimals > 0:
        return 0.5 * 10 ** (-inner.decimals) * (1 + 1e-9)
    return None


def _function_instances(L: Value, R: Value, seed: int) -> dict[sp.FunctionClass, sp.Lambda]:
    """For each arbitrary function (``symbols: {u: function}``) of the two sides, a random smooth
    positive function with rational coefficients: exp(a + b t + c t^2) + (d t + e)^2. An identity
    of all functions holds for these; a false one fails for them at almost every draw."""
    classes = sorted({f.func for x in _side_entries(L, R) for f in as_expr(x).atoms(AppliedUndef)}, key=str)
    rng = random.Random(seed)
    t = sp.Dummy("t", real=True)
    out = {}
    for f in classes:
        a, b, c, d, e = (sp.Rational(rng.randint(-9, 9), 10) for _ in range(5))
        out[f] = sp.Lambda(t, sp.exp(a + b * t + c * t**2) + (d * t + e) ** 2)
    return out


def _instantiate(v: Value, instances: dict[sp.FunctionClass, sp.Lambda]) -> Value:
    def by_symbols(d: sp.Derivative) -> sp.Expr:
        # d/dg(x) f(g(x)) -> f'(s) at s = g(x), so that g can be replaced inside
        out = d.expr
        for var, count in d.variable_count:
            if isinstance(var, sp.Symbol):
                out = sp.Derivative(out, (var, count))
            else:
                s = sp.Dummy("s", real=True)
                out = sp.Subs(sp.Derivative(out.xreplace({var: s}), (s, count)), s, var)
        return out

    def one(x: sp.Expr) -> sp.Expr:
        x = x.replace(lambda e: isinstance(e, sp.Derivative), by_symbols)
        for f, body in instances.items():
            x = x.replace(f, body)
        return x.doit()

    return v.applyfunc(one) if is_matrix(v) else one(v)  # type: ignore[union-attr]


def _side_entries(L: Value, R: Value) -> list[sp.Expr]:
    """The entries of both sides (one each for scalars)."""
    return (list(L) if is_matrix(L) else [L]) + (list(R) if is_matrix(R) else [R])  # type: ignore[arg-type]


def _has_symbols(L: Value, R: Value) -> bool:
    return any(as_expr(x).free_symbols for x in _side_entries(L, R))


def _pairs(L: Value, R: Value) -> list[tuple[sp.Expr, sp.Expr]]:
    return list(zip(L, R, strict=False)) if is_matrix(L) else [(L, R)]  # type: ignore[arg-type]


def _left(budget: float, start: float) -> float:
    """Seconds for a diagnosis: what the link has left, between 1 s and DIAGNOSIS_TIME_LIMIT."""
    return max(min(budget - (time.monotonic() - start), DIAGNOSIS_TIME_LIMIT), 1.0)


def _compare(
    exact_l: Value, exact_r: Value, L: Value, R: Value, seed: int, tol: float | None, proof_budget: float
) -> Verification:
    """The one prover on a link: ``L``, ``R`` at random points (arbitrary functions replaced by
    random smooth ones), then ``exact_l = exact_r`` proved for every function. Exact numbers
    agreeing at 50 digits, and decimals agreeing to their rounding, need no proof."""
    if tol is not None or not _has_symbols(L, R):
        witness = numeric_witness(_pairs(L, R), 1, seed, abs_tol=tol, exact_difference=tol is None)
        if not witness.agree:
            return Verification("fails", "counterexample", 0.0, witness)
        return Verification("proved", "exact numbers", 0.0, witness)
    return verify(
        _pairs(exact_l, exact_r), _pairs(L, R), timeout=proof_budget, points=8, seed=seed,
        exact_difference=True, min_points=3,
    )


def _entry(L: Value, witness: Witness) -> tuple[int, int] | None:
    """The (row, column) of the differing entry of a matrix side, 1-based."""
    if not is_matrix(L) or witness.entry is None:
        return None
    cols = L.shape[1]  # type: ignore[union-attr]
    return witness.entry // cols + 1, witness.entry % cols + 1


def _failure_evidence(L: Value, R: Value, out: Verification, budget: float) -> str:
    """A counterexample at 50 digits is the evidence; "symbolic" when the exact values differ."""
    witness = out.witness
    if not _has_symbols(L, R) or witness is None or witness.counterexample is None:
        return "symbolic" if not _has_symbols(L, R) else "numeric"
    # The difference again at the point (exact rational inputs) with 100 digits: certain, not an
    # artefact of rounding.
    a, b = _pairs(L, R)[witness.entry or 0]
    try:
        with deadline(max(min(budget, 3.0), 0.2)):
            d = numeric_value(as_expr(a) - as_expr(b), witness.counterexample, digits=2 * DIGITS)
    except Deadline:
        return "numeric"
    return "symbolic" if d is not None and abs(d) > sp.Float("1e-60") else "numeric"


def _unexplained_names(ev_l: Evaluator, ev_r: Evaluator, free: frozenset[str] = frozenset()) -> str | None:
    """In a file that defines its names, a name nobody defined is allowed only as a free
    variable of the claim: the variable of a derivative, or a name on two sides of the chain."""
    left, right = set(ev_l.unknown), set(ev_r.unknown)
    deriv = ev_l.derivative_vars | ev_r.derivative_vars
    for key in sorted((left | right) - (left & right) - deriv - free):
        return key
    return None


def _counterexample(L: Value, out: Verification, assignment: dict[str, int]) -> dict[str, Any]:
    witness = out.witness
    assert witness is not None and witness.counterexample is not None
    point: dict[str, Any] = {c: v for c, v in sorted(assignment.items())}
    for sym, val in sorted(witness.counterexample.items(), key=lambda kv: kv[0].name)[:40]:
        point[sym.name] = round(float(val), 6)
    entry = _entry(L, witness)
    if entry is not None:
        point["entry"] = f"({entry[0]}, {entry[1]})"
    return {"point": point, "lhs": _short(witness.lhs_value), "rhs": _short(witness.rhs_value)}


def _short(x: float | None) -> float | None:
    if x is None:
        return None
    return float(f"{x:.12g}")
