"""The network spec: what it accepts and the one sentence it gives for what it refuses."""

from __future__ import annotations

import pytest

from derive import Network, NetworkError
from derive.model.network import MAX_LAYER_SIZE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sizes": [2, 0, 1]}, "layer size 0 (layer 2) must be at least 1"),
        ({"sizes": [2, -3]}, "layer size -3"),
        ({"sizes": [2, 10**9]}, f"exceeds the limit of {MAX_LAYER_SIZE}"),
        ({"sizes": [3]}, "at least an input and an output layer"),
        ({"sizes": "2,2"}, "must be a list of integers"),
        ({"sizes": [2, 2.5]}, "is not an integer"),
        ({"sizes": [2, 3], "output": "softmax"}, "softmax output needs loss 'cce'"),
        ({"sizes": [2, 3], "loss": "cce"}, "loss 'cce' needs a softmax output"),
        ({"sizes": [2, 2], "loss": "bce", "output": "tanh"}, "loss 'bce' needs a sigmoid output"),
        ({"sizes": [2, 2, 2], "hidden": "swish"}, "unknown activation 'swish'"),
        ({"sizes": [2, 2, 2], "hidden": ["tanh", "relu"]}, "hidden lists 2 activations but the network has 1"),
        ({"sizes": [2, 2], "loss": "hinge"}, "unknown loss 'hinge'"),
        ({"sizes": [2, 2], "l2": -1}, "l2 must be a finite number >= 0"),
        ({"sizes": [2, 2], "l2": float("nan")}, "l2 must be a finite number >= 0"),
        ({"sizes": [2, 2], "bias": "row"}, "unknown bias convention"),
        ({"sizes": [2, 3, 3], "hidden": "softmax", "output": "softmax", "loss": "cce"}, "only supported as the output"),
        ({"sizes": [2, 4, 1], "output": "softmax", "loss": "cce"}, "a softmax over one output unit is the constant 1"),
        ({"sizes": [3, 1], "output": "softmax", "loss": "cce"}, "at least 2 units"),
    ],
)
def test_invalid_networks_are_refused_with_one_sentence(kwargs: dict, message: str) -> None:
    with pytest.raises(NetworkError) as info:
        Network(**kwargs)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_network_facts() -> None:
    net = Network([4, 8, 8, 3], hidden=["tanh", "relu"], output="softmax", loss="cce", l2=0.1)
    assert net.depth == 3
    assert net.activation_names == ("tanh", "relu", "softmax")
    assert net.n_parameters == 5 * 8 + 9 * 8 + 9 * 3 == 139
    assert "4-8-8-3" in net.label and "l2=0.1" in net.label


def test_symbolic_model_shapes_and_cost() -> None:
    net = Network([3, 2, 2], loss="bce", l2=0.5)
    model = net.symbolic(m=2)
    assert model.W[1].shape == (2, 3) and model.b[2].shape == (2, 1)
    assert len(model.parameters) == net.n_parameters
    assert len(set(model.parameters)) == net.n_parameters  # no two parameters share a symbol
    assert model.reg_term != 0 and all(b not in model.reg_term.free_symbols for b in model.b[1])


def test_parameter_symbols_stay_distinct_beyond_nine_units() -> None:
    model = Network([12, 11, 1]).symbolic()
    assert len(set(model.parameters)) == Network([12, 11, 1]).n_parameters


def test_the_mnist_network_is_derived_for_every_size() -> None:
    """784-128-10 (101,770 parameters): the lemmas for symbolic sizes, instantiated, and the
    witness at its own sizes on sampled entries (no refusal, no instance proof)."""
    derivation = Network([784, 128, 10], hidden="sigmoid", output="softmax", loss="cce").derive()
    assert derivation.all_proved and derivation.for_all_sizes and derivation.ok
    witness = derivation.witness
    assert witness is not None and witness.ok and witness.total == 101_770
    assert 100 < witness.compared < 1000 and witness.fd_entries > 0
    assert not any("cross-check" in s.evidence for s in derivation.steps)
