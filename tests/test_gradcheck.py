"""``derive gradcheck``: the engine against the one numeric witness, for every catalog network."""

from __future__ import annotations

import numpy as np
import pytest

from derive import Network
from derive.cli import main as cli_main
from derive.engine.gradcheck import check_network, random_point
from derive.engine.witness import gradient_witness
from derive.model.catalog import CATALOG


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_networks_agree_with_the_reference_and_finite_differences(name: str) -> None:
    result = check_network(CATALOG[name], seed=1)
    assert len(result.layers) == CATALOG[name].depth
    for layer in result.layers:
        assert layer.engine < 1e-12, (name, layer)
        assert layer.finite_differences is not None and layer.finite_differences < 1e-20, (name, layer)
    assert result.witness.compared == result.witness.total == CATALOG[name].n_parameters


class _Scaled:
    """An engine whose gradient is off by a factor 1.001 in one layer."""

    def __init__(self, net: Network) -> None:
        self.inner = net.compile()

    def loss_and_grad(self, params, X, Y):
        J, grads = self.inner.loss_and_grad(params, X, Y)
        grads = [(np.array(gW), np.array(gb)) for gW, gb in grads]
        grads[-1] = (grads[-1][0] * 1.001, grads[-1][1])
        return J, grads


def test_the_witness_catches_a_wrong_gradient() -> None:
    net = CATALOG["sigmoid-bce"]
    params, X, Y = random_point(net.compile(), 3, np.random.default_rng(0))
    assert gradient_witness(net, params, X, Y, net.compile()).ok
    wrong = gradient_witness(net, params, X, Y, _Scaled(net))
    assert not wrong.ok and float(wrong.max_engine_error) > 1e-4


def test_command_checks_the_whole_catalog(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["gradcheck"]) == 0
    out = capsys.readouterr().out
    assert f"{len(CATALOG)} of {len(CATALOG)} networks within 1e-07" in out
    for name in CATALOG:
        assert name in out


def test_command_on_a_network_and_a_failing_tolerance(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["gradcheck", "--net", "3,3,2", "--hidden", "softplus", "--output", "tanh", "--loss", "sq"]
    assert cli_main(argv) == 0
    assert "3-3-2 softplus/tanh sq" in capsys.readouterr().out
    assert cli_main([*argv, "--tol", "1e-30"]) == 1  # nothing agrees to 1e-30: exit 1, not a crash
    assert "FAIL" in capsys.readouterr().out


def test_large_networks_are_checked_on_sampled_entries(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["gradcheck", "--net", "64,64,10", "--loss", "cce"]) == 0
    out = capsys.readouterr().out
    assert "sampled entries of 4810" in out


def test_unknown_case_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["gradcheck", "no-such-case"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown case 'no-such-case'" in err[0]


@pytest.mark.parametrize("hidden", ["relu", "leaky_relu", "elu"])
def test_kinked_rules_are_checked_away_from_the_kink(hidden: str) -> None:
    net = Network([3, 6, 6, 1], hidden=hidden, output="identity", loss="mse")
    result = check_network(net, seed=3)
    assert result.worst() < 1e-7
