"""The engine's gradients against two independent witnesses (the ``derive gradcheck`` command is in derive/cli).

1. Central finite differences of the engine's own cost, in float64, with the five-point
   stencil (error O(h⁴)), so agreement to ~1e-10 is expected rather than hoped for.
2. The symbolic model: ``sympy.diff`` of the network's cost J (one example, λ substituted)
   with respect to every weight and bias, evaluated at the same random point. This shares no
   code with the generated engine beyond the registry's definitions of g and the loss.

The report is the largest relative error per layer, max|g − ĝ| / max|ĝ|, for each witness;
the exit status is 1 when any exceeds the tolerance (default 1e-7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..model.network import Network
from .compiled import Engine, Params

__all__ = [
    "CheckResult", "LayerErrors", "MAX_SYMBOLIC_PARAMETERS", "check_network", "finite_difference_grads",
    "symbolic_grads",
]

MAX_SYMBOLIC_PARAMETERS = 60  # sympy.diff of the whole cost per parameter: fine for small networks
KINK_MARGIN = 1e-2  # ReLU pre-activations closer than this to 0 would break finite differences


@dataclass
class LayerErrors:
    """Largest relative error of (dJ/dW, dJ/db) of one layer against each witness."""

    layer: int
    finite_differences: float
    symbolic: float | None  # None: the symbolic check was skipped for this network


@dataclass
class CheckResult:
    net: Network
    layers: list[LayerErrors]
    cost_error: float | None = None  # |J_engine − J_sympy| / |J_sympy| at the symbolic point
    notes: list[str] = field(default_factory=list)

    def worst(self) -> float:
        values = [e.finite_differences for e in self.layers]
        values += [e.symbolic for e in self.layers if e.symbolic is not None]
        if self.cost_error is not None:
            values.append(self.cost_error)
        return max(values)


def _pre_activations(net: Network, params: Params, X: np.ndarray) -> list[np.ndarray]:
    """z of every layer: the forward pass of the network cut after that layer, output identity."""
    names = net.activation_names
    return [
        Network(net.sizes[: l + 2], hidden=list(names[:l]), output="identity", loss="mse")
        .compile()
        .forward(params[: l + 1], X)
        for l in range(len(params))
    ]


def random_point(engine: Engine, m: int, rng: np.random.Generator) -> tuple[Params, np.ndarray, np.ndarray]:
    """Random parameters, inputs and targets, away from ReLU kinks."""
    net = engine.net
    for _ in range(100):
        params = [
            (rng.standard_normal((o, i)) * 0.6, rng.standard_normal(o) * 0.3)
            for i, o in zip(net.sizes, net.sizes[1:], strict=False)
        ]
        X = rng.standard_normal((m, net.sizes[0]))
        if not any(act.kinked for act in net.activations):
            break
        if all(np.min(np.abs(z)) > KINK_MARGIN for z in _pre_activations(net, params, X)):
            break
    return params, X, net.loss_rule.targets(rng, m, net.sizes[-1], False)


def finite_difference_grads(engine: Engine, params: Params, X: np.ndarray, Y: np.ndarray) -> Params:
    """dJ/dθ for every parameter by the five-point central stencil (h = 1e-3 · max(1, |θ|))."""

    def cost() -> float:
        return float(engine.loss_and_grad(params, X, Y)[0])

    out: Params = []
    for W, b in params:
        grads = []
        for arr in (W, b):
            g = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                keep = arr[idx]
                h = 1e-3 * max(1.0, abs(keep))
                values = []
                for step in (2, 1, -1, -2):
                    arr[idx] = keep + step * h
                    values.append(cost())
                arr[idx] = keep
                g[idx] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
            grads.append(g)
        out.append((grads[0], grads[1]))
    return out


def symbolic_grads(net: Network, params: Params, x: np.ndarray, y: np.ndarray) -> tuple[float, Params]:
    """J and dJ/dθ from the symbolic model of one example, by sympy.diff, at (params, x, y)."""
    import sympy as sp

    from ..model.rules import textbook_form

    model = net.symbolic(m=1)
    point: dict[sp.Symbol, sp.Float] = {model.lam: sp.Float(net.l2, 30)}
    for l in range(1, model.L + 1):
        W, b = params[l - 1]
        point.update({model.W[l][j, k]: sp.Float(W[j, k], 30) for j in range(W.shape[0]) for k in range(W.shape[1])})
        point.update({model.b[l][j]: sp.Float(b[j], 30) for j in range(b.shape[0])})
    point.update({model.x[0][k]: sp.Float(x[k], 30) for k in range(x.shape[0])})
    point.update({model.y[0][k]: sp.Float(y[k], 30) for k in range(y.shape[0])})

    def value(expr: sp.Expr) -> float:
        return float(textbook_form(expr.xreplace(point)).evalf(30))

    J = model.J
    grads: Params = []
    for l in range(1, model.L + 1):
        gW = np.array([[value(sp.diff(J, w)) for w in row] for row in model.W[l].tolist()])
        gb = np.array([value(sp.diff(J, bj)) for bj in model.b[l]])
        grads.append((gW, gb))
    return value(J), grads


def _rel(g: np.ndarray, ref: np.ndarray) -> float:
    scale = max(float(np.max(np.abs(ref))), float(np.max(np.abs(g))), 1e-300)
    return float(np.max(np.abs(g - ref))) / scale


def check_network(net: Network, seed: int = 0, m: int = 3, symbolic: bool = True) -> CheckResult:
    """Engine gradients vs finite differences (m examples) and vs SymPy (one example)."""
    engine = net.compile()
    rng = np.random.default_rng(seed)
    params, X, Y = random_point(engine, m, rng)
    _, grads = engine.loss_and_grad(params, X, Y)
    fd = finite_difference_grads(engine, params, X, Y)
    fd_err = [max(_rel(gW, rW), _rel(gb, rb)) for (gW, gb), (rW, rb) in zip(grads, fd, strict=True)]

    result = CheckResult(net, [])
    sym_err: list[float | None] = [None] * len(grads)
    if symbolic and net.n_parameters > MAX_SYMBOLIC_PARAMETERS:
        result.notes.append(f"symbolic check skipped: {net.n_parameters} parameters (limit {MAX_SYMBOLIC_PARAMETERS})")
    elif symbolic:
        J1, grads1 = engine.loss_and_grad(params, X[:1], Y[:1])
        J_sym, sym = symbolic_grads(net, params, X[0], Y[0])
        result.cost_error = abs(float(J1) - J_sym) / max(abs(J_sym), 1e-300)
        sym_err = [max(_rel(gW, rW), _rel(gb, rb)) for (gW, gb), (rW, rb) in zip(grads1, sym, strict=True)]
    result.layers = [LayerErrors(l, f, s) for l, (f, s) in enumerate(zip(fd_err, sym_err, strict=True), start=1)]
    return result
