"""The generic identities behind the closed forms, proved for a free variable or a symbolic size n.

Each function returns the claim a registry rule stands for, as ``(title, latex, rule, exact
pairs, numeric pairs)``: the exact pairs are what the proof simplifies (for symbolic n, with
indices assumed in range 1..n and sums over the targets equal to 1 where the claim says so);
the numeric pairs are the same claim at n = 3 for every index value, for the 50-digit witness.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import Expr

from ..exprs import as_expr
from ..model import rules

__all__ = ["Identity", "activation_identities", "loss_identities"]

Pair = tuple[Expr, Expr]
N_WITNESS = 3  # the size at which generic identities are also checked numerically

_x = sp.Symbol("x", real=True)
_y = sp.Symbol("y", real=True)
_n = sp.Symbol("n", integer=True, positive=True)
_i, _j, _k = sp.symbols("i j k", integer=True, positive=True)
_z = sp.IndexedBase("z", real=True)
_t = sp.IndexedBase("y", real=True)


@dataclass
class Identity:
    title: str
    latex: str
    rule: str
    pairs: list[Pair]
    numeric_pairs: list[Pair] | None = None


def _sum(e: Expr) -> Expr:
    return sp.Sum(e, (_k, 1, _n))


def _in_range(e: Expr) -> Expr:
    """Evaluate sums of Kronecker deltas with the free indices i, j assumed in 1..n."""
    e = e.doit()
    in_range = {sp.Le(_i, _n): sp.true, sp.Le(_j, _n): sp.true, sp.Ge(_i, 1): sp.true, sp.Ge(_j, 1): sp.true}
    return e.replace(lambda u: isinstance(u, sp.Piecewise), lambda u: u.xreplace(in_range).doit())


def _targets_sum_to_one(e: Expr) -> Expr:
    """Apply Σ_k y_k = 1 (one-hot or probability targets) after pulling constants out of sums."""
    return sp.factor_terms(sp.expand(e)).xreplace({_sum(_t[_k]): sp.S.One})


def _instances(lhs: Expr, rhs: Expr, free: tuple[sp.Symbol, ...], one_hot: bool = False) -> list[Pair]:
    """The claim at n = 3 for every value of the free indices, with plain symbols for entries."""
    out = []
    idx_values = [dict(zip(free, vals)) for vals in _index_grid(len(free))]
    for values in idx_values:
        sub = {_n: N_WITNESS, **values}
        pair = [as_expr(side).subs(sub).doit() for side in (lhs, rhs)]
        entries = {_z[q]: sp.Symbol(f"z_{q}", real=True) for q in range(1, N_WITNESS + 1)}
        entries |= {_t[q]: sp.Symbol(f"y_{q}", real=True) for q in range(1, N_WITNESS + 1)}
        if one_hot:  # y_n = 1 − Σ_{k<n} y_k
            entries[_t[N_WITNESS]] = 1 - sum(sp.Symbol(f"y_{q}", real=True) for q in range(1, N_WITNESS))
        out.append((pair[0].xreplace(entries), pair[1].xreplace(entries)))
    return out


def _index_grid(count: int) -> list[tuple[int, ...]]:
    if count == 0:
        return [()]
    return [(v, *rest) for v in range(1, N_WITNESS + 1) for rest in _index_grid(count - 1)]


def activation_identities(act: rules.Activation) -> list[Identity]:
    """g'(x) = closed form, from the textbook definition; for sigmoid also the stable form."""
    if not act.elementwise:  # softmax: the Jacobian for a symbolic number of units n
        softmax = lambda q: sp.exp(_z[q]) / _sum(sp.exp(_z[_k]))  # noqa: E731
        lhs = sp.diff(softmax(_i), _z[_j])
        rhs = act.jacobian(_i, _j, softmax(_i), softmax(_j))
        return [
            Identity(
                "softmax Jacobian, n units",
                r"\frac{\partial \sigma_i}{\partial z_j} = \frac{\partial}{\partial z_j}"
                r"\frac{e^{z_i}}{\sum_{k=1}^{n} e^{z_k}} = \sigma_i\,(\delta_{ij} - \sigma_j)",
                act.rule, [(_in_range(lhs), rhs)], _instances(lhs, rhs, (_i, _j)),
            )
        ]
    lhs, rhs = act.identity(_x)
    closed = rules.formula_latex(act.derivative(_x, act.function(_x)))
    out = [
        Identity(
            f"{act.name} derivative",
            rf"\frac{{d}}{{dx}}\left({sp.latex(act.textbook(_x))}\right) = {closed}",
            act.rule, [(lhs, rhs)],
        )
    ]
    stable = getattr(act.function, "stable", None)
    if stable is not None and stable(_x) != act.textbook(_x):
        out.append(
            Identity(
                f"{act.name}, overflow-free form",
                rf"{sp.latex(act.function(_x))} = {sp.latex(act.textbook(_x))} = {rules.formula_latex(stable(_x))}",
                f"stable {act.name} (used by the engine)",
                [(act.textbook(_x), stable(_x))],
            )
        )
    return out


def loss_identities(loss: rules.Loss) -> list[Identity]:
    """For the canonical pairings: δ^(L) = a − y and the overflow-free loss on the logits."""
    if not loss.canonical:
        return []
    if loss.name == "bce":  # a sum of independent units: one unit is the general case
        per_unit = loss.per_example([rules.sigmoid(_x)], [_y])
        return [
            Identity(
                "sigmoid + cross-entropy: δ = a − y",
                r"\frac{\partial}{\partial z}\Big[-y\log\sigma(z) - (1-y)\log(1-\sigma(z))\Big] = \sigma(z) - y",
                "chain rule + sigmoid derivative",
                [(sp.diff(per_unit, _x), rules.sigmoid(_x) - _y)],
            ),
            Identity(
                "cross-entropy from logits",
                r"-y\log\sigma(z) - (1-y)\log(1-\sigma(z)) = \operatorname{softplus}(z) - y\,z",
                "log-sigmoid identity (used by the engine)",
                [(per_unit, loss.logits_form([_x], [_y]))],
            ),
        ]
    if loss.name == "cce":
        log_softmax = _z[_k] - sp.log(_sum(sp.exp(_z[_k])))
        ell = -_sum(_t[_k] * log_softmax)
        lhs = sp.diff(ell, _z[_j])
        rhs = sp.exp(_z[_j]) / _sum(sp.exp(_z[_k])) - _t[_j]
        logits = sp.log(_sum(sp.exp(_z[_k]))) - _sum(_t[_k] * _z[_k])
        return [
            Identity(
                "softmax + cross-entropy: δ = a − y, n units",
                r"\frac{\partial}{\partial z_j}\Big[-\sum_{k=1}^{n} y_k \log \sigma_k(z)\Big] = \sigma_j - y_j"
                r"\quad\text{when } \textstyle\sum_k y_k = 1",
                "chain rule + softmax Jacobian",
                [(_targets_sum_to_one(_in_range(lhs)), rhs)],
                _instances(lhs, rhs, (_j,), one_hot=True),
            ),
            Identity(
                "cross-entropy by log-sum-exp, n units",
                r"-\sum_{k} y_k \log \sigma_k(z) = \log\sum_k e^{z_k} - \sum_k y_k z_k"
                r"\quad\text{when } \textstyle\sum_k y_k = 1",
                "log-sum-exp identity (used by the engine)",
                [(_targets_sum_to_one(sp.expand(ell)), logits)],
                _instances(ell, logits, (), one_hot=True),
            ),
        ]
    return []
