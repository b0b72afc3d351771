"""``network:`` presets: the standard definitions of three notations, written for the notes.

* ``ng`` (Coursera): Θ^{(l)} with the bias in column 0, a^{(1)} = x, z^{(l+1)} = Θ^{(l)}[1; a^{(l)}],
  h_Θ(x) = a^{(L)}, J(Θ) averaged over m examples x^{(i)}, δ^{(l)}, Δ^{(l)}, D^{(l)};
* ``3b1b``: w^{(l)}, b^{(l)}, z^{(l)}, a^{(l)} (a^{(0)} the input), C_0 and C;
* ``mazur``: i_1.., net_{h1}, out_{h1}, net_{o1}, out_{o1}, w_1.. row by row, b_1, b_2,
  target_{o1}, E_{o1}, E_{total}.

Each preset only adds definitions to an ``Env`` through ``Env.define``, so derivatives along the
graph (``∂E_{total}/∂out_{o1}``) work exactly as for the user's own definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..model import rules
from .meaning import DefSymbol, Env, apply_function, differentiate, is_matrix

__all__ = ["NetworkSpec", "PresetError", "build_preset", "PRESETS", "MAX_UNITS"]

PRESETS = ("ng", "3b1b", "mazur")
MAX_UNITS = 12  # units per layer a preset writes out symbol by symbol
MAX_LAYERS = 8


class PresetError(ValueError):
    """A ``network:`` that cannot be built (the loader reports it with its line)."""


@dataclass(frozen=True)
class NetworkSpec:
    notation: str
    layers: tuple[int, ...]
    hidden: str = "sigmoid"
    output: str = "sigmoid"
    loss: str = "mse"
    l2: sp.Expr | None = None  # None: no L2 term


def _act(name: str, z: sp.ImmutableMatrix) -> sp.ImmutableMatrix:
    """g(z) for a column z (softmax couples the entries; the others act entry by entry)."""
    vector = rules.activation(name).vector
    if vector is not None:
        return sp.ImmutableMatrix(vector(list(z)))
    return sp.ImmutableMatrix(z.applyfunc(lambda v: apply_function(name, [v])))


def _vec(v: object) -> sp.ImmutableMatrix:
    if is_matrix(v):
        return sp.ImmutableMatrix(v)
    return sp.ImmutableMatrix([[v]])


def _loss(spec: NetworkSpec, a: list[sp.Expr], y: list[sp.Expr]) -> sp.Expr:
    return rules.loss(spec.loss).per_example(a, y)


def _placeholders(entry_value: object) -> frozenset:
    items = list(entry_value) if is_matrix(entry_value) else [entry_value]  # type: ignore[arg-type]
    return frozenset(s for s in items if isinstance(s, DefSymbol))


def build_preset(env: Env, spec: NetworkSpec, m: int = 1) -> None:
    """Add the preset's definitions to ``env`` (inputs first, then the forward pass and cost)."""
    if spec.notation not in PRESETS:
        raise PresetError(f"unknown notation {spec.notation!r}; choose one of {', '.join(PRESETS)}")
    if len(spec.layers) < 2 or len(spec.layers) > MAX_LAYERS:
        raise PresetError(f"layers must list 2 to {MAX_LAYERS} layer sizes")
    for s in spec.layers:
        if isinstance(s, bool) or not isinstance(s, int) or s < 1 or s > MAX_UNITS:
            raise PresetError(f"layer size {s!r} is impossible here: sizes are whole numbers from 1 to {MAX_UNITS}")
    try:
        rules.activation(spec.hidden)
        rules.activation(spec.output)
        rules.loss(spec.loss)
    except ValueError as err:
        raise PresetError(str(err)) from None
    if not rules.activation(spec.hidden).elementwise:
        raise PresetError(f"{spec.hidden} is only an output activation")
    {"ng": _ng, "3b1b": _threeblue, "mazur": _mazur}[spec.notation](env, spec, m)
    env.loss_info = {"spec": spec, "m": m}


# ----------------------------------------------------------------------------------------------


def _ng(env: Env, spec: NetworkSpec, m: int) -> None:
    s = spec.layers
    L = len(s)
    env.constants.update({"L": L, "K": s[-1]})
    for l in range(1, L + 1):
        env.constants[f"s_{l}"] = s[l - 1]
        env.define(f"s_{{{l}}}", sp.Integer(s[l - 1]))
    env.define("K", sp.Integer(s[-1]))
    env.define("L", sp.Integer(L))
    env.functions.setdefault("g", spec.hidden)
    lam = spec.l2 if spec.l2 is not None else sp.S.Zero
    theta = {l: env.add_input(f"\\Theta^{{({l})}}", (s[l], s[l - 1] + 1), row0=1, col0=0).value for l in range(1, L)}
    acts = [spec.hidden] * (L - 2) + [spec.output]

    def example(tag: str) -> tuple[dict, dict, object, object, sp.Expr]:
        """The forward pass of one example; tag '' for x, y and '(e)' for x^{(e)}, y^{(e)}."""
        # a^{(1)} = x and a^{(1)}_0 = 1: the bias input x_0 = 1
        x = env.add_input(f"x{tag and '^{' + tag + '}'}", (s[0], 1), zero=sp.S.One).value
        y = env.add_input(f"y{tag and '^{' + tag + '}'}", (s[-1], 1)).value
        a: dict[int, object] = {}
        z: dict[int, object] = {}
        pre = tag
        a[1] = env.define(f"a^{{{pre}(1)}}", x, zero=sp.S.One).value
        for l in range(1, L):
            with_bias = sp.Matrix.vstack(sp.ImmutableMatrix([[1]]), _vec(a[l]))
            z[l + 1] = env.define(f"z^{{{pre}({l + 1})}}", sp.ImmutableMatrix(theta[l] * with_bias)).value
            a[l + 1] = env.define(f"a^{{{pre}({l + 1})}}", _act(acts[l - 1], _vec(z[l + 1])), zero=sp.S.One).value
        loss = _loss(spec, list(_vec(a[L])), list(_vec(y)))
        return a, z, x, y, loss

    a, z, x, y, loss1 = example("")
    env.define("h_{\\Theta}", a[L], params=("x",), param_values=(x,))
    one = env.define("\\ell", loss1).value  # the loss of one example (internal name)
    per_example = [(a, z, x, y, one)]
    for e in range(2, m + 1):
        ae, ze, xe, ye, lossE = example(f"({e})")
        per_example.append((ae, ze, xe, ye, env.define(f"\\ell^{{({e})}}", lossE).value))
    # example 1 is the one-example chain: x^{(1)} = x, a^{(1)(l)} = a^{(l)}
    env.aliases["x^{(1)}"] = "x"
    env.aliases["y^{(1)}"] = "y"
    for l in range(1, L + 1):
        env.aliases[f"a^{{(1)({l})}}"] = f"a^{{({l})}}"
        if l > 1:
            env.aliases[f"z^{{(1)({l})}}"] = f"z^{{({l})}}"
            env.aliases[f"\\delta^{{(1)({l})}}"] = f"\\delta^{{({l})}}"
    reg = sp.S.Zero
    for l in range(1, L):
        th = theta[l]
        reg += sum((th[i, j] ** 2 for i in range(th.shape[0]) for j in range(1, th.shape[1])), sp.S.Zero)
    J = sum((p[4] for p in per_example), sp.S.Zero) / m + lam / (2 * m) * reg
    env.define("J", J)
    # δ^{(l)} of each example: ∂(its loss)/∂z^{(l)} along the graph
    deltas: list[dict[int, object]] = []
    for idx, (_ae, ze, _xe, _ye, lossv) in enumerate(per_example):
        tag = "" if idx == 0 else f"({idx + 1})"
        d: dict[int, object] = {}
        for l in range(2, L + 1):
            X = ze[l]
            F = env.expand(lossv, _placeholders(X))
            d[l] = env.define(f"\\delta^{{{tag}({l})}}", differentiate(F, X)).value
        deltas.append(d)
    for l in range(1, L):
        acc = sp.zeros(s[l], s[l - 1] + 1)
        for (ae, *_rest), d in zip(per_example, deltas, strict=False):
            with_bias = sp.Matrix.vstack(sp.ImmutableMatrix([[1]]), _vec(ae[l]))
            acc += _vec(d[l + 1]) * with_bias.T
        Delta = env.define(f"\\Delta^{{({l})}}", sp.ImmutableMatrix(acc), row0=1, col0=0).value
        th = theta[l]
        reg_m = sp.ImmutableMatrix(th.shape[0], th.shape[1], lambda i, j, th=th: 0 if j == 0 else th[i, j])
        env.define(f"D^{{({l})}}", sp.ImmutableMatrix(_vec(Delta) / m + lam / m * reg_m), row0=1, col0=0)


def _threeblue(env: Env, spec: NetworkSpec, m: int) -> None:
    s = spec.layers
    L = len(s) - 1
    env.constants["L"] = L
    env.functions.setdefault("\\sigma", spec.hidden)
    acts = [spec.hidden] * (L - 1) + [spec.output]
    a_prev = env.add_input("a^{(0)}", (s[0], 1)).value
    for l in range(1, L + 1):
        w = env.add_input(f"w^{{({l})}}", (s[l], s[l - 1])).value
        b = env.add_input(f"b^{{({l})}}", (s[l], 1)).value
        z = env.define(f"z^{{({l})}}", _vec(w) * _vec(a_prev) + _vec(b)).value
        a_prev = env.define(f"a^{{({l})}}", _act(acts[l - 1], _vec(z))).value
    y = env.add_input("y", (s[-1], 1)).value
    C0 = env.define("C_{0}", _loss(spec, list(_vec(a_prev)), list(_vec(y)))).value
    env.aliases["C_{o}"] = "C_{0}"
    env.define("C", C0)


def _mazur(env: Env, spec: NetworkSpec, m: int) -> None:
    s = spec.layers
    if len(s) != 3:
        raise PresetError("the mazur preset names one hidden layer (h1, h2, ...): give three layer sizes")
    n_in, n_h, n_out = s
    inputs = [env.add_input(f"i_{{{k}}}").value for k in range(1, n_in + 1)]
    w = [env.add_input(f"w_{{{k}}}").value for k in range(1, n_in * n_h + n_h * n_out + 1)]
    b1 = env.add_input("b_{1}").value
    b2 = env.add_input("b_{2}").value
    hidden_out = []
    for j in range(1, n_h + 1):
        net = sum((w[(j - 1) * n_in + k] * inputs[k] for k in range(n_in)), sp.S.Zero) + b1
        net_s = env.define(f"net_{{h{j}}}", net).value
        hidden_out.append(env.define(f"out_{{h{j}}}", apply_function(spec.hidden, [net_s])).value)
    base = n_in * n_h
    E_terms = []
    for j in range(1, n_out + 1):
        net = sum((w[base + (j - 1) * n_h + k] * hidden_out[k] for k in range(n_h)), sp.S.Zero) + b2
        net_s = env.define(f"net_{{o{j}}}", net).value
        env.define(f"out_{{o{j}}}", apply_function(spec.output, [net_s]))
    outs = [env.entries[f"out_{{o{j}}}"].value for j in range(1, n_out + 1)]
    if not rules.activation(spec.output).elementwise:
        raise PresetError(f"the mazur preset has one output per unit; {spec.output} is not supported")
    targets = [env.add_input(f"target_{{o{j}}}").value for j in range(1, n_out + 1)]
    for j in range(1, n_out + 1):
        E_terms.append(env.define(f"E_{{o{j}}}", _loss(spec, [outs[j - 1]], [targets[j - 1]])).value)
    env.define("E_{total}", sum(E_terms, sp.S.Zero))
