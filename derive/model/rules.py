"""The rule registry: every activation and loss is written once, here, as one row.

A row carries everything about its rule, and every other module builds what it needs from it:

* the SymPy function (``defun``): its closed-form derivative is what ``sympy.diff`` returns
  (σ' = σ(1−σ), not a quotient of exponentials), its textbook definition is what the proofs
  start from and what the 50-digit witness evaluates (``mpmath_form`` is derived from it), and it
  prints itself as array code (``_numpycode``) and as LaTeX;
* the activation row: LaTeX name, the names notes use for it, the unit label of the network
  picture, and the wrong derivatives notes write (the diagnosis tries them);
* the loss row: the loss of one example, its closed-form δ^(L), the overflow-free form on the
  logits, which outputs it pairs with, and how to draw and check targets.

Read it like a table. A new activation is one ``defun`` and one ``Activation(...)`` row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from sympy import Expr
from sympy.codegen.cfunctions import expm1
from sympy.codegen.numpy_nodes import logaddexp

__all__ = [
    "ACTIVATIONS",
    "FUNCTIONS",
    "LOSSES",
    "Activation",
    "Loss",
    "Mistake",
    "activation",
    "default_output",
    "defun",
    "formula_latex",
    "is_defined",
    "loss",
    "mpmath_form",
    "softmax",
    "textbook_form",
]

Unary = Callable[[Expr], Expr]


# --------------------------------------------------------------------------------------------
# Functions: a SymPy function class per rule, made by ``defun``.
# --------------------------------------------------------------------------------------------

# Every function class the registry defines, by name (also SymPy's tanh, which activations use).
FUNCTIONS: dict[str, type[sp.Function]] = {}
_XP_NAME = re.compile(r"\bxp\.(\w+)")


def defun(
    name: str,
    textbook: Unary,
    derivative: Callable[[Expr, Expr], Expr],
    *,
    latex: str,
    array: str | None = None,
    stable: Unary | None = None,
    evaluate: Callable[[Expr], Expr | None] | None = None,
    positive: bool = False,
    register: bool = True,
) -> type[sp.Function]:
    """A SymPy function of one real argument, defined by its row.

    ``derivative(x, f)`` is the closed form of f'(x), written with f = f(x) where the rule is
    written that way (σ' = σ(1−σ)); ``sympy.diff`` uses it. ``textbook(x)`` is the defining
    formula (``rewrite("textbook")``). Array code prints ``stable(x)`` (default: the textbook
    form), an elementary form that never overflows, proved equal to the textbook one in every
    derivation that uses it; or, for a definition with no such form (the unit step), the
    ``array`` template, whose ``{x}`` is the argument and ``xp.<name>`` a function of the array
    namespace (one call, so that it needs no parentheses). ``latex`` is a template with ``{x}``.
    ``evaluate`` may give a value for arguments of known sign. ``register`` lists it in
    ``FUNCTIONS`` (the names notes may use).
    """
    if array is None and stable is None:
        stable = textbook

    def fdiff(self: sp.Function, argindex: int = 1) -> Expr:
        return derivative(self.args[0], self)

    def _eval_rewrite_as_textbook(self: sp.Function, x: Expr, **kwargs: object) -> Expr:
        return textbook(x)

    def _latex(self: sp.Function, printer: Any, exp: str | None = None) -> str:
        text = latex.format(x=printer._print(self.args[0]))
        return text if exp is None else rf"\left({text}\right)^{{{exp}}}"  # a power of the function

    def _numpycode(self: sp.Function, printer: Any) -> str:
        if stable is not None:
            form = stable(self.args[0])
            code = printer._print(form)
            return f"({code})" if form.is_Add or form.is_Mul or form.is_Pow else code  # a call needs none
        for used in _XP_NAME.findall(array):
            printer._module_format(printer._module + "." + used)  # recorded as a namespace function
        return array.format(x=printer._print(self.args[0])).replace("xp.", printer._module + ".")

    attributes: dict[str, Any] = {
        "nargs": 1,
        "is_real": True,
        "__module__": __name__,
        "__doc__": f"{name}(x) = {textbook(sp.Symbol('x'))}",
        "fdiff": fdiff,
        "_eval_rewrite_as_textbook": _eval_rewrite_as_textbook,
        "_latex": _latex,
        "_numpycode": _numpycode,
        "textbook": staticmethod(textbook),
        "stable": staticmethod(stable) if stable is not None else None,
    }
    if evaluate is not None:
        attributes["eval"] = classmethod(lambda cls, x: evaluate(x))
    if positive:
        attributes["_eval_is_positive"] = lambda self: True if self.args[0].is_real else None
    cls = type(name, (sp.Function,), attributes)
    if register:
        FUNCTIONS[name] = cls
    return cls


def _known_sign(positive: Unary, nonpositive: Unary) -> Callable[[Expr], Expr | None]:
    """``eval`` for a piecewise function: its branch when the argument's sign is known."""
    return lambda x: positive(x) if x.is_positive else nonpositive(x) if x.is_nonpositive else None


_HALF = sp.Rational(1, 2)
LEAKY_SLOPE = sp.Rational(1, 100)  # PyTorch's default negative_slope
ELU_ALPHA = sp.S.One  # PyTorch's default alpha


def _normal_pdf(x: Expr) -> Expr:
    return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)


# fmt: off
step = defun(
    "step", lambda x: sp.Piecewise((1, x > 0), (0, True)), lambda x, f: sp.S.Zero,  # 0 almost everywhere
    latex=r"\mathbb{{1}}\left[{x} > 0\right]", array="xp.heaviside({x}, 0)",  # 0 or 1 in x's dtype
    evaluate=_known_sign(lambda x: sp.S.One, lambda x: sp.S.Zero),
)
sigmoid = defun(
    "sigmoid", lambda x: 1 / (1 + sp.exp(-x)), lambda x, f: f * (1 - f),
    latex=r"\sigma\left({x}\right)", stable=lambda x: _HALF + _HALF * sp.tanh(x / 2), positive=True,
)
softplus = defun(
    "softplus", lambda x: sp.log(1 + sp.exp(x)), lambda x, f: sigmoid(x),
    latex=r"\operatorname{{softplus}}\left({x}\right)", stable=lambda x: logaddexp(0, x), positive=True,
)
relu = defun(
    "relu", lambda x: sp.Piecewise((x, x > 0), (0, True)), lambda x, f: step(x),
    latex=r"\operatorname{{ReLU}}\left({x}\right)", stable=lambda x: sp.Max(0, x),
    evaluate=_known_sign(lambda x: x, lambda x: sp.S.Zero),
)
leaky_relu = defun(
    "leaky_relu", lambda x: sp.Piecewise((x, x > 0), (LEAKY_SLOPE * x, True)),
    lambda x, f: LEAKY_SLOPE + (1 - LEAKY_SLOPE) * step(x),
    latex=r"\operatorname{{LeakyReLU}}\left({x}\right)", stable=lambda x: sp.Max(x, 0) + LEAKY_SLOPE * sp.Min(x, 0),
    evaluate=_known_sign(lambda x: x, lambda x: LEAKY_SLOPE * x),
)
elu = defun(
    "elu", lambda x: sp.Piecewise((x, x > 0), (ELU_ALPHA * (sp.exp(x) - 1), True)),
    lambda x, f: step(x) + (1 - step(x)) * (f + ELU_ALPHA),  # e^x = f + α where x ≤ 0
    latex=r"\operatorname{{ELU}}\left({x}\right)", stable=lambda x: sp.Max(x, 0) + ELU_ALPHA * expm1(sp.Min(x, 0)),
    evaluate=_known_sign(lambda x: x, lambda x: ELU_ALPHA * (sp.exp(x) - 1)),
)
normal_cdf = defun(
    "normal_cdf", lambda x: (1 + sp.erf(x / sp.sqrt(2))) / 2, lambda x, f: _normal_pdf(x),
    latex=r"\Phi\left({x}\right)", positive=True,
)
gelu = defun(
    "gelu", lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2, lambda x, f: normal_cdf(x) + x * _normal_pdf(x),
    latex=r"\operatorname{{GELU}}\left({x}\right)",
)
silu = defun(
    "silu", lambda x: x / (1 + sp.exp(-x)), lambda x, f: sigmoid(x) + f * (1 - sigmoid(x)),
    latex=r"\operatorname{{SiLU}}\left({x}\right)", stable=lambda x: x * (_HALF + _HALF * sp.tanh(x / 2)),
)
# fmt: on
FUNCTIONS["tanh"] = sp.tanh  # SymPy's own: its derivative 1 − tanh² is already the closed form


def _tanh_textbook(x: Expr) -> Expr:
    return (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x))


def is_defined(expr: object) -> bool:
    """Whether ``expr`` is an application of a function made by ``defun`` (registered or not)."""
    return isinstance(expr, sp.Function) and hasattr(type(expr), "textbook")


def textbook_form(expr: Expr) -> Expr:
    """``expr`` with every registry function replaced by its defining formula (exp, erf, Piecewise).

    SymPy's tanh stays: it is elementary already (mpmath and ``simplify`` know it)."""
    return expr.replace(is_defined, lambda e: type(e).textbook(e.args[0])) if expr.has(sp.Function) else expr


@cache
def mpmath_form(cls: type) -> Callable[[Any], Any]:
    """The function evaluated in mpmath from its textbook definition (independent of every closed
    form under test); SymPy's own functions by mpmath's function of the same name."""
    if hasattr(cls, "textbook"):
        x = sp.Symbol("x", real=True)
        return sp.lambdify(x, cls.textbook(x), "mpmath")
    return getattr(mpmath, cls.__name__)


def formula_latex(expr: Expr) -> str:
    """LaTeX of a closed form in the order notes write it: σ(x)(1 − σ(x)), 1 − a², ½ + ½ tanh."""

    def tidy(e: Expr) -> Expr:
        if e.is_Atom or not e.args:
            return e
        args = [tidy(a) for a in e.args]
        if e.is_Mul:  # numbers, then names and calls, then sums
            args.sort(key=lambda f: (not f.is_Number, f.is_Add))
        elif e.is_Add:  # numbers first, then the rest, subtracted terms last
            args.sort(key=lambda t: (t.could_extract_minus_sign(), not t.is_Number))
        else:
            return e.func(*args)
        return e.func(*args, evaluate=False)

    return sp.latex(tidy(expr), order="none")


def softmax(z: Sequence[Expr]) -> list[Expr]:
    """softmax(z)_i = e^{z_i} / Σ_k e^{z_k}, as a list of SymPy expressions."""
    exps = [sp.exp(zi) for zi in z]
    total = sp.Add(*exps)
    return [e / total for e in exps]


# --------------------------------------------------------------------------------------------
# Activation rows.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mistake:
    """A wrong derivative that notes write for an activation: ``derivative(z, a)`` with a = g(z)."""

    text: str  # how the mistake reads, in words with $…$ maths
    derivative: Callable[[Expr, Expr], Expr]


@dataclass(frozen=True)
class Activation:
    """One activation rule.

    ``function`` is g as a SymPy function (its ``fdiff`` is the closed form of g'); ``textbook``
    its defining formula. ``latex`` names it in formulas, ``notes`` lists how notes write it
    (LaTeX commands or words), ``diagram`` labels its units in the network picture. A vector
    activation (softmax) has ``vector`` (the layer's outputs from its z) and ``jacobian``
    (∂a_i/∂z_j from i, j, a_i, a_j; a Kronecker delta decides the diagonal).
    """

    name: str
    function: Unary
    textbook: Unary
    latex: str
    diagram: str
    notes: tuple[str, ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    he_init: bool = False  # a rectifier: initial weights with He's scale √(2/n_in), not Glorot's
    vector: Callable[[Sequence[Expr]], list[Expr]] | None = None
    jacobian: Callable[[Expr, Expr, Expr, Expr], Expr] | None = None

    @property
    def elementwise(self) -> bool:
        return self.vector is None

    @property
    def rule(self) -> str:
        """The derivative rule's name, as a step cites it."""
        return f"{self.name} Jacobian" if self.jacobian else f"{self.name} derivative"

    def apply(self, z: Expr) -> Expr:
        """g(z) for one unit (the compact form the derivation uses)."""
        return self.function(z)

    def derivative(self, z: Expr, a: Expr) -> Expr:
        """The closed form of g'(z), written with the layer's output a = g(z) where the rule is
        (σ' = a(1−a)); for a vector activation, the diagonal of its Jacobian."""
        if self.jacobian is not None:
            return self.jacobian(0, 0, a, a)
        t = sp.Dummy("t", real=True)
        closed = sp.diff(self.function(t), t)
        return closed.xreplace({self.function(t): a}).xreplace({t: z})

    @property
    def derivative_latex(self) -> str:
        """g'(z) = closed form, in LaTeX (the Jacobian's entry for a vector activation)."""
        if self.jacobian is not None:
            i, j = sp.symbols("i j", integer=True)
            s_i, s_j = sp.Symbol(r"\sigma_{i}"), sp.Symbol(r"\sigma_{j}")
            entry = formula_latex(self.jacobian(i, j, s_i, s_j)).replace(r"\delta_{i j}", r"\delta_{ij}")
            return rf"\frac{{\partial \sigma_i}}{{\partial z_j}} = {entry}"
        z = sp.Symbol("z", real=True)
        return rf"{self.latex}'(z) = {formula_latex(self.derivative(z, self.function(z)))}"

    def identity(self, x: sp.Symbol) -> tuple[Expr, Expr]:
        """g'(x) by differentiating the textbook form, and the closed form, for a free x."""
        return sp.diff(self.textbook(x), x), self.derivative(x, self.textbook(x))

    @property
    def mpmath(self) -> Callable[[Any], Any]:
        """g of one unit in mpmath, from the textbook form (a witness independent of the closed forms)."""
        return _lambdified(self.textbook, "mpmath")

    @property
    def kinked(self) -> bool:
        """Whether g is defined piecewise: finite differences across its kink mean nothing."""
        return self.textbook(sp.Symbol("x", real=True)).has(sp.Piecewise)


@cache
def _lambdified(textbook: Unary, modules: str) -> Callable[[Any], Any]:
    x = sp.Symbol("x", real=True)
    return sp.lambdify(x, textbook(x), modules)


def _table(rows: Sequence[Any]) -> dict[str, Any]:
    return {row.name: row for row in rows}


def _of_z(rule: Callable[[Expr], Expr]) -> Callable[[Expr, Expr], Expr]:
    """A mistake that applies a rule written for a to the pre-activation z instead."""
    return lambda z, a: rule(z)


# fmt: off
ACTIVATIONS: dict[str, Activation] = _table([
    Activation("sigmoid", sigmoid, sigmoid.textbook, r"\sigma", "σ",
               notes=(r"\sigma", "sigmoid", "sigm", "logistic"),
               mistakes=(Mistake("$a(1+a)$: a sign slip", lambda z, a: a * (1 + a)),
                         Mistake("$z(1-z)$: the rule applied to $z$ instead of $a$", _of_z(lambda z: z * (1 - z))))),
    Activation("tanh", sp.tanh, _tanh_textbook, r"\tanh", "tanh",
               notes=(r"\tanh", "tanh"),
               mistakes=(Mistake("$a(1-a)$: the sigmoid's rule", lambda z, a: a * (1 - a)),
                         Mistake("$1+a^2$: a sign slip", lambda z, a: 1 + a**2),
                         Mistake("$1-z^2$: the rule applied to $z$ instead of $a$", _of_z(lambda z: 1 - z**2)))),
    Activation("relu", relu, relu.textbook, r"\operatorname{ReLU}", "ReLU",
               he_init=True,
               notes=("ReLU", "relu", r"\operatorname{ReLU}", r"\mathrm{ReLU}"),
               mistakes=(Mistake(r"$\operatorname{ReLU}(z)$ itself instead of its derivative", lambda z, a: a),)),
    Activation("leaky_relu", leaky_relu, leaky_relu.textbook, r"\operatorname{LeakyReLU}", "LReLU",
               he_init=True,
               notes=("LeakyReLU", "leaky_relu", "lrelu", "LReLU"),
               mistakes=(Mistake(r"$\mathbb{1}[z > 0]$: the ReLU's rule (slope 0 below 0)", lambda z, a: step(z)),)),
    Activation("elu", elu, elu.textbook, r"\operatorname{ELU}", "ELU",
               he_init=True,
               notes=("ELU", "elu"),
               mistakes=(Mistake("$e^z$ everywhere", lambda z, a: sp.exp(z)),)),
    Activation("gelu", gelu, gelu.textbook, r"\operatorname{GELU}", "GELU",
               he_init=True,
               notes=("GELU", "gelu"),
               mistakes=(Mistake(r"$\Phi(z)$ alone: the product rule's second term is missing",
                                 lambda z, a: normal_cdf(z)),)),
    Activation("silu", silu, silu.textbook, r"\operatorname{SiLU}", "SiLU",
               he_init=True,
               notes=("SiLU", "silu", "swish", "Swish"),
               mistakes=(Mistake(r"$\sigma(z)$ alone: the product rule's second term is missing",
                                 lambda z, a: sigmoid(z)),)),
    Activation("identity", lambda x: x, lambda x: x, r"\operatorname{id}", "id",
               notes=("identity",)),
    Activation("softplus", softplus, softplus.textbook, r"\operatorname{softplus}", "softplus",
               notes=("softplus",),
               mistakes=(Mistake(r"$\operatorname{softplus}(z)$ itself instead of its derivative", lambda z, a: a),)),
    Activation("softmax", sp.exp, sp.exp, r"\operatorname{softmax}", "softmax",
               notes=("softmax",), vector=softmax,
               jacobian=lambda i, j, a_i, a_j: a_i * (sp.KroneckerDelta(i, j) - a_j)),
])
# fmt: on


# --------------------------------------------------------------------------------------------
# Loss rows.
# --------------------------------------------------------------------------------------------


def _normal_targets(rng: np.random.Generator, m: int, n: int, hard: bool) -> np.ndarray:
    return np.round(rng.uniform(0.0, 1.0, (m, n)), 2) if hard else rng.standard_normal((m, n))


def _binary_targets(rng: np.random.Generator, m: int, n: int, hard: bool) -> np.ndarray:
    return rng.integers(0, 2, (m, n)).astype(float) if hard else rng.uniform(0.05, 0.95, (m, n))


def _probability_targets(rng: np.random.Generator, m: int, n: int, hard: bool) -> np.ndarray:
    if hard:
        return np.eye(n)[rng.integers(0, n, m)]
    Y = rng.random((m, n)) + 0.1
    # multiples of 2^-20, the last entry 1 minus the others: every row sums to 1 exactly, as the
    # closed form δ = a − y assumes (a float64 row divided by its sum misses 1 by an ulp)
    Y = np.round(Y / Y.sum(1, keepdims=True) * 2**20) / 2**20
    Y[:, -1] = 1 - Y[:, :-1].sum(1)
    return Y


SUM_TOLERANCE = 1e-6  # how far from 1 a cce target row may sum (rounding in a file)


def _any_targets(Y: np.ndarray) -> str | None:
    return None


def _first_outside_unit_interval(Y: np.ndarray, need: str) -> str | None:
    outside = np.flatnonzero(np.any((Y < 0) | (Y > 1), axis=1))
    if not outside.size:
        return None
    row = int(outside[0])
    bad = Y[row][(Y[row] < 0) | (Y[row] > 1)][0]
    return f"target row {row + 1} holds {bad:g}; {need}"


def _targets_in_unit_interval(Y: np.ndarray) -> str | None:
    return _first_outside_unit_interval(Y, "loss 'bce' needs targets in [0, 1]")


def _targets_are_probabilities(Y: np.ndarray) -> str | None:
    need = "loss 'cce' needs probability rows: entries in [0, 1] that sum to 1"
    sums = Y.sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > SUM_TOLERANCE)
    outside = np.flatnonzero(np.any((Y < 0) | (Y > 1), axis=1))
    if off.size and (not outside.size or off[0] < outside[0]):
        return f"target row {int(off[0]) + 1} sums to {sums[off[0]]:g}; {need}"
    return _first_outside_unit_interval(Y, need)


@dataclass(frozen=True)
class Loss:
    """One loss rule: the loss of one example, and which output activations it pairs with.

    ``per_example(a, y)`` is the loss of one example as a SymPy expression of the output
    activations a and the targets y; ``output_grad(a_k, y_k)`` its closed-form partial ∂/∂a_k.
    ``delta(a, y, gprime)`` is the proved closed form of δ^(L) = ∂loss/∂z^(L) (``gprime`` is
    g'(z^(L)) entrywise, ignored by the canonical pairings). ``outputs`` names the output
    activations it accepts (empty: every elementwise one). ``targets(rng, m, n, hard)`` draws
    valid targets (``hard``: labels such as one-hot rows; otherwise smooth values) and
    ``invalid_targets(Y)`` says in one sentence why a target matrix is unusable, or None.
    """

    name: str
    latex: str  # the loss of one example, in LaTeX, with a and y
    per_example: Callable[[Sequence[Expr], Sequence[Expr]], Expr]
    output_grad: Callable[[Expr, Expr], Expr]  # ∂loss/∂a_k of one example, entrywise (a_k, y_k)
    output_grad_latex: str
    delta: Callable[[Expr, Expr, Expr], Expr]
    delta_latex: str
    canonical: bool  # δ^(L) = a − y (the output's derivative cancels)
    targets: Callable[[np.random.Generator, int, int, bool], np.ndarray]
    targets_text: str  # how ``targets(..., hard=True)`` draws them, in words
    invalid_targets: Callable[[np.ndarray], str | None] = _any_targets
    outputs: tuple[str, ...] = ()
    # The same loss written on the logits z^(L) in a form that never overflows (BCE via softplus,
    # CCE via log-sum-exp); None when the textbook form is already stable. The derivation proves
    # it equal to ``per_example(g(z), y)`` (for CCE, given Σ y = 1).
    logits_form: Callable[[Sequence[Expr], Sequence[Expr]], Expr] | None = None
    logits_latex: str | None = None
    notes: tuple[str, ...] = field(default=())  # how notes name it

    def accepts(self, output: str) -> bool:
        """Whether this loss pairs with the output activation ``output``."""
        if self.outputs:
            return output in self.outputs
        act = ACTIVATIONS.get(output)
        return act is not None and act.elementwise

    @property
    def output_names(self) -> tuple[str, ...]:
        """The output activations this loss accepts, in registry order."""
        return tuple(name for name in ACTIVATIONS if self.accepts(name))


def _squares(a: Sequence[Expr], y: Sequence[Expr]) -> Expr:
    return sp.Add(*[(ai - yi) ** 2 for ai, yi in zip(a, y)])


# fmt: off
LOSSES: dict[str, Loss] = _table([
    Loss("mse", r"\tfrac{1}{2}\,\lVert a^{(L)} - y \rVert^2",
         per_example=lambda a, y: _squares(a, y) / 2,
         output_grad=lambda a, y: a - y, output_grad_latex=r"a^{(L)} - y",
         delta=lambda a, y, gprime: (a - y) * gprime, delta_latex=r"(a^{(L)} - y) \odot g'(z^{(L)})",
         canonical=False, targets=_normal_targets, targets_text="uniform on [0, 1], 2 decimals",
         notes=("MSE", "mse")),
    Loss("sq", r"\lVert a^{(L)} - y \rVert^2",
         per_example=_squares,
         output_grad=lambda a, y: 2 * (a - y), output_grad_latex=r"2\,(a^{(L)} - y)",
         delta=lambda a, y, gprime: 2 * (a - y) * gprime, delta_latex=r"2\,(a^{(L)} - y) \odot g'(z^{(L)})",
         canonical=False, targets=_normal_targets, targets_text="uniform on [0, 1], 2 decimals",
         notes=("SSE",)),
    Loss("bce", r"-\sum_k \left[y_k \log a^{(L)}_k + (1 - y_k) \log(1 - a^{(L)}_k)\right]",
         per_example=lambda a, y: -sp.Add(*[yi * sp.log(ai) + (1 - yi) * sp.log(1 - ai) for ai, yi in zip(a, y)]),
         output_grad=lambda a, y: (a - y) / (a * (1 - a)),
         output_grad_latex=r"\frac{a^{(L)} - y}{a^{(L)} \odot (1 - a^{(L)})}",
         delta=lambda a, y, gprime: a - y, delta_latex=r"a^{(L)} - y", canonical=True,
         targets=_binary_targets, targets_text="0 or 1 at random", invalid_targets=_targets_in_unit_interval,
         outputs=("sigmoid",),
         logits_form=lambda z, y: sp.Add(*[softplus(zi) - yi * zi for zi, yi in zip(z, y)]),
         logits_latex=r"\sum_k \operatorname{softplus}(z^{(L)}_k) - y_k z^{(L)}_k",
         notes=("BCE", "binary cross-entropy")),
    Loss("cce", r"-\sum_k y_k \log a^{(L)}_k",
         per_example=lambda a, y: -sp.Add(*[yi * sp.log(ai) for ai, yi in zip(a, y)]),
         output_grad=lambda a, y: -y / a, output_grad_latex=r"-\frac{y}{a^{(L)}}",
         delta=lambda a, y, gprime: a - y, delta_latex=r"a^{(L)} - y", canonical=True,
         targets=_probability_targets, targets_text="one-hot rows", invalid_targets=_targets_are_probabilities,
         outputs=("softmax",),
         logits_form=lambda z, y: sp.log(sp.Add(*[sp.exp(zi) for zi in z]))
         - sp.Add(*[yi * zi for zi, yi in zip(z, y)]),
         logits_latex=r"\log \sum_k e^{z^{(L)}_k} - \sum_k y_k z^{(L)}_k",
         notes=("CE", "cross-entropy")),
])
# fmt: on


def default_output(loss_name: str) -> str:
    """The output activation a loss gets when none is named: its only one, else the sigmoid."""
    names = LOSSES[loss_name].output_names
    return names[0] if len(names) == 1 else "sigmoid"


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
