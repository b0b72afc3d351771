"""A fully connected network: its specification and its symbolic model.

``Network`` validates the spec (one clear sentence per refusal) and builds, on demand, the
symbolic model of one layer after another: z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = g_l(z^(l)),
and the cost J = (1/m) Σ loss + λ/(2m) Σ‖W‖² with the bias excluded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import sympy as sp

from ..errors import DeriveError
from . import rules

if TYPE_CHECKING:
    from ..engine.compiled import Engine
    from ..proof.derivation import Derivation

__all__ = ["MAX_LAYER_SIZE", "MAX_PARAMETERS", "Network", "NetworkError", "SymbolicModel"]

MAX_LAYER_SIZE = 100_000  # units in one layer; more is refused before anything is allocated
MAX_PARAMETERS = 200_000_000  # weights and biases in all; 1.6 GB of float64
BiasConvention = Literal["separate", "column"]


class NetworkError(DeriveError, ValueError):
    """A network specification that cannot be built; the message is one sentence."""


@dataclass(frozen=True)
class Network:
    """Layer sizes, activations, loss, L2 strength and bias convention of a network.

    ``hidden`` is one activation name for every hidden layer, or a list with one name per
    hidden layer. ``bias="separate"`` keeps b^(l) apart from W^(l); ``bias="column"`` writes
    Θ^(l) = [b^(l) W^(l)] with column 0 the bias, as in the Coursera notes (same maths).
    """

    sizes: tuple[int, ...]
    hidden: str | tuple[str, ...] = "sigmoid"
    output: str = "sigmoid"
    loss: str = "mse"
    l2: float = 0.0
    bias: BiasConvention = "separate"
    name: str = field(default="", compare=False)

    def __init__(
        self,
        sizes: Sequence[int],
        hidden: str | Sequence[str] = "sigmoid",
        output: str = "sigmoid",
        loss: str = "mse",
        l2: float = 0.0,
        bias: BiasConvention = "separate",
        name: str = "",
    ) -> None:
        sizes_t = _check_sizes(sizes)
        hidden_t = hidden if isinstance(hidden, str) else tuple(hidden)
        object.__setattr__(self, "sizes", sizes_t)
        object.__setattr__(self, "hidden", hidden_t)
        object.__setattr__(self, "output", output)
        object.__setattr__(self, "loss", loss)
        object.__setattr__(self, "l2", _check_l2(l2))
        object.__setattr__(self, "bias", bias)
        object.__setattr__(self, "name", name)
        self._validate()

    # ---- validation ----------------------------------------------------------------------

    def _validate(self) -> None:
        n_hidden = len(self.sizes) - 2
        if isinstance(self.hidden, tuple) and len(self.hidden) != n_hidden:
            raise NetworkError(
                f"hidden lists {len(self.hidden)} activations but the network has {n_hidden} hidden layers"
            )
        for name in self.activation_names:
            try:
                rules.activation(name)
            except ValueError as err:
                raise NetworkError(str(err)) from None
        for name in self.activation_names[:-1]:
            if not rules.activation(name).elementwise:
                pairing = [loss.name for loss in rules.LOSSES.values() if loss.accepts(name)]
                raise NetworkError(
                    f"{name} is only supported as the output activation (with loss {' or '.join(map(repr, pairing))})"
                )
        try:
            loss = rules.loss(self.loss)
        except ValueError as err:
            raise NetworkError(str(err)) from None
        if not loss.accepts(self.output):
            if not rules.activation(self.output).elementwise:
                pairing = [other.name for other in rules.LOSSES.values() if other.accepts(self.output)]
                raise NetworkError(
                    f"{self.output} output needs loss {' or '.join(map(repr, pairing))}, not {self.loss!r}"
                )
            raise NetworkError(
                f"loss {self.loss!r} needs a {' or '.join(loss.output_names)} output, not {self.output!r}"
            )
        if not rules.activation(self.output).elementwise and self.sizes[-1] < 2:
            raise NetworkError(  # a vector activation normalizes over the units: over one it is a constant
                f"a {self.output} over one output unit is the constant 1, so {self.loss} would learn nothing: "
                "give the output layer at least 2 units (or use a sigmoid output with loss 'bce')"
            )
        if self.bias not in ("separate", "column"):
            raise NetworkError(f"unknown bias convention {self.bias!r}; choose 'separate' or 'column'")

    # ---- derived facts --------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Number of weight layers L (layer 0 is the input)."""
        return len(self.sizes) - 1

    @property
    def activation_names(self) -> tuple[str, ...]:
        """Activation of each weight layer 1..depth, the output's last."""
        n_hidden = len(self.sizes) - 2
        hidden = (self.hidden,) * n_hidden if isinstance(self.hidden, str) else self.hidden
        return (*hidden, self.output)

    @property
    def activations(self) -> tuple[rules.Activation, ...]:
        return tuple(rules.activation(n) for n in self.activation_names)

    @property
    def loss_rule(self) -> rules.Loss:
        return rules.loss(self.loss)

    @property
    def n_parameters(self) -> int:
        return sum((n_in + 1) * n_out for n_in, n_out in zip(self.sizes, self.sizes[1:]))

    @property
    def label(self) -> str:
        """A short human name: 2-2-2 sigmoid/sigmoid mse, l2=0.1."""
        acts = "/".join(dict.fromkeys(self.activation_names))
        text = f"{'-'.join(map(str, self.sizes))} {acts} {self.loss}"
        if self.l2:
            text += f", l2={self.l2:g}"
        if self.bias == "column":
            text += ", bias column"
        return text

    # ---- the three things a network does --------------------------------------------------

    def symbolic(self, m: int = 1) -> SymbolicModel:
        """The symbolic model with ``m`` examples (symbols for every weight, input and target)."""
        return SymbolicModel(self, m)

    def derive(self, **options: Any) -> Derivation:
        """The step-by-step derivation of ∂J/∂W and ∂J/∂b, every step verified (derive.proof)."""
        return _operation("derive")(self, **options)

    def compile(self, **options: Any) -> Engine:
        """The proven closed forms generated into NumPy code, no SymPy at call time (derive.engine)."""
        return _operation("compile")(self, **options)


# derive() and compile() are provided by the proof and engine packages, which register them here
# when they are imported (``import derive`` imports both): the model never imports a stage above it.
OPERATIONS: dict[str, Callable[..., Any]] = {}


def _operation(name: str) -> Callable[..., Any]:
    try:
        return OPERATIONS[name]
    except KeyError:
        raise RuntimeError(f"Network.{name}() is provided by the derive package: import derive first") from None


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise NetworkError(f"layer sizes must be a list of integers, not {sizes!r}")
    if len(sizes) < 2:
        raise NetworkError(f"a network needs at least an input and an output layer, got sizes {list(sizes)}")
    out = []
    for i, s in enumerate(sizes):
        if isinstance(s, bool) or not isinstance(s, (int,)) and not (hasattr(s, "__index__")):
            raise NetworkError(f"layer size {s!r} (layer {i + 1}) is not an integer")
        s = int(s)
        if s < 1:
            raise NetworkError(f"layer size {s} (layer {i + 1}) must be at least 1")
        if s > MAX_LAYER_SIZE:
            raise NetworkError(
                f"layer size {s} (layer {i + 1}) exceeds the limit of {MAX_LAYER_SIZE} units per layer"
            )
        out.append(s)
    n_params = sum((a + 1) * b for a, b in zip(out, out[1:]))
    if n_params > MAX_PARAMETERS:
        raise NetworkError(f"{n_params} parameters exceed the limit of {MAX_PARAMETERS}")
    return tuple(out)


def _check_l2(l2: float) -> float:
    try:
        value = float(l2)
    except (TypeError, ValueError):
        raise NetworkError(f"l2 must be a number, not {l2!r}") from None
    if not value >= 0 or value == float("inf"):  # also catches NaN
        raise NetworkError(f"l2 must be a finite number >= 0, not {l2!r}")
    return value


class SymbolicModel:
    """The network written out in SymPy for ``m`` examples.

    Layer 0 is the input (a^(0) = x); layers 1..L carry weights ``W[l]`` (n_l × n_{l−1}) and
    biases ``b[l]``, so ``W[l]`` is ``params[l - 1]`` of the engine. ``z[l][e]``, ``a[l][e]`` are the
    column vectors (lists of entries) of example e. ``J`` is the cost.
    """

    def __init__(self, net: Network, m: int = 1) -> None:
        self.net = net
        self.m = m
        self.L = net.depth
        self.lam = sp.Symbol("lambda", nonnegative=True)
        self.W: dict[int, sp.Matrix] = {}
        self.b: dict[int, sp.Matrix] = {}
        for l in range(1, self.L + 1):
            n_out, n_in = net.sizes[l], net.sizes[l - 1]
            self.W[l] = sp.Matrix(
                n_out, n_in, lambda j, k, l=l: sp.Symbol(f"W^{{({l})}}_{{{j + 1},{k + 1}}}", real=True)
            )
            self.b[l] = sp.Matrix(n_out, 1, lambda j, _, l=l: sp.Symbol(f"b^{{({l})}}_{{{j + 1}}}", real=True))
        suffix = (lambda e: "") if m == 1 else (lambda e: f"^{{({e + 1})}}")
        self.x = [
            sp.Matrix(net.sizes[0], 1, lambda k, _, e=e: sp.Symbol(f"x{suffix(e)}_{{{k + 1}}}", real=True))
            for e in range(m)
        ]
        self.y = [
            sp.Matrix(net.sizes[-1], 1, lambda k, _, e=e: sp.Symbol(f"y{suffix(e)}_{{{k + 1}}}", real=True))
            for e in range(m)
        ]
        self.z: dict[int, list[sp.Matrix]] = {}
        self.a: dict[int, list[sp.Matrix]] = {0: self.x}
        for l in range(1, self.L + 1):
            act = net.activations[l - 1]
            self.z[l] = [self.W[l] * a_prev + self.b[l] for a_prev in self.a[l - 1]]
            if act.vector is None:
                self.a[l] = [zz.applyfunc(act.apply) for zz in self.z[l]]
            else:
                self.a[l] = [sp.Matrix(act.vector(list(zz))) for zz in self.z[l]]
        loss = net.loss_rule
        data = sum((loss.per_example(list(a), list(y)) for a, y in zip(self.a[self.L], self.y)), sp.S.Zero)
        reg = sum((sum(w**2 for w in self.W[l]) for l in self.W), sp.S.Zero)
        self.data_term = data / m
        self.reg_term = self.lam / (2 * m) * reg if net.l2 else sp.S.Zero
        self.J = self.data_term + self.reg_term

    @property
    def parameters(self) -> list[sp.Symbol]:
        """Every weight and bias symbol, layer by layer, W before b, row-major."""
        out: list[sp.Symbol] = []
        for l in range(1, self.L + 1):
            out.extend(self.W[l])
            out.extend(self.b[l])
        return out
