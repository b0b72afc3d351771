"""``derive train``: train a network with the compiled engine on a data set.

Picks a sensible network for the built-in data sets when ``--net`` is not given, shows a
progress bar when stderr is a terminal (or with ``--progress``), saves the parameters atomically
to .npz and draws the loss curve as SVG.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
from tqdm import tqdm

from ..engine import datasets
from ..engine.datasets import Dataset
from ..engine.train import History, fit, save_params, svg_curve
from ..errors import InputError
from ..fileio import write_atomic
from ..model.network import Network
from .options import add_network_arguments, network_from_args

__all__ = ["FILE_PRESET", "PRESETS", "add_parser", "run"]

# Defaults per built-in data set: network, learning rate, epochs, batch, test fraction.
PRESETS: dict[str, dict[str, Any]] = {
    "xor": dict(sizes=[2, 4, 1], hidden="tanh", lr=0.5, epochs=300, batch=4, test=0.0),
    "spirals": dict(sizes=[2, 32, 32, 1], hidden="tanh", lr=0.1, epochs=200, batch=32, test=0.2),
    "digits": dict(sizes=[64, 64, 10], hidden="tanh", lr=0.1, epochs=30, batch=32, test=0.2),
}
FILE_PRESET = dict(hidden="tanh", lr=0.1, epochs=50, batch=32, test=0.2)


def add_parser(subparsers: Any) -> None:
    """Register ``derive train``."""
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
    parser.set_defaults(func=run)


def _network(args: argparse.Namespace, data: Dataset) -> tuple[Network, str]:
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


def run(args: argparse.Namespace) -> int:
    """Run ``derive train``; returns the exit status."""
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
