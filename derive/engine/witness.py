"""One numeric gradient witness: the engine's gradient at the network's own sizes, against a
high-precision reference and against central finite differences.

The reference evaluates the network at one point (parameters, inputs, targets) in
**fixed-point integer arithmetic** with 2^-192 resolution (about 57 decimal digits after the
point): every product of a weight and an activation, and every sum over a layer, is exact in
Python integers (the float64 parameters are converted exactly). Each unit's function, the loss
and the closed-form derivatives are evaluated in **50-digit mpmath** from the registry's textbook
definitions. So the reference costs one exact integer multiply-add per weight and example — a
forward pass at the widths people train takes a second, not the hours 50-digit mpmath sums
would — and its numbers are the same bytes on every machine.

Three numbers per compared gradient entry:

* **reference** — the proved closed forms (δ^(L) from the loss row, δ^(l) = (W^(l+1)ᵀ δ^(l+1)) ⊙
  g'(z^(l)), ∂J/∂W^(l) = (1/m) Σ_e δ^(l) a^(l−1)ᵀ + (λ/m) W^(l)) at high precision;
* **engine** — ``net.compile().loss_and_grad`` in float64;
* **finite differences** — central differences of the cost J itself (forward passes only, the
  textbook functions) at high precision, for a sample of the entries.

Every entry is compared for small networks; for large ones a reproducible random sample of
each layer's weights and biases.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp
from mpmath.libmp import from_man_exp, to_fixed

from ..exprs import as_expr
from ..model import rules
from ..model.network import Network

__all__ = [
    "DIGITS",
    "EXAMPLES",
    "FRACTION_BITS",
    "SEED",
    "REFERENCE_METHOD",
    "Entry",
    "GradientWitness",
    "Reference",
    "WitnessRow",
    "gradient_witness",
    "sample_entries",
]

SEED = 20240601  # the default witness point; fixed so committed reports are stable
EXAMPLES = 3  # m at the witness point: enough to exercise the (1/m) Σ over examples
FRACTION_BITS = 192  # fixed point: integers scaled by 2^192
DIGITS = 50  # mpmath precision of the units' functions, the loss and the derivatives
FD_STEP_BITS = 60  # central differences with h = 2^-60: truncation ~h² ≈ 1e-36
ALL_ENTRIES = 400  # networks with at most this many gradient entries compare every one
SAMPLE_WEIGHTS, SAMPLE_BIASES = 96, 24  # per layer, for larger networks
FD_PER_LAYER = 4  # entries per layer checked by finite differences in a large network
AGREE = 1e-7  # relative error under which the engine (float64) and the references agree
FD_AGREE = 1e-20  # relative error under which the two high-precision columns agree
REFERENCE_METHOD = (
    f"fixed-point integers with 2^-{FRACTION_BITS} resolution for every weighted sum, "
    f"{DIGITS}-digit mpmath for the units' functions and the loss"
)


@dataclass(frozen=True)
class Entry:
    """One gradient entry: ∂J/∂W^(layer)_{j,k} (0-based j, k) or ∂J/∂b^(layer)_j."""

    layer: int  # 1-based
    is_bias: bool
    j: int
    k: int = 0


def all_entries(net: Network) -> list[Entry]:
    """Every gradient entry in parameter order: per layer W row-major, then b."""
    out = []
    for l, (n_in, n_out) in enumerate(zip(net.sizes, net.sizes[1:]), start=1):
        out += [Entry(l, False, j, k) for j in range(n_out) for k in range(n_in)]
        out += [Entry(l, True, j) for j in range(n_out)]
    return out


def sample_entries(net: Network, seed: int = 0) -> list[Entry]:
    """Every entry of a small network; otherwise a reproducible sample of each layer, in order."""
    if net.n_parameters <= ALL_ENTRIES:
        return all_entries(net)
    rng = np.random.default_rng(seed)
    out = []
    for l, (n_in, n_out) in enumerate(zip(net.sizes, net.sizes[1:]), start=1):
        weights = rng.choice(n_in * n_out, min(SAMPLE_WEIGHTS, n_in * n_out), replace=False)
        biases = rng.choice(n_out, min(SAMPLE_BIASES, n_out), replace=False)
        out += [Entry(l, False, int(w) // n_in, int(w) % n_in) for w in sorted(weights)]
        out += [Entry(l, True, int(b)) for b in sorted(biases)]
    return out


# ------------------------------------------------------------------------------------------
# Fixed point.
# ------------------------------------------------------------------------------------------

S = FRACTION_BITS


def fixed(values: np.ndarray) -> list[int]:
    """float64 values as exact integers scaled by 2^S (mantissa and exponent, no rounding)."""
    mantissa, exponent = np.frexp(np.asarray(values, dtype=np.float64))
    ints = (mantissa * 2.0**53).astype(np.int64).tolist()
    shifts = (exponent.astype(np.int64) + (S - 53)).tolist()
    return [m << s if s >= 0 else m >> -s for m, s in zip(ints, shifts)]


def to_mp(x: int) -> mpmath.mpf:
    return mpmath.mpf(from_man_exp(x, -S))


def from_mp(x: Any) -> int:
    return to_fixed(mpmath.mpf(x)._mpf_, S)


def _dot(row: Sequence[int], column: Sequence[int]) -> int:
    """Σ row·column of fixed-point numbers, exact, back to 2^S scale (floor)."""
    return sum(map(operator.mul, row, column)) >> S


# ------------------------------------------------------------------------------------------
# The reference network at one point.
# ------------------------------------------------------------------------------------------


def _lambdified(expr_of: Callable[..., sp.Expr], *names: str) -> Callable[..., Any]:
    """A registry formula evaluated in mpmath, its functions by their textbook definitions."""
    symbols = sp.symbols(names, real=True)
    return sp.lambdify(symbols, rules.textbook_form(as_expr(expr_of(*symbols))), "mpmath")


class Reference:
    """The network at (params, X, Y) in fixed point and 50-digit mpmath (see the module doc)."""

    def __init__(self, net: Network, params: Sequence[tuple[np.ndarray, np.ndarray]], X: np.ndarray,
                 Y: np.ndarray) -> None:
        self.net, self.L, self.m = net, net.depth, X.shape[0]
        self.params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
        self.X = [fixed(row) for row in np.asarray(X, np.float64)]
        self.Y = [[mpmath.mpf(float(v)) for v in row] for row in np.asarray(Y, np.float64)]
        self.biases = [fixed(b) for _, b in self.params]
        self.lam = mpmath.mpf(net.l2)
        loss = net.loss_rule
        self.unit_loss = _lambdified(lambda a, y: loss.per_example([a], [y]), "a", "y")
        self.delta_L = _lambdified(loss.delta, "a", "y", "gprime")
        self.g: list[Callable[[Any], Any] | None] = []
        self.gprime: list[Callable[[Any], Any]] = []
        for act in net.activations:
            self.g.append(act.mpmath if act.elementwise else None)
            self.gprime.append(_lambdified(lambda x, act=act: act.derivative(x, act.apply(x)), "x"))
        with mpmath.workdps(DIGITS):
            self.cache = self._forward_all()

    # ---- forward ---------------------------------------------------------------------------

    def activate(self, l: int, z: Sequence[int]) -> list[int]:
        """a^(l) = g_l(z^(l)) in fixed point (softmax shifted by its maximum: no overflow)."""
        g = self.g[l - 1]
        if g is not None:
            return [from_mp(g(to_mp(zi))) for zi in z]
        top = max(z)
        e = [mpmath.exp(to_mp(zi - top)) for zi in z]
        total = mpmath.fsum(e)
        return [from_mp(ei / total) for ei in e]

    def _forward_all(self) -> list[tuple[list[list[int]], list[list[int]]]]:
        """z and a of every layer and example: each weight row converted once for all examples."""
        zs: list[list[list[int]]] = [[[] for _ in range(self.L + 1)] for _ in range(self.m)]
        acts: list[list[list[int]]] = [[x] + [[] for _ in range(self.L)] for x in self.X]
        for l, (W, _) in enumerate(self.params, start=1):
            b = self.biases[l - 1]
            columns = [[] for _ in range(self.m)]
            for j, row in enumerate(W):
                row_fixed = fixed(row)
                for e in range(self.m):
                    columns[e].append(_dot(row_fixed, acts[e][l - 1]) + b[j])
            for e in range(self.m):
                zs[e][l] = columns[e]
                acts[e][l] = self.activate(l, columns[e])
        return [(zs[e], acts[e]) for e in range(self.m)]

    def forward_from(self, e: int, l: int, z_l: list[int], changed: int | None = None,
                     a_before: list[int] | None = None) -> list[int]:
        """The output of example ``e`` when layer ``l``'s pre-activation is ``z_l``. With
        ``changed`` (one unit of layer l, and l < L with an elementwise g), only that unit's
        change is carried into layer l + 1 instead of the whole product."""
        zs, acts = self.cache[e]
        a = self.activate(l, z_l) if changed is None else None
        for k in range(l + 1, self.L + 1):
            W, _ = self.params[k - 1]
            if changed is not None and k == l + 1:  # z^(k) += W[:, unit] Δa_unit
                new = from_mp(self.g[l - 1](to_mp(z_l[changed])))
                step = new - acts[l][changed]
                column = fixed(W[:, changed])
                z = [zk + ((wk * step) >> S) for zk, wk in zip(zs[k], column)]
            else:
                b = self.biases[k - 1]
                z = [_dot(fixed(row), a) + b[j] for j, row in enumerate(W)]
            a = self.activate(k, z)
        return a if a is not None else self.activate(l, z_l)

    def cost(self, outputs: Sequence[Sequence[int]], squares: Any) -> Any:
        """J from the outputs of every example and Σ‖W‖² (mpmath)."""
        total = mpmath.fsum(
            self.unit_loss(to_mp(ak), yk) for a, y in zip(outputs, self.Y) for ak, yk in zip(a, y)
        ) / self.m
        if self.net.l2:
            total += self.lam / (2 * self.m) * squares
        return total

    def squared_weights(self) -> Any:
        """Σ‖W^(l)‖² in mpmath (exact: float64 squares summed by math.fsum rounding once)."""
        return mpmath.fsum(mpmath.mpf(math.fsum((W * W).ravel().tolist())) for W, _ in self.params)

    # ---- backward (the closed forms) ---------------------------------------------------------

    def deltas(self) -> list[list[list[int]]]:
        """δ^(l) of each example (index by layer 1..L), from the loss row and the recursion."""
        out: list[list[list[int]]] = [[[] for _ in range(self.L + 1)] for _ in range(self.m)]
        gp_L = self.gprime[-1]
        for e, ((zs, acts), y) in enumerate(zip(self.cache, self.Y)):
            out[e][self.L] = [
                from_mp(self.delta_L(to_mp(a), yk, gp_L(to_mp(z)))) for a, yk, z in zip(acts[self.L], y, zs[self.L])
            ]
        for l in range(self.L - 1, 0, -1):
            W_next, _ = self.params[l]
            sums = [[] for _ in range(self.m)]
            for column in W_next.T:  # (W^(l+1))ᵀ δ^(l+1): one row of Wᵀ at a time
                column_fixed = fixed(column)
                for e in range(self.m):
                    sums[e].append(_dot(column_fixed, out[e][l + 1]))
            gp = self.gprime[l - 1]
            for e in range(self.m):
                z = self.cache[e][0][l]
                out[e][l] = [(s * from_mp(gp(to_mp(zi)))) >> S for s, zi in zip(sums[e], z)]
        return out

    def gradient(self, entries: Sequence[Entry], deltas: list[list[list[int]]]) -> list[Any]:
        """∂J/∂W_jk = (1/m) Σ_e δ_j a_k + (λ/m) W_jk, ∂J/∂b_j = (1/m) Σ_e δ_j (mpmath)."""
        out = []
        for en in entries:
            if en.is_bias:
                total = sum(deltas[e][en.layer][en.j] for e in range(self.m))
                out.append(to_mp(total) / self.m)
                continue
            total = sum(
                (deltas[e][en.layer][en.j] * self.cache[e][1][en.layer - 1][en.k]) >> S for e in range(self.m)
            )
            value = to_mp(total) / self.m
            if self.net.l2:
                value += self.lam / self.m * mpmath.mpf(float(self.params[en.layer - 1][0][en.j, en.k]))
            out.append(value)
        return out

    # ---- finite differences of the cost ------------------------------------------------------

    def perturbed_cost(self, en: Entry, h: Any) -> Any:
        """J with one parameter moved by ``h`` (an mpmath number); only what it feeds is recomputed."""
        W, _ = self.params[en.layer - 1]
        h_fixed = from_mp(h)
        outputs = []
        for e, (zs, acts) in enumerate(self.cache):
            z = list(zs[en.layer])
            z[en.j] += h_fixed if en.is_bias else (h_fixed * acts[en.layer - 1][en.k]) >> S
            incremental = en.layer < self.L and self.g[en.layer - 1] is not None
            outputs.append(self.forward_from(e, en.layer, z, en.j if incremental else None))
        squares = self.squares
        if not en.is_bias:
            w = mpmath.mpf(float(W[en.j, en.k]))
            squares = squares + (w + h) ** 2 - w**2
        return self.cost(outputs, squares)

    @property
    def squares(self) -> Any:
        if not hasattr(self, "_squares"):
            self._squares = self.squared_weights()
        return self._squares

    def central_difference(self, en: Entry) -> Any:
        h = mpmath.mpf(2) ** -FD_STEP_BITS
        return (self.perturbed_cost(en, h) - self.perturbed_cost(en, -h)) / (2 * h)


# ------------------------------------------------------------------------------------------
# The witness.
# ------------------------------------------------------------------------------------------


@dataclass
class WitnessRow:
    entry: Entry
    reference: Any  # mpmath
    engine: float | None
    finite_difference: Any | None  # mpmath, or None when the entry was not differenced
    engine_error: Any | None
    fd_error: Any | None
    ok: bool


@dataclass
class GradientWitness:
    """The gradient at one point three ways, at the network's own sizes."""

    rows: list[WitnessRow]
    total: int  # gradient entries of the network
    examples: int
    seed: int
    engine_available: bool
    engine_note: str
    reference: str = REFERENCE_METHOD
    max_engine_error: Any = 0
    max_fd_error: Any = 0
    fd_entries: int = 0
    ok: bool = True
    targets: str = ""
    params: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    @property
    def compared(self) -> int:
        return len(self.rows)

    @property
    def evidence(self) -> str:
        """The witness in one sentence (what a step or a report cites)."""
        sample = "every entry" if self.compared == self.total else f"{self.compared} sampled entries of {self.total}"
        engine = (
            f"engine (float64) within {float(self.max_engine_error):.0e}" if self.engine_available else self.engine_note
        )
        return (
            f"numeric witness at the network's own sizes, m = {self.examples}, {sample}: {engine} of a reference in "
            f"{self.reference}; central differences of J at {self.fd_entries} entries within "
            f"{float(self.max_fd_error):.0e}"
        )


def _relative(value: Any, reference: Any) -> Any:
    """|value − reference| / max(|reference|, 1e-8): the floor keeps zero gradients meaningful."""
    return abs(mpmath.mpf(value) - reference) / max(abs(reference), mpmath.mpf("1e-8"))


def _fd_sample(entries: list[Entry], net: Network) -> list[Entry]:
    if net.n_parameters <= ALL_ENTRIES:
        return entries
    out: list[Entry] = []
    for l in range(1, net.depth + 1):
        layer = [en for en in entries if en.layer == l]
        weights = [en for en in layer if not en.is_bias]
        biases = [en for en in layer if en.is_bias]
        out += weights[: FD_PER_LAYER - 1] + biases[:1]
    return out


def gradient_witness(
    net: Network,
    params: list[tuple[np.ndarray, np.ndarray]],
    X: np.ndarray,
    Y: np.ndarray,
    engine: Any = None,
    engine_note: str = "",
    seed: int = 0,
) -> GradientWitness:
    """Compare the engine's gradient at (params, X, Y) with the high-precision reference and with
    central differences (see the module doc); ``engine`` None: the reference and differences only."""
    entries = sample_entries(net, seed)
    engine_grads, engine_note = _engine_gradient(engine, params, X, Y, engine_note)
    with mpmath.workdps(DIGITS):
        ref = Reference(net, params, X, Y)
        reference = ref.gradient(entries, ref.deltas())
        differenced = set(_fd_sample(entries, net))
        rows, max_e, max_f, ok = [], mpmath.mpf(0), mpmath.mpf(0), True
        for en, value in zip(entries, reference):
            fd = err_f = eng = err_e = None
            if en in differenced:
                fd = ref.central_difference(en)
                err_f = _relative(fd, value)
                max_f = max(max_f, err_f)
            if engine_grads is not None:
                gW, gb = engine_grads[en.layer - 1]
                eng = float(gb[en.j] if en.is_bias else gW[en.j, en.k])
                err_e = _relative(eng, value) if math.isfinite(eng) else mpmath.inf
                max_e = max(max_e, err_e)
            row_ok = (err_f is None or err_f < FD_AGREE) and (err_e is None or err_e < AGREE)
            ok &= row_ok
            rows.append(WitnessRow(en, value, eng, fd, err_e, err_f, row_ok))
    available = engine_grads is not None
    if engine is not None and not available and not engine_note:
        engine_note = "engine not available"
    ok &= engine_note.startswith("engine not available") or available
    return GradientWitness(
        rows, net.n_parameters, X.shape[0], seed, available, engine_note,
        max_engine_error=max_e, max_fd_error=max_f, fd_entries=len(differenced), ok=ok,
        targets=net.loss_rule.targets_text, params=params,
    )


def _engine_gradient(engine: Any, params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, Y: np.ndarray,
                     note: str) -> tuple[list[tuple[np.ndarray, np.ndarray]] | None, str]:
    """The engine's gradient at the point, or None and what went wrong."""
    if engine is None:
        return None, note or "engine not available"
    try:
        _, grads = engine.loss_and_grad([(W.copy(), b.copy()) for W, b in params], X.copy(), Y.copy())
        return [(np.asarray(gW, float), np.asarray(gb, float).reshape(-1)) for gW, gb in grads], ""
    except NotImplementedError as err:
        return None, f"engine not available ({type(err).__name__}: {err})"
    except Exception as err:  # a broken engine is a finding of the witness, not a crash of it
        return None, f"engine failed: {type(err).__name__}: {err}"


Params = list[tuple[np.ndarray, np.ndarray]]


def witness_point(net: Network, seed: int, m: int) -> tuple[Params, np.ndarray, np.ndarray]:
    """Parameters, inputs and targets at a reproducible point (2 decimals, so easy to retype)."""
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(net.sizes, net.sizes[1:]):
        scale = 1.0 if n_in <= 16 else 1.0 / math.sqrt(n_in)  # wide layers: pre-activations of order 1
        W = np.round(rng.normal(0.0, scale, (n_out, n_in)), 2 if n_in <= 16 else 4)
        b = np.round(rng.normal(0.0, 0.5, n_out), 2)
        params.append((W, b))
    X = np.round(rng.normal(0.0, 1.0, (m, net.sizes[0])), 2)
    Y = net.loss_rule.targets(rng, m, net.sizes[-1], True)
    return params, X, Y
