"""The code generator: what it emits, how it reads the registry, and the buffered twin."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import types

import numpy as np
import pytest
import sympy as sp

from derive import Network
from derive.engine.codegen import (
    ArrayPrinter,
    CodegenError,
    RowSum,
    Total,
    _in_place_form,
    generate_source,
    vectorize,
)
from derive.engine.compiled import array_namespace, compile_network
from derive.errors import InputError
from derive.model import rules

HIDDEN = [name for name, rule in rules.ACTIVATIONS.items() if rule.elementwise]
PAIRS = [(out, name) for name, rule in rules.LOSSES.items() for out in rule.output_names]


def _problem(net: Network, m: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [(rng.standard_normal((o, i)), rng.standard_normal(o)) for i, o in zip(net.sizes, net.sizes[1:])]
    X = rng.standard_normal((m, net.sizes[0]))
    Y = rng.random((m, net.sizes[-1]))
    if net.loss == "cce":
        Y /= Y.sum(1, keepdims=True)
    return params, X, Y


def _assignments(source: str, function: str) -> list[str]:
    body = source.split(f"def {function}(")[1].split("\ndef ")[0]
    return [line.strip().split(" = ")[0] for line in body.splitlines() if " = " in line and "#" not in line]


def test_one_line_per_intermediate_in_backprop_order() -> None:
    net = Network([2, 4, 3, 2], hidden=["sigmoid", "tanh"], output="softmax", loss="cce", l2=0.1)
    targets = _assignments(generate_source(net).source, "loss_and_grad")
    expected = ["Z1", "A1", "Z2", "A2", "Z3", "M3", "S3", "A3", "J", "D3", "gW3", "gb3", "P2", "D2", "gW2", "gb2",
                "P1", "D1", "gW1", "gb1"]  # fmt: skip
    positions = [targets.index(name) for name in expected]
    assert positions == sorted(positions), targets


def test_matrix_products_are_explicit_lines_with_transposes() -> None:
    source = generate_source(Network([3, 4, 2], hidden="tanh", output="sigmoid", loss="bce")).source
    plain = source.split("def loss_and_grad(")[1].split("\ndef ")[0]
    for line in ("Z1 = X @ W1.T", "Z2 = A1 @ W2.T", "gW2 = D2.T @ A1", "P1 = D2 @ W2", "gW1 = D1.T @ X"):
        assert line in plain
    buffered = source.split("def loss_and_grad_into(")[1]
    assert "mm_m_4(X, W1.T, out=Z1)" in buffered and "gW1 = xp.dot(D1.T, X)" in buffered


def test_large_products_skip_the_zero_fill_of_np_dot() -> None:
    """xp.dot zero-fills its output first; outputs above DOT_MAX_ENTRIES go to xp.matmul."""
    net = Network([784, 128, 10], hidden="sigmoid", output="softmax", loss="cce")
    source = generate_source(net).source
    body = source.split("def loss_and_grad_into(")[1]
    assert "gW1 = xp.matmul(D1.T, X)" in body and "gW2 = xp.dot(D2.T, A1)" in body  # 128·784 and 10·128
    scope: dict[str, object] = {"xp": array_namespace()}
    exec(compile(source, "<generated>", "exec"), scope)  # noqa: S102 - our generated code
    names = source.split("def workspace(")[1].split("return ")[1].split("\n")[0].rstrip(",").split(", ")
    for m, big in ((8, np.dot), (256, np.matmul)):  # m·128 entries: 1024 and 32768
        ws = dict(zip(names, scope["workspace"](np.zeros((m, 784)), np.float64), strict=True))
        assert ws["mm_m_128"] is big and ws["mm_m_10"] is np.dot


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_source_is_array_code_only(hidden: str, output: str, loss: str) -> None:
    generated = generate_source(Network([2, 3, 2], hidden=hidden, output=output, loss=loss, l2=0.5))
    assert "sympy" not in generated.source.lower() and "import" not in generated.source
    compile(generated.source, "<generated>", "exec")
    scope: dict[str, object] = {"xp": np}
    exec(compile(generated.source, "<generated>", "exec"), scope)  # noqa: S102 - our generated code
    assert {"forward", "loss_and_grad", "workspace", "loss_and_grad_into"} <= set(scope)
    assert generated.namespace_functions <= set(dir(array_namespace(np)))  # NumPy, plus SciPy's erf


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("sizes", [[3, 5, 4, 2], [4, 4, 4, 4]], ids=["widths-differ", "widths-equal"])
def test_buffered_and_plain_functions_agree(sizes: list[int], hidden: str, output: str, loss: str) -> None:
    """Also with equal widths, where intermediates whose lives do not overlap share buffers."""
    net = Network(sizes, hidden=hidden, output=output, loss=loss, l2=0.2)
    params, X, Y = _problem(net)
    J1, g1 = compile_network(net).loss_and_grad(params, X, Y)
    J2, g2 = compile_network(net, buffered=False).loss_and_grad(params, X, Y)
    assert abs(J1 - J2) <= 1e-14 * abs(J2)
    # the two may evaluate a rule by different exact forms (σ by e^{-z} or by tanh): rounding
    # differs, relative to the layer's gradient, not to each (possibly cancelling) entry
    for (a, b), (c, d) in zip(g1, g2, strict=True):
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-13 * np.abs(c).max())
        np.testing.assert_allclose(b, d, rtol=1e-13, atol=1e-13 * np.abs(d).max())


def test_intermediates_share_buffers_only_when_their_lives_do_not_overlap() -> None:
    source = generate_source(Network([4, 8, 8, 3], hidden="sigmoid", output="softmax", loss="cce")).source
    workspace = source.split("def workspace(")[1].split("\ndef ")[0]
    assert "Z1 = Z2 = P2 = P1 = buf0" in workspace  # Z1 dies in sigmoid 1, Z2 in sigmoid 2, …
    assert "    A1 = buf1\n" in workspace  # read until the last line: shares with nothing
    assert "A2 = D1 = buf" in workspace  # A2 is last read by the δ² line, D1 written after it


def test_source_is_the_same_on_every_run() -> None:
    """Reports embed the source, so it must not depend on string hashing (PYTHONHASHSEED)."""
    code = (
        "from derive import Network; from derive.engine.codegen import generate_source; "
        "print(generate_source(Network([3, 5, 5, 5, 2], hidden=['relu', 'tanh', 'sigmoid'], "
        "output='softmax', loss='cce', l2=0.1)).source)"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2", "3")
    }  # fmt: skip
    assert len(outputs) == 1


def test_returned_gradients_are_fresh_arrays() -> None:
    net = Network([3, 4, 2], hidden="sigmoid", output="softmax", loss="cce")
    engine = net.compile()
    params, X, Y = _problem(net)
    J1, g1 = engine.loss_and_grad(params, X, Y)
    kept = [(a.copy(), b.copy()) for a, b in g1]
    J2, g2 = engine.loss_and_grad(params, X * 2, Y)
    assert J1 != J2
    for (a, b), (c, d) in zip(g1, kept, strict=True):  # the second call did not overwrite the first
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_workspaces_are_per_thread_and_per_shape() -> None:
    net = Network([3, 6, 2], hidden="tanh", output="sigmoid", loss="mse")
    engine = net.compile()
    problems = [_problem(net, m=m, seed=m) for m in (5, 7, 5, 9)]
    expected = [compile_network(net).loss_and_grad(*p) for p in problems]  # one thread, own engine
    errors: list[str] = []

    def work(k: int) -> None:
        for _ in range(200):
            J, grads = engine.loss_and_grad(*problems[k])
            if J != expected[k][0] or not np.array_equal(grads[0][0], expected[k][1][0][0]):
                errors.append(f"thread {k}")
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(problems))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_mixed_dtypes_follow_numpy_promotion() -> None:
    net = Network([3, 4, 2], hidden="relu", output="sigmoid", loss="bce")
    params, X, Y = _problem(net)
    J, grads = net.compile().loss_and_grad(params, X.astype(np.float32), Y)
    assert grads[0][0].dtype == np.float64 and np.isfinite(J)


def test_namespace_without_a_function_is_refused() -> None:
    engine = Network([2, 3, 1], hidden="tanh", output="sigmoid", loss="bce").compile()
    incomplete = types.SimpleNamespace(__name__="tiny", sum=np.sum)
    with pytest.raises(InputError, match="lacks"):
        engine.loss_and_grad(engine.init_params(0), np.zeros((2, 2)), np.zeros((2, 1)), xp=incomplete)


# ---- reading the registry ------------------------------------------------------------------


def test_vectorize_turns_sums_over_units_into_row_sums() -> None:
    Z, Y = sp.Symbol("Z", real=True), sp.Symbol("Y", real=True)
    z = [sp.Symbol(f"z{k}", real=True) for k in range(3)]
    y = [sp.Symbol(f"y{k}", real=True) for k in range(3)]
    columns = {**{s: (k, Z) for k, s in enumerate(z)}, **{s: (k, Y) for k, s in enumerate(y)}}
    cce = rules.LOSSES["cce"].logits_form(z, y)
    assert vectorize(cce, columns, unit=None) == sp.log(RowSum(sp.exp(Z))) - RowSum(Y * Z)
    softmax_0 = rules.softmax(z)[0]
    assert vectorize(softmax_0, columns, unit=0) == sp.exp(Z) / RowSum(sp.exp(Z))
    with pytest.raises(CodegenError, match="not summed over every unit"):
        vectorize(z[0] + z[1], columns, unit=None)


def test_softmax_and_cross_entropy_are_shifted_by_the_row_maximum() -> None:
    source = generate_source(Network([2, 3], output="softmax", loss="cce")).source
    plain = source.split("def loss_and_grad(")[1].split("\ndef ")[0]
    assert "M1 = xp.max(Z1, axis=1, keepdims=True)" in plain and "S1 = Z1 - M1" in plain
    assert "xp.exp(S1)" in plain and "xp.exp(Z1)" not in plain
    assert "M1 + xp.log(" in plain  # log Σ e^z = M + log Σ e^(z−M)


def test_bce_uses_the_logits_form() -> None:
    source = generate_source(Network([2, 1], output="sigmoid", loss="bce")).source
    assert "xp.logaddexp(0, Z1) - Y*Z1" in source and "xp.log(" not in source


def test_common_subexpressions_are_computed_once() -> None:
    source = generate_source(Network([2, 2], output="identity", loss="sq")).source
    plain = source.split("def loss_and_grad(")[1].split("\ndef ")[0]
    assert plain.count("A1 - Y") == 1  # shared by the cost and δ


STABLE = sorted(name for name, cls in rules.FUNCTIONS.items() if getattr(cls, "stable", None) is not None)


@pytest.mark.parametrize("name", STABLE)
def test_printed_form_is_the_textbook_function_and_never_overflows(name: str) -> None:
    """What the engine prints for a registry function (its overflow-free form) is the textbook
    function: equal in float64 where the textbook form can be evaluated, finite out to ±800."""
    x = sp.Symbol("x", real=True)
    cls = rules.FUNCTIONS[name]
    printed = ArrayPrinter().doprint(cls(x))
    namespace = {"xp": array_namespace(np)}
    f_printed = eval(compile(f"lambda x: {printed}", "<printed>", "eval"), namespace)  # noqa: S307 - ours
    textbook = sp.lambdify(x, cls.textbook(x), modules=["scipy", "numpy"])
    inside = np.linspace(-30, 30, 601)
    # σ(x) = ½ + ½ tanh(x/2) is exact to ~1e-16 absolute (not relative, far in the tail): scaled by |x|
    error = np.abs(f_printed(inside) - textbook(inside))
    assert np.all(error <= 1e-13 * np.abs(textbook(inside)) + 1e-15 * np.maximum(1, np.abs(inside)))
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        assert np.all(np.isfinite(f_printed(np.linspace(-800, 800, 2001))))


def test_total_pulls_out_numbers() -> None:
    A = sp.Symbol("A", real=True)
    assert Total(A**2 / 2) == Total(A**2) / 2
    assert ArrayPrinter().doprint(Total(A)) == "xp.sum(A, axis=None)"


# ---- the buffered twin: in-place forms and passes over memory --------------------------------


def _buffered_body(net: Network) -> str:
    return generate_source(net).source.split("def loss_and_grad_into(")[1]


# σ written as e^x/(1 + e^x): ∞/∞ when e^x overflows
_logistic_ratio = rules.defun(
    "logistic_ratio", lambda x: sp.exp(x) / (1 + sp.exp(x)), lambda x, f: f * (1 - f), latex="s({x})", register=False
)


def test_in_place_forms_take_e_to_the_u_only_where_its_overflow_is_harmless() -> None:
    form, x, overflows = _in_place_form(rules.sigmoid)
    assert form == 1 / (1 + sp.exp(-x)) and overflows  # 1/(1 + ∞) = 0: σ's underflow
    assert _in_place_form(rules.softplus) is None  # log(1 + ∞) = ∞: logaddexp stays
    assert _in_place_form(rules.relu) is None  # no exp form: a direct call
    assert _in_place_form(_logistic_ratio) is None  # ∞/∞ would be NaN


def test_sigmoid_layer_is_one_exp_with_the_bias_inside_and_overflow_ignored_on_that_line_only() -> None:
    body = _buffered_body(Network([3, 4, 2], hidden="sigmoid", output="softmax", loss="cce"))
    lines = [line.strip() for line in body.splitlines()]
    i = lines.index('with xp.errstate(over="ignore"):  # e^u = inf gives the limit (sigmoid: 0, its underflow)')
    assert lines[i + 1] == (
        "xp.divide(k1, xp.add(xp.exp(xp.subtract(xp.negative(b1, out=sv4_0), Z1, out=A1), out=A1), k1, out=A1), out=A1)"
    )  # −(Z1 + b1) in one pass over the array: the bias vector is negated, not the product
    assert "Z1 += b1" not in body and "Z2 += b2" in body  # the softmax layer reads Z2 again
    assert "tanh" not in body and body.count("xp.errstate") == 1


def test_bias_stays_a_pass_of_its_own_when_the_derivative_reads_z() -> None:
    body = _buffered_body(Network([3, 4, 2], hidden="relu", output="sigmoid", loss="bce"))
    assert "Z1 += b1" in body  # step(Z1) in the backward pass needs z itself
