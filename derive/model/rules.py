"""The rule registry: every activation and loss is written once, here.

Each entry drives four things: the symbolic model (``apply``), the proof (``textbook`` and the
closed-form derivative), the generated NumPy (each SymPy function prints itself through
``_numpycode``) and the reports (``latex`` names and the identity the rule stands for).

Read it like a table: one ``Activation(...)`` or ``Loss(...)`` row per rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy import Expr

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "Activation",
    "Loss",
    "activation",
    "loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "step",
    "textbook_form",
]


# --------------------------------------------------------------------------------------------
# Activation functions as SymPy functions that carry their own closed-form derivative.
# SymPy's ``diff`` calls ``fdiff``, so derivatives come out compact (σ(1−σ), not exp quotients);
# ``rewrite(sp.exp)`` gives the textbook form that the proofs compare against.
# --------------------------------------------------------------------------------------------


class sigmoid(sp.Function):  # noqa: N801 - SymPy function classes are lower case
    """The logistic function σ(x) = 1 / (1 + e^{-x})."""

    nargs = 1
    is_real = True

    def fdiff(self, argindex: int = 1) -> Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    def _eval_rewrite_as_exp(self, x: Expr, **kwargs: object) -> Expr:
        return 1 / (1 + sp.exp(-x))

    def _eval_rewrite_as_tanh(self, x: Expr, **kwargs: object) -> Expr:
        # The overflow-free form _numpycode prints, as a SymPy tree (the engine evaluates it in place).
        return (1 + sp.tanh(x / 2)) / 2

    def _eval_is_positive(self) -> bool | None:
        return True if self.args[0].is_real else None

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return rf"\sigma\left({printer._print(self.args[0])}\right)"

    def _numpycode(self, printer: sp.printing.numpy.NumPyPrinter) -> str:
        # σ(x) = (1 + tanh(x/2)) / 2: one ufunc call and never overflows (proved in the derivation).
        return "(0.5 + 0.5*{}(0.5*({})))".format(
            printer._module_format(printer._module + ".tanh"), printer._print(self.args[0])
        )


class softplus(sp.Function):  # noqa: N801
    """softplus(x) = log(1 + e^x), whose derivative is σ(x)."""

    nargs = 1
    is_real = True

    def fdiff(self, argindex: int = 1) -> Expr:
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, x: Expr, **kwargs: object) -> Expr:
        return sp.log(1 + sp.exp(x))

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return rf"\operatorname{{softplus}}\left({printer._print(self.args[0])}\right)"

    def _numpycode(self, printer: sp.printing.numpy.NumPyPrinter) -> str:
        # logaddexp(0, x) = log(e^0 + e^x), computed without overflow.
        return "{}(0, {})".format(
            printer._module_format(printer._module + ".logaddexp"), printer._print(self.args[0])
        )


class step(sp.Function):  # noqa: N801
    """The unit step with step(0) = 0: the derivative of ReLU used by every engine."""

    nargs = 1
    is_real = True

    def fdiff(self, argindex: int = 1) -> Expr:
        return sp.S.Zero  # zero almost everywhere; the kink at 0 is a convention

    @classmethod
    def eval(cls, x: Expr) -> Expr | None:
        if x.is_positive:
            return sp.S.One
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def _eval_rewrite_as_Piecewise(self, x: Expr, **kwargs: object) -> Expr:
        return sp.Piecewise((1, x > 0), (0, True))

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return rf"\mathbb{{1}}\left[{printer._print(self.args[0])} > 0\right]"

    def _numpycode(self, printer: sp.printing.numpy.NumPyPrinter) -> str:
        return f"({printer._print(self.args[0])} > 0)"


class relu(sp.Function):  # noqa: N801
    """ReLU(x) = max(0, x); its derivative is the unit step (0 at the kink)."""

    nargs = 1
    is_real = True

    def fdiff(self, argindex: int = 1) -> Expr:
        return step(self.args[0])

    @classmethod
    def eval(cls, x: Expr) -> Expr | None:
        if x.is_nonnegative:
            return x
        if x.is_nonpositive:
            return sp.S.Zero
        return None

    def _eval_rewrite_as_Piecewise(self, x: Expr, **kwargs: object) -> Expr:
        return sp.Piecewise((x, x > 0), (0, True))

    def _eval_rewrite_as_Max(self, x: Expr, **kwargs: object) -> Expr:
        return sp.Max(0, x)

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return rf"\operatorname{{ReLU}}\left({printer._print(self.args[0])}\right)"

    def _numpycode(self, printer: sp.printing.numpy.NumPyPrinter) -> str:
        return "{}(0, {})".format(
            printer._module_format(printer._module + ".maximum"), printer._print(self.args[0])
        )


def textbook_form(expr: Expr) -> Expr:
    """``expr`` with every registry function replaced by its defining formula (exp, Piecewise)."""
    return expr.replace(sigmoid, lambda x: 1 / (1 + sp.exp(-x))).replace(
        softplus, lambda x: sp.log(1 + sp.exp(x))
    ).replace(relu, lambda x: sp.Piecewise((x, x > 0), (0, True))).replace(
        step, lambda x: sp.Piecewise((1, x > 0), (0, True))
    )


def softmax(z: Sequence[Expr]) -> list[Expr]:
    """softmax(z)_i = e^{z_i} / Σ_k e^{z_k}, as a list of SymPy expressions."""
    exps = [sp.exp(zi) for zi in z]
    total = sp.Add(*exps)
    return [e / total for e in exps]


# --------------------------------------------------------------------------------------------
# The registry rows.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activation:
    """One activation rule.

    ``apply`` builds g(z) in the compact form the derivation uses; ``textbook`` is the defining
    formula the proofs start from; ``derivative(z, a)`` is the closed form of g'(z) written with
    the layer's output a = g(z) where that is how the notes write it (σ' = a(1−a)).
    ``identity`` is the generic claim (lhs, rhs) proved for a free symbol x: g'(x) = closed form.
    """

    name: str
    latex: str
    rule: str  # the name of the derivative rule, as a report cites it
    apply: Callable[[Expr], Expr]
    textbook: Callable[[Expr], Expr]
    derivative: Callable[[Expr, Expr], Expr]
    derivative_latex: str  # g'(z) in the notes' notation
    elementwise: bool = True
    # For a vector -> vector activation: ∂a_i/∂z_j as a function of (i, j, a_i, a_j), i and j
    # symbolic or integer indices (a Kronecker delta decides the diagonal).
    jacobian: Callable[[Expr, Expr, Expr, Expr], Expr] | None = None
    # For a vector activation (elementwise=False): the whole layer's output from its z entries.
    vector: Callable[[Sequence[Expr]], list[Expr]] | None = None

    def identity(self, x: sp.Symbol) -> tuple[Expr, Expr]:
        """g'(x) by differentiating the textbook form, and the closed form, for a free x."""
        return sp.diff(self.textbook(x), x), self.derivative(x, self.textbook(x))


def _tanh_textbook(x: Expr) -> Expr:
    return (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in [
        Activation(
            "sigmoid", r"\sigma", "sigmoid derivative",
            apply=sigmoid, textbook=lambda x: 1 / (1 + sp.exp(-x)),
            derivative=lambda z, a: a * (1 - a),
            derivative_latex=r"\sigma'(z) = \sigma(z)\,(1 - \sigma(z))",
        ),
        Activation(
            "tanh", r"\tanh", "tanh derivative",
            apply=sp.tanh, textbook=_tanh_textbook,
            derivative=lambda z, a: 1 - a**2,
            derivative_latex=r"\tanh'(z) = 1 - \tanh^2(z)",
        ),
        Activation(
            "relu", r"\operatorname{ReLU}", "ReLU derivative",
            apply=relu, textbook=lambda x: sp.Piecewise((x, x > 0), (0, True)),
            derivative=lambda z, a: step(z),
            derivative_latex=r"\operatorname{ReLU}'(z) = \mathbb{1}[z > 0]",
        ),
        Activation(
            "identity", r"\operatorname{id}", "identity derivative",
            apply=lambda x: x, textbook=lambda x: x,
            derivative=lambda z, a: sp.S.One,
            derivative_latex=r"\operatorname{id}'(z) = 1",
        ),
        Activation(
            "softplus", r"\operatorname{softplus}", "softplus derivative",
            apply=softplus, textbook=lambda x: sp.log(1 + sp.exp(x)),
            derivative=lambda z, a: sigmoid(z),
            derivative_latex=r"\operatorname{softplus}'(z) = \sigma(z)",
        ),
        Activation(
            "softmax", r"\operatorname{softmax}", "softmax Jacobian",
            apply=lambda x: sp.exp(x),  # only meaningful through ``softmax`` (vector -> vector)
            textbook=lambda x: sp.exp(x),
            derivative=lambda z, a: a * (1 - a),  # the diagonal of the Jacobian σ_i(δ_ij − σ_j)
            derivative_latex=r"\frac{\partial \sigma_i}{\partial z_j} = \sigma_i\,(\delta_{ij} - \sigma_j)",
            elementwise=False,
            jacobian=lambda i, j, a_i, a_j: a_i * (sp.KroneckerDelta(i, j) - a_j),
            vector=softmax,
        ),
    ]
}


@dataclass(frozen=True)
class Loss:
    """One loss rule: the loss of one example, and which output activations it pairs with.

    ``per_example(a, y)`` is the loss of one example as a SymPy expression of the output
    activations a and the targets y; ``output_grad(a_k, y_k)`` its closed-form partial ∂/∂a_k.
    ``delta(a, y, gprime)`` is the proved closed form of
    δ^(L) = ∂loss/∂z^(L) (``gprime`` is g'(z^(L)) entrywise, ignored by the canonical pairings).
    """

    name: str
    latex: str  # the loss of one example, in LaTeX, with a and y
    outputs: tuple[str, ...]  # output activations this loss accepts
    per_example: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    output_grad: Callable[[Expr, Expr], Expr]  # ∂loss/∂a_k of one example, entrywise (a_k, y_k)
    output_grad_latex: str
    delta: Callable[[Expr, Expr, Expr], Expr]
    delta_latex: str
    canonical: bool  # δ^(L) = a − y (the output's derivative cancels)
    # The same loss written on the logits z^(L) in a form that never overflows (BCE via softplus,
    # CCE via log-sum-exp); None when the textbook form is already stable. The derivation proves
    # it equal to ``per_example(g(z), y)`` (for CCE, given Σ y = 1).
    logits_form: Callable[[Sequence[Expr], Sequence[Expr]], Expr] | None = None
    logits_latex: str | None = None


_ELEMENTWISE_OUTPUTS = ("sigmoid", "tanh", "relu", "identity", "softplus")

LOSSES: dict[str, Loss] = {
    loss_.name: loss_
    for loss_ in [
        Loss(
            "mse", r"\tfrac{1}{2}\,\lVert a^{(L)} - y \rVert^2", _ELEMENTWISE_OUTPUTS,
            per_example=lambda a, y: sp.Rational(1, 2) * sp.Add(*[(ai - yi) ** 2 for ai, yi in zip(a, y)]),
            output_grad=lambda a, y: a - y,
            output_grad_latex=r"a^{(L)} - y",
            delta=lambda a, y, gprime: (a - y) * gprime,
            delta_latex=r"(a^{(L)} - y) \odot g'(z^{(L)})",
            canonical=False,
        ),
        Loss(
            "sq", r"\lVert a^{(L)} - y \rVert^2", _ELEMENTWISE_OUTPUTS,
            per_example=lambda a, y: sp.Add(*[(ai - yi) ** 2 for ai, yi in zip(a, y)]),
            output_grad=lambda a, y: 2 * (a - y),
            output_grad_latex=r"2\,(a^{(L)} - y)",
            delta=lambda a, y, gprime: 2 * (a - y) * gprime,
            delta_latex=r"2\,(a^{(L)} - y) \odot g'(z^{(L)})",
            canonical=False,
        ),
        Loss(
            "bce", r"-\sum_k \left[y_k \log a^{(L)}_k + (1 - y_k) \log(1 - a^{(L)}_k)\right]", ("sigmoid",),
            per_example=lambda a, y: -sp.Add(
                *[yi * sp.log(ai) + (1 - yi) * sp.log(1 - ai) for ai, yi in zip(a, y)]
            ),
            output_grad=lambda a, y: (a - y) / (a * (1 - a)),
            output_grad_latex=r"\frac{a^{(L)} - y}{a^{(L)} \odot (1 - a^{(L)})}",
            delta=lambda a, y, gprime: a - y,
            delta_latex=r"a^{(L)} - y",
            canonical=True,
            logits_form=lambda z, y: sp.Add(*[softplus(zi) - yi * zi for zi, yi in zip(z, y)]),
            logits_latex=r"\sum_k \operatorname{softplus}(z^{(L)}_k) - y_k z^{(L)}_k",
        ),
        Loss(
            "cce", r"-\sum_k y_k \log a^{(L)}_k", ("softmax",),
            per_example=lambda a, y: -sp.Add(*[yi * sp.log(ai) for ai, yi in zip(a, y)]),
            output_grad=lambda a, y: -y / a,
            output_grad_latex=r"-\frac{y}{a^{(L)}}",
            delta=lambda a, y, gprime: a - y,
            delta_latex=r"a^{(L)} - y",
            canonical=True,
            logits_form=lambda z, y: sp.log(sp.Add(*[sp.exp(zi) for zi in z]))
            - sp.Add(*[yi * zi for zi, yi in zip(z, y)]),
            logits_latex=r"\log \sum_k e^{z^{(L)}_k} - \sum_k y_k z^{(L)}_k",
        ),
    ]
}


def activation(name: str) -> Activation:
    """The registry entry for ``name``; a ValueError naming the choices otherwise."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown activation {name!r}; choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None


def loss(name: str) -> Loss:
    """The registry entry for ``name``; a ValueError naming the choices otherwise."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(sorted(LOSSES))}") from None
