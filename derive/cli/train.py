"""``derive train``: train a network with the compiled engine on a data set.

Every argument is checked before any work (argparse types, then the data and the network), so a
bad value is one line and exit status 2 before the banner. Picks a sensible network for the
built-in data sets when ``--net`` is not given, shows a progress bar when stderr is a terminal
(or with ``--progress``), saves the parameters atomically to .npz and draws the loss curve as
SVG. Ctrl-C stops after the current step, saves the parameters (to --save, or to a file name it
prints) and exits 130.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..engine import datasets
from ..engine.datasets import Dataset, check_targets
from ..engine.train import History, fit, save_params, svg_curve
from ..fileio import write_atomic
from ..model.network import Network
from .options import (
    add_network_arguments,
    at_least,
    fraction,
    network_from_args,
    output_file,
    positive_number,
)

__all__ = ["FILE_PRESET", "INTERRUPTED_FILE", "PRESETS", "add_parser", "run"]

# Defaults per built-in data set: network, learning rate, epochs, batch, test fraction.
PRESETS: dict[str, dict[str, Any]] = {
    "xor": dict(sizes=[2, 4, 1], hidden="tanh", lr=0.5, epochs=300, batch=4, test=0.0),
    "spirals": dict(sizes=[2, 32, 32, 1], hidden="tanh", lr=0.1, epochs=200, batch=32, test=0.2),
    "digits": dict(sizes=[64, 64, 10], hidden="tanh", lr=0.1, epochs=30, batch=32, test=0.2),
}
FILE_PRESET = dict(hidden="tanh", lr=0.1, epochs=50, batch=32, test=0.2)
INTERRUPTED_FILE = "derive-train-interrupted.npz"  # where Ctrl-C saves without --save
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


def add_parser(subparsers: Any) -> None:
    """Register ``derive train``."""
    parser = subparsers.add_parser(
        "train",
        help="train a network with the compiled engine",
        description="Train with mini-batch SGD on generated data (xor, spirals), the 8x8 digits "
        "(needs scikit-learn) or a .npz/.csv file. Without --net a network suited to the data is "
        "chosen (digits: 64,64,10 tanh, softmax/cce). Ctrl-C stops after the current step, saves "
        f"the parameters (to --save, else to {INTERRUPTED_FILE}) and exits 130.",
    )
    parser.add_argument("--data", required=True, metavar="DATA", help="xor | spirals | digits | FILE.npz | FILE.csv")
    group = add_network_arguments(parser, "network (default: chosen for the data set)")
    group.set_defaults(hidden=None, loss=None)  # None: taken from the data set's preset
    for action in group._group_actions:  # the shared options' help names fixed defaults; here they vary
        if action.dest == "hidden":
            action.help = "hidden activation, or one per hidden layer (default: tanh)"
        elif action.dest == "loss":
            action.help = "loss (default: bce for two classes, cce for more, mse for real targets)"
    parser.add_argument("--epochs", type=at_least(0), default=None, help="passes over the data (default: by data set)")
    parser.add_argument("--lr", type=positive_number, default=None, help="learning rate (default: by data set)")
    parser.add_argument("--batch", type=at_least(1), default=None, help="rows per step (default: by data set)")
    parser.add_argument(
        "--momentum", type=fraction, default=0.9, help="SGD momentum in [0, 1), 0 for plain SGD (default 0.9)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for initial weights, shuffling, split")
    parser.add_argument(
        "--test-fraction",
        type=fraction,
        default=None,
        metavar="F",
        help="share of the data held out for testing, in [0, 1) (default: by data set)",
    )
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64", help="array dtype")
    parser.add_argument(
        "--save", type=output_file, metavar="PARAMS.npz", help="write the trained parameters here (atomically)"
    )
    parser.add_argument("--plot", type=output_file, metavar="CURVE.svg", help="write the loss curve here as SVG")
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
        type=at_least(1),
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


@contextmanager
def _ctrl_c_stops() -> Iterator[Callable[[], bool]]:
    """A ``stop()`` that turns True at the first Ctrl-C; a second Ctrl-C interrupts at once."""
    pressed = threading.Event()
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield pressed.is_set
        return
    previous = signal.getsignal(signal.SIGINT)

    def first(signum: int, frame: object) -> None:
        pressed.set()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, first)
    try:
        yield pressed.is_set
    finally:
        signal.signal(signal.SIGINT, previous)


def _free_name(name: str) -> str:
    """``name``, or name-2, name-3 … when a file of that name exists (never overwrite silently)."""
    path = Path(name)
    k = 2
    while path.exists():
        path = Path(f"{Path(name).stem}-{k}{Path(name).suffix}")
        k += 1
    return str(path)


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
    Y = data.targets_for(net.sizes[0], net.sizes[-1])
    check_targets(Y, net.loss, data.name)
    engine = net.compile()
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(args.seed)

    test_fraction = preset["test"] if args.test_fraction is None else args.test_fraction
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
            sys.stdout.flush()

    params = engine.init_params(rng, dtype=dtype)
    history = History()
    try:
        with _ctrl_c_stops() as stop:
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
                stop=stop,
            )
    except KeyboardInterrupt:  # a second Ctrl-C: the step in progress may be half applied, still save it
        history.stopped = True
    finally:
        bar.close()
    title = f"{net.label} on {data.name}"
    if history.stopped:
        return _save_interrupted(args, net, params, history, title, epochs)
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
        write_atomic(args.plot, svg_curve(history, title))
        print(f"wrote the loss curve to {args.plot}")
    return 0


def _save_interrupted(
    args: argparse.Namespace, net: Network, params: Any, history: History, title: str, epochs: int
) -> int:
    """Ctrl-C: keep what was learned (atomically), say where, exit 130."""
    path = args.save or _free_name(INTERRUPTED_FILE)
    save_params(path, net, params, history)
    said = f"derive: interrupted in epoch {min(history.epochs + 1, epochs)} of {epochs}; saved the parameters to {path}"
    if args.plot and history.epochs:
        write_atomic(args.plot, svg_curve(history, title))
        said += f" and the loss curve so far to {args.plot}"
    print(said, file=sys.stderr)
    return EXIT_INTERRUPTED
