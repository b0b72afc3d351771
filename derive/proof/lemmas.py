"""Lemmas proved once for every size: the steps of backpropagation with symbolic widths and m.

The widths n_{l−1}, n_l, n_{l+1} and the number of examples m are positive integer symbols;
entries are indexed (``IndexedBase``), sums have symbolic bounds, and SymPy differentiates
through them (a Kronecker delta per index) exactly as a student does by hand:

* **pre-activation** — z_i = Σ_{k=1}^{n_{l−1}} W_{ik} a_k + b_i gives ∂z_i/∂W_{pq} = δ_{ip} a_q,
  ∂z_i/∂b_p = δ_{ip}, ∂z_i/∂a_q = W_{iq};
* **loss derivative** and **output error** of each output/loss pair for symbolic n_L;
* **δ recursion** of each hidden activation: for ANY loss downstream (its errors
  δ^{(l+1)}_k = ∂ℓ/∂z^{(l+1)}_k are arbitrary numbers, the chain rule sums over k),
  δ^{(l)} = (W^{(l+1)})ᵀ δ^{(l+1)} ⊙ g'(z^{(l)});
* **one example** — ∂ℓ/∂W^{(l)} = δ^{(l)} a^{(l−1)ᵀ}, ∂ℓ/∂b^{(l)} = δ^{(l)}, for any loss;
* **the cost** — the mean over m examples plus λ/(2m) Σ‖W‖² with the bias excluded, in both
  bias conventions.

Each lemma is a list of pairs that must be equal for every size and every index in range,
checked by the one prover: numerically at several small concrete sizes (every index value),
then exactly with the sizes left symbolic. A network of any depth and width is then these
lemmas chained, layer by layer (an induction on l from L down to 1).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

import sympy as sp
from sympy import Expr

from ..exprs import as_expr
from ..model import rules
from . import prover

__all__ = [
    "Lemma",
    "LemmaCheck",
    "cost_gradient",
    "delta_recursion",
    "example_gradient",
    "loss_derivative",
    "output_error",
    "preactivation",
    "verify_lemma",
]

Pair = tuple[Expr, Expr]


def _size(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _index(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _array(name: str) -> sp.IndexedBase:
    return sp.IndexedBase(name, real=True)


N_PREV, N, N_NEXT, M = _size("n_{l-1}"), _size("n_{l}"), _size("n_{l+1}"), _size("m")
I, J, K, P, Q, E = (_index(c) for c in "ijkpqe")
W, B, A_PREV, Z, Y = _array("W^{(l)}"), _array("b^{(l)}"), _array("a^{(l-1)}"), _array("z^{(l)}"), _array("y")
W_NEXT, B_NEXT, DELTA, DELTA_NEXT = _array("W^{(l+1)}"), _array("b^{(l+1)}"), _array(r"\delta^{(l)}"), _array(
    r"\delta^{(l+1)}"
)
THETA = _array(r"\Theta^{(l)}")
LAMBDA = sp.Symbol("lambda", nonnegative=True)

# Small concrete sizes at which every lemma is also checked numerically, for every index value.
SIZE_CASES = ((1, 1, 1, 1), (2, 3, 2, 2), (3, 2, 3, 3), (3, 3, 1, 2))
MAX_INDEX_CASES = 12  # index assignments per size case (spread evenly when there are more)


@dataclass
class Lemma:
    """A statement for all sizes: ``pairs`` must be equal for every value of ``sizes`` and of the
    free ``indices`` in their ranges (index → (low, high) in terms of the sizes)."""

    key: str
    title: str
    latex: str
    rule: str
    pairs: list[Pair]
    sizes: tuple[sp.Symbol, ...]
    indices: dict[sp.Symbol, tuple[Expr, Expr]]
    # extra substitutions made at every concrete instance (Σ y = 1 for softmax + CCE)
    instance_facts: Callable[[dict[sp.Symbol, int]], dict[Expr, Expr]] | None = None
    sizes_text: str = ""  # "n_l, n_{l+1}"
    check: LemmaCheck | None = field(default=None, repr=False)  # what the prover found, once
    check_timeout: float = 0.0


@dataclass
class LemmaCheck:
    """What the prover found for a lemma."""

    verification: prover.Verification
    counterexample_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return self.verification.verdict

    @property
    def evidence(self) -> str:
        v = self.verification
        if v.verdict == "fails" and self.counterexample_sizes:
            at = ", ".join(f"${k} = {val}$" for k, val in self.counterexample_sizes.items())
            return f"counterexample at {at}: {v.evidence.removeprefix('counterexample: ')}"
        return v.evidence


# ------------------------------------------------------------------------------------------
# Resolving index ranges after SymPy sums a Kronecker delta.
# ------------------------------------------------------------------------------------------


def _within(value: Expr, lo: Expr, hi: Expr, indices: dict[sp.Symbol, tuple[Expr, Expr]]) -> bool | None:
    """Whether an index value lies in lo..hi: a free index with that declared range, or a number."""
    if value in indices:
        return True if indices[value] == (lo, hi) else None
    if value.is_Integer:
        low, high = sp.Ge(value, lo), sp.Le(value, hi)
        if low in (sp.true, sp.false) and high in (sp.true, sp.false):
            return bool(low) and bool(high)
        if low is sp.false:
            return False
    return None


def _pick_deltas(expr: Expr, indices: dict[sp.Symbol, tuple[Expr, Expr]]) -> Expr:
    """Σ_j δ_{aj} f(j) = f(a) when a lies in the sum's range (0 when it lies outside), the index
    replaced everywhere in f, conditions included (SymPy's own summation of a delta inside a
    piecewise expression leaves j in the condition)."""

    def pick(s: sp.Sum) -> Expr:
        body, (var, lo, hi) = s.function, s.limits[0]
        if len(s.limits) != 1:
            return s
        for factor in sp.Mul.make_args(body):
            if isinstance(factor, sp.KroneckerDelta) and var in factor.args:
                value = factor.args[0] if factor.args[1] == var else factor.args[1]
                inside = _within(value, lo, hi, indices)
                if inside is None or value.has(var):
                    continue
                rest = sp.Mul(*[f for f in sp.Mul.make_args(body) if f is not factor])
                return rest.xreplace({var: value}) if inside else sp.S.Zero
        return s

    return expr.replace(lambda x: isinstance(x, sp.Sum), pick)


def in_ranges(expr: Expr, indices: dict[sp.Symbol, tuple[Expr, Expr]]) -> Expr:
    """``expr`` with the sums of Kronecker deltas done and the conditions "index within its range"
    decided: every free index is in range."""
    facts: dict[Expr, Expr] = {}
    for idx, (lo, hi) in indices.items():
        for fact in (sp.Le(idx, hi), sp.Ge(hi, idx), sp.Ge(idx, lo), sp.Le(lo, idx)):
            facts[fact] = sp.true
    expr = _pick_deltas(sp.expand(expr) if isinstance(expr, sp.Sum) else as_expr(expr), indices)
    expr = expr.doit()
    return expr.replace(lambda u: isinstance(u, sp.Piecewise), lambda u: u.xreplace(facts).doit())


def deltas_out(expr: Expr) -> Expr:
    """Kronecker deltas common to every branch of a piecewise expression taken out of it
    (d/dz_i of ReLU(z_j) is Piecewise((δ_ij, z_j > 0), (0, True)) = δ_ij·𝟙[z_j > 0]), so that a
    sum over j can pick its term."""

    def pull(pw: sp.Piecewise) -> Expr:
        common: set[Expr] | None = None
        for branch, _ in pw.args:
            if branch != 0:
                found = {f for f in sp.Mul.make_args(branch) if isinstance(f, sp.KroneckerDelta)}
                common = found if common is None else common & found
        if not common:
            return pw
        delta = sp.Mul(*common)
        return delta * sp.Piecewise(*[(branch / delta if branch != 0 else branch, c) for branch, c in pw.args])

    return expr.replace(lambda x: isinstance(x, sp.Piecewise), pull)


def _diff(expr: Expr, variable: Expr) -> Expr:
    """∂expr/∂variable through sums with symbolic bounds (a Kronecker delta per index)."""
    return deltas_out(sp.diff(expr, variable))


_G = sp.Function("g")  # the activation while SymPy differentiates through the sums


def _textbook(expr: Expr, act: rules.Activation) -> Expr:
    """``expr`` with the placeholder g by the activation's textbook definition, derivatives done
    (after the sums are resolved: SymPy folds a piecewise derivative into a sum's body)."""
    t = sp.Dummy("t", real=True)
    expr = expr.replace(_G, sp.Lambda(t, act.textbook(t)))
    return expr.replace(lambda x: isinstance(x, (sp.Subs, sp.Derivative)), lambda x: x.doit())


def _sum(body: Expr, index: sp.Symbol, hi: Expr, lo: Expr = sp.S.One) -> Expr:
    return sp.Sum(body, (index, lo, hi))


# ------------------------------------------------------------------------------------------
# The lemmas.
# ------------------------------------------------------------------------------------------


def _z(i: Expr, weights: sp.IndexedBase = W, inputs: Callable[[Expr], Expr] | None = None) -> Expr:
    """z_i = Σ_{k=1}^{n_{l−1}} W_{ik} a_k + b_i."""
    a = inputs or (lambda k: A_PREV[k])
    return _sum(weights[i, K] * a(K), K, N_PREV) + B[i]


@cache
def preactivation() -> Lemma:
    z_i = _z(I)
    ranges = {I: (1, N), P: (1, N), Q: (1, N_PREV)}
    pairs = [
        (in_ranges(_diff(z_i, W[P, Q]), ranges), sp.KroneckerDelta(I, P) * A_PREV[Q]),
        (in_ranges(_diff(z_i, B[P]), ranges), sp.KroneckerDelta(I, P)),
        (in_ranges(_diff(z_i, A_PREV[Q]), ranges), W[I, Q]),
    ]
    return Lemma(
        "preactivation", "pre-activation derivatives, all sizes",
        r"z^{(l)}_i = \sum_{k=1}^{n_{l-1}} W^{(l)}_{ik} a^{(l-1)}_k + b^{(l)}_i \;\Rightarrow\;"
        r"\frac{\partial z^{(l)}_i}{\partial W^{(l)}_{pq}} = \delta_{ip}\, a^{(l-1)}_q,\quad"
        r"\frac{\partial z^{(l)}_i}{\partial b^{(l)}_p} = \delta_{ip},\quad"
        r"\frac{\partial z^{(l)}_i}{\partial a^{(l-1)}_q} = W^{(l)}_{iq}",
        "differentiation through a sum with symbolic bounds (a Kronecker delta per index)",
        pairs, (N_PREV, N), ranges, sizes_text="n_{l-1}, n_l",
    )


def _per_unit_loss(loss: rules.Loss, a: Expr, y: Expr) -> Expr:
    """The loss's term for one output unit: every registry loss is a sum over the units."""
    return loss.per_example([a], [y])


def _is_sum_over_units(loss: rules.Loss) -> bool:
    a, y = sp.symbols("a1:4", real=True), sp.symbols("y1:4", real=True)
    whole = loss.per_example(list(a), list(y))
    return sp.expand(whole - sum(_per_unit_loss(loss, ak, yk) for ak, yk in zip(a, y))) == 0


@cache
def loss_derivative(loss: rules.Loss) -> Lemma:
    loss_name = loss.name
    if not _is_sum_over_units(loss):
        raise ValueError(f"loss {loss_name!r} is not a sum over the output units")
    a = _array("a^{(L)}")
    ell = _sum(_per_unit_loss(loss, a[K], Y[K]), K, N)
    ranges = {J: (1, N)}
    return Lemma(
        f"loss-derivative-{loss_name}", f"loss derivative ({loss_name}), all sizes",
        rf"\ell = {loss.latex} \;\Rightarrow\; \frac{{\partial \ell}}{{\partial a^{{(L)}}_j}} = "
        + loss.output_grad_latex.replace("a^{(L)}", "a^{(L)}_j").replace("y)", "y_j)").replace("{y}", "{y_j}"),
        f"derivative of the {loss_name} loss, n_L units",
        [(in_ranges(_diff(ell, a[J]), ranges), loss.output_grad(a[J], Y[J]))],
        (N,), ranges, sizes_text="n_L",
    )


@cache
def output_error(act: rules.Activation, loss: rules.Loss) -> Lemma:
    """δ^(L) for an elementwise output: ∂ℓ(g(z))/∂z_j, g by its textbook definition, against the
    loss row's closed form with the activation's closed-form derivative."""
    output, loss_name = act.name, loss.name
    if not act.elementwise or not _is_sum_over_units(loss):
        raise ValueError(f"{output}/{loss_name}: the output error of a vector activation is an identity")
    z = _array("z^{(L)}")
    ell = _sum(_per_unit_loss(loss, _G(z[K]), Y[K]), K, N)
    ranges = {J: (1, N)}
    lhs = _textbook(in_ranges(_diff(ell, z[J]), ranges), act)
    a_j = act.textbook(z[J])
    rhs = loss.delta(a_j, Y[J], act.derivative(z[J], a_j))
    return Lemma(
        f"output-error-{output}-{loss_name}", f"output error ({output} + {loss_name}), all sizes",
        r"\delta^{(L)}_j = \frac{\partial}{\partial z^{(L)}_j} \sum_{k=1}^{n_L} \ell_k = "
        + loss.delta_latex.replace("a^{(L)}", "a^{(L)}_j").replace("- y", "- y_j").replace("z^{(L)}", "z^{(L)}_j"),
        "cancellation: loss and output activation" if loss.canonical else f"chain rule + {act.rule}",
        [(lhs, rhs)], (N,), ranges, sizes_text="n_L",
    )


@cache
def delta_recursion(act: rules.Activation, transpose: bool = True) -> Lemma:
    """δ^(l)_i = Σ_k δ^(l+1)_k ∂z^(l+1)_k/∂z^(l)_i = ((W^(l+1))ᵀ δ^(l+1))_i g'(z^(l)_i), with g by its
    textbook definition on the left and the closed-form g' on the right.

    ``transpose=False`` states the classic mistake (W instead of Wᵀ), for the tests."""
    hidden = act.name
    if not act.elementwise:
        raise ValueError(f"{hidden} is only an output activation")
    z_next_k = _sum(W_NEXT[K, J] * _G(Z[J]), J, N) + B_NEXT[K]
    ranges = {I: (1, N)}
    chain = _textbook(_sum(DELTA_NEXT[K] * in_ranges(_diff(z_next_k, Z[I]), ranges), K, N_NEXT), act)
    weight = W_NEXT[K, I] if transpose else W_NEXT[I, K]
    closed = _sum(weight * DELTA_NEXT[K], K, N_NEXT) * act.derivative(Z[I], act.textbook(Z[I]))
    return Lemma(
        f"delta-recursion-{hidden}" + ("" if transpose else "-no-transpose"),
        f"δ recursion ({hidden} hidden layer), all sizes",
        r"\delta^{(l)}_i = \sum_{k=1}^{n_{l+1}} \delta^{(l+1)}_k \frac{\partial z^{(l+1)}_k}{\partial z^{(l)}_i}"
        rf" = \Big(\big(W^{{(l+1)}}\big)^{{\top}} \delta^{{(l+1)}}\Big)_i\, {act.latex}'\!\left(z^{{(l)}}_i\right)",
        f"chain rule + {act.rule}; for any loss downstream (δ^(l+1) arbitrary)",
        [(chain, closed)], (N, N_NEXT), ranges, sizes_text="n_l, n_{l+1}",
    )


@cache
def example_gradient() -> Lemma:
    """∂ℓ/∂W_pq = Σ_i δ_i ∂z_i/∂W_pq = δ_p a_q and ∂ℓ/∂b_p = δ_p, for any loss ℓ(z)."""
    ranges = {P: (1, N), Q: (1, N_PREV)}
    z_i = _z(I)
    by_w = in_ranges(_sum(DELTA[I] * in_ranges(_diff(z_i, W[P, Q]), ranges), I, N), ranges)
    by_b = in_ranges(_sum(DELTA[I] * in_ranges(_diff(z_i, B[P]), ranges), I, N), ranges)
    return Lemma(
        "example-gradient", "one example: gradient of the loss, all sizes",
        r"\frac{\partial \ell}{\partial W^{(l)}_{pq}} = \sum_{i=1}^{n_l} \delta^{(l)}_i"
        r"\frac{\partial z^{(l)}_i}{\partial W^{(l)}_{pq}} = \delta^{(l)}_p a^{(l-1)}_q,\qquad"
        r"\frac{\partial \ell}{\partial b^{(l)}_p} = \delta^{(l)}_p",
        "chain rule; for any loss ℓ(z^(l)) (δ^(l) arbitrary)",
        [(by_w, DELTA[P] * A_PREV[Q]), (by_b, DELTA[P])], (N_PREV, N), ranges, sizes_text="n_{l-1}, n_l",
    )


@cache
def cost_gradient(l2: bool, bias: str = "separate", one_over_m: bool = True, regularized_bias: bool = False) -> Lemma:
    """∂J/∂W^(l) for J = (1/m) Σ_e ℓ_e + λ/(2m) Σ‖W‖², the bias excluded from the L2 term.

    The per-example errors δ^(e) are arbitrary (any loss). ``one_over_m=False`` and
    ``regularized_bias=True`` state classic mistakes in the closed form, for the tests."""
    delta = _array(r"\delta^{(l)(e)}")
    a = _array("a^{(l-1)(e)}")
    lam = LAMBDA if l2 else sp.S.Zero
    scale = 1 / M if one_over_m else sp.S.One
    bias_decay = LAMBDA / M if regularized_bias else sp.S.Zero  # the mistake: the bias regularized too
    ranges = {P: (1, N), Q: (1, N_PREV)}
    if bias == "column":  # z_i = Θ_{i0} + Σ_{k≥1} Θ_{ik} a_k; column 0 is the bias, not regularized
        z = THETA[I, 0] + _sum(THETA[I, K] * a[E, K], K, N_PREV)
        reg = lam / (2 * M) * _sum(_sum(THETA[I, K] ** 2, K, N_PREV), I, N)

        def gradient(param: Expr) -> Expr:
            data = _sum(_sum(delta[E, I] * _diff(z, param), I, N), E, M)
            return in_ranges(in_ranges(_diff(reg, param), ranges) + in_ranges(data, ranges) / M, ranges)

        pairs = [
            (gradient(THETA[P, 0]), scale * _sum(delta[E, P], E, M) + (bias_decay * THETA[P, 0])),
            (gradient(THETA[P, Q]), scale * _sum(delta[E, P] * a[E, Q], E, M) + lam / M * THETA[P, Q]),
        ]
        latex = (
            r"J = \frac{1}{m}\sum_{e=1}^{m} \ell_e + \frac{\lambda}{2m}\sum_{i,\,k \ge 1} \big(\Theta^{(l)}_{ik}\big)^2"
            r"\;\Rightarrow\; \frac{\partial J}{\partial \Theta^{(l)}_{p0}} = \frac{1}{m}\sum_{e} \delta^{(l)(e)}_p,"
            r"\quad \frac{\partial J}{\partial \Theta^{(l)}_{pq}} = \frac{1}{m}\sum_{e} \delta^{(l)(e)}_p"
            r" a^{(l-1)(e)}_q + \frac{\lambda}{m}\Theta^{(l)}_{pq}\ (q \ge 1)"
        )
    else:
        z = _sum(W[I, K] * a[E, K], K, N_PREV) + B[I]
        reg = lam / (2 * M) * _sum(_sum(W[I, K] ** 2, K, N_PREV), I, N)

        def gradient(param: Expr) -> Expr:
            data = _sum(_sum(delta[E, I] * _diff(z, param), I, N), E, M)
            return in_ranges(in_ranges(_diff(reg, param), ranges) + in_ranges(data, ranges) / M, ranges)

        pairs = [
            (gradient(W[P, Q]), scale * _sum(delta[E, P] * a[E, Q], E, M) + lam / M * W[P, Q]),
            (gradient(B[P]), scale * _sum(delta[E, P], E, M) + bias_decay * B[P]),
        ]
        latex = (
            r"J = \frac{1}{m}\sum_{e=1}^{m} \ell_e"
            + (r" + \frac{\lambda}{2m}\sum_{i,k} \big(W^{(l)}_{ik}\big)^2" if l2 else "")
            + r"\;\Rightarrow\; \frac{\partial J}{\partial W^{(l)}_{pq}} = \frac{1}{m}\sum_{e=1}^{m}"
            r" \delta^{(l)(e)}_p a^{(l-1)(e)}_q"
            + (r" + \frac{\lambda}{m} W^{(l)}_{pq}" if l2 else "")
            + r",\quad \frac{\partial J}{\partial b^{(l)}_p} = \frac{1}{m}\sum_{e=1}^{m} \delta^{(l)(e)}_p"
        )
    what = "mean over m examples" + (", L2 with the bias excluded" if l2 else "")
    return Lemma(
        f"cost-gradient-{'l2' if l2 else 'plain'}-{bias}" + ("" if one_over_m else "-no-1/m")
        + ("-bias-regularized" if regularized_bias else ""),
        f"gradient of the cost: {what}, all sizes", latex,
        "linearity of differentiation; power rule" + ("; bias column 0 not regularized" if bias == "column" else ""),
        pairs, (N_PREV, N, M), ranges, sizes_text="n_{l-1}, n_l, m",
    )


# ------------------------------------------------------------------------------------------
# Checking a lemma: numbers at small concrete sizes, then the exact proof for all sizes.
# ------------------------------------------------------------------------------------------


def _index_cases(lemma: Lemma, sizes: dict[sp.Symbol, int]) -> list[dict[sp.Symbol, int]]:
    names = sorted(lemma.indices, key=lambda s: s.name)
    spans = [range(int(as_expr(lo).subs(sizes)), int(as_expr(hi).subs(sizes)) + 1) for lo, hi in
             (lemma.indices[s] for s in names)]
    cases = [dict(zip(names, values)) for values in itertools.product(*spans)]
    if len(cases) > MAX_INDEX_CASES:
        step = len(cases) / MAX_INDEX_CASES
        cases = [cases[int(k * step)] for k in range(MAX_INDEX_CASES)]
    return cases


def _concrete(expr: Expr, values: dict[sp.Symbol, int]) -> Expr:
    """The expression at concrete sizes and indices: sums written out, entries as symbols."""
    e = _written_out(as_expr(expr).xreplace({s: sp.Integer(v) for s, v in values.items()})).doit()
    entries = {x: sp.Symbol(sp.latex(x), real=True) for x in e.atoms(sp.Indexed)}
    return e.xreplace(entries)


def _written_out(e: Expr) -> Expr:
    """Sums with whole-number limits written out, outermost first, so that an inner range that
    depends on an outer index (Σ_{k=1}^{n} Σ_{i=1}^{k}) has a number by the time it is written
    out (SymPy's doit leaves such a sum unevaluated)."""

    def one(s: sp.Sum) -> Expr:
        body, *limits = s.args
        var, lo, hi = limits[-1]  # SymPy lists the innermost limit first
        if not (lo.is_Integer and hi.is_Integer):
            return s
        inner = sp.Sum(body, *limits[:-1]) if len(limits) > 1 else body
        return sp.Add(*[_written_out(inner.subs(var, v)) for v in range(int(lo), int(hi) + 1)])

    return e.replace(lambda x: isinstance(x, sp.Sum), one) if e.has(sp.Sum) else e


def instances(lemma: Lemma) -> Iterator[tuple[dict[str, int], list[Pair]]]:
    """The lemma at each small size case and index value, as plain SymPy pairs, smallest sizes
    first and one at a time (a counterexample at size 1 is found before size 3 is written out)."""
    for case in SIZE_CASES:
        sizes = dict(zip(lemma.sizes, case))
        for idx in _index_cases(lemma, sizes):
            values = {**sizes, **idx}
            pairs = [(_concrete(lhs, values), _concrete(rhs, values)) for lhs, rhs in lemma.pairs]
            if lemma.instance_facts is not None:
                facts = lemma.instance_facts(values)
                pairs = [(lhs.xreplace(facts), rhs.xreplace(facts)) for lhs, rhs in pairs]
            yield {s.name: v for s, v in values.items()}, pairs


def verify_lemma(lemma: Lemma, timeout: float | None = prover.DEFAULT_TIMEOUT, seed: int = 0) -> LemmaCheck:
    """The witness at every small size case and index value (a counterexample names its sizes),
    then the exact proof with the sizes left symbolic."""
    start = time.perf_counter()
    cases = []
    worst = 0.0
    for values, pairs in instances(lemma):
        cases.append((values, pairs))
        witness = prover.numeric_witness(pairs, prover.DEFAULT_POINTS, seed)
        if not witness.agree:
            failed = prover.Verification(
                "fails",
                f"counterexample: lhs = {witness.lhs_value:.12g}, rhs = {witness.rhs_value:.12g} "
                f"at {witness.counterexample_text}",
                time.perf_counter() - start, witness,
            )
            return LemmaCheck(failed, values)
        if witness.points == 0:  # no point where both sides are real (a division by zero): no evidence
            at = ", ".join(f"{k} = {v}" for k, v in values.items())
            return LemmaCheck(prover.Verification(
                "undecided", f"the sides have no real value at {at} (undefined or complex values)",
                time.perf_counter() - start, witness,
            ))
        worst = max(worst, witness.max_error)
    sizes = sorted({tuple(v for k, v in values.items() if k in {s.name for s in lemma.sizes}) for values, _ in cases})
    numbers = (
        f"numeric: {len(cases)} instances (sizes {', '.join('(' + ', '.join(map(str, s)) + ')' for s in sizes)}, "
        f"every index value up to {MAX_INDEX_CASES} a size) at {prover.DEFAULT_POINTS} random points, "
        f"{prover.DIGITS} digits, max relative error {worst:.1e}"
    )
    proved, how = prover.prove_equal(lemma.pairs, timeout)
    verdict = "proved" if proved else "numeric"
    evidence = f"{how}; {numbers}" if proved else f"numeric witness only ({how}); {numbers}"
    return LemmaCheck(prover.Verification(verdict, evidence, time.perf_counter() - start))


def checked(lemma: Lemma, timeout: float | None = prover.DEFAULT_TIMEOUT) -> LemmaCheck:
    """``verify_lemma`` once per lemma object (the builders cache them per registry row): a lemma
    proved for all sizes stays proved; one proved only numerically is tried again given more time."""
    if lemma.check is None or lemma.check.verdict == "numeric" and timeout and timeout > lemma.check_timeout:
        lemma.check, lemma.check_timeout = verify_lemma(lemma, timeout), timeout or float("inf")
    return lemma.check
