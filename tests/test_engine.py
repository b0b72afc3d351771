"""The compiled engine against independent oracles: PyTorch autograd, Mazur's worked example,
exact values at huge logits, and the dtype and array-namespace contracts.

The combinations are read from the registry, so a new activation or loss adds test rows (and
fails until the PyTorch oracle below learns it).
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest

from derive import Network
from derive.engine.compiled import compile_network
from derive.model import rules

HIDDEN = [name for name, rule in rules.ACTIVATIONS.items() if rule.elementwise]
PAIRS = [(out, name) for name, rule in rules.LOSSES.items() for out in rule.output_names]
COMBINATIONS = [(h, o, l, l2) for h in HIDDEN for o, l in PAIRS for l2 in (0.0, 0.1)]


def _targets(loss: str, m: int, n: int, rng: np.random.Generator) -> np.ndarray:
    if loss == "cce":  # rows of probabilities (the logits form holds when each row sums to 1)
        Y = rng.random((m, n)) + 0.1
        return Y / Y.sum(1, keepdims=True)
    if loss == "bce":
        return rng.random((m, n))
    return rng.standard_normal((m, n))


def _problem(net: Network, m: int = 5, seed: int = 0, dtype: type = np.float64):
    rng = np.random.default_rng(seed)
    params = [
        (rng.standard_normal((o, i)) * 0.7, rng.standard_normal(o) * 0.3)
        for i, o in zip(net.sizes, net.sizes[1:], strict=False)
    ]
    X = rng.standard_normal((m, net.sizes[0]))
    Y = _targets(net.loss, m, net.sizes[-1], rng)
    cast = [(W.astype(dtype), b.astype(dtype)) for W, b in params]
    return cast, X.astype(dtype), Y.astype(dtype)


# ---- PyTorch oracle ------------------------------------------------------------------------


def _torch_cost(net: Network, params, X, Y):
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle (test extra)")
    functional = torch.nn.functional
    special = {"identity": lambda z: z, "softmax": lambda z: torch.softmax(z, dim=1)}

    def act(name: str):  # the registry uses PyTorch's names (and defaults) for activations
        return special.get(name) or getattr(functional, name)

    losses = {
        "mse": lambda a, y: 0.5 * ((a - y) ** 2).sum(),
        "sq": lambda a, y: ((a - y) ** 2).sum(),
        "bce": lambda a, y: -(y * torch.log(a) + (1 - y) * torch.log(1 - a)).sum(),
        "cce": lambda a, y: -(y * torch.log(a)).sum(),
    }
    tparams = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    a = torch.tensor(X)
    for (W, b), name in zip(tparams, net.activation_names, strict=True):
        a = act(name)(a @ W.T + b)
    m = X.shape[0]
    J = losses[net.loss](a, torch.tensor(Y)) / m
    J = J + net.l2 / (2 * m) * sum((W**2).sum() for W, _ in tparams)
    J.backward()
    return J.item(), [(W.grad.numpy(), b.grad.numpy()) for W, b in tparams]


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _assert_matches_torch(net: Network, tol: float = 1e-12) -> None:
    params, X, Y = _problem(net)
    J, grads = net.compile().loss_and_grad(params, X, Y)
    J_ref, grads_ref = _torch_cost(net, params, X, Y)
    assert abs(J - J_ref) <= tol * abs(J_ref), (J, J_ref)
    for l, ((gW, gb), (rW, rb)) in enumerate(zip(grads, grads_ref, strict=True), start=1):
        assert gW.shape == rW.shape and gb.shape == rb.shape
        assert _rel(gW, rW) <= tol, f"layer {l} dJ/dW off by {_rel(gW, rW):.2e}"
        assert _rel(gb, rb) <= tol, f"layer {l} dJ/db off by {_rel(gb, rb):.2e}"


@pytest.mark.parametrize(("hidden", "output", "loss", "l2"), COMBINATIONS)
def test_matches_pytorch_autograd(hidden: str, output: str, loss: str, l2: float) -> None:
    _assert_matches_torch(Network([3, 4, 3], hidden=hidden, output=output, loss=loss, l2=l2))


@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("sizes", [[4, 2], [3, 5, 4, 3, 2]], ids=["no-hidden", "three-hidden"])
def test_matches_pytorch_at_any_depth(sizes: list[int], output: str, loss: str) -> None:
    hidden = [HIDDEN[i % len(HIDDEN)] for i in range(len(sizes) - 2)]  # mixed activations per layer
    _assert_matches_torch(Network(sizes, hidden=hidden, output=output, loss=loss, l2=0.05))


def test_bias_column_networks_use_the_same_engine() -> None:
    separate = Network([2, 3, 2], hidden="tanh", output="sigmoid", loss="mse")
    column = Network([2, 3, 2], hidden="tanh", output="sigmoid", loss="mse", bias="column")
    params, X, Y = _problem(separate)
    J1, g1 = separate.compile().loss_and_grad(params, X, Y)
    J2, g2 = column.compile().loss_and_grad(params, X, Y)
    assert J1 == J2
    for (a, b), (c, d) in zip(g1, g2, strict=True):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)
    _assert_matches_torch(column)


# ---- Mazur's worked example ----------------------------------------------------------------


def test_mazur_worked_example() -> None:
    net = Network([2, 2, 2], hidden="sigmoid", output="sigmoid", loss="mse")
    params = [
        (np.array([[0.15, 0.20], [0.25, 0.30]]), np.array([0.35, 0.35])),
        (np.array([[0.40, 0.45], [0.50, 0.55]]), np.array([0.60, 0.60])),
    ]
    X, Y = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
    J, grads = net.compile().loss_and_grad(params, X, Y)
    assert abs(J - 0.298371109) < 1e-8
    assert abs(grads[1][0][0, 0] - 0.082167041) < 1e-8  # ∂E/∂w5
    # one SGD step, learning rate 0.5, weights only (as in the post)
    W2 = params[1][0] - 0.5 * grads[1][0]
    W1 = params[0][0] - 0.5 * grads[0][0]
    np.testing.assert_allclose(W2, [[0.35891648, 0.40866619], [0.51130127, 0.56137012]], rtol=0, atol=1e-8)
    np.testing.assert_allclose(W1, [[0.14978072, 0.19956143], [0.24975114, 0.29950229]], rtol=0, atol=1e-8)


# ---- stability at huge pre-activations ------------------------------------------------------

mpmath.mp.dps = 50


def _exact_cost(output: str, loss: str, Z: np.ndarray, Y: np.ndarray) -> float:
    """The per-example textbook cost at the logits Z, in 50-digit arithmetic."""
    mp = mpmath.mp
    total = mp.mpf(0)
    for z_row, y_row in zip(Z.tolist(), Y.tolist(), strict=True):
        z = [mp.mpf(v) for v in z_row]
        y = [mp.mpf(v) for v in y_row]
        if output == "softmax":
            lse = mp.log(mp.fsum(mp.exp(v) for v in z))
            total += -mp.fsum(yk * (zk - lse) for zk, yk in zip(z, y, strict=True))
            continue
        g = rules.ACTIVATIONS[output].mpmath  # the textbook definition, in mpmath
        if loss == "bce":  # −[y log σ(z) + (1−y) log(1−σ(z))] = softplus(z) − y z
            total += mp.fsum(mp.log1p(mp.exp(zk)) - yk * zk for zk, yk in zip(z, y, strict=True))
        else:
            scale = mp.mpf(1) / 2 if loss == "mse" else mp.mpf(1)
            total += scale * mp.fsum((g(zk) - yk) ** 2 for zk, yk in zip(z, y, strict=True))
    return float(total / len(Z))


@pytest.mark.parametrize(("output", "loss"), PAIRS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_logits_are_exact_and_silent(output: str, loss: str, dtype: type) -> None:
    """Pre-activations at ±1000: no warning, no NaN or inf, and the cost is the exact one."""
    net = Network([2, 2], output=output, loss=loss)
    W = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    b = np.zeros(2, dtype=dtype)
    X = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [1000.0, 1000.0], [-1000.0, -999.0]], dtype=dtype)
    Y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    if loss in ("mse", "sq"):
        Y = Y * 0.5
    engine = net.compile()
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        J, [(gW, gb)] = engine.loss_and_grad([(W, b)], X, Y)
        A = engine.forward([(W, b)], X)
    for value in (J, gW, gb, A):
        assert np.all(np.isfinite(value))
        assert np.asarray(value).dtype == dtype
    exact = _exact_cost(output, loss, X.astype(np.float64), Y.astype(np.float64))
    assert abs(float(J) - exact) <= 1e-6 * abs(exact)


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "plain"])
def test_huge_hidden_pre_activations_are_silent(hidden: str, dtype: type, buffered: bool) -> None:
    net = Network([2, 2, 3], hidden=hidden, output="softmax", loss="cce", l2=0.1)
    params = [(np.eye(2), np.zeros(2)), (np.array([[1.0, -1.0], [-1.0, 1.0], [0.5, 0.5]]), np.zeros(3))]
    params = [(W.astype(dtype), b.astype(dtype)) for W, b in params]
    X = np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=dtype)
    Y = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        J, grads = compile_network(net, buffered=buffered).loss_and_grad(params, X, Y)
    assert np.isfinite(J)
    assert all(np.all(np.isfinite(g)) for pair in grads for g in pair)


def test_overflow_stays_reported_outside_the_sigmoid_line() -> None:
    """The sigmoid line ignores e^{-z} = inf (σ underflows to 0); other overflows still raise."""
    net = Network([2, 2, 2], hidden="sigmoid", output="softmax", loss="cce")
    params = [(np.eye(2), np.zeros(2)), (np.eye(2) * 1e308, np.full(2, 1e308))]  # z2 = W2 a1 + b2 > max
    X = np.array([[-1000.0, 2.0]])  # e^{1000} = inf in layer 1: ignored there
    with np.errstate(all="raise"), pytest.raises(FloatingPointError, match="overflow"):
        net.compile().loss_and_grad(params, X, np.array([[1.0, 0.0]]))


def test_sigmoid_keeps_its_relative_accuracy_far_below_zero() -> None:
    """σ(z) for z ≪ 0 is tiny: 1/(1 + e^{−z}) keeps every digit where (1 + tanh(z/2))/2 cancels."""
    net = Network([1, 1, 1], hidden="sigmoid", output="identity", loss="mse")
    z = np.array([-30.0, -300.0, -700.0])
    params = [(np.ones((1, 1)), np.zeros(1)), (np.ones((1, 1)), np.zeros(1))]
    X, Y = z[:, None], np.zeros((3, 1))
    J, [(gW1, gb1), _] = net.compile().loss_and_grad(params, X, Y)
    mp = mpmath.mp
    # J = (1/m) Σ ½σ(z)²; dJ/db1 = (1/m) Σ σ(z)·σ(z)(1 − σ(z))
    s = [1 / (1 + mp.exp(-mp.mpf(v))) for v in z]
    assert abs(float(J) - float(mp.fsum(x**2 for x in s) / 6)) <= 1e-13 * float(mp.fsum(x**2 for x in s) / 6)
    exact_gb = float(mp.fsum(x * x * (1 - x) for x in s) / 3)
    assert abs(gb1[0] - exact_gb) <= 1e-13 * exact_gb


# ---- dtype, shapes, source -----------------------------------------------------------------


@pytest.mark.parametrize(("output", "loss"), PAIRS)
def test_float32_in_float32_out(output: str, loss: str) -> None:
    net = Network([3, 4, 2], hidden="tanh", output=output, loss=loss, l2=0.1)
    engine = net.compile()
    p32, X32, Y32 = _problem(net, dtype=np.float32)
    J, grads = engine.loss_and_grad(p32, X32, Y32)
    assert np.asarray(J).dtype == np.float32
    assert all(g.dtype == np.float32 for pair in grads for g in pair)
    assert engine.forward(p32, X32).dtype == np.float32
    p64, X64, Y64 = _problem(net)
    J64, grads64 = engine.loss_and_grad(p64, X64, Y64)
    assert abs(float(J) - J64) <= 1e-5 * abs(J64)
    for (gW, gb), (rW, rb) in zip(grads, grads64, strict=True):
        assert _rel(gW.astype(np.float64), rW) < 1e-4 and _rel(gb.astype(np.float64), rb) < 1e-4


def test_generated_source_is_plain_array_code() -> None:
    for h in HIDDEN:
        for output, loss in PAIRS:
            engine = Network([2, 3, 2], hidden=h, output=output, loss=loss, l2=0.1).compile()
            assert "sympy" not in engine.source.lower()
            compile(engine.source, "<engine>", "exec")
            assert "def loss_and_grad(params, X, Y):" in engine.source
            assert "def forward(params, X):" in engine.source


def test_forward_predict_and_init_params() -> None:
    net = Network([4, 5, 3], hidden="relu", output="softmax", loss="cce")
    engine = net.compile()
    params = engine.init_params(np.random.default_rng(0))
    assert [(W.shape, b.shape) for W, b in params] == [((5, 4), (5,)), ((3, 5), (3,))]
    assert all(not b.any() for _, b in params)
    X = np.random.default_rng(1).standard_normal((7, 4))
    A = engine.forward(params, X)
    np.testing.assert_allclose(A.sum(1), 1.0, rtol=1e-14)
    np.testing.assert_array_equal(engine.predict(params, X), A.argmax(1))
    single = Network([2, 3, 1], output="sigmoid", loss="bce").compile()
    p1 = single.init_params(3)
    assert set(single.predict(p1, X[:, :2]).tolist()) <= {0, 1}
    assert engine.init_params(0, dtype=np.float32)[0][0].dtype == np.float32


def test_torch_tensors_run_the_same_code() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch array namespace (test extra)")
    net = Network([3, 4, 3], hidden="softplus", output="softmax", loss="cce", l2=0.1)
    relu_net = Network([3, 4, 1], hidden="relu", output="sigmoid", loss="bce")
    for n in (net, relu_net):
        params, X, Y = _problem(n)
        J, grads = n.compile().loss_and_grad(params, X, Y)
        tparams = [(torch.tensor(W), torch.tensor(b)) for W, b in params]
        for engine, kwargs in (
            (n.compile(), {}),
            (n.compile(), {"xp": torch}),
            (compile_network(n, xp=torch), {}),
        ):
            Jt, grads_t = engine.loss_and_grad(tparams, torch.tensor(X), torch.tensor(Y), **kwargs)
            assert isinstance(Jt, torch.Tensor) and Jt.dtype == torch.float64
            assert abs(Jt.item() - J) <= 1e-12 * abs(J)
            for (gW, gb), (tW, tb) in zip(grads, grads_t, strict=True):
                assert _rel(tW.numpy(), gW) < 1e-12 and _rel(tb.numpy(), gb) < 1e-12
        A = n.compile().forward(tparams, torch.tensor(X))
        np.testing.assert_allclose(A.numpy(), n.compile().forward(params, X), rtol=1e-12)
