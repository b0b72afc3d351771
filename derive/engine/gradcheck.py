"""The engine's gradients checked by the one numeric witness (the ``derive gradcheck`` command is
in derive/cli).

At a random point (away from the kinks of ReLU-like rules) the witness (derive.engine.witness)
computes a high-precision reference of the closed-form gradient and central differences of the
cost J itself, at the network's own sizes, for every entry of a small network and a sample of a
large one. The report is, per layer, the largest relative error of the engine (float64) against
the reference, and of the central differences against the reference; the exit status is 1 when
any exceeds the tolerance (default 1e-7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model.network import Network
from .compiled import Engine, Params
from .witness import GradientWitness, gradient_witness

__all__ = ["CheckResult", "LayerErrors", "check_network", "random_point"]

KINK_MARGIN = 1e-2  # pre-activations closer than this to a kink would break finite differences


@dataclass
class LayerErrors:
    """Largest relative error of one layer's gradient entries against the high-precision reference."""

    layer: int
    engine: float  # the engine (float64)
    finite_differences: float | None  # central differences of J (None: no entry of this layer differenced)


@dataclass
class CheckResult:
    net: Network
    layers: list[LayerErrors]
    witness: GradientWitness

    def worst(self) -> float:
        values = [e.engine for e in self.layers] + [e.finite_differences or 0.0 for e in self.layers]
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
    """Random parameters, inputs and targets, away from the kinks of ReLU-like rules."""
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


def check_network(net: Network, seed: int = 0, m: int = 3, engine: Engine | None = None) -> CheckResult:
    """The engine's gradient at a random point against the witness, per layer."""
    engine = engine or net.compile()
    params, X, Y = random_point(engine, m, np.random.default_rng(seed))
    witness = gradient_witness(net, params, X, Y, engine, seed=seed)
    layers = []
    for l in range(1, net.depth + 1):
        rows = [r for r in witness.rows if r.entry.layer == l]
        engine_errors = [float(r.engine_error) for r in rows if r.engine_error is not None]
        fd_errors = [float(r.fd_error) for r in rows if r.fd_error is not None]
        layers.append(LayerErrors(l, max(engine_errors, default=float("inf")), max(fd_errors, default=None)))
    return CheckResult(net, layers, witness)
