"""Naming the mistake in a failing claim, in the notes' own symbols.

The true value (the left side, evaluated) and the claimed value are known. Each candidate asks
"would the claim hold if this one usual mistake were undone?" and compares at a few random points,
at the failing index values and at a few others (a mistake that explains one entry by accident
does not explain the claim). Candidates come from two places:

* the registry: every activation's derivative rule, the wrong rules its row lists (``mistakes``),
  another unit's rule, the rule applied to the pre-activation, g for g'; the losses;
* the claim's own structure: its products (matrix, elementwise or outer, and how they are
  grouped), transposes, factors, terms, function arguments, indices, layers and names.

The first candidate that explains the whole difference names the diagnosis; when none does, the
diagnosis says what differs (a factor, a term, which entries). The claim at its index values is in
``failing``, the candidates in ``mistakes`` and ``activations``; the order they are tried in and
the descriptions of what differs are here. Diagnoses are plain words with the
maths between ``$…$`` (the notes' symbols as they wrote them).
"""

from __future__ import annotations

import time

import mpmath
import sympy as sp

from ..exprs import as_expr
from ..timelimit import Deadline, deadline
from .activations import activation_rules, activation_runs, inserted_derivatives, missing_elementwise_factor
from .failing import ERRORS, MAX_CASES, Candidate, CandidateTimeout, Case, Claim, entries_of, map_value, mutations, tex
from .meaning import (
    Env,
    Value,
    is_matrix,
)
from .mistakes import (
    argument_signs,
    dropped_factors,
    dropped_terms,
    lhs_renamed,
    local_index_swaps,
    log_of_sum_split,
    logs_of_sums,
    loss_rule,
    operand_swaps,
    product_kinds,
    product_rule,
    regroupings,
    renamings,
    swapped_index_letters,
    symbolic_factor,
    term_factors,
    transposes,
)
from .notation import (
    Deriv,
    Neg,
    Node,
)

__all__ = ["diagnose", "diagnose_shape"]


# ----------------------------------------------------------------------------------------------
# Entry points
# ----------------------------------------------------------------------------------------------


def diagnose(
    env: Env,
    cf: object,
    lhs: Node,
    rhs: Node,
    assignment: dict[str, int],
    L: Value,
    R: Value,
    Lf: Value,
    Rf: Value,
    seed: int,
    budget: float,
    assignments: list[dict[str, int]] | None = None,
) -> str | None:
    """The name of the mistake that explains ``lhs = rhs`` failing at ``assignment``, or None.

    ``assignments`` are the claim's other index values: a candidate must explain those too."""
    claim = _claim(env, cf, lhs, rhs, assignment, assignments, seed)
    return _first(claim, _value_candidates(claim) + _structure_candidates(claim) + _fallbacks(claim), budget)


def diagnose_shape(
    env: Env,
    cf: object,
    lhs: Node,
    rhs: Node,
    assignment: dict[str, int],
    problem: str,
    seed: int,
    budget: float,
    assignments: list[dict[str, int]] | None = None,
) -> str:
    """The diagnosis of a claim whose sides cannot be compared (``problem``: the shape mismatch):
    ``shape mismatch: …`` and, where one mistake explains it, that mistake."""
    text = f"shape mismatch: {problem}"
    try:
        claim = _claim(env, cf, lhs, rhs, assignment, assignments, seed)
    except ERRORS + (Deadline,):
        return text
    if claim.first.L is None:
        return text
    found = _first(claim, _structure_candidates(claim) + [lambda: _missing_matrix_factor(claim)], budget)
    return f"{text}; {found}" if found else text


def _claim(
    env: Env,
    cf: object,
    lhs: Node,
    rhs: Node,
    assignment: dict[str, int],
    assignments: list[dict[str, int]] | None,
    seed: int,
) -> Claim:
    others = [a for a in (assignments or []) if a != assignment]
    if len(others) > MAX_CASES - 1:  # spread over the range: first, last and between
        step = (len(others) - 1) / (MAX_CASES - 2)
        others = [others[round(k * step)] for k in range(MAX_CASES - 1)]
    return Claim(env, cf, lhs, rhs, [assignment, *others], seed)


def _first(claim: Claim, candidates: list[Candidate], budget: float) -> str | None:
    """The first candidate's words that explain the claim; each candidate may use at most a third
    of the budget (one slow family of candidates does not starve the others)."""
    start = time.monotonic()
    for candidate in candidates:
        left = budget - (time.monotonic() - start)
        if left <= 0.05:
            return None
        try:
            with deadline(min(left, max(budget / 3, 0.5)), CandidateTimeout):
                found = candidate()
        except CandidateTimeout:
            found = None  # this family took too long: try the next
        except ERRORS:
            found = None
        if found:
            return found
    return None


# ----------------------------------------------------------------------------------------------
# Candidates on the values: a sign, a constant factor, the whole side transposed
# ----------------------------------------------------------------------------------------------


def _value_candidates(claim: Claim) -> list[Candidate]:
    return [lambda: _sign_or_factor(claim), lambda: _transposed(claim), lambda: _regularization(claim)]


def _sign_or_factor(claim: Claim) -> str | None:
    ratios = []
    for case in claim.cases:
        if case.L is None or case.R is None:
            return None
        r = claim.points.ratio(case.L, case.R)
        if r is None:
            return None
        ratios.append(r)
    if any(abs(r - ratios[0]) > 1e-15 * max(1, abs(ratios[0])) for r in ratios):
        return None
    return _factor_text(claim.env, ratios[0], "the right side")


def _factor_text(env: Env, r: mpmath.mpf, where: str) -> str | None:
    """Words for "the true value is ``r`` times ``where``" (a sign, 2, 1/m ...)."""
    c = sp.nsimplify(sp.Float(r, 25), rational=True, tolerance=1e-15)
    if c == 0:
        return "the true value is 0: the left side does not depend on that variable"
    if c == 1:
        return None
    if c == -1:
        return f"sign: {where} has the wrong sign"
    names = {v: k for k, v in env.sizes.items() if k in ("m", "n", "N")}
    a = abs(c)
    minus = " and the wrong sign" if c < 0 else ""
    if a.is_Rational and a.p == 1 and a.q in names:
        m = names[a.q]
        return f"factor 1/{m}: {where} misses the factor $\\frac{{1}}{{{m}}}$ (= 1/{a.q}){minus}"
    if a.is_Integer and int(a) in names:
        m = names[int(a)]
        return f"factor 1/{m}: {where} has an extra factor $\\frac{{1}}{{{m}}}$ (= 1/{int(a)}){minus}"
    if a == 2:
        return f"factor 2: the true value is {'minus ' if c < 0 else ''}twice {where} (a missing factor 2)"
    if a == sp.Rational(1, 2):
        return (
            f"factor 2: the true value is {'minus ' if c < 0 else ''}half {where} "
            "(an extra factor 2, or a missing 1/2)"
        )
    if a.is_Rational and a.q < 100 and a.p < 100:
        return f"factor ${sp.latex(c)}$: the true value is ${sp.latex(c)}$ times {where}"
    return None


def _transposed(claim: Claim) -> str | None:
    def test(case: Case) -> bool:
        return is_matrix(case.R) and claim.points.same(case.L, case.R.T)  # type: ignore[union-attr]

    if claim.first.R is not None and claim.holds_at_every_case(test):
        return "transpose: the right side is the transpose of the true value"
    return None


# ----------------------------------------------------------------------------------------------
# Candidates on the claim's structure: mutate the right side, see whether it then holds
# ----------------------------------------------------------------------------------------------


def _structure_candidates(claim: Claim) -> list[Candidate]:
    return [
        lambda: mutations(claim, product_kinds(claim)),
        lambda: mutations(claim, transposes(claim)),
        lambda: mutations(claim, operand_swaps(claim)),
        lambda: mutations(claim, regroupings(claim)),
        lambda: activation_runs(claim),
        lambda: product_rule(claim),
        lambda: mutations(claim, renamings(claim)),
        lambda: swapped_index_letters(claim),
        lambda: mutations(claim, local_index_swaps(claim)),
        lambda: lhs_renamed(claim, activations=False),
        lambda: mutations(claim, argument_signs(claim)),
        lambda: mutations(claim, inserted_derivatives(claim)),
        lambda: activation_rules(claim),
        lambda: mutations(claim, dropped_factors(claim)),
        lambda: mutations(claim, term_factors(claim)),
        lambda: mutations(claim, dropped_terms(claim)),
        lambda: mutations(claim, logs_of_sums(claim)),
        lambda: log_of_sum_split(claim),
        lambda: loss_rule(claim),
    ]


# ----------------------------------------------------------------------------------------------
# When no single mistake explains it: what differs
# ----------------------------------------------------------------------------------------------


def _fallbacks(claim: Claim) -> list[Candidate]:
    return [
        lambda: _not_zero(claim),
        lambda: _missing_term(claim),
        lambda: missing_elementwise_factor(claim),
        lambda: lhs_renamed(claim),
        lambda: symbolic_factor(claim),
        lambda: _wrong_entries(claim),
    ]


def _not_zero(claim: Claim) -> str | None:
    """A claim that something is 0 (E_{d1} does not depend on w_{31}) where it is not."""
    R = claim.first.R
    if R is None or any(e != 0 for e in entries_of(R)):
        return None
    d = claim.lhs.operand if isinstance(claim.lhs, Neg) else claim.lhs
    if isinstance(d, Deriv):
        return f"not zero: ${tex(d.F)}$ depends on ${tex(d.X)}$"
    return None


def _describe(claim: Claim, v: Value) -> str | None:
    """``v`` in the notes' symbols: c·M for a matrix M of the file (``\\lambda W^{(2)}``), a short
    scalar folded into the defined names, else None."""
    env = claim.env
    if is_matrix(v):
        for key, entry in env.entries.items():
            name = claim.spell_key(key)
            for M, shown in ((entry.value, name), (getattr(entry.value, "T", None), f"({name})^T")):
                if M is None or not is_matrix(M) or M.shape != v.shape:  # type: ignore[union-attr]
                    continue
                c = _constant_ratio(v, M)
                if c is not None:
                    return f"{claim.spell(_sizes_as_names(env, c))} {shown}" if c != 1 else shown
        return _product_of_two(claim, v)
    e = env.fold(sp.factor(as_expr(v)))
    if sp.count_ops(e) > 12:
        return None
    coefficient, names = sp.S.One, sp.S.One
    for f in sp.Mul.make_args(e):  # the constants (λ/m) before the names of the notes (Θ_{11})
        if f.free_symbols and all("_{" in s.name or "^{" in s.name for s in f.free_symbols):
            names *= f
        else:
            coefficient *= f
    if names == 1 or coefficient == 1:
        return claim.spell(_sizes_as_names(env, e))
    return f"{claim.spell(_sizes_as_names(env, coefficient))} {claim.spell(names)}"


def _product_of_two(claim: Claim, v: Value) -> str | None:
    """``v`` as M N, M^T N of two inputs of the file (``B^T x``), or None."""
    inputs = [(k, e.value) for k, e in claim.env.entries.items() if is_matrix(e.value) and not e.defined]
    for k1, M in inputs:
        for M_, shown in ((M, claim.spell_key(k1)), (M.T, f"{claim.spell_key(k1)}^T")):  # type: ignore[union-attr]
            for k2, N in inputs:
                if M_.shape[1] != N.shape[0] or (M_.shape[0], N.shape[1]) != v.shape:  # type: ignore[union-attr]
                    continue
                if all(sp.expand(x - y) == 0 for x, y in zip(entries_of(v), entries_of(M_ * N), strict=True)):
                    return f"{shown} {claim.spell_key(k2)}"
    return None


def _sizes_as_names(env: Env, e: sp.Expr) -> sp.Expr:
    """1/2 as 1/m where m = 2 is the number of examples: the factor in the notes' terms."""
    names = {v: k for k, v in env.sizes.items() if k in ("m", "n", "N")}
    c, rest = as_expr(e).as_coeff_Mul()
    if c.is_Rational and c.p == 1 and c.q in names:
        return rest / sp.Symbol(names[c.q], positive=True)
    if c.is_Rational and c.q == 1 and c.p in names:
        return rest * sp.Symbol(names[c.p], positive=True)
    return e


def _constant_ratio(v: Value, M: Value) -> sp.Expr | None:
    """c with v = c M entry by entry (c may hold symbols such as λ), or None."""
    c = None
    for x, y in zip(entries_of(v), entries_of(M), strict=True):
        x, y = as_expr(x), as_expr(y)
        if y == 0:
            if sp.expand(x) != 0:
                return None
            continue
        r = sp.cancel(x / y)
        if r.free_symbols & y.free_symbols:
            return None
        if c is None:
            c = r
        elif sp.expand(r - c) != 0:
            return None
    return c


def _difference(claim: Claim) -> Value | None:
    """L - R at the failing case, expanded; None when a side has no value."""
    case = claim.first
    if case.R is None or case.L is None or is_matrix(case.L) != is_matrix(case.R):
        return None
    if is_matrix(case.L):
        return map_value(sp.ImmutableMatrix(case.L) - sp.ImmutableMatrix(case.R), sp.expand)
    return sp.expand(as_expr(case.L) - as_expr(case.R))


def _regularization(claim: Claim) -> str | None:
    """The L2 term of a gradient missing, too many, or on the bias."""
    diff = _difference(claim)
    if diff is None or all(e == 0 for e in entries_of(diff)):
        return None
    symbols = set().union(*(as_expr(e).free_symbols for e in entries_of(diff)))
    lam = [s for s in symbols if s.name in ("\\lambda", "lambda")]
    if not lam or any(sp.expand(e).subs(lam[0], 0) != 0 for e in entries_of(diff)):
        return None  # the difference is not all in the L2 term
    extra = all(sp.expand(e).could_extract_minus_sign() for e in entries_of(diff) if e != 0)
    if extra and any(s.name.startswith("\\Theta") and s.name.endswith(",0}") for s in symbols):
        return "regularized bias: the bias column (j = 0) is not regularized"
    if extra or any(as_expr(e).has(lam[0]) for e in entries_of(claim.first.R)):
        return None  # the right side has an L2 term, a wrong one: the term's factor says how
    shown = _describe(claim, diff)
    return None if shown is None else f"missing regularization: the L2 term ${shown}$ is missing"


def _missing_term(claim: Claim) -> str | None:
    """L - R is one term the notes would write (``\\lambda W^{(2)}``): a missing (or extra) term."""
    diff = _difference(claim)
    if diff is None:
        return None
    if all(sp.expand(e) == 0 for e in entries_of(diff)):
        return None
    terms_ok = all(len(sp.Add.make_args(sp.expand(e))) == 1 for e in entries_of(diff))
    if not terms_ok and not is_matrix(diff):
        return None
    for sign, words in ((1, "missing term: the term ${}$ is missing"), (-1, "extra term: the term ${}$ is too many")):
        shown = _describe(claim, map_value(diff, lambda e, s=sign: s * e))
        if shown is None:
            continue
        if sign < 0 and all(sp.expand(e).could_extract_minus_sign() is False for e in entries_of(diff)):
            continue
        if sign > 0 and any(sp.expand(e).could_extract_minus_sign() for e in entries_of(diff) if e != 0):
            continue
        return words.format(shown)
    return None


def _missing_matrix_factor(claim: Claim) -> str | None:
    """With shapes that do not fit: the claim holds once multiplied by a vector or matrix of the
    notes (``(y - t)`` for ``(y - t) \\phi``)."""
    case = claim.first
    if case.R is None or case.L is None:
        return None
    L_symbols = set().union(*(as_expr(e).free_symbols for e in entries_of(case.L)))
    for key, entry in claim.env.entries.items():
        M = entry.value
        if not is_matrix(M) or not (set(entries_of(M)) & L_symbols or entry.defined):
            continue
        for product, shown in (
            (lambda r, M=M: _times_matrix(r, M), "{r} " + key),
            (lambda r, M=M: _times_matrix(M, r), key + " {r}"),
        ):
            def test(c: Case, product=product) -> bool:
                if c.R is None:
                    return False
                try:
                    return claim.points.same(c.L, product(c.R))
                except (ValueError, TypeError, sp.ShapeError):
                    return False

            if claim.holds_at_every_case(test):
                return f"missing factor: the right side lacks the factor ${key}$ (${shown.format(r=tex(claim.rhs))}$)"
    return None


def _times_matrix(a: Value, b: Value) -> Value:
    if not is_matrix(a) or not is_matrix(b):
        return a * b  # type: ignore[operator]
    return sp.ImmutableMatrix(a * b)  # type: ignore[operator]


def _wrong_entries(claim: Claim) -> str | None:
    """A matrix right in some entries: which entries are wrong, and how when one mistake explains
    each (the signs lost in a softmax Jacobian written out by hand)."""
    case = claim.first
    L, R = case.L, case.R
    if not (is_matrix(L) and is_matrix(R)) or L.shape != R.shape:  # type: ignore[union-attr]
        return None
    rows, cols = L.shape  # type: ignore[union-attr]
    same = claim.points.same
    wrong = [(r, c) for r in range(rows) for c in range(cols) if not same(L[r, c], R[r, c])]  # type: ignore[index]
    if not wrong or len(wrong) == rows * cols:
        return None
    how = {}
    for r, c in wrong:
        ratio = claim.points.ratio(L[r, c], R[r, c])  # type: ignore[index]
        how[(r, c)] = _factor_text(claim.env, ratio, "it") if ratio is not None else None
    where = ", ".join(f"({r + 1}, {c + 1})" for r, c in wrong)
    kinds = {h.split(":")[0] if h else None for h in how.values()}
    if len(kinds) == 1 and None not in kinds:
        return f"{kinds.pop()} in entries {where} only (the other entries agree)"
    explained = [f"entry ({r + 1}, {c + 1}): {h.split(':')[0]}" for (r, c), h in how.items() if h]
    return f"entries {where} are wrong (the other entries agree)" + (f"; {', '.join(explained)}" if explained else "")
