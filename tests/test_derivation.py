"""The derivation: every catalog step proved; wrong rules and wrong closed forms rejected."""

from __future__ import annotations

import dataclasses

import pytest
import sympy as sp

from derive import Network
from derive.engine.gradcheck import check_network
from derive.model import rules
from derive.model.catalog import CATALOG
from derive.model.network import SymbolicModel
from derive.proof.identities import activation_identities, loss_identities
from derive.proof.prover import atomize, numeric_witness, prove_equal, verify

x = sp.Symbol("x", real=True)


@pytest.mark.parametrize("name", sorted(CATALOG))
def test_catalog_network_is_proved_step_by_step(name: str) -> None:
    derivation = CATALOG[name].derive()
    summary = derivation.summary
    assert summary["steps"] >= 10
    assert summary["fails"] == 0
    assert derivation.all_proved, [(s.title, s.evidence) for s in derivation.steps if s.verdict != "proved"]
    layers = {s.layer for s in derivation.steps if s.kind == "instance"}
    assert layers == set(range(1, CATALOG[name].depth + 1)), "a ∂J/∂W step for every layer"
    assert all(s.latex and s.rule for s in derivation.steps)
    assert any(s.boxed for s in derivation.steps)


@pytest.mark.parametrize("act", list(rules.ACTIVATIONS.values()), ids=lambda a: a.name)
def test_every_activation_identity_is_proved_exactly(act: rules.Activation) -> None:
    for identity in activation_identities(act):
        result = verify(identity.pairs, identity.numeric_pairs)
        assert result.verdict == "proved", (identity.title, result.evidence)


@pytest.mark.parametrize("loss", list(rules.LOSSES.values()), ids=lambda loss: loss.name)
def test_every_loss_identity_is_proved_exactly(loss: rules.Loss) -> None:
    for identity in loss_identities(loss):
        result = verify(identity.pairs, identity.numeric_pairs)
        assert result.verdict == "proved", (identity.title, result.evidence)


def _patched_activation(monkeypatch: pytest.MonkeyPatch, name: str, **changes: object) -> None:
    wrong = dataclasses.replace(rules.ACTIVATIONS[name], **changes)
    monkeypatch.setitem(rules.ACTIVATIONS, name, wrong)


def test_wrong_sigmoid_derivative_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = rules.defun(  # σ with σ' = σ(1 + σ): its own textbook form, a wrong closed form
        "sigmoid_wrong", rules.sigmoid.textbook, lambda x, f: f * (1 + f), latex=r"\sigma\left({x}\right)",
        register=False,
    )
    _patched_activation(monkeypatch, "sigmoid", function=wrong)
    derivation = Network([2, 2, 1], loss="mse").derive()
    failing = {s.title for s in derivation.steps if s.verdict == "fails"}
    assert "sigmoid derivative" in failing
    assert "output error (sigmoid + mse), all sizes" in failing  # the lemma, for every n_L
    assert "δ recursion (sigmoid hidden layer), all sizes" in failing
    assert {"output error, layer 2", "error of layer 1 (δ recursion)"} <= failing  # the chain cites them
    assert not derivation.ok


def test_softmax_jacobian_with_plus_sign_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    _patched_activation(
        monkeypatch, "softmax", jacobian=lambda i, j, a_i, a_j: a_i * (sp.KroneckerDelta(i, j) + a_j)
    )
    (identity,) = activation_identities(rules.ACTIVATIONS["softmax"])
    assert verify(identity.pairs, identity.numeric_pairs).verdict == "fails"
    derivation = Network([2, 3], output="softmax", loss="cce").derive()
    failing = {s.title for s in derivation.steps if s.verdict == "fails"}
    assert "softmax Jacobian, n units" in failing and not derivation.ok


def test_bce_delta_with_extra_sigmoid_factor_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = dataclasses.replace(rules.LOSSES["bce"], delta=lambda a, y, gprime: (a - y) * gprime)
    monkeypatch.setitem(rules.LOSSES, "bce", wrong)
    derivation = Network([2, 2, 1], loss="bce").derive()
    failing = {s.title for s in derivation.steps if s.verdict == "fails"}
    assert {"output error (sigmoid + bce), all sizes", "output error, layer 2"} <= failing
    assert any(t.startswith("gradient of J") for t in failing)  # the instance cross-check disagrees too


def test_gradient_without_one_over_m_fails() -> None:
    model = SymbolicModel(Network([2, 2, 1], loss="mse"), m=2)
    w = model.W[2][0, 0]
    deltas = [(model.a[2][e][0] - model.y[e][0]) * model.a[2][e][0] * (1 - model.a[2][e][0]) for e in range(2)]
    summed = sum(d * model.a[1][e][0] for e, d in enumerate(deltas))
    assert verify([(sp.diff(model.J, w), summed / 2)]).verdict == "proved"
    result = verify([(sp.diff(model.J, w), summed)])
    assert result.verdict == "fails"
    assert "counterexample" in result.evidence


def test_regularized_bias_fails() -> None:
    model = SymbolicModel(Network([2, 1], loss="mse", l2=0.5), m=2)
    b = model.b[1][0]
    lhs = sp.diff(model.J, b)
    deltas = [(model.a[1][e][0] - model.y[e][0]) * model.a[1][e][0] * (1 - model.a[1][e][0]) for e in range(2)]
    assert verify([(lhs, sum(deltas) / 2)]).verdict == "proved"
    assert verify([(lhs, sum(deltas) / 2 + model.lam / 2 * b)]).verdict == "fails"


def test_exact_proof_is_not_fooled_by_shared_atoms() -> None:
    s = rules.sigmoid(x)
    assert prove_equal([(s * (1 - s), s - s**2)])[0]
    assert not prove_equal([(s * (1 - s), s + s**2)])[0]
    first, second = atomize([rules.sigmoid(2 * rules.sigmoid(x)), rules.sigmoid(x)])
    assert first != second and first.is_Symbol and second.is_Symbol


def test_timeout_falls_back_to_numeric_and_says_so() -> None:
    lhs = rules.sigmoid(x) * (1 - rules.sigmoid(x))
    rhs = sp.diff(1 / (1 + sp.exp(-x)), x)  # needs the textbook rewrite, never reached with no time
    result = verify([(lhs, rhs)], timeout=1e-6)
    assert result.verdict == "numeric"
    assert "numeric witness only" in result.evidence and "exceeded" in result.evidence


def test_numeric_witness_finds_counterexample() -> None:
    witness = numeric_witness([(sp.tanh(x) ** 2, 1 - sp.tanh(x))], points=3)
    assert not witness.agree and "x" in witness.counterexample_text


def test_relu_network_proved_with_step_derivative() -> None:
    derivation = Network([2, 2, 1], hidden="relu", output="identity", loss="mse").derive()
    assert derivation.all_proved


def test_deeper_mixed_network_is_proved() -> None:
    net = Network([2, 2, 2, 2], hidden=["tanh", "softplus"], output="sigmoid", loss="bce", l2=0.1)
    derivation = net.derive()
    assert derivation.all_proved, [(s.title, s.evidence) for s in derivation.steps if s.verdict != "proved"]
    assert sum(1 for s in derivation.steps if s.title.startswith("error of layer")) == 2


@pytest.mark.parametrize("hidden", [name for name, act in rules.ACTIVATIONS.items() if act.elementwise])
def test_every_hidden_activation_is_proved_step_by_step(hidden: str) -> None:
    derivation = Network([2, 2, 2], hidden=hidden, output="softmax", loss="cce").derive()
    assert derivation.all_proved, [(s.title, s.evidence) for s in derivation.steps if s.verdict != "proved"]


def test_a_rule_added_outside_the_registry_module_works_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new activation is a ``defun`` and a row, here in a test module: it is derived, proved,
    compiled and checked by finite differences with no other module taught about it."""
    cube = rules.defun(
        "cube_plus", lambda x: x**3 + x, lambda x, f: 3 * x**2 + 1, latex=r"\operatorname{cube}\left({x}\right)",
        register=False,
    )
    row = rules.Activation("cube_plus", cube, cube.textbook, r"\operatorname{cube}", "cube")
    monkeypatch.setitem(rules.ACTIVATIONS, "cube_plus", row)
    net = Network([2, 3, 2], hidden="cube_plus", output="sigmoid", loss="mse")
    derivation = net.derive()
    assert derivation.all_proved, [(s.title, s.evidence) for s in derivation.steps if s.verdict != "proved"]
    assert any(s.title == "cube_plus derivative" for s in derivation.steps)
    result = check_network(net)
    assert result.worst() < 1e-7
