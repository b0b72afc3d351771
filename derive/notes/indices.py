"""The free indices of a claim and the values it is checked at.

A claim such as ``∂σ_i/∂x_j = σ_i(δ_ij − σ_j)`` holds for every i and j: each free index takes
every value of the size it subscripts, and a free layer letter (``a^{(l)}``) every layer of the
notes. ``when:`` conditions keep the values they allow.
"""

from __future__ import annotations

from .meaning import (
    INDEX_LETTERS,
    Env,
    Evaluator,
    MeaningError,
    enumerate_assignments,
    free_index_letters,
    index_range,
    walk,
)
from .notation import Cond, Name, Node

__all__ = ["MAX_ASSIGNMENTS", "IndexProblem", "claim_assignments"]

MAX_ASSIGNMENTS = 48  # index values checked per claim; more are thinned out evenly


class IndexProblem(Exception):  # noqa: N818 - reads as what it is
    """The indices of a claim have no values it can be checked at (the message says why)."""


def claim_assignments(env: Env, sides: list[Node], conditions: list[Cond]) -> tuple[list[dict[str, int]], set[str]]:
    """The index values to check ``sides`` at (kept by ``conditions``) and the free layer letters.

    Raises ``IndexProblem`` when an index has no range in a file that defines its names (in a
    file of plain letters, x_i is just a name) or when ``when:`` cannot be evaluated."""
    ev0 = Evaluator(env)
    letters: set[str] = set()
    for side in sides:
        letters |= free_index_letters(side, ev0)
    for cond in conditions:
        for part in (cond.left, cond.right):
            if part is not None:
                letters |= {
                    n.base
                    for n in walk(part)
                    if isinstance(n, Name) and n.base in INDEX_LETTERS and ev0.int_value(n.base) is None
                }
    layer_letters = _layer_letters(sides) & letters
    assignments, problem = _assignments(env, sides, letters, layer_letters) if letters else ([{}], None)
    if problem:
        if env.strict:
            raise IndexProblem(problem)
        assignments = [{}]  # no shapes at all: x_i is just a name
    if conditions:
        kept = []
        for a in assignments:
            ev = Evaluator(env, a)
            try:
                if all(bool(ev.condition(c)) for c in conditions):
                    kept.append(a)
            except (MeaningError, TypeError):
                raise IndexProblem("when: cannot be evaluated for the claim's indices") from None
        assignments = kept
    if len(assignments) > MAX_ASSIGNMENTS:
        step = len(assignments) / MAX_ASSIGNMENTS
        assignments = [assignments[int(k * step)] for k in range(MAX_ASSIGNMENTS)]
    return assignments, layer_letters


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
