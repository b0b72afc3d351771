"""Activation derivatives in a failing claim.

Which names of the notes are units, a = g(z) entry by entry (``activation_pairs``: by the
registry's function or by its textbook formula), and the wrong derivatives notes write for them
(``wrong_rules``: the registry row's mistakes, the rule applied to z, g for g', another unit's
rule), found in the claim's own factors (``activation_runs``), in the left side's derivative
(``activation_rules``), or missing altogether (``inserted_derivatives``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sympy as sp

from ..exprs import as_expr
from ..model import rules
from .failing import (
    HOLE,
    Case,
    Claim,
    Mutation,
    chain_of,
    entries_of,
    nodes_of,
    product_chains,
    shape_in,
    strip_sub,
    substitute,
    tex,
)
from .meaning import (
    Evaluator,
    Options,
    Value,
    is_matrix,
    shape_of,
    walk,
)
from .notation import (
    BinOp,
    Deriv,
    Given,
    Node,
)


def _activation_of(claim: Claim) -> dict[str, tuple[str, rules.Activation]]:
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


def is_activation_of(claim: Claim, a_key: str, z_key: str) -> bool:
    """Whether the name ``a_key`` is defined as an activation of ``z_key`` (or their vectors are)."""
    acts = _activation_of(claim)
    for a, z in ((a_key, z_key), (strip_sub(a_key), strip_sub(z_key))):
        if a in acts and acts[a][0] == z:
            return True
    return False


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


def _activation_pairs(claim: Claim) -> list[_Pair]:
    """Every name the file defines as an activation of another, a = g(z) entry by entry: by the
    registry's function (``a = \\sigma(z)``) or by its textbook formula (``f = 1/(1 + e^{-s})``)."""
    cache = getattr(claim, "_pairs_cache", None)
    if cache is not None:
        return cache
    env = claim.env
    owner: dict[sp.Symbol, tuple[str, int]] = {}
    for key, entry in env.entries.items():
        for k, s in enumerate(entries_of(entry.value)):
            if isinstance(s, sp.Symbol):
                owner.setdefault(s, (key, k))
    pairs = []
    for key, entry in env.entries.items():
        if not entry.defined:
            continue
        a_entries = entries_of(entry.value)
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


def _as_activation(claim: Claim, d: sp.Expr) -> tuple[rules.Activation | None, sp.Expr | None]:
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


def _function_name(claim: Claim, act: rules.Activation) -> str:
    """How the notes call the activation: the name they declare for it (``f``, ``g``, ``\\phi``),
    else its usual LaTeX (``\\sigma``, ``\\tanh``)."""
    names = [base for base, fname in claim.env.functions.items() if fname == act.name]
    if len(names) == 1:
        return names[0]
    return act.latex


def activation_runs(claim: Claim) -> str | None:
    """A run of factors on the right side that is a wrong derivative of one of the notes' units
    (``z \\odot (1 - z)`` for a sigmoid layer, ``A \\odot (1 - A)`` for a tanh one, ``\\phi(z)``
    for ``\\phi'(z)``): replaced by the right derivative, the claim holds."""
    pairs = _activation_pairs(claim)
    if not pairs:
        return None
    case = claim.first
    for n, fs, ops in product_chains(claim) + [(claim.rhs, [claim.rhs], [])]:
        for i in range(len(fs)):
            for j in range(i, min(i + 3, len(fs))):
                run = chain_of(fs[i : j + 1], ops[i:j], n.pos)
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
                        rebuilt = chain_of([*fs[:i], given, *fs[j + 1 :]], ops[:i] + ops[j:], n.pos)
                        new_rhs = substitute(claim.rhs, n, rebuilt)
                        if claim.rhs_explains(new_rhs):
                            zs, as_ = _pair_names(claim, pair, z, a)
                            g = _function_name(claim, pair.act)
                            return (
                                f"wrong activation derivative: ${tex(run)}$ is {text} for "
                                f"{_unit_text(pair.act, zs, as_, g)}; " + _rule_latex(pair.act, zs, as_, g)
                            )
    return None


def _corrected(
    claim: Claim, run: Node, pair: _Pair, wrong: Callable[[sp.Expr, sp.Expr], sp.Expr]
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


def _pair_names(claim: Claim, pair: _Pair, z: Value, a: Value) -> tuple[str, str]:
    """The notes' names of a pair's pre-activation and activation, of the entry a claim about
    entries uses (``s_j``, ``h_j``), else of the whole vectors (``z^{(2)}``, ``a^{(2)}``)."""
    if not is_matrix(z) and isinstance(z, sp.Symbol) and isinstance(a, sp.Symbol) and is_matrix(pair.z):
        return claim.spell_key(z.name), claim.spell_key(a.name)
    return claim.spell_key(pair.z_key), claim.spell_key(pair.a_key)


def _matching_entries(claim: Claim, pairs: list[_Pair], value: Value) -> Iterator[tuple[_Pair, Value, Value]]:
    """The (z, a) of the pairs shaped like ``value``: whole vectors, or single entries of them
    (a claim about entries, ``1 - a_j^2``)."""
    symbols = set().union(*(as_expr(e).free_symbols for e in entries_of(value)))
    for pair in pairs:
        if shape_of(pair.z) == shape_of(value) and is_matrix(pair.z) == is_matrix(value):
            yield pair, pair.z, pair.a
        elif not is_matrix(value) and is_matrix(pair.z):
            for z, a in zip(entries_of(pair.z), entries_of(pair.a), strict=True):
                full = claim.env.full
                near = {z, a} | set(as_expr(full.get(z, z)).free_symbols) | set(as_expr(full.get(a, a)).free_symbols)
                if symbols & near:
                    yield pair, z, a


def _entrywise(rule: Callable[[sp.Expr, sp.Expr], sp.Expr], z: Value, a: Value) -> Value:
    if is_matrix(z):
        za = list(zip(entries_of(z), entries_of(a), strict=True))
        return sp.ImmutableMatrix(z.shape[0], z.shape[1], [rule(x, y) for x, y in za])  # type: ignore[union-attr]
    return rule(as_expr(z), as_expr(a))


def inserted_derivatives(claim: Claim) -> Iterator[Mutation]:
    """A missing ``\\odot g'(z)``: some part of the right side, times an activation's derivative
    entry by entry, makes the claim hold."""
    pairs = _activation_pairs(claim)
    if not pairs:
        return
    places: list[tuple[Node, Node, Node]] = [(claim.rhs, claim.rhs, claim.rhs)]  # (where, run, replaced)
    for n, fs, ops in product_chains(claim):
        for i in range(len(fs)):
            for j in range(i, len(fs)):
                run = chain_of(fs[i : j + 1], ops[i:j], n.pos)
                places.append((n, run, chain_of([*fs[:i], HOLE, *fs[j + 1 :]], ops[:i] + ops[j:], n.pos)))
    for n in nodes_of(claim):
        if isinstance(n, BinOp) and n.op in ("+", "-"):
            places += [(n.left, n.left, HOLE), (n.right, n.right, HOLE)]
    for where, run, replaced in places:
        shape = shape_in(claim, run)
        for pair in pairs:
            if shape is None or shape != shape_of(pair.z) or shape == (1, 1) and is_matrix(pair.z):
                continue
            right = _entrywise(_right_rule(pair.act), pair.z, pair.a)
            factor = Given(right, latex=f"{_function_name(claim, pair.act)}'({claim.spell_key(pair.z_key)})")
            new = BinOp("odot", run, factor, pos=run.pos)
            times = "\\odot " if shape != (1, 1) else ""
            filled = substitute(replaced, HOLE, new) if replaced is not where or where is not run else new
            yield (
                substitute(claim.rhs, where, filled),
                f"missing derivative factor: ${tex(run)}$ lacks the factor ${times}{factor.latex}$",
            )


def activation_rules(claim: Claim) -> str | None:
    """The left side differentiates a unit; the claim holds with a wrong rule for its derivative
    (another unit's rule, one its registry row lists, the rule on z, g for g')."""
    derivs = [n for n in walk(claim.lhs) if isinstance(n, Deriv)]
    if not derivs:
        return None
    present: list[type] = []
    case = claim.first
    for d in derivs:
        F = claim.value(d.F, case)
        for e in entries_of(F) if F is not None else []:
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


def missing_elementwise_factor(claim: Claim) -> str | None:
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


def _aligned(pair: _Pair, right: Value, case: Case) -> Iterator[tuple[Value, Value, Value]]:
    if shape_of(right) == shape_of(case.L) and is_matrix(right) == is_matrix(case.L):
        yield pair.z, pair.a, right
    elif not is_matrix(case.L):
        yield from zip(entries_of(pair.z), entries_of(pair.a), entries_of(right), strict=True)


def _times(a: Value, b: Value) -> Value:
    if is_matrix(a) and is_matrix(b):
        return sp.ImmutableMatrix(a.multiply_elementwise(b))  # type: ignore[union-attr]
    return a * b  # type: ignore[operator]
