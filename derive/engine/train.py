"""Training with the compiled engine: the SGD loop, saving parameters, the loss curve.

``fit`` runs mini-batch SGD (momentum optional) with ``Engine.loss_and_grad`` and records loss
and accuracy per epoch; ``save_params`` writes the parameters atomically to .npz and
``svg_curve`` draws the loss curve as a small hand-written SVG (no plotting library). The
``derive train`` command is in derive/cli/train.py.
"""

from __future__ import annotations

import html
import io
import math
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

__all__ = [
    "History", "TrainingDivergedError", "accuracy", "class_labels", "fit", "nice_step", "save_params", "svg_curve",
    "ticks",
]


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
    stopped: bool = False  # fit returned early because ``stop()`` said so (e.g. Ctrl-C)

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
    stop: Callable[[], bool] | None = None,
) -> History:
    """Mini-batch SGD on (X, Y), updating ``params`` in place; the history per epoch.

    Each epoch shuffles the rows (``rng``), steps through batches of ``batch`` rows with
    v ← μ v + ∇J, θ ← θ − lr v (plain SGD when ``momentum`` = 0), then records the mean batch
    loss and the training accuracy (and the test loss and accuracy when test data is given).
    ``on_epoch(epoch, history)`` is called after each epoch. ``stop()`` is asked before each batch:
    when it returns True, fit returns at once with ``history.stopped`` set and ``params`` as the
    last whole step left them (no epoch is half recorded). Raises TrainingDivergedError when the
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
            if stop is not None and stop():
                history.stopped = True
                history.seconds = time.perf_counter() - start
                return history
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


def nice_step(span: float, most: int = 6) -> float:
    """The smallest step of the form 1, 2 or 5 × 10^k that cuts ``span`` into at most ``most`` parts."""
    if not (span > 0 and math.isfinite(span)):
        return 1.0
    rough = span / most
    power = 10.0 ** math.floor(math.log10(rough))
    for mantissa in (1, 2, 5, 10):
        if mantissa * power >= rough * (1 - 1e-9):
            return mantissa * power
    return 10 * power  # not reached: 10 × power >= rough always


def ticks(hi: float, most: int = 6) -> tuple[list[float], int]:
    """Round ticks 0, s, 2s, … up to the first one >= ``hi`` (s from :func:`nice_step`), and the
    decimals that print them exactly (0.05 → 2)."""
    step = nice_step(hi, most)
    count = max(1, math.ceil(hi / step - 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return [round(k * step, decimals) for k in range(count + 1)], decimals


def svg_curve(history: History, title: str, width: int = 640, height: int = 380) -> str:
    """The loss per epoch (and accuracy on a 0–100 % right axis) as a self-contained SVG.

    Ticks are round (1, 2 or 5 × 10^k); the legend has its own row above the plot, so it covers
    no curve.
    """
    left, right, top, bottom = 64, 56, 56, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(history.epochs, 1)
    series = [v for v in history.loss + history.test_loss if math.isfinite(v)]
    loss_ticks, decimals = ticks(max(max(series, default=1.0), 1e-12))
    hi = loss_ticks[-1]
    has_accuracy = any(a is not None for a in history.accuracy)

    def x(i: float) -> float:
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
    for v in loss_ticks:  # gridlines and the loss axis on the left
        yy = y_loss(v)
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end">{v:.{decimals}f}</text>')
    out.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">loss</text>'
    )
    if has_accuracy:  # the accuracy axis on the right: 0, 20, …, 100 %
        for k in range(6):
            yy = y_acc(k / 5)
            edge = left + plot_w
            out.append(f'<line x1="{edge}" x2="{edge + 4}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#999"/>')
            out.append(f'<text x="{left + plot_w + 7}" y="{yy + 4:.1f}">{20 * k}%</text>')
    step = max(1, round(nice_step(n - 1))) if n > 1 else 1  # whole epochs
    epoch_ticks = sorted({1, *range(step, n + 1, step)})
    if len(epoch_ticks) > 1 and epoch_ticks[1] - 1 < 0.4 * step:  # 1 would crowd the first round tick
        epoch_ticks.pop(0)
    for i in epoch_ticks:
        out.append(f'<text x="{x(i):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{i}</text>')
    out.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">epoch</text>')
    out.append(polyline(list(history.loss), y_loss, 'stroke="#1f77b4" stroke-width="2"'))
    out.append(polyline(list(history.test_loss), y_loss, 'stroke="#1f77b4" stroke-dasharray="5,4"'))
    out.append(polyline(list(history.accuracy), y_acc, 'stroke="#d62728" stroke-width="2"'))
    out.append(polyline(list(history.test_accuracy), y_acc, 'stroke="#d62728" stroke-dasharray="5,4"'))
    legend = [("loss", "#1f77b4", "")]
    if has_accuracy:
        legend.append(("accuracy", "#d62728", ""))
    if history.test_loss:
        legend.append(("test (dashed)", "#555", 'stroke-dasharray="5,4"'))
    ly = top - 14  # a row of its own between the title and the plot
    out.append('<g class="legend">')
    for k, (label, color, dash) in enumerate(legend):
        lx = left + 110 * k
        out.append(
            f'<line x1="{lx}" x2="{lx + 20}" y1="{ly}" y2="{ly}" stroke="{color}" stroke-width="2" {dash}/>'
        )
        out.append(f'<text x="{lx + 25}" y="{ly + 4}">{label}</text>')
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(s for s in out if s) + "\n"
