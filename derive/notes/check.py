"""Checking a claims file: prove, refute or diagnose each claim (the ``derive check`` command is in derive/cli).

For every claim: parse the chain ``a = b = c``; find its free indices and their ranges; for
each link and each index value, evaluate both sides (``derive.meaning``), compare them at random
points and try an exact proof (``derive.proof``). A failing link gets the correct value
(``expected``) and a diagnosis (``derive.diagnose``).

Each claim runs in a forked worker with a time limit, so a claim that explodes cannot stall the
file; inside, every symbolic stage has its own deadline and falls back to numeric evidence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import multiprocessing
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from ..exprs import as_expr
from ..proof.prover import DIGITS, Verification, Witness, numeric_value, numeric_witness, verify
from ..timelimit import Deadline, deadline
from .claims import ClaimsFile, ClaimSpec
from .diagnose import diagnose, diagnose_shape
from .ellipsis import expand as expand_ellipsis
from .ellipsis import has_dots
from .meaning import (
    IMPLICIT_VARIABLE,
    INDEX_LETTERS,
    Env,
    Evaluator,
    MeaningError,
    ShapeError,
    UnknownName,
    Value,
    enumerate_assignments,
    free_index_letters,
    index_range,
    is_matrix,
    shape_text,
    walk,
)
from .notation import Call, Matrix, Name, Neg, Node, Num, ParseError, parse_chain, parse_condition, to_latex
from .printing import latex_of

__all__ = ["CLAIM_TIME_LIMIT", "check_claim", "check_file", "format_terminal", "latex_of", "summarize", "to_json"]

CLAIM_TIME_LIMIT = 20.0  # seconds for one claim, all links and index values together (a file: at most 1000)
MAX_ASSIGNMENTS = 48


# ----------------------------------------------------------------------------------------------
# LaTeX of SymPy values with the notes' names
# ----------------------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass
class ClaimResult:
    id: str
    verdict: str
    evidence: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    expected: str | None = None
    counterexample: dict[str, Any] | None = None
    diagnosis: str | None = None
    reason: str | None = None
    latex: str = ""
    note: str | None = None
    expect: str | None = None
    seconds: float = 0.0
    section: str | None = None  # the title of its part, in a file of several YAML documents

    def as_json(self) -> dict[str, Any]:
        """The contract's fields, in the contract's order (and the part, in a file of several)."""
        out = {
            "id": self.id,
            "verdict": self.verdict,
            "evidence": self.evidence,
            "steps": self.steps,
            "expected": self.expected,
            "counterexample": self.counterexample,
            "diagnosis": self.diagnosis,
            "reason": self.reason,
        }
        if self.section is not None:
            out["section"] = self.section
        return out


def _undecided(spec: ClaimSpec, reason: str, steps: list | None = None) -> ClaimResult:
    return ClaimResult(
        spec.id,
        "undecided",
        None,
        steps or [],
        reason=reason,
        latex=spec.latex,
        note=spec.note,
        expect=spec.expect,
    )


# ----------------------------------------------------------------------------------------------
# Checking one claim
# ----------------------------------------------------------------------------------------------


@dataclass
class _Side:
    node: Node
    text: str


def _seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _decimals_tolerance(node: Node) -> float | None:
    """A side written as a decimal with d digits holds when the true value rounds to it."""
    inner = node.operand if isinstance(node, Neg) else node
    if isinstance(inner, Num) and inner.decimals > 0:
        return 0.5 * 10 ** (-inner.decimals) * (1 + 1e-9)
    return None


def _layer_letters(nodes: list[Node]) -> set[str]:
    out = set()
    for node in nodes:
        for n in walk(node):
            if isinstance(n, Name):
                for s in n.sups:
                    for t in s:
                        if t.kind == "WORD" and len(t.value) == 1 and t.value in INDEX_LETTERS:
                            out.add(t.value)
    return out


def _index_ranges(
    env: Env, sides: list[Node], letters: set[str], fixed: dict[str, int]
) -> tuple[dict[str, tuple[int, int]], str | None]:
    """The range of each subscript index from the shapes it indexes (layer letters fixed)."""
    ev = Evaluator(env, fixed)
    ranges: dict[str, tuple[int, int]] = {}
    pending: list[str] = []
    for c in sorted(letters):
        found = [index_range(s, c, ev) for s in sides]
        found = [r for r in found if r is not None]
        if not found:
            pending.append(c)
            continue
        lo = max(r[0] for r in found)
        hi = min(r[1] for r in found)
        if lo > hi:
            return {}, f"the index {c} ranges over sizes that do not agree"
        ranges[c] = (lo, hi)
    for c in pending:  # \delta_{ti}: t ranges like its partner i in Kronecker's delta
        partner = _kronecker_partner(sides, c, ev)
        if partner is not None and partner in ranges:
            ranges[c] = ranges[partner]
        elif _only_in_kronecker_deltas(sides, c, ev):
            # \delta_{ij} = 1 if i = j else 0: a statement about whole numbers, where only
            # equal or unequal matters; three values cover both cases for each pair
            ranges[c] = (1, 3)
        else:
            return {}, f"the index {c} has no range: it indexes no vector or matrix of known size"
    return ranges, None


def _only_in_kronecker_deltas(sides: list[Node], c: str, ev: Evaluator) -> bool:
    """Whether the index ``c`` subscripts nothing but Kronecker deltas (conditions may compare it)."""
    seen = False
    for side in sides:
        for n in walk(side):
            if not isinstance(n, Name) or n.sub is None:
                continue
            atoms = ev.sub_atoms(n.sub) or []
            if not any(len(a) == 1 and a[0].value == c for a in atoms):
                continue
            if n.base != "\\delta" or n.sups or ev.lookup(n)[0] is not None:
                return False
            seen = True
    return seen


def _kronecker_partner(sides: list[Node], c: str, ev: Evaluator) -> str | None:
    for side in sides:
        for n in walk(side):
            if isinstance(n, Name) and n.base == "\\delta" and not n.sups and n.sub is not None:
                atoms = ev.sub_atoms(n.sub)
                if atoms and len(atoms) == 2 and all(len(a) == 1 for a in atoms):
                    a, b = atoms[0][0].value, atoms[1][0].value
                    if c == a:
                        return b
                    if c == b:
                        return a
    return None


def _assignments(
    env: Env, sides: list[Node], letters: set[str], layer_letters: set[str]
) -> tuple[list[dict[str, int]], str | None]:
    """Every value of the free indices: a free layer letter at every layer of the notes, the
    subscript indices over the sizes they index at that layer."""
    if layer_letters and not env.layer_values:
        return [], f"the layer index {min(layer_letters)} has no range (no layers are numbered)"
    layers = sorted(layer_letters)
    if layers:
        lo, hi = min(env.layer_values) - 1, max(env.layer_values) + 1
        layer_assigns = enumerate_assignments(layers, {c: (lo, hi) for c in layers})
    else:
        layer_assigns = [{}]
    others = letters - layer_letters
    out: list[dict[str, int]] = []
    problem = None
    for la in layer_assigns:
        ranges, problem_here = _index_ranges(env, sides, others, la)
        if problem_here:
            problem = problem or problem_here
            continue
        combos = enumerate_assignments(sorted(others), ranges, limit=4000) if others else [{}]
        out.extend({**la, **combo} for combo in combos)
    if not out:
        return [], problem or "no index value applies"
    return out, None


def check_claim(cf: ClaimsFile, spec: ClaimSpec, budget: float = CLAIM_TIME_LIMIT) -> ClaimResult:
    """Check one claim (in this process): the verdict with its evidence, steps and diagnosis.

    Every claim passes here: a formula too deep for Python's stack or too big for memory, wherever
    it overflows (reading, SymPy's rewriting, evaluating, diagnosing), is ``undecided``."""
    start = time.monotonic()
    try:
        return _check_claim(cf, spec, budget)
    except RecursionError:
        result = _undecided(spec, "the formula is too large to evaluate (nested too deeply)")
    except MemoryError:
        result = _undecided(spec, "the formula is too large to evaluate (out of memory)")
    result.seconds = time.monotonic() - start
    return result


_PLUS_MINUS = re.compile(r"\\(pm|mp)(?![A-Za-z])")


def _check_claim(cf: ClaimsFile, spec: ClaimSpec, budget: float) -> ClaimResult:
    if _PLUS_MINUS.search(spec.latex):
        return _check_both_signs(cf, spec, budget)
    result = _check_equation(cf, spec, budget)
    if _is_update(spec.latex) and not (
        result.verdict == "fails" and (result.diagnosis or "").startswith("shape mismatch")
    ):  # x := x + y is no equation, but one whose shapes cannot be added is wrong all the same
        steps = [dict(link, verdict="undecided") for link in result.steps]
        result = _undecided(
            spec, "an update (:=) gives a name a new value made from its old one; not an equation", steps
        )
    return result


def _check_both_signs(cf: ClaimsFile, spec: ClaimSpec, budget: float) -> ClaimResult:
    """``(u \\pm v)' = u' \\pm v'`` is two equations: every ± read as + (∓ as −), then as −.
    It holds when both do; the first that fails or is undecided speaks for the claim."""
    results = []
    for sign, opposite in (("+", "-"), ("-", "+")):
        latex = _PLUS_MINUS.sub(lambda m, s=sign, o=opposite: s if m.group(1) == "pm" else o, spec.latex)
        r = _check_claim(cf, dataclasses.replace(spec, latex=latex), budget / 2)
        r.latex = spec.latex  # the steps keep the reading: (u - v)' = u' - v'
        results.append((sign, r))
    for verdict in ("fails", "undecided"):
        for sign, r in results:
            if r.verdict == verdict:
                if r.diagnosis:
                    r.diagnosis = f"with ± read as {sign}: {r.diagnosis}"
                if r.reason:
                    r.reason = f"with ± read as {sign}: {r.reason}"
                return r
    first, second = results[0][1], results[1][1]
    first.steps = first.steps + second.steps
    if second.evidence == "numeric":
        first.evidence = "numeric"
    first.seconds += second.seconds
    return first


def _check_equation(cf: ClaimsFile, spec: ClaimSpec, budget: float) -> ClaimResult:
    start = time.monotonic()
    cf = cf.context(spec)  # the YAML document that gives the claim's symbols their meaning
    env = cf.env
    try:
        chain = parse_chain(spec.latex)
    except ParseError as err:
        return _undecided(spec, f"the formula does not parse: {err}")
    except RecursionError:
        return _undecided(spec, "the formula is nested too deeply to read")
    steps = [
        {"lhs": chain.texts[k], "rhs": chain.texts[k + 1], "verdict": "undecided"} for k in range(len(chain.sides) - 1)
    ]
    if len(chain.sides) < 2:
        return _undecided(spec, "a claim is an equation: it needs '='")
    try:
        hidden = _expand_ellipses(env, chain.sides)
    except ShapeError as err:  # more rows written around the dots than the other side has
        return _shape_failure(spec, steps, err)
    except MeaningError as err:
        return _undecided(spec, str(err), steps)
    except RecursionError:
        return _undecided(spec, "the formula is nested too deeply to read")
    conditions = []
    if spec.when:
        try:
            conditions = parse_condition(spec.when)
        except ParseError as err:
            return _undecided(spec, f"when: does not parse: {err}", steps)
    ev0 = Evaluator(env)
    letters: set[str] = set()
    for side in chain.sides:
        letters |= free_index_letters(side, ev0)
    for cond in conditions:
        for part in (cond.left, cond.right):
            if part is not None:
                letters |= {
                    n.base
                    for n in walk(part)
                    if isinstance(n, Name) and n.base in INDEX_LETTERS and ev0.int_value(n.base) is None
                }
    layer_letters = _layer_letters(chain.sides) & letters
    assignments, problem = _assignments(env, chain.sides, letters, layer_letters) if letters else ([{}], None)
    if problem:
        if env.strict:
            return _undecided(spec, problem, steps)
        assignments = [{}]  # no shapes at all: x_i is just a name
    if conditions:
        kept = []
        for a in assignments:
            ev = Evaluator(env, a)
            try:
                if all(bool(ev.condition(c)) for c in conditions):
                    kept.append(a)
            except (MeaningError, TypeError):
                return _undecided(spec, "when: cannot be evaluated for the claim's indices", steps)
        assignments = kept
    if len(assignments) > MAX_ASSIGNMENTS:
        step = len(assignments) / MAX_ASSIGNMENTS
        assignments = [assignments[int(k * step)] for k in range(MAX_ASSIGNMENTS)]
    result = ClaimResult(spec.id, "holds", "symbolic", steps, latex=spec.latex, note=spec.note, expect=spec.expect)
    sides, variable = _apply_bare_functions(env, chain.sides)
    chain.sides[:] = sides
    free_names = _claim_variables(env, chain.sides, assignments[0] if assignments else {}) | variable
    seed = _seed(spec.id + spec.latex)
    per_link_time = max(budget - 2.0, 1.0) / max(1, len(steps))
    first_reason = None
    for k, step in enumerate(steps):
        link_start = time.monotonic()
        lhs, rhs = chain.sides[k], chain.sides[k + 1]
        outcome = _check_link(
            cf, spec, lhs, rhs, assignments, layer_letters, seed + k, per_link_time, result, free_names
        )
        if outcome == "holds" and (hidden.get(k) or hidden.get(k + 1)):
            outcome = "undecided"  # only the written entries were compared
            gaps = hidden.get(k) or hidden.get(k + 1) or []
            listed = ", ".join(f"({r + 1}, {c + 1})" for r, c in gaps[:6]) + (", …" if len(gaps) > 6 else "")
            result.reason = (
                f"the written entries agree, but entries {listed} behind the ellipses follow no pattern"
                " of their neighbours, so they were not compared"
            )
        step["verdict"] = outcome
        if outcome == "fails":
            result.verdict = "fails"
            break  # the first wrong step is reported; later steps follow from a wrong premise
        if outcome == "undecided":
            if result.verdict == "holds":
                result.verdict = "undecided"
            first_reason = first_reason or result.reason
        _ = link_start
    if result.verdict == "undecided":
        result.evidence = None
        result.reason = first_reason or result.reason
    if result.verdict != "undecided":
        result.reason = None
    result.seconds = time.monotonic() - start
    return result


def _shape_failure(spec: ClaimSpec, steps: list[dict], err: ShapeError) -> ClaimResult:
    failed = ClaimResult(spec.id, "fails", "symbolic", steps, latex=spec.latex, note=spec.note, expect=spec.expect)
    failed.diagnosis = f"shape mismatch: {err}"
    for link in steps:
        link["verdict"] = "fails"
    return failed


def _is_update(latex: str) -> bool:
    """``\\theta_j := \\theta_j - \\alpha ...``: the name assigned appears on the right."""
    if ":=" not in latex.replace(" ", ""):
        return False
    try:
        sides = parse_chain(latex).sides
    except (ParseError, RecursionError):
        return False
    if len(sides) != 2 or not isinstance(sides[0], Name):
        return False
    target = to_latex(sides[0])
    return any(isinstance(n, Name) and to_latex(n) == target for n in walk(sides[1]))


def _expand_ellipses(env: Env, sides: list[Node]) -> dict[int, list[tuple[int, int]]]:
    """Write out the ellipses of every side (in place). A matrix side takes its shape, and the
    entries no pattern explains, from a neighbouring side; those entries are returned by side."""
    hidden: dict[int, list[tuple[int, int]]] = {}
    for k, side in enumerate(sides):
        if not has_dots(side):
            continue
        like, unknown = None, None
        if isinstance(side, Matrix):
            for j in (k - 1, k + 1):
                if 0 <= j < len(sides) and not has_dots(sides[j]):
                    ev = Evaluator(env)
                    try:
                        value = ev.eval(sides[j])
                    except MeaningError:
                        continue
                    if env.strict and ev.unknown:  # \nabla C with no meaning gives no shape
                        unknown = unknown or sorted(ev.unknown)[0]
                        continue
                    like = value
                    break
        try:
            sides[k], gaps = expand_ellipsis(side, Evaluator(env), like)
        except MeaningError:
            if unknown:
                raise UnknownName(unknown) from None
            raise
        if gaps:
            hidden[k] = gaps
    return hidden


def _evaluate(ev: Evaluator, node: Node) -> Value:
    return ev.eval(node)


def _check_link(
    cf: ClaimsFile,
    spec: ClaimSpec,
    lhs: Node,
    rhs: Node,
    assignments: list[dict[str, int]],
    layer_letters: set[str],
    seed: int,
    budget: float,
    result: ClaimResult,
    free_names: frozenset[str] = frozenset(),
) -> str:
    """One link ``lhs = rhs`` over every index assignment: holds, fails or undecided (and fills
    ``result`` with the evidence, counterexample, expected value and diagnosis)."""

    env = cf.env
    start = time.monotonic()
    tol = _decimals_tolerance(rhs) or _decimals_tolerance(lhs)
    evidence = "symbolic"
    applicable = 0
    for a in assignments:
        if time.monotonic() - start > budget:
            result.reason = "time limit reached before every index value was checked"
            return "undecided"
        ev_l = Evaluator(env, a)
        ev_r = Evaluator(env, a)
        try:
            L = _evaluate(ev_l, lhs)
            R = _evaluate(ev_r, rhs)
        except ShapeError as err:
            result.diagnosis = diagnose_shape(env, cf, lhs, rhs, a, str(err), seed, _left(budget, start), assignments)
            result.evidence = "symbolic"
            result.counterexample = None
            _fill_expected(env, lhs, a, result)
            return "fails"
        except UnknownName as err:
            if layer_letters and any(c in a for c in layer_letters):
                continue  # this layer does not have all the symbols: not checked there
            result.reason = str(err)
            return "undecided"
        except MeaningError as err:
            if layer_letters and any(c in a for c in layer_letters):
                continue
            result.reason = str(err)
            return "undecided"
        except (RecursionError, MemoryError):
            result.reason = "the formula is too large to evaluate"
            return "undecided"
        except Deadline:
            result.reason = "time limit reached while evaluating"
            return "undecided"
        if env.strict:
            bad = _unexplained_names(ev_l, ev_r, free_names)
            if bad and layer_letters and any(c in a for c in layer_letters):
                continue  # this layer does not have all the symbols: not checked there
            if bad:
                result.reason = f"{bad} has no meaning here (not defined, declared, or used in the definitions)"
                return "undecided"
        applicable += 1
        if is_matrix(L) != is_matrix(R) or (is_matrix(L) and L.shape != R.shape):  # type: ignore[union-attr]
            problem = f"the left side is {shape_text(L)}, the right side is {shape_text(R)}"
            result.diagnosis = diagnose_shape(env, cf, lhs, rhs, a, problem, seed, _left(budget, start), assignments)
            result.evidence = "symbolic"
            result.expected = _expected(env, L)
            return "fails"
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
            result.reason = "time limit reached while evaluating at random points"
            return "undecided"
        if out.verdict == "undecided":
            result.reason = out.evidence
            return "undecided"
        if out.verdict == "fails":
            result.evidence = _failure_evidence(Lf, Rf, out, budget - (time.monotonic() - start))
            result.counterexample = _counterexample(Lf, out, a)
            for f, body in instances.items():
                result.counterexample["point"][f"{f}(x)"] = sp.sstr(body(IMPLICIT_VARIABLE))
            result.expected = _expected(env, L)
            diag_budget = max(min(budget - (time.monotonic() - start), 8.0), 1.0)
            try:
                result.diagnosis = diagnose(env, cf, lhs, rhs, a, L, R, Lf, Rf, seed, diag_budget, assignments)
            except Deadline:
                result.diagnosis = None
            return "fails"
        if out.verdict == "numeric":
            evidence = "numeric"
    if applicable == 0:
        result.reason = "no index value has all of the claim's symbols"
        return "undecided"
    if evidence == "numeric" or result.evidence == "numeric":
        result.evidence = "numeric"
    return "holds"


def _left(budget: float, start: float) -> float:
    """Seconds for a diagnosis: what the link has left, between 1 and 8."""
    return max(min(budget - (time.monotonic() - start), 8.0), 1.0)


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


def _apply_bare_functions(env: Env, sides: list[Node]) -> tuple[list[Node], frozenset[str]]:
    """``g = \frac{1}{1+e^{-z}}``: a function written bare, equated to a formula in one variable,
    means the function at that variable, g(z). Other sides are returned unchanged."""
    ev0 = Evaluator(env)
    bare = [k for k, side in enumerate(sides) if ev0.is_function_name(side) and not side.primes]
    if not bare or len(bare) == len(sides):
        return sides, frozenset()
    unknown: set[str] = set()
    for k, side in enumerate(sides):
        if k not in bare:
            ev = Evaluator(env)
            try:
                ev.eval(side)
            except (MeaningError, RecursionError, Deadline, TypeError, ValueError, ZeroDivisionError):
                return sides, frozenset()
            unknown |= set(ev.unknown)
    if len(unknown) != 1 or not re.fullmatch(r"\\?[A-Za-z]+", next(iter(unknown))):
        return sides, frozenset()
    var = next(iter(unknown))
    out = [Call(side, [Name(var, pos=side.pos)], pos=side.pos) if k in bare else side for k, side in enumerate(sides)]
    return out, frozenset({var})


def _claim_variables(env: Env, sides: list[Node], assignment: dict[str, int]) -> frozenset[str]:
    """Names with no meaning in the file that the claim itself quantifies over: used on two or
    more sides of the chain (g'(z) = e^{-z}/(1+e^{-z})^2 = ...), or the variable of a derivative."""
    seen: dict[str, int] = {}
    deriv: set[str] = set()
    for side in sides:
        ev = Evaluator(env, assignment)
        try:
            ev.eval(side)
        except (MeaningError, RecursionError, Deadline, TypeError, ValueError, ZeroDivisionError):
            pass
        for key in ev.unknown:
            seen[key] = seen.get(key, 0) + 1
        deriv |= ev.derivative_vars
    return frozenset(k for k, n in seen.items() if n >= 2) | frozenset(deriv)


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


def _fill_expected(env: Env, lhs: Node, a: dict[str, int], result: ClaimResult) -> None:
    try:
        L = Evaluator(env, a).eval(lhs)
        result.expected = _expected(env, L)
    except (MeaningError, RecursionError, Deadline):
        result.expected = None


def _expected(env: Env, L: Value, budget: float = 3.0) -> str | None:
    """The true value of the left side, simplified and written with the notes' names."""
    try:
        full = env.expand(L)
        with deadline(budget):
            if is_matrix(full):
                nice = full.applyfunc(lambda e: _nicest(env, e))  # type: ignore[union-attr]
            else:
                nice = _nicest(env, full)
        return latex_of(nice)
    except Deadline:
        return latex_of(env.fold(env.expand(L)) if not is_matrix(L) else env.expand(L))
    except (RecursionError, ValueError, TypeError):
        return None


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


# ----------------------------------------------------------------------------------------------
# Checking a file: one forked worker per claim, with a time limit
# ----------------------------------------------------------------------------------------------


def _worker(cf: ClaimsFile, spec: ClaimSpec, budget: float, conn: Any) -> None:
    try:
        res = check_claim(cf, spec, budget)
        conn.send(res)
    except BaseException as err:  # noqa: BLE001 - the parent turns any failure into "undecided"
        try:
            conn.send(_undecided(spec, f"internal error while checking: {type(err).__name__}: {err}"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        conn.close()


def check_file(cf: ClaimsFile, time_limit: float = CLAIM_TIME_LIMIT, isolate: bool = True) -> list[ClaimResult]:
    """Check every claim of ``cf``; each has ``time_limit`` seconds (a worker is killed past it)."""
    results = []
    for spec in cf.claims:
        result = _run_one(cf, spec, time_limit, isolate)
        result.section = cf.section_title(spec)
        results.append(result)
    return results


def _run_one(cf: ClaimsFile, spec: ClaimSpec, time_limit: float, isolate: bool) -> ClaimResult:
    start = time.monotonic()
    if not isolate or "fork" not in multiprocessing.get_all_start_methods():
        try:
            res = check_claim(cf, spec, time_limit)
        except Exception as err:  # noqa: BLE001
            res = _undecided(spec, f"internal error while checking: {type(err).__name__}: {err}")
        return res
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(cf, spec, time_limit, send), daemon=True)
    proc.start()
    send.close()
    res: ClaimResult | None = None
    try:
        if recv.poll(time_limit + 1.0):
            try:
                res = recv.recv()
            except (EOFError, OSError):
                res = None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        recv.close()
    if res is None:
        if time.monotonic() - start >= time_limit:
            res = _undecided(spec, f"time limit of {time_limit:g} s reached: no proof or counterexample in time")
        else:
            res = _undecided(spec, "the check stopped unexpectedly (out of memory?)")
    res.seconds = time.monotonic() - start
    return res


def summarize(results: list[ClaimResult]) -> dict[str, int]:
    counts = {"holds": 0, "fails": 0, "undecided": 0}
    for r in results:
        counts[r.verdict] += 1
    return counts


def to_json(path: str, results: list[ClaimResult]) -> dict[str, Any]:
    return {"file": path, "claims": [r.as_json() for r in results], "summary": summarize(results)}


# ----------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------

_COLOURS = {"holds": "\033[32m", "fails": "\033[31m", "undecided": "\033[33m"}
_MARKS = {"holds": "✓", "fails": "✗", "undecided": "?"}


def format_terminal(path: str, results: list[ClaimResult], colour: bool) -> str:
    """One line per claim, then a summary line; colour only when asked (stdout is a tty)."""
    lines = []
    width = max([len(r.id) for r in results] + [4])
    section = None
    for r in results:
        if r.section is not None and r.section != section:
            section = r.section
            lines.append(f"— {section}")
        verdict = f"{r.verdict:<9}"
        if colour:
            verdict = f"{_COLOURS[r.verdict]}{verdict}\033[0m"
        detail = ""
        if r.verdict == "holds":
            detail = f"({r.evidence})"
        elif r.verdict == "fails":
            parts = []
            failing = [s for s in r.steps if s["verdict"] == "fails"]
            if len(r.steps) > 1 and failing:
                parts.append(f"step {r.steps.index(failing[0]) + 1} of {len(r.steps)}")
            if r.diagnosis:
                parts.append(r.diagnosis)
            if r.expected:
                parts.append(f"expected {r.expected}")
            detail = "; ".join(parts)
        else:
            detail = r.reason or ""
        lines.append(f"{_MARKS[r.verdict]} {verdict} {r.id:<{width}}  {detail}".rstrip())
    counts = summarize(results)
    lines.append(f"{path}: {counts['holds']} hold, {counts['fails']} fail, {counts['undecided']} undecided")
    return "\n".join(lines)
