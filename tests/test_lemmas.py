"""Lemmas for every size: every registry combination proved with symbolic widths and m, the
classic mistakes rejected with a counterexample at concrete sizes, and the instantiation agreeing
with the instance proof and with PyTorch at real sizes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy as sp

from derive import Network
from derive.engine.witness import gradient_witness, witness_point
from derive.model import rules
from derive.proof import lemmas

ELEMENTWISE = [act for act in rules.ACTIVATIONS.values() if act.elementwise]
PAIRS = [(rules.ACTIVATIONS[out], loss) for loss in rules.LOSSES.values() for out in loss.output_names
         if rules.ACTIVATIONS[out].elementwise]


def assert_proved_for_all_sizes(lemma: lemmas.Lemma) -> None:
    check = lemmas.verify_lemma(lemma)
    assert check.verdict == "proved", (lemma.title, check.evidence)
    assert lemma.sizes and all(s.is_integer and s.is_positive for s in lemma.sizes)
    assert all(isinstance(s, sp.Symbol) for s in lemma.sizes)  # symbolic, not an instance


def assert_rejected_at_concrete_sizes(lemma: lemmas.Lemma) -> str:
    check = lemmas.verify_lemma(lemma)
    assert check.verdict == "fails", (lemma.title, check.evidence)
    assert check.counterexample_sizes and check.evidence.startswith("counterexample at $n_")
    assert all(isinstance(v, int) for v in check.counterexample_sizes.values())
    return check.evidence


@pytest.mark.parametrize("lemma", [lemmas.preactivation, lemmas.example_gradient], ids=["preactivation", "example"])
def test_layer_lemmas_hold_for_every_size(lemma) -> None:
    assert_proved_for_all_sizes(lemma())


@pytest.mark.parametrize("act", ELEMENTWISE, ids=lambda a: a.name)
def test_delta_recursion_holds_for_every_size_and_any_loss(act: rules.Activation) -> None:
    lemma = lemmas.delta_recursion(act)
    assert_proved_for_all_sizes(lemma)
    assert lemma.pairs[0][0].has(lemmas.DELTA_NEXT)  # the loss downstream is arbitrary: δ^(l+1) free


@pytest.mark.parametrize(("act", "loss"), PAIRS, ids=lambda x: x.name)
def test_output_error_holds_for_every_output_width(act: rules.Activation, loss: rules.Loss) -> None:
    assert_proved_for_all_sizes(lemmas.output_error(act, loss))


@pytest.mark.parametrize("loss", list(rules.LOSSES.values()), ids=lambda x: x.name)
def test_loss_derivative_holds_for_every_output_width(loss: rules.Loss) -> None:
    assert_proved_for_all_sizes(lemmas.loss_derivative(loss))


@pytest.mark.parametrize("bias", ["separate", "column"])
@pytest.mark.parametrize("l2", [False, True])
def test_cost_gradient_holds_for_every_size_and_m(l2: bool, bias: str) -> None:
    lemma = lemmas.cost_gradient(l2, bias)
    assert lemmas.M in lemma.sizes
    assert_proved_for_all_sizes(lemma)


# ---- the classic mistakes, each rejected with a counterexample at concrete sizes ------------


def test_delta_recursion_with_w_instead_of_w_transpose_is_rejected() -> None:
    evidence = assert_rejected_at_concrete_sizes(lemmas.delta_recursion(rules.ACTIVATIONS["tanh"], transpose=False))
    assert "n_{l}" in evidence and "n_{l+1}" in evidence


@pytest.mark.parametrize("bias", ["separate", "column"])
def test_a_missing_one_over_m_is_rejected(bias: str) -> None:
    evidence = assert_rejected_at_concrete_sizes(lemmas.cost_gradient(True, bias, one_over_m=False))
    assert "m = " in evidence


@pytest.mark.parametrize("bias", ["separate", "column"])
def test_a_regularized_bias_is_rejected(bias: str) -> None:
    assert_rejected_at_concrete_sizes(lemmas.cost_gradient(True, bias, regularized_bias=True))


def test_sigmoid_derivative_with_plus_sign_is_rejected_for_every_use() -> None:
    wrong = rules.defun("sigmoid_plus", rules.sigmoid.textbook, lambda x, f: f * (1 + f),
                        latex=r"\sigma\left({x}\right)", register=False)
    act = dataclasses.replace(rules.ACTIVATIONS["sigmoid"], function=wrong)
    assert_rejected_at_concrete_sizes(lemmas.delta_recursion(act))
    assert_rejected_at_concrete_sizes(lemmas.output_error(act, rules.LOSSES["mse"]))


def test_bce_output_error_with_an_extra_sigmoid_factor_is_rejected() -> None:
    wrong = dataclasses.replace(rules.LOSSES["bce"], delta=lambda a, y, gprime: (a - y) * gprime)
    assert_rejected_at_concrete_sizes(lemmas.output_error(rules.ACTIVATIONS["sigmoid"], wrong))


def test_softmax_jacobian_with_plus_sign_is_rejected_for_n_units() -> None:
    from derive.proof.identities import activation_identities
    from derive.proof.prover import verify

    act = dataclasses.replace(
        rules.ACTIVATIONS["softmax"], jacobian=lambda i, j, a_i, a_j: a_i * (sp.KroneckerDelta(i, j) + a_j)
    )
    (identity,) = activation_identities(act)
    result = verify(identity.pairs, identity.numeric_pairs)
    assert result.verdict == "fails" and "counterexample" in result.evidence


# ---- instantiation -------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [[2, 3, 2], [3, 2, 2, 2]], ids=["2-3-2", "3-2-2-2"])
def test_the_lemmas_instantiated_agree_with_the_instance_proof(sizes: list[int]) -> None:
    """Small networks: every chain step cites the lemmas and is cross-checked on the instance
    (SymPy's derivative of the written-out J equals the closed form exactly)."""
    net = Network(sizes, hidden="tanh", output="sigmoid", loss="mse", l2=0.1)
    derivation = net.derive(cross_check=True)
    assert derivation.all_proved and derivation.for_all_sizes
    gradients = [s for s in derivation.steps if s.title.startswith("gradient of J")]
    assert len(gradients) == net.depth
    assert all("cross-check on the instance (exact" in s.evidence for s in gradients)
    assert all(s.cites for s in gradients)


def test_every_depth_is_the_lemmas_chained() -> None:
    derivation = Network([2, 3, 3, 3, 2], hidden="sigmoid", output="softmax", loss="cce").derive(cross_check=False)
    titles = [s.title for s in derivation.steps]
    assert "every depth: induction on l" in titles
    errors = [t for t in titles if t.startswith("error of layer")]
    assert errors == [f"error of layer {l} (δ recursion)" for l in (3, 2, 1)]
    assert derivation.all_proved


def test_the_witness_agrees_with_pytorch_at_784_128_10() -> None:
    torch = pytest.importorskip("torch", reason="PyTorch is the autograd oracle (test extra)")
    net = Network([784, 128, 10], hidden="sigmoid", output="softmax", loss="cce", l2=0.01)
    params, X, Y = witness_point(net, 7, 3)
    witness = gradient_witness(net, params, X, Y, net.compile(), seed=7)
    assert witness.ok and witness.compared < witness.total
    tparams = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    a = torch.tensor(X)
    for l, (W, b) in enumerate(tparams):
        z = a @ W.T + b
        a = torch.sigmoid(z) if l < len(tparams) - 1 else torch.softmax(z, dim=1)
    J = -(torch.tensor(Y) * torch.log(a)).sum() / 3 + 0.01 / 6 * sum((W**2).sum() for W, _ in tparams)
    J.backward()
    grads = [(W.grad.numpy(), b.grad.numpy()) for W, b in tparams]
    scale = max(np.abs(g).max() for pair in grads for g in pair)
    for row in witness.rows:
        gW, gb = grads[row.entry.layer - 1]
        value = gb[row.entry.j] if row.entry.is_bias else gW[row.entry.j, row.entry.k]
        assert abs(float(row.reference) - value) <= 1e-12 * scale, row.entry
