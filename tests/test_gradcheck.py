"""``derive gradcheck``: the engine against finite differences and SymPy, for every catalog network."""

from __future__ import annotations

import numpy as np
import pytest

from derive import Network
from derive.cli import main as cli_main
from derive.engine.gradcheck import check_network, finite_difference_grads, symbolic_grads
from derive.model.catalog import CATALOG


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalog_networks_agree_with_finite_differences_and_sympy(name: str) -> None:
    result = check_network(CATALOG[name], seed=1)
    assert len(result.layers) == CATALOG[name].depth
    for layer in result.layers:
        assert layer.finite_differences < 1e-7, (name, layer)
        assert layer.symbolic is not None and layer.symbolic < 1e-12, (name, layer)
    assert result.cost_error is not None and result.cost_error < 1e-12


def test_witnesses_catch_a_wrong_gradient() -> None:
    """Both witnesses must notice when the engine's gradient is off (here: scaled by 1.001)."""
    net = CATALOG["sigmoid-bce"]
    engine = net.compile()
    rng = np.random.default_rng(0)
    params = [
        (rng.standard_normal((o, i)), rng.standard_normal(o)) for i, o in zip(net.sizes, net.sizes[1:], strict=False)
    ]
    X, Y = rng.standard_normal((1, 2)), np.array([[0.3]])
    _, grads = engine.loss_and_grad(params, X, Y)
    fd = finite_difference_grads(engine, params, X, Y)
    _, sym = symbolic_grads(net, params, X[0], Y[0])
    for (gW, _), (fW, _), (sW, _) in zip(grads, fd, sym, strict=True):
        np.testing.assert_allclose(gW, fW, rtol=1e-8, atol=1e-11)
        np.testing.assert_allclose(gW, sW, rtol=1e-12, atol=1e-15)
        wrong = gW * 1.001
        assert np.max(np.abs(wrong - fW)) > 1e-7 * np.max(np.abs(fW))
        assert np.max(np.abs(wrong - sW)) > 1e-7 * np.max(np.abs(sW))


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


def test_large_networks_skip_the_symbolic_column(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["gradcheck", "--net", "8,8,8", "--no-symbolic"]) == 0
    assert cli_main(["gradcheck", "--net", "12,6,4"]) == 0
    out = capsys.readouterr().out
    assert "symbolic check skipped: 106 parameters" in out


def test_unknown_case_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["gradcheck", "no-such-case"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown case 'no-such-case'" in err[0]


def test_relu_points_avoid_the_kink() -> None:
    net = Network([3, 6, 6, 1], hidden="relu", output="identity", loss="mse")
    result = check_network(net, seed=3, symbolic=False)
    assert max(layer.finite_differences for layer in result.layers) < 1e-7
