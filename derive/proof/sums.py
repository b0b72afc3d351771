"""Sums with symbolic bounds in a normal form, so that equal sums look alike to the prover.

``normal_sums`` gives every sum one index and a body that is one term, with every factor free of
the index moved out of it (Σ_k c·D_k W_ki = c·Σ_k W_ki D_k). ``nests_in_order`` then writes each
nest of sums whose bounds do not depend on each other's indices (Σ_i Σ_k, in either order) as one
sum over all its indices, in the order and with the names that give the least printed form, so
that Σ_i y_i Σ_k W_ik t_k and Σ_k t_k Σ_i W_ik y_i are the same expression. Both rewrite an
expression into an equal one: the prover stays sound whatever they fail to make alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import sympy as sp
from sympy import Expr

__all__ = ["MAX_ORDERED_INDICES", "nests_in_order", "normal_sums"]

MAX_ORDERED_INDICES = 6  # a nest over more indices keeps its written order (6! orders to compare)
_PREFIX = "_r"  # names of the indices of an ordered nest, unlike any a claim or lemma uses


def normal_sums(e: Expr) -> Expr:
    """Sums with symbolic bounds in a normal form: one index each, the body expanded into terms,
    each term its own sum with every factor free of the index outside it, the index renamed by
    its nesting depth; then each nest as one sum over its indices in a canonical order."""
    if not e.has(sp.Sum):
        return e

    def depth(s: Expr) -> int:
        inner = [depth(a) for a in s.args if isinstance(a, sp.Basic) and a.has(sp.Sum)]
        return (1 if isinstance(s, sp.Sum) else 0) + max(inner, default=0)

    def one(s: sp.Sum) -> Expr:
        body, *limits = s.args
        if len(limits) > 1:  # SymPy lists the innermost limit first: Σ_{k=1}^{i} Σ_{i=1}^{n} f
            body = one(sp.Sum(body, *limits[:-1]))
        var, lo, hi = limits[-1]
        total = sp.S.Zero
        for term in sp.Add.make_args(sp.expand(body)):
            inside = [f for f in sp.Mul.make_args(term) if f.has(var)]
            outside = [f for f in sp.Mul.make_args(term) if not f.has(var)]
            # named by the depth of what stays inside, so that a sum keeps its name when a
            # factor with a sum of its own moves out of it
            canonical = sp.Symbol(f"_k{depth(sp.Mul(*inside))}", integer=True)
            summand = sp.Mul(*inside).xreplace({var: canonical})
            total += sp.Mul(*outside) * (sp.Sum(summand, (canonical, lo, hi)) if inside else (hi - lo + 1))
        return total

    return nests_in_order(e.replace(lambda x: isinstance(x, sp.Sum), one))


def nests_in_order(e: Expr) -> Expr:
    """Every nest of sums with independent bounds as one sum over its indices, in canonical order.

    Σ_a f_a Σ_b g_ab (one index each, as ``normal_sums`` leaves them) is Σ_{a,b} f_a g_ab; the
    indices are ordered and named (_r1, _r2, … after the names its factors' own sums use) by the
    order that prints least, so a nest written in another order becomes the same sum."""
    if not e.has(sp.Sum):
        return e
    return e.replace(lambda x: isinstance(x, sp.Sum), _in_order)


def _in_order(s: sp.Sum) -> Expr:
    if not _rectangular(s.limits):
        return s  # Σ_{k ≤ i} Σ_i: the order is part of its meaning
    factors, limits = _flatten(s)
    if len(limits) > MAX_ORDERED_INDICES:
        return s
    body = sp.Mul(*factors)
    # after the names the factors' own sums use (σ(Σ_{_r1} W_{k,_r1} x_{_r1}) inside), not to capture them
    others = body.atoms(sp.Symbol) - {var for var, _, _ in limits}
    first = 1 + max((int(x.name[len(_PREFIX):]) for x in others
                     if x.name.startswith(_PREFIX) and x.name[len(_PREFIX):].isdigit()), default=0)
    names = [sp.Symbol(f"{_PREFIX}{first + t}", integer=True) for t in range(len(limits))]
    if len(limits) == 1:  # one order only: nothing to compare (most sums; printing a body costs)
        ((var, lo, hi),) = limits
        return sp.Sum(body.xreplace({var: names[0]}), (names[0], lo, hi))
    best, best_key = s, None
    for order in itertools.permutations(limits):
        rename = {var: names[t] for t, (var, _, _) in enumerate(order)}
        candidate = sp.Sum(body.xreplace(rename), *[(names[t], lo, hi) for t, (_, lo, hi) in enumerate(order)])
        key = str(candidate)
        if best_key is None or key < best_key:
            best, best_key = candidate, key
    return best


def _flatten(s: sp.Sum) -> tuple[list[Expr], list[tuple[sp.Symbol, Expr, Expr]]]:
    """The factors and limits of the nest under ``s``: its body's factors, with every factor that
    is a sum over bounds free of the nest's indices opened (its indices made fresh, so that two
    sibling sums over the same name stay apart)."""
    body, *limits = s.args
    limits = [tuple(limit) for limit in limits]
    bound = {var for var, _, _ in limits}
    factors: list[Expr] = []
    for factor in sp.Mul.make_args(body):
        if isinstance(factor, sp.Sum) and _rectangular(factor.limits, bound):
            fresh = {var: sp.Dummy(var.name, integer=True) for var, _, _ in factor.limits}
            inner_factors, inner_limits = _flatten(factor.xreplace(fresh))
            factors += inner_factors
            limits += inner_limits
            bound |= {var for var, _, _ in inner_limits}
        else:
            factors.append(factor)
    return factors, limits


def _rectangular(limits: Sequence[tuple[sp.Symbol, Expr, Expr]], others: Collection[sp.Symbol] = ()) -> bool:
    """No bound depends on an index of these limits or on ``others``: any order sums the same."""
    indices = {var for var, _, _ in limits} | set(others)
    return not any((lo.free_symbols | hi.free_symbols) & indices for _, lo, hi in limits)
