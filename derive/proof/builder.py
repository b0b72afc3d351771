"""Builds a network's derivation, step by step, each step verified as it is made.

The order is the order of the notes: the model's definitions; the generic identities of the
rules in use; at the output layer ∂ℓ/∂a^(L), ∂a^(L)/∂z^(L), the chain rule and the closed form
of δ^(L); the δ recursion down the hidden layers; the L2 term; then ∂J/∂W^(l) and ∂J/∂b^(l) per
layer, each proved against SymPy's own derivative of the fully written-out cost J.

Symbols: ℓ is the loss of one example, δ^(l) = ∂ℓ/∂z^(l). Layer-level steps are checked on the
network's own sizes with fresh symbols for z^(l) (so "ℓ as a function of z^(l)" is literal).
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy import Expr

from ..model import rules
from ..model.network import Network, SymbolicModel
from . import identities
from .derivation import Derivation, Step
from .prover import Verification, verify, verify_groups

__all__ = ["DerivationBuilder"]

Pair = tuple[Expr, Expr]


_ELL = sp.Function("ell")  # an arbitrary differentiable loss, for steps that hold for any ℓ


def _concrete(pairs: list[Pair], arity: int, seed: int = 7) -> list[Pair]:
    """The pairs with ℓ replaced by one fixed smooth function: the numeric witness needs numbers."""
    import random

    rng = random.Random(seed)
    u = sp.symbols(f"u1:{arity + 1}", real=True)
    body = sum((rng.uniform(-1, 1) * ui**2 + rng.uniform(-1, 1) * ui for ui in u), sp.S.Zero)
    body += sp.tanh(sum((rng.uniform(-1, 1) * ui for ui in u), sp.S.Zero))
    f = sp.Lambda(u, body)
    return [(lhs.subs(_ELL, f).doit(), rhs.subs(_ELL, f).doit()) for lhs, rhs in pairs]


def _z(l: int, n: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"z^{{({l})}}_{{{j + 1}}}", real=True) for j in range(n)]


def _a(l: int, n: int) -> list[sp.Symbol]:
    return [sp.Symbol(f"a^{{({l})}}_{{{j + 1}}}", real=True) for j in range(n)]


class DerivationBuilder:
    def __init__(self, net: Network, m: int, options: dict[str, Any]) -> None:
        self.net, self.m, self.options = net, m, options
        self.L = net.depth
        self.loss = net.loss_rule
        self.one = SymbolicModel(net, 1)  # per-example statements
        self.many = SymbolicModel(net, m) if m > 1 else self.one  # statements about J
        self.y = list(self.one.y[0])
        self.steps: list[Step] = []

    # ---- small pieces ------------------------------------------------------------------

    def act(self, l: int) -> rules.Activation:
        return self.net.activations[l - 1]

    def apply(self, l: int, zs: list[Expr]) -> list[Expr]:
        """a^(l) = g_l(z^(l)) entrywise, or softmax for the whole vector."""
        act = self.act(l)
        return [act.apply(z) for z in zs] if act.vector is None else act.vector(zs)

    def gprime(self, l: int, zs: list[Expr], as_: list[Expr]) -> list[Expr]:
        """The closed form of g_l'(z) entrywise, written with a = g(z) where the rule does."""
        act = self.act(l)
        return [act.derivative(z, a) for z, a in zip(zs, as_)]

    def downstream(self, l: int, zs: list[Expr]) -> Expr:
        """ℓ as a function of z^(l): forward from layer l to the loss, weights held fixed."""
        a = self.apply(l, zs)
        for k in range(l + 1, self.L + 1):
            a = self.apply(k, list(self.one.W[k] * sp.Matrix(a) + self.one.b[k]))
        return self._logs_split(self.loss.per_example(a, self.y))

    def _logs_split(self, ell: Expr) -> Expr:
        """For CCE: log(e^{z_i}/Σe^{z_k}) = z_i − log Σ e^{z_k} (real z), so derivatives stay small."""
        return sp.expand_log(ell, force=True) if self.loss.name == "cce" else ell

    def one_hot(self, model: SymbolicModel) -> dict[sp.Symbol, Expr]:
        """For softmax + CCE: y_K = 1 − Σ_{k<K} y_k in every example (targets sum to one)."""
        if self.loss.name != "cce":
            return {}
        sub: dict[sp.Symbol, Expr] = {}
        for y in model.y:
            sub[y[-1]] = 1 - sum(y[:-1], sp.S.Zero)
        return sub

    def cost(self, model: SymbolicModel) -> Expr:
        """J ready for differentiation: one-hot targets for CCE, and log(e^{z_i}/Σe^{z_k}) written as
        z_i − log Σ e^{z_k} (valid for real z, where every e^z > 0) so SymPy's derivative stays small."""
        return self._logs_split(model.J.xreplace(self.one_hot(model)))

    def closed_deltas(self, zs: dict[int, list[Expr]], as_: dict[int, list[Expr]], y: list[Expr], low: int,
                      weights: dict[int, sp.Matrix]) -> dict[int, list[Expr]]:
        """δ^(l) for l = L..low from the closed forms alone: δ^(L) by the loss rule, then the recursion."""
        L = self.L
        gp = self.gprime(L, zs[L], as_[L])
        deltas = {L: [self.loss.delta(ai, yi, gi) for ai, yi, gi in zip(as_[L], y, gp)]}
        for l in range(L - 1, low - 1, -1):
            back = weights[l + 1].T * sp.Matrix(deltas[l + 1])
            gp = self.gprime(l, zs[l], as_[l])
            deltas[l] = [back[j] * gp[j] for j in range(len(gp))]
        return deltas

    def add(
        self,
        title: str,
        latex: str,
        rule: str,
        pairs: list[Pair],
        *,
        numeric_pairs: list[Pair] | None = None,
        layer: int | None = None,
        kind: str = "chain",
        boxed: bool = False,
    ) -> Step:
        result = verify(
            pairs, numeric_pairs,
            timeout=self.options["timeout"], points=self.options["points"],
            seed=self.options["seed"] + len(self.steps),
        )
        lhs = sp.Tuple(*[p[0] for p in pairs]) if len(pairs) != 1 else pairs[0][0]
        rhs = sp.Tuple(*[p[1] for p in pairs]) if len(pairs) != 1 else pairs[0][1]
        return self.record(title, latex, rule, lhs, rhs, result, layer=layer, kind=kind, boxed=boxed)

    def record(
        self, title: str, latex: str, rule: str, lhs: Expr, rhs: Expr, result: Verification, *,
        layer: int | None, kind: str, boxed: bool,
    ) -> Step:
        step = Step(
            title=title, latex=latex, rule=rule, lhs=lhs, rhs=rhs, layer=layer, kind=kind,  # type: ignore[arg-type]
            boxed=boxed, verdict=result.verdict, evidence=result.evidence,  # type: ignore[arg-type]
            exact_seconds=result.seconds,
            numeric_max_error=result.witness.max_error if result.witness else None,
        )
        self.steps.append(step)
        if self.options.get("progress") is not None:
            self.options["progress"](step)
        return step

    # ---- the derivation, in order --------------------------------------------------------

    def build(self) -> Derivation:
        derivation = Derivation(self.net, definitions=self.definitions())
        self.generic_identities()
        self.output_layer()
        for l in range(self.L - 1, 0, -1):
            self.hidden_delta(l)
        if self.net.l2:
            self.l2_term()
        for l in range(self.L, 0, -1):
            self.local_gradients(l)
            self.cost_gradients(l)
        derivation.steps = self.steps
        return derivation

    def definitions(self) -> list[tuple[str, str, str]]:
        L, net = self.L, self.net
        defs = [
            ("a^{(0)}", r"a^{(0)} = x", f"the input, {net.sizes[0]} entries"),
            ("z^{(l)}", r"z^{(l)} = W^{(l)} a^{(l-1)} + b^{(l)}",
             f"pre-activation of layer l = 1..{L}; W^(l) is n_l × n_(l−1), row j holds the weights into unit j"),
        ]
        for l in range(1, L + 1):
            act = self.act(l)
            if act.elementwise:
                rhs = rf"{act.latex}\left(z^{{({l})}}\right)"
            else:
                rhs = (rf"\operatorname{{softmax}}\left(z^{{({l})}}\right),"
                       r"\ a_i = \frac{e^{z_i}}{\sum_k e^{z_k}}")
            defs.append((f"a^{{({l})}}", f"a^{{({l})}} = {rhs}", f"layer {l}: {net.sizes[l]} units, {act.name}"))
        defs.append((r"\ell", rf"\ell = {self.loss.latex}", f"the loss of one example ({self.loss.name})"))
        reg = r" + \frac{\lambda}{2m} \sum_{l} \lVert W^{(l)} \rVert_F^2" if net.l2 else ""
        defs.append(("J", rf"J = \frac{{1}}{{m}} \sum_{{e=1}}^{{m}} \ell^{{(e)}}{reg}",
                     "the cost: mean loss over m examples"
                     + (", plus L2 on the weights (biases excluded)" if net.l2 else "")))
        defs.append((r"\delta^{(l)}", r"\delta^{(l)} = \frac{\partial \ell}{\partial z^{(l)}}",
                     "the error of layer l, for one example"))
        if net.bias == "column":
            defs.append((r"\Theta^{(l)}", r"\Theta^{(l)} = \left[\, b^{(l)} \;\; W^{(l)} \,\right]",
                         "bias column convention: column 0 holds the bias, z = Θ [1; a]"))
        return defs

    def generic_identities(self) -> None:
        seen: set[str] = set()
        for act in self.net.activations:
            if act.name in seen:
                continue
            seen.add(act.name)
            for idn in identities.activation_identities(act):
                self.add(idn.title, idn.latex, idn.rule, idn.pairs, numeric_pairs=idn.numeric_pairs, kind="identity")
        for idn in identities.loss_identities(self.loss):
            self.add(idn.title, idn.latex, idn.rule, idn.pairs, numeric_pairs=idn.numeric_pairs, kind="identity")

    def output_layer(self) -> None:
        L, n = self.L, self.net.sizes[-1]
        act, loss = self.act(L), self.loss
        alpha = _a(L, n)
        ell_of_a = loss.per_example(alpha, self.y)
        self.add(
            "loss derivative",
            rf"\frac{{\partial \ell}}{{\partial a^{{({L})}}}} = "
            + loss.output_grad_latex.replace("(L)", f"({L})"),
            f"derivative of the {loss.name} loss",
            [(sp.diff(ell_of_a, ak), loss.output_grad(ak, yk)) for ak, yk in zip(alpha, self.y)],
            layer=L,
        )
        zeta = _z(L, n)
        a = self.apply(L, zeta)
        if act.elementwise:
            jac = {(i, i): g for i, g in enumerate(self.gprime(L, zeta, a))}
            a_sym = sp.Symbol(f"a^{{({L})}}")
            closed = sp.latex(act.derivative(sp.Symbol(f"z^{{({L})}}"), a_sym))
            self.add(
                "output activation derivative",
                rf"\frac{{\partial a^{{({L})}}}}{{\partial z^{{({L})}}}} = \operatorname{{diag}} g'(z^{{({L})}}),"
                rf"\quad g'(z^{{({L})}}) = {closed}",
                act.rule,
                [(sp.diff(act.textbook(zj), zj), act.derivative(zj, act.textbook(zj))) for zj in zeta],
                layer=L,
            )
        else:
            jac = {(i, j): act.jacobian(i, j, a[i], a[j]) for i in range(n) for j in range(n)}
            self.add(
                "softmax Jacobian at the output",
                rf"\frac{{\partial a^{{({L})}}_i}}{{\partial z^{{({L})}}_j}} = "
                rf"a^{{({L})}}_i\,(\delta_{{ij}} - a^{{({L})}}_j)",
                act.rule,
                [(sp.diff(a[i], zeta[j]), jac[i, j]) for i in range(n) for j in range(n)],
                layer=L,
            )
        ell_of_z = self.downstream(L, zeta)
        dl_da = [loss.output_grad(ai, yi) for ai, yi in zip(a, self.y)]
        chain = [sum((dl_da[i] * jac[i, j] for i in range(n) if (i, j) in jac), sp.S.Zero) for j in range(n)]
        lhs = [sp.diff(ell_of_z, zj) for zj in zeta]
        self.add(
            "chain rule at the output",
            rf"\delta^{{({L})}} = \frac{{\partial \ell}}{{\partial z^{{({L})}}}} = "
            rf"\left(\frac{{\partial a^{{({L})}}}}{{\partial z^{{({L})}}}}\right)^{{\top}} "
            rf"\frac{{\partial \ell}}{{\partial a^{{({L})}}}}",
            "chain rule", list(zip(lhs, chain)), layer=L,
        )
        gp = self.gprime(L, zeta, a)
        closed_delta = [loss.delta(ai, yi, gi) for ai, yi, gi in zip(a, self.y, gp)]
        sub = self.one_hot(self.one)
        assumption = r"\quad\left(\textstyle\sum_k y_k = 1\right)" if sub else ""
        self.add(
            "output error, closed form",
            rf"\delta^{{({L})}} = {loss.delta_latex.replace('(L)', f'({L})')}{assumption}",
            "cancellation: loss and output activation" if loss.canonical else "chain rule, closed form",
            [(lz.xreplace(sub), rz.xreplace(sub)) for lz, rz in zip(lhs, closed_delta)],
            layer=L, kind="closed-form", boxed=True,
        )

    def hidden_delta(self, l: int) -> None:
        """δ^(l) = (W^(l+1))ᵀ δ^(l+1) ⊙ g'(z^(l)), proved for ANY differentiable loss ℓ(z^(l+1))."""
        n, n_next = self.net.sizes[l], self.net.sizes[l + 1]
        zeta, upper = _z(l, n), _z(l + 1, n_next)
        z_upper = list(self.one.W[l + 1] * sp.Matrix(self.apply(l, zeta)) + self.one.b[l + 1])
        lhs = [sp.diff(_ELL(*z_upper), zj) for zj in zeta]
        at_upper = dict(zip(upper, z_upper))
        delta_upper = [sp.diff(_ELL(*upper), zk).subs(at_upper) for zk in upper]
        gp = self.gprime(l, zeta, self.apply(l, zeta))
        W = self.one.W[l + 1]
        rhs = [sum((W[k, j] * delta_upper[k] for k in range(n_next)), sp.S.Zero) * gp[j] for j in range(n)]
        act = self.act(l)
        pairs = list(zip(lhs, rhs))
        self.add(
            f"error of layer {l} (δ recursion)",
            rf"\delta^{{({l})}} = \left(W^{{({l + 1})}}\right)^{{\top}} \delta^{{({l + 1})}} "
            rf"\odot {act.latex}'\!\left(z^{{({l})}}\right)",
            f"chain rule (δ recursion) + {act.rule}; for any loss ℓ(z^({l + 1}))", pairs,
            numeric_pairs=_concrete(pairs, n_next), layer=l, kind="closed-form", boxed=True,
        )

    def l2_term(self) -> None:
        model = self.many
        reg = model.reg_term
        pairs: list[Pair] = []
        for l in range(1, self.L + 1):
            pairs += [(sp.diff(reg, w), model.lam / model.m * w) for w in model.W[l]]
            pairs += [(sp.diff(reg, b), sp.S.Zero) for b in model.b[l]]
        self.add(
            "L2 term",
            r"\frac{\partial}{\partial W^{(l)}} \frac{\lambda}{2m}\sum_{l'} \lVert W^{(l')} \rVert_F^2"
            r" = \frac{\lambda}{m} W^{(l)},"
            r"\qquad \frac{\partial}{\partial b^{(l)}}(\cdots) = 0",
            "power rule; biases are not regularized", pairs, kind="chain",
        )

    def local_gradients(self, l: int) -> None:
        """∂ℓ/∂W^(l) = δ^(l) a^(l−1)ᵀ, ∂ℓ/∂b^(l) = δ^(l), for ANY differentiable ℓ(z^(l))."""
        n, n_prev = self.net.sizes[l], self.net.sizes[l - 1]
        prev = _a(l - 1, n_prev) if l > 1 else list(self.one.x[0])
        zeta = _z(l, n)
        W, b = self.one.W[l], self.one.b[l]
        z_here = list(W * sp.Matrix(prev) + b)
        ell = _ELL(*z_here)
        delta = [sp.diff(_ELL(*zeta), zj).subs(dict(zip(zeta, z_here))) for zj in zeta]
        pairs = [(sp.diff(ell, W[j, k]), delta[j] * prev[k]) for j in range(n) for k in range(n_prev)]
        pairs += [(sp.diff(ell, b[j]), delta[j]) for j in range(n)]
        a_prev = "x" if l == 1 else f"a^{{({l - 1})}}"
        self.add(
            f"one example, layer {l}",
            rf"\frac{{\partial \ell}}{{\partial W^{{({l})}}}} = \delta^{{({l})}} \left({a_prev}\right)^{{\top}},\qquad"
            rf"\frac{{\partial \ell}}{{\partial b^{{({l})}}}} = \delta^{{({l})}}",
            "chain rule: ∂z_j/∂W_jk = a_k, ∂z_j/∂b_j = 1; for any loss ℓ(z)", pairs,
            numeric_pairs=_concrete(pairs, n), layer=l,
        )

    def cost_gradients(self, l: int) -> None:
        """∂J/∂W^(l), ∂J/∂b^(l): the closed forms against SymPy's derivative of the written-out J.

        For the parameters of unit j in layer l, the subexpressions that do not depend on them
        (the activations a^(l−1), the other units' z^(l)_i, and in z^(l+1) the terms of the other
        units) are held as symbols: differentiation commutes with that substitution, so the
        identity proved is the full one, and SymPy's derivative works on a much smaller tree.
        """
        model, m, L = self.many, self.many.m, self.L
        sub = self.one_hot(model)
        W, b = model.W[l], model.b[l]
        n, n_prev = W.shape
        reg = model.lam / m if self.net.l2 else sp.S.Zero

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
                zs, as_ = {l: z_l}, {l: self.apply(l, z_l)}
                for k in range(l + 1, L + 1):
                    if k == l + 1:  # only unit j's term depends on the parameters: the rest is a symbol
                        zs[k] = [
                            model.W[k][i, j] * as_[l][j] + sp.Symbol(f"r^{{({k})({e + 1})}}_{{{i + 1}}}", real=True)
                            for i in range(model.W[k].rows)
                        ]
                    else:
                        zs[k] = list(model.W[k] * sp.Matrix(as_[k - 1]) + model.b[k])
                    as_[k] = self.apply(k, zs[k])
                cost += self.loss.per_example(as_[L], list(model.y[e]))
                delta_j = self.closed_deltas(zs, as_, list(model.y[e]), l, model.W)[l][j]
                closed_w = [cw + delta_j * pk for cw, pk in zip(closed_w, prev)]
                closed_b += delta_j
            if self.net.l2:  # the only L2 terms that depend on unit j's weights
                cost += model.lam / 2 * sum((w**2 for w in W.row(j)), sp.S.Zero)
            cost = self._logs_split((cost / m).xreplace(sub))
            pairs = [(sp.diff(cost, W[j, k]), (closed_w[k] / m + reg * W[j, k]).xreplace(sub)) for k in range(n_prev)]
            pairs.append((sp.diff(cost, b[j]), (closed_b / m).xreplace(sub)))
            return pairs

        a_prev = "x" if l == 1 else f"a^{{({l - 1})}}"
        count = f"all {n * n_prev + n} parameters of layer {l}"
        if self.net.bias == "column":
            title, latex = f"gradient of J, layer {l} (Θ)", (
                rf"\frac{{\partial J}}{{\partial \Theta^{{({l})}}}} = \frac{{1}}{{m}}\Delta^{{({l})}}"
                + (rf" + \frac{{\lambda}}{{m}}\left[\,0 \;\; W^{{({l})}}\,\right]" if self.net.l2 else "")
                + rf",\quad \Delta^{{({l})}} = \sum_{{e=1}}^{{m}} \delta^{{({l})(e)}}"
                rf"\begin{{bmatrix}} 1 \\ {{{a_prev}}}^{{(e)}} \end{{bmatrix}}^{{\top}}"
            )
            rule = f"bias column 0 of Θ is b (not regularized); instance proof against SymPy's ∂J, {count}"
        else:
            reg_latex = rf" + \frac{{\lambda}}{{m}} W^{{({l})}}" if self.net.l2 else ""
            title, latex = f"gradient of J, layer {l}", (
                rf"\frac{{\partial J}}{{\partial W^{{({l})}}}} = \frac{{1}}{{m}} \sum_{{e=1}}^{{m}} "
                rf"\delta^{{({l})(e)}} \left({{{a_prev}}}^{{(e)}}\right)^{{\top}}{reg_latex},\qquad"
                rf"\frac{{\partial J}}{{\partial b^{{({l})}}}} = \frac{{1}}{{m}} \sum_{{e=1}}^{{m}} \delta^{{({l})(e)}}"
            )
            rule = f"sum over the m = {m} examples; instance proof against SymPy's ∂J, {count}"
        result = verify_groups(
            [lambda j=j: unit(j) for j in range(n)], timeout=self.options["timeout"],
            points=self.options["points"], seed=self.options["seed"] + len(self.steps),
            workers=self.options["workers"],
        )
        lhs = sp.Symbol(rf"\frac{{\partial J}}{{\partial W^{{({l})}}}}")
        self.record(title, latex, rule, lhs, sp.Symbol("closed form"), result, layer=l, kind="instance", boxed=True)
