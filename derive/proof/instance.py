"""The instance cross-check: ∂J/∂W^(l), ∂J/∂b^(l) of one concrete network against SymPy's own
derivative of its fully written-out cost J.

The lemmas prove the closed forms for every size; this check is an independent second route for
small networks (and in the tests): the network's own sizes, a symbol for every weight, input and
target, m examples (m = 2 by default, so that a missing 1/m cannot hide), and SymPy
differentiates J itself. It is never the only proof: its cost grows with the width.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy import Expr

from ..model import rules
from ..model.network import Network, SymbolicModel
from .prover import Verification, verify_groups

__all__ = ["CROSS_CHECK_PARAMETERS", "cross_check_layer"]

CROSS_CHECK_PARAMETERS = 40  # networks up to this size get the cross-check by default
Pair = tuple[Expr, Expr]


def _apply(act: rules.Activation, zs: list[Expr]) -> list[Expr]:
    """a = g(z) entrywise, or the vector activation of the whole layer."""
    return [act.apply(z) for z in zs] if act.vector is None else act.vector(zs)


def _logs_split(loss: rules.Loss, ell: Expr) -> Expr:
    """For CCE: log(e^{z_i}/Σe^{z_k}) = z_i − log Σ e^{z_k} (real z), so derivatives stay small."""
    return sp.expand_log(ell, force=True) if loss.name == "cce" else ell


def _one_hot(loss: rules.Loss, model: SymbolicModel) -> dict[sp.Symbol, Expr]:
    """For softmax + CCE: y_K = 1 − Σ_{k<K} y_k in every example (targets sum to one)."""
    if loss.name != "cce":
        return {}
    return {y[-1]: 1 - sum(y[:-1], sp.S.Zero) for y in model.y}


def _closed_deltas(net: Network, zs: dict[int, list[Expr]], as_: dict[int, list[Expr]], y: list[Expr], low: int,
                   weights: dict[int, sp.Matrix]) -> dict[int, list[Expr]]:
    """δ^(l) for l = L..low from the closed forms alone: δ^(L) by the loss rule, then the recursion."""
    L, loss = net.depth, net.loss_rule

    def gprime(l: int) -> list[Expr]:
        act = net.activations[l - 1]
        return [act.derivative(z, a) for z, a in zip(zs[l], as_[l])]

    deltas = {L: [loss.delta(ai, yi, gi) for ai, yi, gi in zip(as_[L], y, gprime(L))]}
    for l in range(L - 1, low - 1, -1):
        back = weights[l + 1].T * sp.Matrix(deltas[l + 1])
        deltas[l] = [back[j] * g for j, g in enumerate(gprime(l))]
    return deltas


def cross_check_layer(net: Network, l: int, m: int, options: dict[str, Any]) -> Verification:
    """Every parameter of layer ``l``: SymPy's ∂J against the closed form, exactly.

    For the parameters of unit j in layer l, the subexpressions that do not depend on them
    (the activations a^(l−1), the other units' z^(l)_i, and in z^(l+1) the terms of the other
    units) are held as symbols: differentiation commutes with that substitution, so the
    identity proved is the full one, and SymPy's derivative works on a much smaller tree.
    """
    model, L, loss = SymbolicModel(net, m), net.depth, net.loss_rule
    sub = _one_hot(loss, model)
    W, b = model.W[l], model.b[l]
    n, n_prev = W.shape
    reg = model.lam / m if net.l2 else sp.S.Zero

    def unit(j: int) -> list[Pair]:
        cost = sp.S.Zero
        closed_w = [sp.S.Zero] * n_prev
        closed_b = sp.S.Zero
        for e in range(m):
            tag = f"({l - 1})({e + 1})"
            prev = (list(model.x[e]) if l == 1
                    else [sp.Symbol(f"a^{{{tag}}}_{{{k + 1}}}", real=True) for k in range(n_prev)])
            z_l = [
                (W.row(j) * sp.Matrix(prev))[0] + b[j] if i == j
                else sp.Symbol(f"z^{{({l})({e + 1})}}_{{{i + 1}}}", real=True)
                for i in range(n)
            ]
            zs, as_ = {l: z_l}, {l: _apply(net.activations[l - 1], z_l)}
            for k in range(l + 1, L + 1):
                if k == l + 1:  # only unit j's term depends on the parameters: the rest is a symbol
                    zs[k] = [
                        model.W[k][i, j] * as_[l][j] + sp.Symbol(f"r^{{({k})({e + 1})}}_{{{i + 1}}}", real=True)
                        for i in range(model.W[k].rows)
                    ]
                else:
                    zs[k] = list(model.W[k] * sp.Matrix(as_[k - 1]) + model.b[k])
                as_[k] = _apply(net.activations[k - 1], zs[k])
            cost += loss.per_example(as_[L], list(model.y[e]))
            delta_j = _closed_deltas(net, zs, as_, list(model.y[e]), l, model.W)[l][j]
            closed_w = [cw + delta_j * pk for cw, pk in zip(closed_w, prev)]
            closed_b += delta_j
        if net.l2:  # the only L2 terms that depend on unit j's weights
            cost += model.lam / 2 * sum((w**2 for w in W.row(j)), sp.S.Zero)
        cost = _logs_split(loss, (cost / m).xreplace(sub))
        pairs = [(sp.diff(cost, W[j, k]), (closed_w[k] / m + reg * W[j, k]).xreplace(sub)) for k in range(n_prev)]
        pairs.append((sp.diff(cost, b[j]), (closed_b / m).xreplace(sub)))
        return pairs

    return verify_groups(
        [lambda j=j: unit(j) for j in range(n)], timeout=options["timeout"],
        points=options["points"], seed=options["seed"] + l, workers=options["workers"],
    )
