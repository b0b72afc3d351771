"""Training: the SGD loop learns, the command writes its files, and bad data is refused in one line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from derive import Network
from derive.cli import main as cli_main
from derive.engine import datasets
from derive.engine.train import History, class_labels, fit, svg_curve, ticks
from derive.errors import InputError


def test_sgd_learns_xor() -> None:
    data = datasets.xor()
    net = Network([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce")
    engine = net.compile()
    params = engine.init_params(0)
    Y = data.targets_for(2, 1)
    history = engine.train(params, data.X, Y, lr=0.5, epochs=200, batch=4, momentum=0.9, rng=0)
    assert history.epochs == 200
    assert history.loss[-1] < 0.1 * history.loss[0]
    assert history.accuracy[-1] == 1.0


def test_sgd_and_momentum_learn_spirals() -> None:
    data = datasets.spirals(n_per_class=100)
    net = Network([2, 16, 16, 1], hidden="tanh", output="sigmoid", loss="bce")
    engine = net.compile()
    Y = data.targets_for(2, 1)
    for momentum, lr, epochs in ((0.0, 0.3, 120), (0.9, 0.05, 60)):
        params = engine.init_params(1)
        history = engine.train(params, data.X, Y, lr=lr, epochs=epochs, batch=16, momentum=momentum, rng=1)
        assert history.loss[-1] < 0.75 * history.loss[0], (momentum, history.loss[0], history.loss[-1])
        assert history.accuracy[-1] > 0.75


def test_training_updates_params_in_place_and_reports_test_metrics() -> None:
    data = datasets.spirals(n_per_class=40)
    net = Network([2, 8, 2], hidden="relu", output="softmax", loss="cce", l2=1e-3)
    engine = net.compile()
    Y = data.targets_for(2, 2)
    params = engine.init_params(2, dtype=np.float32)
    before = [W.copy() for W, _ in params]
    seen = []
    history = fit(
        engine, params, data.X.astype(np.float32), Y.astype(np.float32), lr=0.1, epochs=3, batch=10,
        X_test=data.X[:10].astype(np.float32), Y_test=Y[:10].astype(np.float32),
        on_epoch=lambda epoch, h: seen.append(epoch),
    )  # fmt: skip
    assert seen == [1, 2, 3]
    assert len(history.test_loss) == 3 and history.test_accuracy[-1] is not None
    assert all(not np.array_equal(W, W0) for (W, _), W0 in zip(params, before, strict=True))
    assert params[0][0].dtype == np.float32


def test_bad_training_settings_are_refused() -> None:
    engine = Network([2, 2, 1], loss="bce").compile()
    params = engine.init_params(0)
    X, Y = np.zeros((4, 2)), np.zeros((4, 1))
    with pytest.raises(InputError, match="learning rate"):
        fit(engine, params, X, Y, lr=-1.0)
    with pytest.raises(InputError, match="momentum"):
        fit(engine, params, X, Y, momentum=1.5)
    with pytest.raises(InputError, match="X has shape"):
        fit(engine, params, np.zeros((4, 3)), Y)


def test_class_labels_and_svg() -> None:
    assert class_labels(np.array([[0.0], [1.0]])).tolist() == [0, 1]
    assert class_labels(np.array([[0.2, 0.8]])).tolist() == [1]
    assert class_labels(np.array([[0.3]])) is None
    svg = svg_curve(History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0]), "a <title> & more")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "a &lt;title&gt; &amp; more" in svg and "<polyline" in svg


# ---- the command ---------------------------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli_main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_train_command_writes_params_and_curve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params_path, svg_path = tmp_path / "out" / "p.npz", tmp_path / "curve.svg"
    code, out, err = _run(
        ["train", "--data", "xor", "--epochs", "150", "--save", str(params_path), "--plot", str(svg_path),
         "--no-progress", "--every", "50"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "network: 2-4-1 tanh/sigmoid bce" in out and "epoch 150/150" in out
    assert err == ""  # no progress bar when asked not to (and stderr is not a terminal here)
    saved = np.load(params_path)
    assert saved["W1"].shape == (4, 2) and saved["b2"].shape == (1,)
    assert saved["sizes"].tolist() == [2, 4, 1] and len(saved["history_loss"]) == 150
    assert svg_path.read_text().startswith("<svg")
    assert not list((tmp_path / "out").glob(".*.tmp"))  # atomic write left no temporary behind


def test_progress_bar_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["train", "--data", "xor", "--epochs", "5"], capsys)
    assert code == 0 and err == ""  # stderr is not a terminal under pytest
    code, _, err = _run(["train", "--data", "xor", "--epochs", "5", "--progress"], capsys)
    assert code == 0 and "epoch" in err  # tqdm's bar


def test_train_command_on_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    code, out, err = _run(["train", "--data", str(tmp_path / "d.npz"), "--epochs", "5"], capsys)
    assert code == 0, err
    assert "3-32-3 tanh/softmax cce" in out
    np.savetxt(tmp_path / "d.csv", np.column_stack([X, y]), delimiter=",", header="a,b,c,label", comments="")
    code, out, err = _run(
        ["train", "--data", str(tmp_path / "d.csv"), "--net", "3,5,3", "--loss", "cce", "--epochs", "5"],
        capsys,
    )
    assert code == 0, err
    assert "3-5-3 tanh/softmax cce" in out


BAD_FILES = {
    "missing.npz": (None, "no such file"),
    "nan.csv": ("1,2,0\n3,nan,1\n", "nan.csv:2: NaN or infinite value"),
    "ragged.csv": ("1,2,0\n3,4\n", "ragged.csv:2: 2 columns, but the first row has 3"),
    "text.csv": ("1,2,0\n3,x,1\n", "text.csv:2: 'x' is not a number"),
    "label.csv": ("1,2,0\n3,4,7\n", "label 7 is out of range for a network with 3 outputs"),
    "frac.csv": ("1,2,0\n3,4,0.5\n", "class numbers"),
    "columns.csv": (
        "1,2,3,0\n",
        "4 columns, but the network with 2 inputs needs 3 (inputs and a label) or 5",
    ),
    "noy.npz": ({"X": np.zeros((3, 2))}, "no labels 'y' or targets 'Y'"),
    "inf.npz": (
        {"X": np.array([[1.0, np.inf]]), "y": np.array([0])},
        "NaN or infinite value at index (0, 1)",
    ),
    "shape.npz": ({"X": np.zeros((3, 2)), "y": np.zeros(4)}, "3 rows of inputs but 4 of labels"),
    "wide.npz": ({"X": np.zeros((3, 5)), "y": np.zeros(3)}, "5 input columns, but the network takes 2"),
    "junk.npz": ("not a zip", "not a readable .npz file"),
    "data.txt": ("1,2\n", "unknown data format '.txt'"),
}


@pytest.mark.parametrize("filename", sorted(BAD_FILES))
def test_bad_data_is_refused_in_one_line(filename: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, message = BAD_FILES[filename]
    path = tmp_path / filename
    if isinstance(content, str):
        path.write_text(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    code, out, err = _run(["train", "--data", str(path), "--net", "2,4,3", "--loss", "cce"], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"derive: error: {path}") and message in lines[0], lines[0]


def test_bad_data_through_a_real_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "nan.csv"
    path.write_text("0,0,0\n1,nan,1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "derive.cli", "train", "--data", str(path), "--net", "2,3,1", "--loss", "bce"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"derive: error: {path}:2: NaN or infinite value"


def test_missing_scikit_learn_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # import sklearn now raises ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    code, _, err = _run(["train", "--data", "digits"], capsys)
    assert code == 2
    hint = "pip install 'derive-backprop[digits]'"  # the distribution's name, not the import name
    assert err.strip() == f"derive: error: digits: the digits data set needs scikit-learn: {hint}"


def test_digits_default_command_reaches_95_percent(capsys: pytest.CaptureFixture[str]) -> None:
    """The documented default: ``derive train --data digits`` reaches >= 95 % test accuracy in < 30 s."""
    pytest.importorskip("sklearn", reason="the digits data set comes from scikit-learn (extra 'digits')")
    code, out, _ = _run(["train", "--data", "digits"], capsys)
    assert code == 0
    summary = out.strip().splitlines()[-1]
    seconds = float(summary.split("trained in ")[1].split(" s")[0])
    test_acc = float(summary.split("test accuracy ")[1].rstrip("%")) / 100
    assert test_acc >= 0.95 and seconds < 30, summary


# ---- Ctrl-C, the plot, the help --------------------------------------------------------------


def _interrupt_training(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    """Start ``derive train ARGV`` with output to pipes (no PYTHONUNBUFFERED), wait for its first
    epoch line, press Ctrl-C (SIGINT to the child alone) and return (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    child = subprocess.Popen(
        [sys.executable, "-m", "derive", "train", "--every", "1", "--no-progress", *argv],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        seen = []
        while not any(line.startswith("epoch") for line in seen):  # training has started: the handler is in
            line = child.stdout.readline()
            assert line, f"derive train ended before its first epoch: {seen}, {child.stderr.read()[-2000:]}"
            seen.append(line)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode, "".join(seen) + out, err


def test_ctrl_c_saves_the_parameters_where_asked(tmp_path: Path) -> None:
    saved = tmp_path / "out" / "params.npz"
    code, out, err = _interrupt_training(
        ["--data", "spirals", "--epochs", "1000000", "--save", str(saved), "--plot", str(tmp_path / "c.svg")], tmp_path
    )
    assert code == 130, err
    assert f"saved the parameters to {saved}" in err and "Traceback" not in err
    assert "interrupted in epoch" in err.strip().splitlines()[-1]
    params = np.load(saved)
    assert params["W1"].shape == (32, 2) and params["W3"].shape == (1, 32)
    assert params["sizes"].tolist() == [2, 32, 32, 1]
    assert np.all(np.isfinite(params["W2"])) and len(params["history_loss"]) >= 1
    assert (tmp_path / "c.svg").read_text().startswith("<svg")
    assert not list(saved.parent.glob(".*.tmp")), "the write was atomic: no temporary left"
    assert "trained in" not in out, "the run did not finish normally"


def test_ctrl_c_without_save_names_the_file_it_wrote(tmp_path: Path) -> None:
    (tmp_path / "derive-train-interrupted.npz").write_bytes(b"an earlier run's file, kept")
    code, _, err = _interrupt_training(["--data", "spirals", "--epochs", "1000000"], tmp_path)
    assert code == 130, err
    assert "saved the parameters to derive-train-interrupted-2.npz" in err, err
    assert np.load(tmp_path / "derive-train-interrupted-2.npz")["b1"].shape == (32,)
    assert (tmp_path / "derive-train-interrupted.npz").read_bytes() == b"an earlier run's file, kept"


def test_fit_stops_between_steps_when_asked() -> None:
    data = datasets.xor()
    engine = Network([2, 4, 1], hidden="tanh", output="sigmoid", loss="bce").compile()
    params = engine.init_params(0)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 7  # after 7 whole steps (batch 1: 4 steps per epoch)

    history = fit(engine, params, data.X, data.targets_for(2, 1), lr=0.1, epochs=100, batch=1, stop=stop)
    assert history.stopped and history.epochs == 1 and len(calls) == 8


@pytest.mark.parametrize("hi", [0.0123, 0.186 * 4, 0.93, 1.0, 2.7, 7.0, 250.0, 1e-9])
def test_loss_ticks_are_round(hi: float) -> None:
    values, decimals = ticks(hi)
    step = values[1] - values[0]
    mantissa = step / 10 ** np.floor(np.log10(step))
    assert any(abs(mantissa - m) < 1e-9 for m in (1, 2, 5)), (hi, values)
    assert values[0] == 0 and values[-1] >= hi > values[-2] and 2 <= len(values) <= 7
    assert all(float(f"{v:.{decimals}f}") == v for v in values), "the labels print the ticks exactly"


def test_the_plot_has_round_ticks_and_a_legend_off_the_curves() -> None:
    n = 150
    history = History(
        loss=[0.93 * 0.97**i for i in range(n)], accuracy=[0.5 + 0.5 * i / n for i in range(n)],
        test_loss=[0.95 * 0.97**i for i in range(n)], test_accuracy=[0.5 + 0.4 * i / n for i in range(n)],
    )  # fmt: skip
    svg = svg_curve(history, "t")
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)  # the loss axis
    assert labels == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    epochs = re.findall(r'text-anchor="middle">(\d+)</text>', svg)
    assert epochs == ["1", "50", "100", "150"]
    assert re.findall(r">(\d+)%</text>", svg) == ["0", "20", "40", "60", "80", "100"]
    plot_top = float(re.search(r'<rect x="\d+" y="([\d.]+)" width="\d+" height="\d+" fill="none"', svg)[1])
    legend = re.search(r'<g class="legend">(.*?)</g>', svg, re.S)[1]
    legend_ys = [float(y) for y in re.findall(r' y\d?="([\d.]+)"', legend)]
    curve_ys = [float(p.split(",")[1]) for pts in re.findall(r'points="([^"]+)"', svg) for p in pts.split()]
    assert legend_ys and max(legend_ys) + 6 < plot_top <= min(curve_ys), "the legend sits above the plot area"


def test_train_help_names_its_own_network_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli_main(["train", "--help"])
    out = capsys.readouterr().out
    assert "network (default: chosen for the data set):" in out and "catalog" not in out
