"""Bad input through the real CLI: one line on stderr naming the problem, the right exit status,
no traceback, no hang, no half-written file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TIME_LIMIT = 30  # seconds per case


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", "derive", *args], capture_output=True, text=True, timeout=TIME_LIMIT,
        cwd=cwd, env=env, stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stdout[-500:], result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle.lower() in lines[0].lower(), lines[0]


# ---- claims files -------------------------------------------------------------------------

GOOD_HEAD = "definitions:\n  - 'z = w x + b'\nclaims:\n  - id: c1\n    latex: "


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.yaml", b"", "empty"),
        ("junk.yaml", bytes(range(256)) * 8, "junk.yaml"),
        ("invalid.yaml", b"claims: [\n  - id: x\n  latex: : :\n", "invalid.yaml"),
        ("unknown_key.yaml", b"claimz:\n  - id: a\n    latex: 'x = x'\n", "claimz"),
        ("bad_definition.yaml",
         b"definitions:\n  - 'z = \\frac{1}{'\nclaims:\n  - id: a\n    latex: 'z = z'\n", "bad_definition.yaml"),
        ("bad_sizes.yaml", b"network:\n  notation: 3b1b\n  layers: [1, 0, 1]\nclaims:\n  - id: a\n    latex: 'x = x'\n",
         "0"),
        ("huge_sizes.yaml",
         b"network:\n  notation: 3b1b\n  layers: [1, 1000000000, 1]\nclaims:\n  - id: a\n    latex: 'x = x'\n",
         "1000000000"),
        ("bad_activation.yaml",
         b"network:\n  notation: 3b1b\n  layers: [1, 1, 1]\n  hidden: swish\nclaims:\n  - id: a\n    latex: 'x = x'\n",
         "swish"),
    ],
)
def test_unusable_claims_file(tmp_path: Path, name: str, content: bytes, needle: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert_one_line_error(run("check", str(path)), 2, needle)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert_one_line_error(run("check", str(tmp_path / "nope.yaml")), 2, "nope.yaml")
    assert_one_line_error(run("check", str(tmp_path)), 2, str(tmp_path.name))


@pytest.mark.parametrize(
    "latex",
    [
        "'\\frac{\\partial z}{\\partial w} = x + {'",  # unbalanced braces
        "'" + "(" * 10_000 + "x" + ")" * 10_000 + " = x'",  # deep nesting
    ],
    ids=["unbalanced", "nested-10000"],
)
def test_hostile_claims_are_undecided_not_crashes(tmp_path: Path, latex: str) -> None:
    path = tmp_path / "claims.yaml"
    path.write_text(GOOD_HEAD + latex + "\n")
    result = run("check", str(path), "--json")
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert '"undecided"' in result.stdout


def test_five_megabyte_claim_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(GOOD_HEAD + "'x = " + "x + " * 1_300_000 + "x'\n")
    assert_one_line_error(run("check", str(path)), 2, "too large")


# ---- networks on the command line ------------------------------------------------------------


@pytest.mark.parametrize(
    ("net", "needle"),
    [("2,0,1", "at least 1"), ("2,-3,1", "-3"), ("2,1000000000,1", "limit"), ("2,x,1", "integers")],
)
@pytest.mark.parametrize("command", ["report", "train", "gradcheck"])
def test_bad_layer_sizes(tmp_path: Path, command: str, net: str, needle: str) -> None:
    extra = ["--data", "xor"] if command == "train" else []
    result = run(command, "--net", net, *extra, cwd=tmp_path)
    assert_one_line_error(result, 2, needle)
    assert not list(tmp_path.iterdir()), "nothing written for refused input"


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--net", "2,3,1", "--loss", "cce"],
        ["gradcheck", "--net", "2,3,1", "--loss", "cce"],
        ["train", "--data", "xor", "--net", "2,4,1", "--loss", "cce"],
    ],
    ids=["report", "gradcheck", "train"],
)
def test_softmax_over_one_unit_is_refused_everywhere(tmp_path: Path, argv: list[str]) -> None:
    """A softmax over one unit is the constant 1: every gradient would be 0 and the cce loss meaningless."""
    result = run(*argv, cwd=tmp_path)
    assert_one_line_error(result, 2, "softmax over one output unit is the constant 1")
    assert result.stdout == "" and not list(tmp_path.iterdir())


def test_unknown_activation_and_case(tmp_path: Path) -> None:
    assert_one_line_error(run("report", "--net", "2,2,1", "--hidden", "swish", cwd=tmp_path), 2, "swish")
    assert_one_line_error(run("report", "no-such-case", cwd=tmp_path), 2, "no-such-case")


# ---- training data ----------------------------------------------------------------------------


def _npz(path: Path, X: np.ndarray, Y: np.ndarray) -> Path:
    np.savez(path, X=X, Y=Y)
    return path


@pytest.mark.parametrize(
    ("X", "Y", "needle"),
    [
        (np.array([[0.0, np.nan], [1.0, 0.0]]), np.array([[0.0], [1.0]]), "nan"),
        (np.array([[0.0, np.inf], [1.0, 0.0]]), np.array([[0.0], [1.0]]), "inf"),
        (np.zeros((4, 3)), np.zeros((4, 1)), "3"),
        (np.zeros((4, 2)), np.zeros((5, 1)), "5"),
    ],
    ids=["nan", "inf", "wrong-width", "row-mismatch"],
)
def test_bad_training_data(tmp_path: Path, X: np.ndarray, Y: np.ndarray, needle: str) -> None:
    data = _npz(tmp_path / "data.npz", X, Y)
    result = run("train", "--net", "2,3,1", "--loss", "bce", "--data", str(data), "--epochs", "1", cwd=tmp_path)
    assert_one_line_error(result, 2, needle)


@pytest.mark.parametrize(
    ("net", "loss", "Y", "needle"),
    [
        ("2,3,3", "cce", np.full((4, 3), 0.5), "target row 1 sums to 1.5; loss 'cce' needs probability rows"),
        ("2,3,3", "cce", np.array([[1.5, -0.5, 0.0]] * 4), "target row 1 holds 1.5; loss 'cce' needs probability rows"),
        ("2,3,1", "bce", np.array([[0.0], [1.0], [2.0], [1.0]]), "target row 3 holds 2; loss 'bce' needs targets in"),
        ("2,3,1", "bce", np.array([[0.5], [-0.1], [0.2], [1.0]]), "target row 2 holds -0.1"),
    ],
    ids=["cce-sums", "cce-negative", "bce-above-1", "bce-negative"],
)
def test_targets_the_loss_is_not_defined_for(tmp_path: Path, net: str, loss: str, Y: np.ndarray, needle: str) -> None:
    data = _npz(tmp_path / "data.npz", np.zeros((4, 2)), Y)
    result = run("train", "--net", net, "--loss", loss, "--data", str(data), "--epochs", "1", cwd=tmp_path)
    assert_one_line_error(result, 2, str(data), needle)
    assert result.stdout == "", "refused before the banner"


def test_probability_targets_are_accepted(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    Y = rng.random((8, 3))
    data = _npz(tmp_path / "data.npz", rng.standard_normal((8, 2)), Y / Y.sum(1, keepdims=True))
    result = run("train", "--net", "2,3,3", "--loss", "cce", "--data", str(data), "--epochs", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--lr", "-1", "argument --lr: '-1': must be a positive number"),
        ("--lr", "0", "--lr"),
        ("--lr", "inf", "--lr"),
        ("--epochs", "-1", "--epochs"),
        ("--batch", "0", "--batch"),
        ("--momentum", "1", "--momentum"),
        ("--test-fraction", "1", "--test-fraction"),
        ("--every", "0", "--every"),
        ("--save", ".", "is a folder"),
        ("--plot", ".", "is a folder"),
    ],
)
def test_train_arguments_are_checked_before_any_work(tmp_path: Path, option: str, value: str, needle: str) -> None:
    result = run("train", "--data", "xor", option, value, cwd=tmp_path)
    assert_one_line_error(result, 2, needle)
    assert result.stdout == "", "no banner before a refusal"


@pytest.mark.parametrize(
    "argv",
    [
        ["report", "--net", "1,1", "--time-limit", "0"],
        ["report", "--net", "1,1", "--time-limit", "nan"],
        ["report", "--net", "1,1", "--timeout", "-1"],  # the old name, still understood
        ["check", "x.yaml", "--time-limit", "-1"],
        ["gradcheck", "--net", "1,1", "--tol", "-1"],
    ],
)
def test_time_limits_and_tolerances_are_positive(tmp_path: Path, argv: list[str]) -> None:
    result = run(*argv, cwd=tmp_path)
    assert_one_line_error(result, 2, argv[-2])
    assert result.stdout == "" and not list(tmp_path.iterdir())


def test_labels_out_of_range(tmp_path: Path) -> None:
    data = tmp_path / "labels.csv"
    data.write_text("0.1,0.2,0\n0.3,0.4,7\n")
    result = run("train", "--net", "2,3,3", "--loss", "cce", "--data", str(data), "--epochs", "1", cwd=tmp_path)
    assert_one_line_error(result, 2, "7")


def test_missing_data_file(tmp_path: Path) -> None:
    result = run("train", "--net", "2,3,1", "--data", str(tmp_path / "none.npz"), cwd=tmp_path)
    assert_one_line_error(result, 2, "none.npz")


def test_too_many_claims_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text("claims:\n" + "".join(f"  - id: c{i}\n    latex: 'x = x'\n" for i in range(1001)))
    assert_one_line_error(run("check", str(path)), 2, "at most 1000")
