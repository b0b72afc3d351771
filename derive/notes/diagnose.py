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
diagnosis says what differs (a factor, a term, which entries). Diagnoses are plain words with the
maths between ``$…$`` (the notes' symbols as they wrote them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from ..exprs import as_expr
from ..model import rules
from ..proof.prover import NotReal, evaluate
from ..timelimit import Deadline, deadline
from .lexer import Token
from .meaning import (
    DefSymbol,
    Env,
    Evaluator,
    MeaningError,
    Options,
    Value,
    is_matrix,
    shape_of,
    walk,
)
from .notation import (
    BinOp,
    Call,
    Deriv,
    Given,
    Name,
    Neg,
    Node,
    Num,
    Sum,
    Transpose,
    children,
)
from .printing import latex_of, node_latex

__all__ = ["diagnose", "diagnose_shape"]

PRODUCTS = ("juxt", "cdot", "times", "star", "odot")
MAX_CASES = 4  # index values a candidate is checked at (the failing one first)
_ERRORS = (MeaningError, ZeroDivisionError, TypeError, ValueError, RecursionError, AttributeError, IndexError)


# ----------------------------------------------------------------------------------------------
# Numbers: every symbol gets its own value at each point, the same wherever it appears
# ----------------------------------------------------------------------------------------------

# where sigmoids and probabilities live, the negative side of ReLU-like rules, away from 0 and 1
_REGIONS = ((0.15, 0.85), (-1.6, -0.2), (0.55, 2.3), (-1.4, 1.4))


class _Points:
    """Values of expressions at a few points; a symbol's value depends only on its name and the
    point, so any two values (true, claimed, mutated) are compared at the same inputs."""

    def __init__(self, seed: int, count: int = 4, digits: int = 30) -> None:
        self.seed = seed
        self.count = count
        self.digits = digits
        self._values: dict[tuple[str, int], mpmath.mpf] = {}
        self._memo: dict[Value, list[list[mpmath.mpf | None]]] = {}  # values already computed

    def _value(self, sym: sp.Symbol, k: int) -> mpmath.mpf:
        key = (sym.name, k)
        if key not in self._values:
            h = int(hashlib.sha256(f"{self.seed}:{k}:{sym.name}".encode()).hexdigest()[:12], 16)
            lo, hi = _REGIONS[k % len(_REGIONS)]
            v = lo + (hi - lo) * (h / 16**12)
            if abs(v) < 0.05:
                v = 0.37
            if sym.is_nonnegative and v < 0:
                v = -v
            self._values[key] = mpmath.mpf(repr(round(v, 6)))
        return self._values[key]

    def values(self, v: Value) -> list[list[mpmath.mpf | None]]:
        try:
            hit = self._memo.get(v)
        except TypeError:  # not hashable
            hit = None
        if hit is not None:
            return hit
        out = self._compute(v)
        if len(self._memo) < 4096:
            try:
                self._memo[v] = out
            except TypeError:
                pass
        return out

    def _compute(self, v: Value) -> list[list[mpmath.mpf | None]]:
        entries = [_concrete(as_expr(e)) for e in _entries(v)]
        out = []
        with mpmath.workdps(self.digits):
            for k in range(self.count):
                memo: dict = {}
                row = []
                for e in entries:
                    point = {s: self._value(s, k) for s in e.free_symbols}
                    try:
                        row.append(evaluate(e, point, memo))
                    except (NotReal, ZeroDivisionError, ValueError, TypeError, OverflowError, KeyError):
                        row.append(None)
                out.append(row)
        return out

    def same(self, a: Value | None, b: Value | None) -> bool:
        """Whether two values agree at every point where both are defined (and somewhere)."""
        if a is None or b is None or shape_of(a) != shape_of(b) or is_matrix(a) != is_matrix(b):
            return False
        good = 0
        tol = mpmath.mpf(10) ** (-(self.digits - 8))
        for ra, rb in zip(self.values(a), self.values(b), strict=True):
            for x, y in zip(ra, rb, strict=True):
                if x is None or y is None:
                    continue
                if abs(x - y) > tol * max(1, abs(x), abs(y)):
                    return False
                good += 1
        return good > 0

    def ratio(self, a: Value, b: Value) -> mpmath.mpf | None:
        """a / b when it is one constant at every point and entry, else None."""
        if shape_of(a) != shape_of(b):
            return None
        ratio = None
        tol = mpmath.mpf(10) ** (-(self.digits - 10))
        for ra, rb in zip(self.values(a), self.values(b), strict=True):
            for x, y in zip(ra, rb, strict=True):
                if x is None or y is None:
                    continue
                if abs(y) < tol:
                    if abs(x) < tol:
                        continue
                    return None
                r = x / y
                if ratio is None:
                    ratio = r
                elif abs(r - ratio) > tol * max(1, abs(ratio)):
                    return None
        return ratio


def _concrete(e: sp.Expr) -> sp.Expr:
    """Arbitrary functions (``symbols: {u: function}``) replaced by fixed smooth ones, the same for
    a name wherever it appears: exp(a + b t + c t^2) + (d t + e)^2 with coefficients from its name."""
    classes = {f.func for f in e.atoms(AppliedUndef)}
    if not classes:
        return e
    t = sp.Dummy("t", real=True)
    for f in sorted(classes, key=str):
        h = hashlib.sha256(str(f).encode()).digest()
        a, b, c, d, k = (sp.Rational(h[n] % 19 - 9, 10) for n in range(5))
        e = e.replace(f, sp.Lambda(t, sp.exp(a + b * t + c * t**2) + (d * t + k) ** 2))
    return e.doit()


def _lagrange(e: sp.Expr) -> sp.Expr:
    """u(x), u'(x) of an arbitrary function of the implicit x written as the rules write them."""
    primes = {
        d: sp.Symbol(f"{d.expr.func}" + "'" * d.derivative_count)
        for d in e.atoms(sp.Derivative)
        if isinstance(d.expr, AppliedUndef) and len(d.expr.args) == 1 and d.variables == d.expr.args * len(d.variables)
    }
    plain = {f: sp.Symbol(str(f.func)) for f in e.atoms(AppliedUndef) if len(f.args) == 1 and f.args[0].is_Symbol}
    return e.xreplace(primes).xreplace(plain) if primes or plain else e


def _entries(v: Value) -> list[sp.Expr]:
    return list(v) if is_matrix(v) else [v]  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# The claim at its index values
# ----------------------------------------------------------------------------------------------


@dataclass
class _Case:
    """One value of the claim's free indices: the true value and the claimed one (expanded)."""

    assignment: dict[str, int]
    L: Value | None = None
    R: Value | None = None


class _Claim:
    """A failing link ``lhs = rhs`` and what every candidate needs: evaluation at each case."""

    def __init__(
        self, env: Env, cf: object, lhs: Node, rhs: Node, cases: list[dict[str, int]], seed: int
    ) -> None:
        self.env = env
        self.cf = cf
        self.lhs = lhs
        self.rhs = _products_written_as_calls(env, rhs, cases[0])
        self.points = _Points(seed)
        self._spelling: dict[str, str] | None = None
        self._layer_spelling: dict[str, str] | None = None
        self._index_spelling: dict[str, str] = {}
        self.cases = [_Case(a) for a in cases]
        for case in self.cases:
            case.L = self.value(lhs, case)
            case.R = self.value(rhs, case)
        self.cases = [c for c in self.cases if c.L is not None] or self.cases[:1]

    def value(self, node: Node, case: _Case, options: Options | None = None) -> Value | None:
        """The expanded value of ``node`` at ``case``, or None where it has no meaning."""
        try:
            return self.env.expand(Evaluator(self.env, case.assignment, options).eval(node))
        except _ERRORS:
            return None

    @property
    def first(self) -> _Case:
        return self.cases[0]

    def spelling(self) -> dict[str, str]:
        """How the notes write each name the claim uses, by key: ``a^{(3)}`` -> ``\\alpha^{(L-1)}``,
        ``a_{2}`` -> ``a_{j}`` (at the failing index values), and the file's aliases."""
        if self._spelling is not None:
            return self._spelling
        ev = Evaluator(self.env, self.first.assignment)
        out: dict[str, str] = {}
        layers: dict[str, str] = {}
        for side in (self.lhs, self.rhs):
            for n in walk(side):
                if not isinstance(n, Name) or n.primes:
                    continue
                try:
                    key = _key(ev, n)
                    out.setdefault(key, node_latex(n))
                    for sup, text in zip(ev.sup_texts(n), n.sups, strict=True):
                        written = "".join(t.value for t in text).replace(" ", "")
                        if sup.isdigit() and not written.isdigit():
                            layers.setdefault(sup, written)
                            letter = written[0]
                            if letter.isalpha() and written[1:] in ("", *(f"{c}{k}" for c in "+-" for k in "123")):
                                base = int(sup) - int(written[1:] or 0)  # L = 3 from L-1 = 2
                                for offset in (-2, -1, 0, 1, 2):
                                    tail = "" if offset == 0 else f"{offset:+d}"
                                    layers.setdefault(str(base + offset), letter + tail)
                    base = ev.name_base(n)
                    if base != n.base:
                        out.setdefault(base, n.base)
                except _ERRORS:
                    continue
        self._spelling = out
        self._layer_spelling = layers
        by_value: dict[str, str] = {}
        for letter, value in sorted(self.first.assignment.items()):
            by_value.setdefault(str(value), letter)
        self._index_spelling = by_value
        return out

    def spell(self, expr: Value) -> str:
        """LaTeX of a value with the names as the notes write them."""
        names = self.spelling()
        mapping = {}
        for e in _entries(expr):
            for sym in as_expr(e).free_symbols:
                mapping[sym] = sp.Symbol(self.spell_key(sym.name), real=True)
        spelled = expr.xreplace(mapping) if mapping else expr
        _ = names
        return latex_of(_map(spelled, _lagrange) if not is_matrix(spelled) else spelled)

    def spell_key(self, key: str) -> str:
        names = self.spelling()
        if key in names:
            return names[key]
        base, sups, sub = _split_key(key)
        base = names.get(base, base)
        layers = self._layer_spelling or {}
        sups = [layers.get(s, s) for s in sups]
        if sub is not None:  # z_{1} where the claim's j is 1: z_{j}
            sub = ",".join(self._index_spelling.get(part, part) for part in sub.split(","))
        return _join_key(base, sups, sub)

    def rhs_explains(self, new_rhs: Node, options: Options | None = None) -> bool:
        """Whether the claim holds at every case with ``new_rhs`` for its right side."""
        for case in self.cases:
            if case.L is None or not self.points.same(case.L, self.value(new_rhs, case, options)):
                return False
        return True

    def lhs_explains(self, options: Options | None = None, transform: Callable | None = None) -> bool:
        """Whether the claimed value is the left side computed with a mistake (``options``: another
        derivative rule; ``transform``: the true value rewritten by a wrong identity)."""
        for case in self.cases:
            if case.R is None:
                return False
            wrong = self.value(self.lhs, case, options) if options is not None else case.L
            if wrong is not None and transform is not None:
                wrong = _map(wrong, transform)
            if not self.points.same(wrong, case.R):
                return False
        return True

    def holds_at_every_case(self, test: Callable[[_Case], bool]) -> bool:
        return all(test(c) for c in self.cases)


def _products_written_as_calls(env: Env, node: Node, assignment: dict[str, int]) -> Node:
    """``a(1 - a)``, ``a^{(2)}(\\delta^{(3)})^T``: a name that is no function, before parentheses, is a
    product; written as one, so that its factors can be moved, transposed or dropped."""
    ev = Evaluator(env, assignment)

    def visit(n: Node) -> Node:
        try:
            if isinstance(n, Transpose) and ev.product_call(n.operand):  # a (x)^T is a times x^T
                call = n.operand
                return BinOp("juxt", call.func, Transpose(visit(call.args[0]), pos=n.pos), pos=n.pos)  # type: ignore[attr-defined]
        except _ERRORS:
            pass
        changes = {}
        for f in dataclasses.fields(n):
            v = getattr(n, f.name)
            if isinstance(v, Node):
                nv = visit(v)
                if nv is not v:
                    changes[f.name] = nv
            elif isinstance(v, list) and v and isinstance(v[0], Node):
                nl = [visit(x) for x in v]
                if any(a is not b for a, b in zip(nl, v, strict=True)):
                    changes[f.name] = nl
        n = dataclasses.replace(n, **changes) if changes else n
        try:
            if isinstance(n, Call) and ev.product_call(n):
                return BinOp("juxt", n.func, n.args[0], pos=n.pos)
        except _ERRORS:
            return n
        return n

    try:
        return visit(node)
    except RecursionError:
        return node


def _map(v: Value, f: Callable[[sp.Expr], sp.Expr]) -> Value:
    return v.applyfunc(f) if is_matrix(v) else f(as_expr(v))  # type: ignore[union-attr]


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
    except _ERRORS + (Deadline,):
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
) -> _Claim:
    others = [a for a in (assignments or []) if a != assignment]
    if len(others) > MAX_CASES - 1:  # spread over the range: first, last and between
        step = (len(others) - 1) / (MAX_CASES - 2)
        others = [others[round(k * step)] for k in range(MAX_CASES - 1)]
    return _Claim(env, cf, lhs, rhs, [assignment, *others], seed)


Candidate = Callable[[], "str | None"]


class _CandidateTimeout(Deadline):
    """One family of candidates ran out of its share of the budget (the claim's own limit is a
    plain Deadline, which passes through)."""


def _first(claim: _Claim, candidates: list[Candidate], budget: float) -> str | None:
    """The first candidate's words that explain the claim; each candidate may use at most a third
    of the budget (one slow family of candidates does not starve the others)."""
    start = time.monotonic()
    for candidate in candidates:
        left = budget - (time.monotonic() - start)
        if left <= 0.05:
            return None
        try:
            with deadline(min(left, max(budget / 3, 0.5)), _CandidateTimeout):
                found = candidate()
        except _CandidateTimeout:
            found = None  # this family took too long: try the next
        except _ERRORS:
            found = None
        if found:
            return found
    return None


# ----------------------------------------------------------------------------------------------
# Candidates on the values: a sign, a constant factor, the whole side transposed
# ----------------------------------------------------------------------------------------------


def _value_candidates(claim: _Claim) -> list[Candidate]:
    return [lambda: _sign_or_factor(claim), lambda: _transposed(claim), lambda: _regularization(claim)]


def _sign_or_factor(claim: _Claim) -> str | None:
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


def _transposed(claim: _Claim) -> str | None:
    def test(case: _Case) -> bool:
        return is_matrix(case.R) and claim.points.same(case.L, case.R.T)  # type: ignore[union-attr]

    if claim.first.R is not None and claim.holds_at_every_case(test):
        return "transpose: the right side is the transpose of the true value"
    return None


# ----------------------------------------------------------------------------------------------
# Candidates on the claim's structure: mutate the right side, see whether it then holds
# ----------------------------------------------------------------------------------------------


def _structure_candidates(claim: _Claim) -> list[Candidate]:
    return [
        lambda: _mutations(claim, _product_kinds(claim)),
        lambda: _mutations(claim, _transposes(claim)),
        lambda: _mutations(claim, _operand_swaps(claim)),
        lambda: _mutations(claim, _regroupings(claim)),
        lambda: _activation_runs(claim),
        lambda: _mutations(claim, _renamings(claim)),
        lambda: _swapped_index_letters(claim),
        lambda: _lhs_renamed(claim, activations=False),
        lambda: _mutations(claim, _argument_signs(claim)),
        lambda: _mutations(claim, _inserted_derivatives(claim)),
        lambda: _activation_rules(claim),
        lambda: _mutations(claim, _dropped_factors(claim)),
        lambda: _mutations(claim, _term_factors(claim)),
        lambda: _mutations(claim, _dropped_terms(claim)),
        lambda: _mutations(claim, _logs_of_sums(claim)),
        lambda: _log_of_sum_split(claim),
        lambda: _product_rule(claim),
        lambda: _loss_rule(claim),
    ]


Mutation = tuple[Node, str]  # a new right side, and the words for the mistake it undoes
_HOLE = Given(sp.S.Zero, latex="?")  # where a run of factors is taken out, to be put back changed


def _mutations(claim: _Claim, candidates: Iterator[Mutation]) -> str | None:
    seen: set[str] = {_tex(claim.lhs)}  # x := x + y without its term says only x = x
    for new_rhs, words in candidates:
        shown = _tex(new_rhs)
        if shown in seen:
            continue
        seen.add(shown)
        if claim.rhs_explains(new_rhs):
            return words
    return None


def _substitute(node: Node, target: Node, new: Node) -> Node:
    """A copy of ``node`` with the subtree ``target`` (by identity) replaced by ``new``."""
    if node is target:
        return new
    changes = {}
    for f in dataclasses.fields(node):
        v = getattr(node, f.name)
        if isinstance(v, Node):
            nv = _substitute(v, target, new)
            if nv is not v:
                changes[f.name] = nv
        elif isinstance(v, list) and v and isinstance(v[0], Node):
            nl = [_substitute(x, target, new) for x in v]
            if any(a is not b for a, b in zip(nl, v, strict=True)):
                changes[f.name] = nl
        elif isinstance(v, list) and v and isinstance(v[0], list):
            nr = [[_substitute(x, target, new) for x in row] for row in v]
            if any(a is not b for r1, r2 in zip(nr, v, strict=True) for a, b in zip(r1, r2, strict=True)):
                changes[f.name] = nr
    return dataclasses.replace(node, **changes) if changes else node


def _nodes(claim: _Claim) -> list[Node]:
    return list(walk(claim.rhs))


def _products(claim: _Claim) -> list[BinOp]:
    return [n for n in _nodes(claim) if isinstance(n, BinOp) and n.op in PRODUCTS]


def _shape(claim: _Claim, node: Node) -> tuple[int, int] | None:
    try:
        return shape_of(Evaluator(claim.env, claim.first.assignment).eval(node))
    except _ERRORS:
        return None


def _tex(node: Node) -> str:
    return node_latex(node)


def _product_kinds(claim: _Claim) -> Iterator[Mutation]:
    """A matrix product read elementwise, an elementwise one that is a matrix product, and an
    elementwise (or inner) product of two vectors where their outer product belongs."""
    for n in _products(claim):
        sl, sr = _shape(claim, n.left), _shape(claim, n.right)
        if sl is None or sr is None or sl == (1, 1) or sr == (1, 1):
            continue
        if sl[1] == 1 and sr[1] == 1:  # two columns: the outer product u v^T
            outer = BinOp("juxt", n.left, Transpose(n.right, pos=n.pos), pos=n.pos)
            yield (
                _substitute(claim.rhs, n, outer),
                f"outer product: ${_tex(n)}$ should be the outer product ${_tex(outer)}$",
            )
        if isinstance(n.left, Transpose) and sl[0] == 1 and sr[1] == 1:  # u^T v: an inner product
            outer = BinOp("juxt", n.right, Transpose(n.left.operand, pos=n.pos), pos=n.pos)
            yield (
                _substitute(claim.rhs, n, outer),
                f"outer product: ${_tex(n)}$ is an inner product; the outer product ${_tex(outer)}$ belongs here",
            )
        if n.op == "odot" or sl == sr and sl[1] != sr[0]:
            matrix = BinOp("juxt", n.left, n.right, pos=n.pos)
            yield (
                _with_kind(claim.rhs, n, "juxt"),
                f"elementwise vs matrix product: ${_tex(n)}$ should be the matrix product ${_tex(matrix)}$",
            )
        if n.op != "odot" and sl == sr:
            odot = BinOp("odot", n.left, n.right, pos=n.pos)
            yield (
                _substitute(claim.rhs, n, odot),
                f"elementwise vs matrix product: ${_tex(n)}$ should be elementwise, ${_tex(odot)}$",
            )


def _with_kind(root: Node, n: BinOp, op: str) -> Node:
    return _substitute(root, n, BinOp(op, n.left, n.right, pos=n.pos))


def _transposes(claim: _Claim) -> Iterator[Mutation]:
    """A transpose missing on a factor or a term (``W δ`` for ``W^T δ``), or one too many."""
    for n in _nodes(claim):
        if isinstance(n, Transpose):
            yield (
                _substitute(claim.rhs, n, n.operand),
                f"transpose: ${_tex(n)}$ should be ${_tex(n.operand)}$ (a transpose too many)",
            )
    operands = []
    for n in _nodes(claim):
        if isinstance(n, BinOp) and n.op != "/":
            operands += [n.left, n.right]
        elif isinstance(n, Neg):
            operands.append(n.operand)
    operands = sorted(operands, key=lambda x: len(_tex(x))) + [claim.rhs]  # the smallest part first
    for n in operands:
        if isinstance(n, Transpose):
            continue
        shape = _shape(claim, n)
        if shape is None or shape == (1, 1):
            continue
        t = Transpose(n, pos=n.pos)
        where = "" if n is claim.rhs else f" (in ${_tex(claim.rhs)}$)" if len(_tex(claim.rhs)) < 90 else ""
        yield _substitute(claim.rhs, n, t), f"missing transpose: ${_tex(n)}$ should be ${_tex(t)}${where}"


def _operand_swaps(claim: _Claim) -> Iterator[Mutation]:
    for n in _products(claim):
        swapped = BinOp(n.op, n.right, n.left, pos=n.pos)
        yield (
            _substitute(claim.rhs, n, swapped),
            f"swapped operands: ${_tex(n)}$ should be ${_tex(swapped)}$ (the factors in the wrong order)",
        )
    for n in _products(claim):  # (A B)^T written A^T B^T
        if isinstance(n.left, Transpose) and isinstance(n.right, Transpose):
            swapped = BinOp(n.op, n.right, n.left, pos=n.pos)
            yield _substitute(claim.rhs, n, swapped), f"swapped operands: ${_tex(n)}$ should be ${_tex(swapped)}$"


def _regroupings(claim: _Claim) -> Iterator[Mutation]:
    """``W^T (δ ⊙ g')`` for ``(W^T δ) ⊙ g'`` and the other way round: the order of an elementwise
    and a matrix product."""
    for n in _products(claim):
        for inner, outer_left in ((n.right, True), (n.left, False)):
            if not (isinstance(inner, BinOp) and inner.op in PRODUCTS):
                continue
            if outer_left:  # a (b c) -> (a b) c
                new = BinOp(inner.op, BinOp(n.op, n.left, inner.left, pos=n.pos), inner.right, pos=n.pos)
            else:  # (a b) c -> a (b c)
                new = BinOp(inner.op, inner.left, BinOp(n.op, inner.right, n.right, pos=n.pos), pos=n.pos)
            yield (
                _substitute(claim.rhs, n, new),
                f"product order: ${_tex(n)}$ should be ${_tex(new)}$ ({_which_first(claim, new)})",
            )


def _which_first(claim: _Claim, node: BinOp) -> str:
    """Which product comes first in ``node``, in words, by what each one is (for the diagnosis)."""
    inner = node.left if isinstance(node.left, BinOp) and node.left.op in PRODUCTS else node.right
    kinds = []
    for n in (inner, node):
        sl, sr = _shape(claim, n.left), _shape(claim, n.right)  # type: ignore[union-attr]
        elementwise = n.op == "odot" or (sl is not None and sl == sr and sl[1] != 1 and sl[1] != sr[0])  # type: ignore[union-attr]
        elementwise = elementwise or (sl is not None and sl == sr and sl[1] == 1 and sl != (1, 1))
        kinds.append("the elementwise product" if elementwise else "the matrix product")
    if kinds[0] == kinds[1]:
        return "the grouping changes the value"
    return f"{kinds[0]} comes first, then {kinds[1]}"


def _argument_signs(claim: _Claim) -> Iterator[Mutation]:
    """``σ(-x)`` for ``σ(x)``: a sign inside a function's argument (either way round)."""
    ev = Evaluator(claim.env, claim.first.assignment)
    for n in _nodes(claim):
        if not isinstance(n, Call) or len(n.args) != 1 or ev.function_of(n.func) is None:
            continue
        arg = n.args[0]
        flipped = arg.operand if isinstance(arg, Neg) else Neg(arg, pos=arg.pos)
        new = Call(n.func, [flipped], n.paren, pos=n.pos)
        yield (
            _substitute(claim.rhs, n, new),
            f"sign inside the argument: ${_tex(n)}$ should be ${_tex(new)}$",
        )


def _factors(node: Node) -> tuple[list[Node], list[str]]:
    """A product chain ``f1 o1 f2 o2 f3`` (parsed to the left) as its factors and operators."""
    if isinstance(node, BinOp) and node.op in PRODUCTS:
        fs, ops = _factors(node.left)
        return [*fs, node.right], [*ops, node.op]
    return [node], []


def _chain(factors: list[Node], ops: list[str], pos: int) -> Node:
    node = factors[0]
    for f, op in zip(factors[1:], ops, strict=True):
        node = BinOp(op, node, f, pos=pos)
    return node


def _chains(claim: _Claim) -> list[tuple[BinOp, list[Node], list[str]]]:
    """Every maximal product chain of the right side, with its factors."""
    out = []
    inner: set[int] = set()
    for n in _nodes(claim):
        if isinstance(n, BinOp) and n.op in PRODUCTS and id(n) not in inner:
            fs, ops = _factors(n)
            out.append((n, fs, ops))
            m = n
            while isinstance(m, BinOp) and m.op in PRODUCTS:
                inner.add(id(m))
                m = m.left
    return out


def _dropped_factors(claim: _Claim) -> Iterator[Mutation]:
    """A factor too many: the claim holds without it."""
    for n, fs, ops in _chains(claim):
        for k, f in enumerate(fs):
            rest_f = fs[:k] + fs[k + 1 :]
            rest_o = ops[: max(k - 1, 0)] + ops[k:] if k else ops[1:]
            if not rest_f:
                continue
            new = _chain(rest_f, rest_o, n.pos)
            if isinstance(f, Num):  # 2λW for λW
                words = f"factor {f.text}: the factor ${f.text}$ in ${_tex(n)}$ is one too many"
            else:
                words = f"extra factor: the factor ${_tex(f)}$ is one too many"
            yield _substitute(claim.rhs, n, new), words


def _terms(node: Node) -> list[tuple[int, Node]]:
    """A sum ``t1 ± t2 ± …`` as signed terms (the parser nests sums to the left)."""
    if isinstance(node, BinOp) and node.op in ("+", "-"):
        return [*_terms(node.left), (1 if node.op == "+" else -1, node.right)]
    if isinstance(node, Neg):
        return [(-s, t) for s, t in _terms(node.operand)] if _is_sum(node.operand) else [(-1, node.operand)]
    return [(1, node)]


def _is_sum(node: Node) -> bool:
    return isinstance(node, BinOp) and node.op in ("+", "-")


def _sums(claim: _Claim) -> list[Node]:
    out = []
    inner: set[int] = set()
    for n in _nodes(claim):
        if _is_sum(n) and id(n) not in inner:
            out.append(n)
            m = n
            while _is_sum(m):
                inner.add(id(m))
                m = m.left  # type: ignore[attr-defined]
    return out


def _rebuild_sum(terms: list[tuple[int, Node]], pos: int) -> Node:
    sign, first = terms[0]
    node: Node = first if sign > 0 else Neg(first, pos=pos)
    for s, t in terms[1:]:
        node = BinOp("+" if s > 0 else "-", node, t, pos=pos)
    return node


def _term_factors(claim: _Claim) -> Iterator[Mutation]:
    """One term of a sum with the wrong sign (the softmax Jacobian's s_i s_j) or a wrong constant
    factor (``2λW`` for ``λW``); a term too many."""
    for n in _sums(claim):
        terms = _terms(n)
        if len(terms) < 2:
            continue
        for k, (s, t) in enumerate(terms):
            flipped = [*terms[:k], (-s, t), *terms[k + 1 :]]
            yield (
                _substitute(claim.rhs, n, _rebuild_sum(flipped, n.pos)),
                f"wrong sign of the term ${_tex(t)}$ in ${_tex(n)}$",
            )
        for k, (s, t) in enumerate(terms):
            for c, words in ((2, "twice"), (sp.Rational(1, 2), "half")):
                scaled = BinOp("juxt", Given(sp.Integer(c) if c == 2 else c, latex=sp.latex(c)), t, pos=t.pos)
                new = [*terms[:k], (s, scaled), *terms[k + 1 :]]
                yield (
                    _substitute(claim.rhs, n, _rebuild_sum(new, n.pos)),
                    f"factor 2 in the term ${_tex(t)}$: the true term is {words} as large",
                )


def _dropped_terms(claim: _Claim) -> Iterator[Mutation]:
    """A term too many: the claim holds without it."""
    for n in _sums(claim):
        terms = _terms(n)
        for k, (_s, t) in enumerate(terms if len(terms) > 1 else []):
            rest = terms[:k] + terms[k + 1 :]
            yield _substitute(claim.rhs, n, _rebuild_sum(rest, n.pos)), f"extra term: the term ${_tex(t)}$ is too many"


def _logs_of_sums(claim: _Claim) -> Iterator[Mutation]:
    """``\\log a + \\log b`` written for ``\\log(a + b)``."""
    for n in _sums(claim):
        terms = _terms(n)
        logs = [(s, t) for s, t in terms if isinstance(t, Call) and t.func.base.lstrip("\\") in ("log", "ln")]
        if len(logs) < 2 or len(logs) != len(terms):
            continue
        inside = _rebuild_sum([(s, t.args[0]) for s, t in logs], n.pos)  # type: ignore[attr-defined]
        whole = Call(logs[0][1].func, [inside], pos=n.pos)  # type: ignore[attr-defined]
        yield (
            _substitute(claim.rhs, n, whole),
            f"log of a sum: ${_tex(n)}$ splits ${_tex(whole)}$ into a sum of logs",
        )


# ---- names: layers, units, activations for pre-activations, indices -----------------------------


def _renamings(claim: _Claim) -> Iterator[Mutation]:
    ev = Evaluator(claim.env, claim.first.assignment)
    for n in _nodes(claim):
        if not isinstance(n, Name) or n.primes:
            continue
        for cand, kind in _neighbours(claim, ev, n):
            words = _rename_words(claim, ev, n, cand, kind)
            yield _substitute(claim.rhs, n, cand), words


def _neighbours(claim: _Claim, ev: Evaluator, name: Name) -> Iterator[tuple[Name, str]]:
    """Names one usual slip away that have a meaning: the layer before or after, another unit
    (out_{h2} for out_{h1}), another name of the same layer (a for z), indices exchanged or one
    index for another (w_{kj} for w_{jk}, x_i for x_j)."""
    seen = {_key(ev, name)}

    def fresh(cand: Name) -> bool:
        key = _key(ev, cand)
        if key in seen or not _has_meaning(claim, cand):
            return False
        seen.add(key)
        return True

    for k, sup in enumerate(name.sups):
        for delta in (-1, 1):
            toks = _shifted(sup, delta)
            value = ev.int_tokens(toks)
            new_sup = (Token("NUM", str(value), 0),) if value is not None and _is_number(sup) else toks
            sups = tuple(new_sup if j == k else s for j, s in enumerate(name.sups))
            cand = dataclasses.replace(name, sups=sups)
            if fresh(cand):
                yield cand, "layer"
    for base in _bases(claim.env):
        if base != ev.name_base(name):
            cand = dataclasses.replace(name, base=base)
            if fresh(cand):
                yield cand, "name"
    if name.sub is not None:
        atoms = ev.sub_atoms(name.sub)
        if atoms and len(atoms) == 2 and all(len(a) == 1 for a in atoms):
            comma = any(t.kind == "OP" and t.value == "," for t in name.sub)
            swapped = (atoms[1][0], Token("OP", ",", 0), atoms[0][0]) if comma else (atoms[1][0], atoms[0][0])
            if not comma and all(t.kind == "WORD" for t in swapped):
                swapped = (Token("WORD", atoms[1][0].value + atoms[0][0].value, 0),)
            cand = dataclasses.replace(name, sub=swapped)
            if fresh(cand):
                yield cand, "indices"
        if atoms:
            for pos_, atom in enumerate(atoms):
                if len(atom) != 1:
                    continue
                for other in _index_letters(claim):
                    if other == atom[0].value:
                        continue
                    new_atoms = [a if j != pos_ else (Token("WORD", other, 0),) for j, a in enumerate(atoms)]
                    cand = dataclasses.replace(name, sub=_joined(new_atoms))
                    if fresh(cand):
                        yield cand, "index"
                if atom[0].kind == "NUM":  # x_2 for x_1: another numbered entry
                    for value in range(0, 10):
                        if str(value) == atom[0].value:
                            continue
                        new_atoms = [a if j != pos_ else (Token("NUM", str(value), 0),) for j, a in enumerate(atoms)]
                        cand = dataclasses.replace(name, sub=_joined(new_atoms))
                        if fresh(cand):
                            yield cand, "index"
        else:  # out_{h1} -> out_{h2}: another unit of the same name
            base, sups = ev.name_base(name), ev.sup_texts(name)
            for key in claim.env.entries:
                b, s, sub = _split_key(key)
                if b == base and s == sups and sub is not None:
                    cand = dataclasses.replace(name, sub=_sub_tokens(sub))
                    if fresh(cand):
                        yield cand, "unit"


def _joined(atoms: list) -> tuple[Token, ...]:
    """Index atoms back into one subscript, separated by commas."""
    return tuple(t for j, a in enumerate(atoms) for t in (*((Token("OP", ",", 0),) if j else ()), *a))


def _shifted(sup: tuple[Token, ...], delta: int) -> tuple[Token, ...]:
    """A layer superscript moved by ``delta``, as a person writes it: L-1 -> L, L -> L+1, l+1 -> l."""
    text = "".join(t.value for t in sup).replace(" ", "")
    letters = "".join(ch for ch in text if ch.isalpha())
    if len(letters) == 1 and text.startswith(letters):
        rest = text[len(letters) :]
        offset = int(rest) if rest and rest.lstrip("+-").isdigit() else (0 if not rest else None)
        if offset is not None:
            offset += delta
            sign = Token("OP", "+" if offset > 0 else "-", 0)
            tail = () if offset == 0 else (sign, Token("NUM", str(abs(offset)), 0))
            return (Token("WORD", letters, 0), *tail)
    return (*sup, Token("OP", "+" if delta > 0 else "-", 0), Token("NUM", "1", 0))


def _is_number(script: tuple[Token, ...]) -> bool:
    return len(script) == 1 and script[0].kind == "NUM"


def _index_letters(claim: _Claim) -> list[str]:
    letters = set(claim.first.assignment)
    for n in _nodes(claim):
        if isinstance(n, Sum) and n.var:
            letters.add(n.var)
    return sorted(letters)


def _bases(env: Env) -> list[str]:
    """The bases of the file's names (a, z, W, net, out, ...), each once."""
    out = []
    for key in env.entries:
        base = _split_key(key)[0]
        if base not in out:
            out.append(base)
    return out


def _split_key(key: str) -> tuple[str, list[str], str | None]:
    """``a^{(2)}_{1}`` -> ("a", ["2"], "1"); ``W^{[1]}`` -> ("W", ["[1]"], None)."""
    sub = None
    body = key
    depth = 0
    for k in range(len(key) - 1, -1, -1):  # the last top-level _{
        ch = key[k]
        depth += ch == "}"
        depth -= ch == "{"
        if ch == "_" and depth == 0 and key[k + 1 : k + 2] == "{" and key.endswith("}"):
            body, sub = key[:k], key[k + 2 : -1]
            break
    sups: list[str] = []
    if "^{" in body and body.endswith("}"):
        body, rest = body.split("^{", 1)
        rest = rest[:-1]
        group = ""
        for ch in rest:
            group += ch
            if ch in ")]" and group.count(ch) and (group[0] == "(" and ch == ")" or group[0] == "[" and ch == "]"):
                sups.append(group[1:-1] if group[0] == "(" else group)
                group = ""
    return body, sups, sub


def _join_key(base: str, sups: list[str], sub: str | None) -> str:
    key = base
    if sups:
        key += "^{" + "".join(s if s.startswith("[") else f"({s})" for s in sups) + "}"
    if sub is not None:
        key += "_{" + sub + "}"
    return key


def _sub_tokens(sub: str) -> tuple[Token, ...]:
    out: list[Token] = []
    for part_k, part in enumerate(sub.split(",")):
        if part_k:
            out.append(Token("OP", ",", 0))
        out.append(Token("NUM" if part.isdigit() else "WORD", part, 0))
    return tuple(out)


def _key(ev: Evaluator, name: Name) -> str:
    """The key of a name, an entry's included (``a_{2}``, ``W^{(1)}_{1,2}``)."""
    try:
        _entry, key, rest = ev.lookup(name)
        if rest == "sub" and name.sub is not None:
            key += "_{" + ev.sub_key(name.sub) + "}"
        return key
    except _ERRORS:
        return name.base


def _has_meaning(claim: _Claim, name: Name) -> bool:
    """Whether ``name`` means something here (a letter a sum binds stands for its first value)."""
    indices = {**{c: 1 for c in _index_letters(claim)}, **claim.first.assignment}
    try:
        Evaluator(claim.env, indices, allow_unknown=False).eval(name)
    except _ERRORS:
        return False
    return True


def _activation_of(claim: _Claim) -> dict[str, tuple[str, rules.Activation]]:
    """For each defined name that is an activation, the name of its pre-activation and the rule:
    ``a^{(2)}`` -> (``z^{(2)}``, sigmoid), written as the file defines them."""
    cache = getattr(claim, "_activation_cache", None)
    if cache is not None:
        return cache
    out: dict[str, tuple[str, rules.Activation]] = {}
    for pair in _activation_pairs(claim):
        out[pair.a_key] = (pair.z_key, pair.act)
    claim._activation_cache = out  # type: ignore[attr-defined]
    return out


def _rename_words(claim: _Claim, ev: Evaluator, old: Name, new: Name, kind: str) -> str:
    o, n = _tex(old), _tex(new)
    old_key, new_key = _key(ev, old), _key(ev, new)
    if kind in ("name", "unit", "layer"):
        if _is_activation_of(claim, old_key, new_key):
            return f"activation for pre-activation: ${o}$ is the activation where the pre-activation ${n}$ belongs"
        if _is_activation_of(claim, new_key, old_key):
            return f"pre-activation for activation: ${o}$ is the pre-activation where the activation ${n}$ belongs"
    if kind == "layer":
        return f"layer off by one: ${o}$ should be ${n}$"
    if kind == "unit":
        return f"wrong unit: ${o}$ should be ${n}$"
    if kind in ("indices", "index"):
        return f"swapped indices: ${o}$ should be ${n}$"
    return f"swapped names: ${o}$ should be ${n}$"


def _is_activation_of(claim: _Claim, a_key: str, z_key: str) -> bool:
    """Whether the name ``a_key`` is defined as an activation of ``z_key`` (or their vectors are)."""
    acts = _activation_of(claim)
    for a, z in ((a_key, z_key), (_strip_sub(a_key), _strip_sub(z_key))):
        if a in acts and acts[a][0] == z:
            return True
    return False


def _strip_sub(key: str) -> str:
    """The key of the vector or matrix an entry belongs to (``a_{2}`` -> ``a``)."""
    b, sups, _sub = _split_key(key)
    return b + ("^{" + "".join(s if s.startswith("[") else f"({s})" for s in sups) + "}" if sups else "")


def _swapped_index_letters(claim: _Claim) -> str | None:
    """Two index letters exchanged all over the right side (∂E/∂a_i x_j for ∂E/∂a_j x_i)."""
    letters = _index_letters(claim)
    for k, a in enumerate(letters):
        for b in letters[k + 1 :]:
            options = Options(index_swap={a: b, b: a})
            if claim.rhs_explains(claim.rhs, options):
                return f"swapped indices: ${a}$ and ${b}$ are exchanged on the right side"
    return None


# ---- activation derivatives -------------------------------------------------------------------


@dataclass
class _Pair:
    """An activation of the notes: a = g(z), entrywise (``a_key`` and ``z_key`` name them)."""

    z: Value
    a: Value
    act: rules.Activation
    z_key: str
    a_key: str


_T = sp.Dummy("t", real=True)
_ACTIVATION_OF: dict[type, rules.Activation] = {
    type(act.function(_T)): act
    for act in rules.ACTIVATIONS.values()
    if act.elementwise and isinstance(act.function(_T), sp.Function)
}
_ELEMENTWISE = [act for act in rules.ACTIVATIONS.values() if act.elementwise and act.name != "identity"]


def _activation_pairs(claim: _Claim) -> list[_Pair]:
    """Every name the file defines as an activation of another, a = g(z) entry by entry: by the
    registry's function (``a = \\sigma(z)``) or by its textbook formula (``f = 1/(1 + e^{-s})``)."""
    cache = getattr(claim, "_pairs_cache", None)
    if cache is not None:
        return cache
    env = claim.env
    owner: dict[sp.Symbol, tuple[str, int]] = {}
    for key, entry in env.entries.items():
        for k, s in enumerate(_entries(entry.value)):
            if isinstance(s, sp.Symbol):
                owner.setdefault(s, (key, k))
    pairs = []
    for key, entry in env.entries.items():
        if not entry.defined:
            continue
        a_entries = _entries(entry.value)
        found = None
        for k, p in enumerate(a_entries):
            d = env.definition.get(p)
            if d is None:
                break
            act, u = _as_activation(claim, as_expr(d))
            if act is None or not isinstance(u, sp.Symbol) or u not in owner:
                break
            z_key, z_index = owner[u]
            if found is None:
                found = (act, z_key)
            if (act, z_key) != found or z_index != k:
                break
        else:
            if found is not None:
                act, z_key = found
                pairs.append(_Pair(env.entries[z_key].value, entry.value, act, z_key, key))
    claim._pairs_cache = pairs  # type: ignore[attr-defined]
    return pairs


def _as_activation(claim: _Claim, d: sp.Expr) -> tuple[rules.Activation | None, sp.Expr | None]:
    if type(d) in _ACTIVATION_OF and len(d.args) == 1:
        return _ACTIVATION_OF[type(d)], d.args[0]
    free = d.free_symbols
    if len(free) != 1 or d.is_Symbol or sp.count_ops(d) < 3:
        return None, None
    (u,) = free
    for act in _ELEMENTWISE:
        if claim.points.same(act.textbook(u), d):
            return act, u
    return None, None


def _wrong_rules(act: rules.Activation) -> list[tuple[str, Callable[[sp.Expr, sp.Expr], sp.Expr]]]:
    if act.name not in _WRONG_RULES:
        _WRONG_RULES[act.name] = [(text, _fast(rule)) for text, rule in _wrong_rules_of(act)]
    return _WRONG_RULES[act.name]


_Z, _A = sp.Dummy("z", real=True), sp.Dummy("a", real=True)


def _fast(rule: Callable[[sp.Expr, sp.Expr], sp.Expr]) -> Callable[[sp.Expr, sp.Expr], sp.Expr]:
    """``rule(z, a)`` worked out once for symbols and then substituted (a registry rule
    differentiates its function each time it is called)."""
    template = rule(_Z, _A)
    return lambda z, a: template.xreplace({_Z: z, _A: a})


_RIGHT: dict[str, Callable[[sp.Expr, sp.Expr], sp.Expr]] = {}


def _right_rule(act: rules.Activation) -> Callable[[sp.Expr, sp.Expr], sp.Expr]:
    """g'(z) in the closed form of the registry, as a function of (z, a)."""
    if act.name not in _RIGHT:
        _RIGHT[act.name] = _fast(act.derivative)
    return _RIGHT[act.name]


def _wrong_rules_of(act: rules.Activation) -> list[tuple[str, Callable[[sp.Expr, sp.Expr], sp.Expr]]]:
    """The wrong derivatives notes write for a unit of ``act``: its row's mistakes, the rule
    applied to the pre-activation, the function itself, and every other unit's rule."""
    out = [(m.text, m.derivative) for m in act.mistakes]
    z = sp.Symbol("z", real=True)
    on_z = act.derivative(z, z)
    if on_z != act.derivative(z, act.function(z)) and on_z.has(z) and not any(
        m.derivative(z, act.function(z)) == on_z for m in act.mistakes
    ):
        out.append((f"${rules.formula_latex(act.derivative(z, z))}$: the rule applied to $z$ instead of $a$",
                    lambda zz, aa, act=act: act.derivative(zz, zz)))
    out.append((f"${act.latex}(z)$ itself instead of its derivative", lambda zz, aa: aa))
    for other in _ELEMENTWISE:
        if other is not act:
            a = sp.Symbol("a", real=True)
            text = rules.formula_latex(other.derivative(z, a))
            out.append((f"${text}$: the {other.name}'s rule", other.derivative))
    return out


_WRONG_RULES: dict[str, list] = {}


def _rule_latex(act: rules.Activation, z: str = "z", a: str = "a", g: str | None = None) -> str:
    """g'(z) = its closed form (as the registry writes it: σ(1 − σ) in terms of a = g(z)), with the
    notes' names ``z``, ``a`` and ``g``."""
    closed = rules.formula_latex(act.derivative(sp.Symbol("Z"), sp.Symbol("A")))
    closed = re.sub(r"\bZ\b", lambda _m: z, re.sub(r"\bA\b", lambda _m: a, closed))
    return f"${g or act.latex}'({z}) = {closed}$"


def _unit_text(act: rules.Activation, z: str, a: str, g: str | None = None) -> str:
    return f"the unit ${a} = {g or act.latex}({z})$"


def _function_name(claim: _Claim, act: rules.Activation) -> str:
    """How the notes call the activation: the name they declare for it (``f``, ``g``, ``\\phi``),
    else its usual LaTeX (``\\sigma``, ``\\tanh``)."""
    names = [base for base, fname in claim.env.functions.items() if fname == act.name]
    if len(names) == 1:
        return names[0]
    return act.latex


def _activation_runs(claim: _Claim) -> str | None:
    """A run of factors on the right side that is a wrong derivative of one of the notes' units
    (``z \\odot (1 - z)`` for a sigmoid layer, ``A \\odot (1 - A)`` for a tanh one, ``\\phi(z)``
    for ``\\phi'(z)``): replaced by the right derivative, the claim holds."""
    pairs = _activation_pairs(claim)
    if not pairs:
        return None
    case = claim.first
    for n, fs, ops in _chains(claim) + [(claim.rhs, [claim.rhs], [])]:
        for i in range(len(fs)):
            for j in range(i, min(i + 3, len(fs))):
                run = _chain(fs[i : j + 1], ops[i:j], n.pos)
                value = claim.value(run, case)
                if value is None:
                    continue
                for pair, z, a in _matching_entries(claim, pairs, value):
                    right = _entrywise(_right_rule(pair.act), z, a)
                    if claim.points.same(value, claim.env.expand(right)):
                        continue
                    for text, wrong in _wrong_rules(pair.act):
                        if not claim.points.same(value, claim.env.expand(_entrywise(wrong, z, a))):
                            continue
                        fix = _corrected(claim, run, pair, wrong)
                        given = Given(fix, latex=f"{pair.act.latex}'({pair.z_key})")
                        rebuilt = _chain([*fs[:i], given, *fs[j + 1 :]], ops[:i] + ops[j:], n.pos)
                        new_rhs = _substitute(claim.rhs, n, rebuilt)
                        if claim.rhs_explains(new_rhs):
                            zs, as_ = _pair_names(claim, pair, z, a)
                            g = _function_name(claim, pair.act)
                            return (
                                f"wrong activation derivative: ${_tex(run)}$ is {text} for "
                                f"{_unit_text(pair.act, zs, as_, g)}; " + _rule_latex(pair.act, zs, as_, g)
                            )
    return None


def _corrected(
    claim: _Claim, run: Node, pair: _Pair, wrong: Callable[[sp.Expr, sp.Expr], sp.Expr]
) -> Callable[[Evaluator], Value]:
    """The right derivative in place of ``run`` at whatever index values it is evaluated: the run
    is matched to the pair's vector or to the entry it is written for (``1 - a_j^2`` at each j)."""

    def value(ev: Evaluator) -> Value:
        v = ev.env.expand(ev.eval(run))
        for _pair, z, a in _matching_entries(claim, [pair], v):
            if claim.points.same(v, ev.env.expand(_entrywise(wrong, z, a))):
                return _entrywise(_right_rule(pair.act), z, a)
        return v

    return value


def _pair_names(claim: _Claim, pair: _Pair, z: Value, a: Value) -> tuple[str, str]:
    """The notes' names of a pair's pre-activation and activation, of the entry a claim about
    entries uses (``s_j``, ``h_j``), else of the whole vectors (``z^{(2)}``, ``a^{(2)}``)."""
    if not is_matrix(z) and isinstance(z, sp.Symbol) and isinstance(a, sp.Symbol) and is_matrix(pair.z):
        return claim.spell_key(z.name), claim.spell_key(a.name)
    return claim.spell_key(pair.z_key), claim.spell_key(pair.a_key)


def _matching_entries(claim: _Claim, pairs: list[_Pair], value: Value) -> Iterator[tuple[_Pair, Value, Value]]:
    """The (z, a) of the pairs shaped like ``value``: whole vectors, or single entries of them
    (a claim about entries, ``1 - a_j^2``)."""
    symbols = set().union(*(as_expr(e).free_symbols for e in _entries(value)))
    for pair in pairs:
        if shape_of(pair.z) == shape_of(value) and is_matrix(pair.z) == is_matrix(value):
            yield pair, pair.z, pair.a
        elif not is_matrix(value) and is_matrix(pair.z):
            for z, a in zip(_entries(pair.z), _entries(pair.a), strict=True):
                full = claim.env.full
                near = {z, a} | set(as_expr(full.get(z, z)).free_symbols) | set(as_expr(full.get(a, a)).free_symbols)
                if symbols & near:
                    yield pair, z, a


def _entrywise(rule: Callable[[sp.Expr, sp.Expr], sp.Expr], z: Value, a: Value) -> Value:
    if is_matrix(z):
        za = list(zip(_entries(z), _entries(a), strict=True))
        return sp.ImmutableMatrix(z.shape[0], z.shape[1], [rule(x, y) for x, y in za])  # type: ignore[union-attr]
    return rule(as_expr(z), as_expr(a))


def _inserted_derivatives(claim: _Claim) -> Iterator[Mutation]:
    """A missing ``\\odot g'(z)``: some part of the right side, times an activation's derivative
    entry by entry, makes the claim hold."""
    pairs = _activation_pairs(claim)
    if not pairs:
        return
    places: list[tuple[Node, Node, Node]] = [(claim.rhs, claim.rhs, claim.rhs)]  # (where, run, replaced)
    for n, fs, ops in _chains(claim):
        for i in range(len(fs)):
            for j in range(i, len(fs)):
                run = _chain(fs[i : j + 1], ops[i:j], n.pos)
                places.append((n, run, _chain([*fs[:i], _HOLE, *fs[j + 1 :]], ops[:i] + ops[j:], n.pos)))
    for n in _nodes(claim):
        if isinstance(n, BinOp) and n.op in ("+", "-"):
            places += [(n.left, n.left, _HOLE), (n.right, n.right, _HOLE)]
    for where, run, replaced in places:
        shape = _shape(claim, run)
        for pair in pairs:
            if shape is None or shape != shape_of(pair.z) or shape == (1, 1) and is_matrix(pair.z):
                continue
            right = _entrywise(_right_rule(pair.act), pair.z, pair.a)
            factor = Given(right, latex=f"{_function_name(claim, pair.act)}'({claim.spell_key(pair.z_key)})")
            new = BinOp("odot", run, factor, pos=run.pos)
            times = "\\odot " if shape != (1, 1) else ""
            filled = _substitute(replaced, _HOLE, new) if replaced is not where or where is not run else new
            yield (
                _substitute(claim.rhs, where, filled),
                f"missing derivative factor: ${_tex(run)}$ lacks the factor ${times}{factor.latex}$",
            )


def _activation_rules(claim: _Claim) -> str | None:
    """The left side differentiates a unit; the claim holds with a wrong rule for its derivative
    (another unit's rule, one its registry row lists, the rule on z, g for g')."""
    derivs = [n for n in walk(claim.lhs) if isinstance(n, Deriv)]
    if not derivs:
        return None
    present: list[type] = []
    case = claim.first
    for d in derivs:
        F = claim.value(d.F, case)
        for e in _entries(F) if F is not None else []:
            for f in as_expr(e).atoms(sp.Function):
                if type(f) in _ACTIVATION_OF and type(f) not in present:
                    present.append(type(f))
    for cls in present:
        act = _ACTIVATION_OF[cls]
        for text, wrong in _wrong_rules(act):
            options = Options(derivative_rules={cls: lambda g, wrong=wrong: wrong(g.args[0], g)})
            if claim.lhs_explains(options):
                return f"wrong activation derivative: {text} for {_unit_text(act, 'z', 'a')} ({_rule_latex(act)})"
    return None


# ---- logs, the product rule, losses, the left side's names ------------------------------------------


def _split_logs(e: sp.Expr) -> sp.Expr:
    """The mistake log(a + b) = log a + log b, made everywhere in ``e`` (after the true identities
    log(a/b) = log a - log b and log e^u = u)."""
    e = rules.textbook_form(e)
    e = sp.expand_log(e, force=True)

    def split(x: sp.Expr) -> sp.Expr:
        if isinstance(x, sp.log) and isinstance(x.args[0], sp.Add):
            return sp.Add(*[sp.expand_log(sp.log(t), force=True) for t in x.args[0].args])
        return x

    return e.replace(lambda x: isinstance(x, sp.log) and isinstance(x.args[0], sp.Add), split)


def _log_of_sum_split(claim: _Claim) -> str | None:
    """The claimed value is the true one with a log of a sum taken as the sum of the logs
    (log Σ e^{z_k} as Σ z_k), before or after differentiating."""
    if claim.lhs_explains(transform=_split_logs):
        return "log of a sum: the right side takes the log of a sum as the sum of the logs"
    if any(isinstance(n, Deriv) for n in walk(claim.lhs)) and claim.lhs_explains(Options(transform=_split_logs)):
        return "log of a sum: the right side differentiates the log of a sum as if it were the sum of the logs"
    return None


def _product_rule(claim: _Claim) -> str | None:
    """``d(uv)/dx`` written as ``u'v`` (or ``uv'``): a term of the product rule dropped."""
    derivs = [n for n in walk(claim.lhs) if isinstance(n, Deriv) and n.order == 1]
    if len(derivs) != 1 or derivs[0] is not claim.lhs and not _is_scaled(claim.lhs, derivs[0]):
        return None
    d = derivs[0]
    case = claim.first
    ev = Evaluator(claim.env, case.assignment)
    X = ev.variable(d.X)
    if is_matrix(X):
        return None
    F = claim.env.expand(ev.eval(d.F), frozenset({X}) if isinstance(X, DefSymbol) else frozenset())
    if is_matrix(F):
        return None
    F = as_expr(F)
    if rules.is_defined(F) or F.func is sp.tanh:
        return None  # a registry function: its row's mistakes speak for it
    factors = [f for f in sp.Mul.make_args(F) if f.has(X)]
    if len(factors) < 2 or case.R is None:
        return None
    rest = sp.Mul(*[f for f in sp.Mul.make_args(F) if not f.has(X)])
    for k, f in enumerate(factors):
        others = sp.Mul(*(factors[:k] + factors[k + 1 :]))
        kept = rest * sp.diff(others, X) * f  # every term but the one that differentiates f
        if claim.points.same(claim.env.expand(kept), case.R):
            dropped = claim.env.fold(rest * others * sp.diff(f, X))
            return (
                f"product rule: the term ${claim.spell(dropped)}$ (from the derivative of "
                f"${claim.spell(claim.env.fold(f))}$) is dropped"
            )
    return None


def _is_scaled(node: Node, d: Deriv) -> bool:
    return isinstance(node, Neg) and node.operand is d


def _loss_rule(claim: _Claim) -> str | None:
    env = claim.env
    info = env.loss_info
    if not info or getattr(claim.cf, "definitions", None):
        return None
    from .presets import NetworkSpec, build_preset

    spec: NetworkSpec = info["spec"]
    for loss in rules.LOSSES:
        if loss == spec.loss or not rules.loss(loss).accepts(spec.output):
            continue
        alt = Env(functions=dict(env.functions), aliases=dict(env.aliases), sizes=dict(env.sizes))
        try:
            build_preset(
                alt, NetworkSpec(spec.notation, spec.layers, spec.hidden, spec.output, loss, spec.l2), info["m"]
            )
        except (MeaningError, ValueError):
            continue
        if all(
            c.R is not None and claim.points.same(_value_in(alt, claim.lhs, c.assignment), c.R) for c in claim.cases
        ):
            return f"wrong loss derivative: the right side is the one for the {loss} loss, not {spec.loss}"
    return None


def _value_in(env: Env, node: Node, assignment: dict[str, int]) -> Value | None:
    try:
        return env.expand(Evaluator(env, assignment).eval(node))
    except _ERRORS:
        return None


def _lhs_renamed(claim: _Claim, activations: bool = True) -> str | None:
    """The slip may be on the left: ∂C/∂b written where ∂C/∂w is meant. (Without
    ``activations``, not ∂C/∂a for ∂C/∂z: that is better said as the missing derivative factor.)"""
    if claim.first.R is not None and all(e == 0 for e in _entries(claim.first.R)):
        return None  # any name that does not depend on the variable would "explain" a 0
    ev = Evaluator(claim.env, claim.first.assignment)
    for d in [x for x in walk(claim.lhs) if isinstance(x, Deriv)]:
        for target in (d.X, d.F):
            if not isinstance(target, Name):
                continue
            for cand, kind in _neighbours(claim, ev, target):
                keys = _key(ev, target), _key(ev, cand)
                if not activations and (_is_activation_of(claim, *keys) or _is_activation_of(claim, *keys[::-1])):
                    continue
                new_lhs = _substitute(claim.lhs, target, cand)
                if all(
                    c.R is not None and claim.points.same(claim.value(new_lhs, c), c.R) for c in claim.cases
                ):
                    words = {"layer": "layer off by one", "unit": "wrong unit"}.get(kind, "swapped names")
                    text = f"the right side is the value for ${_tex(cand)}$, not ${_tex(target)}$"
                    factor = _mutations(claim, _dropped_factors(claim)) or _symbolic_factor(claim)
                    return f"{factor} ({text})" if factor else f"{words}: {text}"
    return None


# ----------------------------------------------------------------------------------------------
# When no single mistake explains it: what differs
# ----------------------------------------------------------------------------------------------


def _fallbacks(claim: _Claim) -> list[Candidate]:
    return [
        lambda: _not_zero(claim),
        lambda: _missing_term(claim),
        lambda: _missing_elementwise_factor(claim),
        lambda: _lhs_renamed(claim),
        lambda: _symbolic_factor(claim),
        lambda: _wrong_entries(claim),
    ]


def _not_zero(claim: _Claim) -> str | None:
    """A claim that something is 0 (E_{d1} does not depend on w_{31}) where it is not."""
    R = claim.first.R
    if R is None or any(e != 0 for e in _entries(R)):
        return None
    d = claim.lhs.operand if isinstance(claim.lhs, Neg) else claim.lhs
    if isinstance(d, Deriv):
        return f"not zero: ${_tex(d.F)}$ depends on ${_tex(d.X)}$"
    return None


def _describe(claim: _Claim, v: Value) -> str | None:
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


def _product_of_two(claim: _Claim, v: Value) -> str | None:
    """``v`` as M N, M^T N of two inputs of the file (``B^T x``), or None."""
    inputs = [(k, e.value) for k, e in claim.env.entries.items() if is_matrix(e.value) and not e.defined]
    for k1, M in inputs:
        for M_, shown in ((M, claim.spell_key(k1)), (M.T, f"{claim.spell_key(k1)}^T")):  # type: ignore[union-attr]
            for k2, N in inputs:
                if M_.shape[1] != N.shape[0] or (M_.shape[0], N.shape[1]) != v.shape:  # type: ignore[union-attr]
                    continue
                if all(sp.expand(x - y) == 0 for x, y in zip(_entries(v), _entries(M_ * N), strict=True)):
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
    for x, y in zip(_entries(v), _entries(M), strict=True):
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


def _difference(claim: _Claim) -> Value | None:
    """L - R at the failing case, expanded; None when a side has no value."""
    case = claim.first
    if case.R is None or case.L is None or is_matrix(case.L) != is_matrix(case.R):
        return None
    if is_matrix(case.L):
        return _map(sp.ImmutableMatrix(case.L) - sp.ImmutableMatrix(case.R), sp.expand)
    return sp.expand(as_expr(case.L) - as_expr(case.R))


def _regularization(claim: _Claim) -> str | None:
    """The L2 term of a gradient missing, too many, or on the bias."""
    diff = _difference(claim)
    if diff is None or all(e == 0 for e in _entries(diff)):
        return None
    symbols = set().union(*(as_expr(e).free_symbols for e in _entries(diff)))
    lam = [s for s in symbols if s.name in ("\\lambda", "lambda")]
    if not lam or any(sp.expand(e).subs(lam[0], 0) != 0 for e in _entries(diff)):
        return None  # the difference is not all in the L2 term
    extra = all(sp.expand(e).could_extract_minus_sign() for e in _entries(diff) if e != 0)
    if extra and any(s.name.startswith("\\Theta") and s.name.endswith(",0}") for s in symbols):
        return "regularized bias: the bias column (j = 0) is not regularized"
    if extra or any(as_expr(e).has(lam[0]) for e in _entries(claim.first.R)):
        return None  # the right side has an L2 term, a wrong one: the term's factor says how
    shown = _describe(claim, diff)
    return None if shown is None else f"missing regularization: the L2 term ${shown}$ is missing"


def _missing_term(claim: _Claim) -> str | None:
    """L - R is one term the notes would write (``\\lambda W^{(2)}``): a missing (or extra) term."""
    case = claim.first
    if case.R is None or case.L is None:
        return None
    diff = _map(sp.ImmutableMatrix(case.L) - sp.ImmutableMatrix(case.R), sp.expand) if is_matrix(case.L) else sp.expand(
        as_expr(case.L) - as_expr(case.R)
    )
    if all(sp.expand(e) == 0 for e in _entries(diff)):
        return None
    terms_ok = all(len(sp.Add.make_args(sp.expand(e))) == 1 for e in _entries(diff))
    if not terms_ok and not is_matrix(diff):
        return None
    for sign, words in ((1, "missing term: the term ${}$ is missing"), (-1, "extra term: the term ${}$ is too many")):
        shown = _describe(claim, _map(diff, lambda e, s=sign: s * e))
        if shown is None:
            continue
        if sign < 0 and all(sp.expand(e).could_extract_minus_sign() is False for e in _entries(diff)):
            continue
        if sign > 0 and any(sp.expand(e).could_extract_minus_sign() for e in _entries(diff) if e != 0):
            continue
        return words.format(shown)
    return None


def _missing_elementwise_factor(claim: _Claim) -> str | None:
    """The true value is the claimed one times an activation's derivative, entry by entry (a
    missing ``\\odot g'(z)``), or divided by it (one too many)."""
    pairs = _activation_pairs(claim)
    for pair in pairs:
        right = _entrywise(_right_rule(pair.act), pair.z, pair.a)
        for case in claim.cases[:1]:
            if case.R is None or case.L is None:
                return None
            for z, a, d in _aligned(pair, right, case):
                d = claim.env.expand(d)
                factor = f"{_function_name(claim, pair.act)}'({_pair_names(claim, pair, z, a)[0]})"
                if claim.points.same(case.L, _times(case.R, d)):
                    return f"missing derivative factor: the right side lacks the factor ${factor}$"
                if claim.points.same(_times(case.L, d), case.R):
                    return f"extra derivative factor: the right side has the factor ${factor}$ too many"
    return None


def _aligned(pair: _Pair, right: Value, case: _Case) -> Iterator[tuple[Value, Value, Value]]:
    if shape_of(right) == shape_of(case.L) and is_matrix(right) == is_matrix(case.L):
        yield pair.z, pair.a, right
    elif not is_matrix(case.L):
        yield from zip(_entries(pair.z), _entries(pair.a), _entries(right), strict=True)


def _times(a: Value, b: Value) -> Value:
    if is_matrix(a) and is_matrix(b):
        return sp.ImmutableMatrix(a.multiply_elementwise(b))  # type: ignore[union-attr]
    return a * b  # type: ignore[operator]


def _symbolic_factor(claim: _Claim) -> str | None:
    """The right side has a factor the true value lacks (or lacks one it has)."""
    case = claim.first
    L, R = case.L, case.R
    if L is None or R is None or is_matrix(L) or is_matrix(R) or L == 0 or R == 0:
        return None
    if sp.count_ops(L) + sp.count_ops(R) > 400:
        return None
    with deadline(2.0):
        ratio = sp.cancel(as_expr(R) / as_expr(L))
        if ratio.is_Number:
            return None
        ratio = sp.factor(claim.env.fold(ratio))
    num, den = sp.fraction(ratio)
    if len(sp.Mul.make_args(num)) <= 2 and den == 1:
        return f"extra factor: the right side has a factor ${claim.spell(num)}$ that the true value lacks"
    if num == 1 and len(sp.Mul.make_args(den)) <= 2:
        return f"missing factor: the right side lacks the factor ${claim.spell(den)}$"
    return None


def _missing_matrix_factor(claim: _Claim) -> str | None:
    """With shapes that do not fit: the claim holds once multiplied by a vector or matrix of the
    notes (``(y - t)`` for ``(y - t) \\phi``)."""
    case = claim.first
    if case.R is None or case.L is None:
        return None
    L_symbols = set().union(*(as_expr(e).free_symbols for e in _entries(case.L)))
    for key, entry in claim.env.entries.items():
        M = entry.value
        if not is_matrix(M) or not (set(_entries(M)) & L_symbols or entry.defined):
            continue
        for product, shown in (
            (lambda r, M=M: _times_matrix(r, M), "{r} " + key),
            (lambda r, M=M: _times_matrix(M, r), key + " {r}"),
        ):
            def test(c: _Case, product=product) -> bool:
                if c.R is None:
                    return False
                try:
                    return claim.points.same(c.L, product(c.R))
                except (ValueError, TypeError, sp.ShapeError):
                    return False

            if claim.holds_at_every_case(test):
                return f"missing factor: the right side lacks the factor ${key}$ (${shown.format(r=_tex(claim.rhs))}$)"
    return None


def _times_matrix(a: Value, b: Value) -> Value:
    if not is_matrix(a) or not is_matrix(b):
        return a * b  # type: ignore[operator]
    return sp.ImmutableMatrix(a * b)  # type: ignore[operator]


def _wrong_entries(claim: _Claim) -> str | None:
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


_ = (children, Num)
