"""Training with the compiled engine: the SGD loop, and the ``derive train`` command.

``fit`` runs mini-batch SGD (momentum optional) with ``Engine.loss_and_grad`` and records loss
and accuracy per epoch. The command picks a sensible network for the built-in data sets when
``--net`` is not given, shows a progress bar when stderr is a terminal (or with
``--progress``), saves the parameters atomically to .npz and draws the loss curve as a small
hand-written SVG (no plotting library).
"""

from __future__ import annotations

import argparse
import html
import io
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DeriveError, InputError
from ..fileio import write_atomic

if TYPE_CHECKING:
    from ..model.network import Network
    from .compiled import Engine, Params
    from .datasets import Dataset

__all__ = ["History", "TrainingDivergedError", "add_parser", "fit", "main", "save_params", "svg_curve"]


class TrainingDivergedError(DeriveError):
    """The loss became NaN or infinite: the run failed (exit status 1), the input was fine."""

    exit_code = 1


@dataclass
class History:
    """Loss and accuracy per epoch (accuracy is None when the targets are not classes)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_accuracy: list[float | None] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.loss)


def class_labels(Y: np.ndarray) -> np.ndarray | None:
    """The class of each target row: argmax for several outputs, y > 0.5 for one 0/1 output."""
    if Y.shape[1] > 1:
        return Y.argmax(1)
    if np.all((Y == 0) | (Y == 1)):
        return (Y[:, 0] > 0.5) * 1
    return None


def accuracy(engine: Engine, params: Params, X: np.ndarray, labels: np.ndarray | None) -> float | None:
    """Fraction of rows whose predicted class is the label (None without labels)."""
    if labels is None:
        return None
    return float(np.mean(engine.predict(params, X) == labels))


def fit(
    engine: Engine,
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    lr: float = 0.1,
    epochs: int = 10,
    batch: int = 32,
    momentum: float = 0.0,
    rng: np.random.Generator | int | None = None,
    X_test: np.ndarray | None = None,
    Y_test: np.ndarray | None = None,
    on_epoch: Callable[[int, History], None] | None = None,
) -> History:
    """Mini-batch SGD on (X, Y), updating ``params`` in place; the history per epoch.

    Each epoch shuffles the rows (``rng``), steps through batches of ``batch`` rows with
    v ← μ v + ∇J, θ ← θ − lr v (plain SGD when ``momentum`` = 0), then records the mean batch
    loss and the training accuracy (and the test loss and accuracy when test data is given).
    ``on_epoch(epoch, history)`` is called after each epoch. Raises TrainingDivergedError when the
    loss stops being finite.
    """
    if not (lr > 0 and math.isfinite(lr)):
        raise InputError(f"the learning rate must be a positive number, not {lr}")
    if not 0 <= momentum < 1:
        raise InputError(f"momentum must be in [0, 1), not {momentum}")
    if batch < 1 or epochs < 0:
        raise InputError(f"batch must be >= 1 and epochs >= 0 (got batch {batch}, epochs {epochs})")
    engine.check(params, X, Y, where="training data")
    rng = np.random.default_rng(rng)
    m = X.shape[0]
    labels = class_labels(Y)
    test_labels = class_labels(Y_test) if Y_test is not None else None
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    history = History()
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(m)
        total = 0.0
        for lo in range(0, m, batch):
            idx = order[lo : lo + batch]
            J, grads = engine.loss_and_grad(params, X[idx], Y[idx])
            total += float(J) * len(idx)
            for (W, b), (gW, gb), (vW, vb) in zip(params, grads, velocity, strict=True):
                if momentum:
                    vW *= momentum
                    vW += gW
                    vb *= momentum
                    vb += gb
                    gW, gb = vW, vb
                W -= lr * gW
                b -= lr * gb
        loss = total / m
        if not math.isfinite(loss):
            raise TrainingDivergedError(f"the loss became {loss} in epoch {epoch}; try a smaller --lr")
        history.loss.append(loss)
        history.accuracy.append(accuracy(engine, params, X, labels))
        if X_test is not None and Y_test is not None:
            history.test_loss.append(float(engine.loss_and_grad(params, X_test, Y_test)[0]))
            history.test_accuracy.append(accuracy(engine, params, X_test, test_labels))
        history.seconds = time.perf_counter() - start
        if on_epoch is not None:
            on_epoch(epoch, history)
    return history


# ---- output files --------------------------------------------------------------------------


def save_params(path: str, net: Network, params: Params, history: History | None = None) -> None:
    """The parameters as .npz (W1, b1, W2, b2, … plus the network and history), written atomically."""
    arrays: dict[str, Any] = {}
    for l, (W, b) in enumerate(params, start=1):
        arrays[f"W{l}"], arrays[f"b{l}"] = np.asarray(W), np.asarray(b)
    arrays["sizes"] = np.array(net.sizes)
    arrays["activations"] = np.array(net.activation_names)
    arrays["loss"] = np.array(net.loss)
    arrays["l2"] = np.array(net.l2)
    if history is not None:
        arrays["history_loss"] = np.array(history.loss)
        if history.accuracy and history.accuracy[0] is not None:
            arrays["history_accuracy"] = np.array(history.accuracy, dtype=float)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def svg_curve(history: History, title: str, width: int = 640, height: int = 360) -> str:
    """The loss per epoch (and accuracy on a 0–100 % right axis) as a self-contained SVG."""
    left, right, top, bottom = 64, 56, 36, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(history.epochs, 1)
    series = [v for v in history.loss + history.test_loss if math.isfinite(v)]
    hi = max(series) if series else 1.0
    hi = hi if hi > 0 else 1.0

    def x(i: int) -> float:
        return left + (plot_w * (i - 1) / (n - 1) if n > 1 else plot_w / 2)

    def y_loss(v: float) -> float:
        return top + plot_h * (1 - v / hi)

    def y_acc(v: float) -> float:
        return top + plot_h * (1 - v)

    def polyline(values: list[float | None], to_y: Callable[[float], float], style: str) -> str:
        pts = " ".join(f"{x(i):.1f},{to_y(v):.1f}" for i, v in enumerate(values, start=1) if v is not None)
        return f'<polyline fill="none" {style} points="{pts}"/>' if pts else ""

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="14">{html.escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>',
    ]
    for k in range(5):  # gridlines and tick labels: loss on the left, accuracy on the right
        frac = k / 4
        yy = top + plot_h * (1 - frac)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{hi * frac:.3g}</text>')
        if any(a is not None for a in history.accuracy):
            out.append(f'<text x="{left + plot_w + 6}" y="{yy + 4:.1f}">{frac:.0%}</text>')
    for i in sorted({1, n, *range(1, n + 1, max(1, (n + 4) // 5))}):
        out.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{i}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">epoch</text>')
    out.append(polyline(list(history.loss), y_loss, 'stroke="#1f77b4" stroke-width="2"'))
    out.append(polyline(list(history.test_loss), y_loss, 'stroke="#1f77b4" stroke-dasharray="5,4"'))
    out.append(polyline(list(history.accuracy), y_acc, 'stroke="#d62728" stroke-width="2"'))
    out.append(polyline(list(history.test_accuracy), y_acc, 'stroke="#d62728" stroke-dasharray="5,4"'))
    legend = [("loss", "#1f77b4", ""), ("accuracy", "#d62728", "")]
    if history.test_loss:
        legend.append(("test (dashed)", "#555", 'stroke-dasharray="5,4"'))
    for k, (label, color, dash) in enumerate(legend):
        lx = left + 10 + 110 * k
        out.append(
            f'<line x1="{lx}" x2="{lx + 20}" y1="{top + 12}" y2="{top + 12}" stroke="{color}" stroke-width="2" {dash}/>'
        )
        out.append(f'<text x="{lx + 25}" y="{top + 16}">{label}</text>')
    out.append("</svg>")
    return "\n".join(s for s in out if s) + "\n"


# ---- the command ---------------------------------------------------------------------------

# Defaults per built-in data set: network, learning rate, epochs, batch, test fraction.
PRESETS: dict[str, dict[str, Any]] = {
    "xor": dict(sizes=[2, 4, 1], hidden="tanh", lr=0.5, epochs=300, batch=4, test=0.0),
    "spirals": dict(sizes=[2, 32, 32, 1], hidden="tanh", lr=0.1, epochs=200, batch=32, test=0.2),
    "digits": dict(sizes=[64, 64, 10], hidden="tanh", lr=0.1, epochs=30, batch=32, test=0.2),
}
FILE_PRESET = dict(hidden="tanh", lr=0.1, epochs=50, batch=32, test=0.2)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from ..cli import add_network_arguments

    parser = subparsers.add_parser(
        "train",
        help="train a network with the compiled engine",
        description="Train with mini-batch SGD on generated data (xor, spirals), the 8x8 digits "
        "(needs scikit-learn) or a .npz/.csv file. Without --net a network suited to the data is "
        "chosen (digits: 64,64,10 tanh, softmax/cce).",
    )
    parser.add_argument("--data", required=True, metavar="DATA", help="xor | spirals | digits | FILE.npz | FILE.csv")
    add_network_arguments(parser)
    parser.set_defaults(hidden=None, loss=None)  # None: taken from the data set's preset
    for action in parser._actions:  # the shared options' help names fixed defaults; here they vary
        if action.dest == "hidden":
            action.help = "hidden activation, or one per hidden layer (default: tanh)"
        elif action.dest == "loss":
            action.help = "loss (default: bce for two classes, cce for more, mse for real targets)"
    parser.add_argument("--epochs", type=int, default=None, help="passes over the data (default: by data set)")
    parser.add_argument("--lr", type=float, default=None, help="learning rate (default: by data set)")
    parser.add_argument("--batch", type=int, default=None, help="rows per step (default: by data set)")
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD momentum, 0 for plain SGD (default 0.9)")
    parser.add_argument("--seed", type=int, default=0, help="seed for initial weights, shuffling, split")
    parser.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        metavar="F",
        help="share of the data held out for testing (default: by data set)",
    )
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="array dtype")
    parser.add_argument("--save", metavar="PARAMS.npz", help="write the trained parameters here (atomically)")
    parser.add_argument("--plot", metavar="CURVE.svg", help="write the loss curve here as SVG")
    bar = parser.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress",
        dest="progress",
        action="store_true",
        default=None,
        help="show a progress bar (default: when stderr is a terminal)",
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
    parser.add_argument(
        "--every",
        type=int,
        default=None,
        metavar="N",
        help="print every N-th epoch (default: about 20 lines)",
    )
    parser.set_defaults(func=main)


def _network(args: argparse.Namespace, data: Dataset) -> tuple[Network, str]:
    from ..cli import network_from_args

    preset = PRESETS.get(args.data, FILE_PRESET)
    n_in = data.X.shape[1]
    if data.targets is not None:
        n_out, default_loss, default_out = data.targets.shape[1], "mse", "identity"
    else:
        classes = data.n_classes or 2
        n_out = 1 if classes <= 2 else classes
        default_loss, default_out = ("bce", "sigmoid") if n_out == 1 else ("cce", "softmax")
    filled = argparse.Namespace(**vars(args))
    origin = "from --net"
    if args.net is None:
        sizes = preset.get("sizes") or [n_in, 32, n_out]
        filled.net = ",".join(map(str, sizes))
        origin = f"default for {args.data}" if args.data in PRESETS else "default for the file"
    if args.hidden is None:
        filled.hidden = preset["hidden"]
    if args.loss is None:
        filled.loss = default_loss
        if args.output is None:
            filled.output = default_out
    return network_from_args(filled), origin


def main(args: argparse.Namespace) -> int:
    from . import datasets

    preset = PRESETS.get(args.data, FILE_PRESET)
    n_in = n_out = None
    if args.net is not None and args.data not in PRESETS:
        sizes = [int(s) for s in str(args.net).split(",") if s.strip().isdigit()]
        if len(sizes) >= 2:
            n_in, n_out = sizes[0], sizes[-1]
    data = datasets.load(args.data, n_in, n_out, seed=args.seed)
    net, origin = _network(args, data)
    engine = net.compile()
    dtype = np.dtype(args.dtype)
    Y = data.targets_for(net.sizes[0], net.sizes[-1])
    rng = np.random.default_rng(args.seed)

    test_fraction = preset["test"] if args.test_fraction is None else args.test_fraction
    if not 0 <= test_fraction < 1:
        raise InputError(f"--test-fraction must be in [0, 1), not {test_fraction}")
    X = data.X
    X_test = Y_test = None
    if test_fraction > 0 and len(data) >= 10:
        train_rows, test_rows = datasets.split_indices(data.labels, len(data), test_fraction, rng)
        X, Y, X_test, Y_test = data.X[train_rows], Y[train_rows], data.X[test_rows], Y[test_rows]
    X, Y = X.astype(dtype), Y.astype(dtype)
    if X_test is not None and Y_test is not None:
        X_test, Y_test = X_test.astype(dtype), Y_test.astype(dtype)

    epochs = args.epochs if args.epochs is not None else preset["epochs"]
    lr = args.lr if args.lr is not None else preset["lr"]
    batch = args.batch if args.batch is not None else preset["batch"]
    every = args.every or max(1, epochs // 20)
    show_bar = args.progress if args.progress is not None else sys.stderr.isatty()

    print(f"network: {net.label} ({origin})")
    held = f", {len(X_test)} test" if X_test is not None else ""
    print(
        f"data: {data.name}, {len(X)} training examples{held}; "
        f"SGD lr={lr:g} momentum={args.momentum:g} batch={batch}, {epochs} epochs, {dtype.name}"
    )

    from tqdm import tqdm

    bar = tqdm(total=epochs, disable=not show_bar, file=sys.stderr, unit="epoch", leave=False)

    def report(epoch: int, h: History) -> None:
        bar.update(1)
        acc = h.accuracy[-1]
        bar.set_postfix(loss=f"{h.loss[-1]:.4f}", **({"acc": f"{acc:.1%}"} if acc is not None else {}))
        if epoch % every == 0 or epoch == epochs or epoch == 1:
            line = f"epoch {epoch:>{len(str(epochs))}}/{epochs}  loss {h.loss[-1]:.6f}"
            if acc is not None:
                line += f"  accuracy {acc:.1%}"
            if h.test_loss:
                line += f"  test loss {h.test_loss[-1]:.6f}"
                if h.test_accuracy[-1] is not None:
                    line += f"  test accuracy {h.test_accuracy[-1]:.1%}"
            bar.write(line, file=sys.stdout)

    params = engine.init_params(rng, dtype=dtype)
    try:
        history = fit(
            engine,
            params,
            X,
            Y,
            lr=lr,
            epochs=epochs,
            batch=batch,
            momentum=args.momentum,
            rng=rng,
            X_test=X_test,
            Y_test=Y_test,
            on_epoch=report,
        )
    finally:
        bar.close()
    summary = f"trained in {history.seconds:.2f} s"
    if history.accuracy and history.accuracy[-1] is not None:
        summary += f"; training accuracy {history.accuracy[-1]:.1%}"
    if history.test_accuracy and history.test_accuracy[-1] is not None:
        summary += f", test accuracy {history.test_accuracy[-1]:.1%}"
    print(summary)
    if args.save:
        save_params(args.save, net, params, history)
        print(f"saved parameters to {args.save}")
    if args.plot:
        write_atomic(args.plot, svg_curve(history, f"{net.label} on {data.name}"))
        print(f"wrote the loss curve to {args.plot}")
    return 0
