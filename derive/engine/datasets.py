"""Data for ``derive train``: generated (xor, two spirals), scikit-learn's 8×8 digits, or a file.

Every loader returns a :class:`Dataset`: inputs ``X`` (m, n_in) as float64, and either integer
class ``labels`` or real ``targets`` (m, n_out). :meth:`Dataset.targets_for` turns labels into
the target matrix a network needs (one column of 0/1 for one sigmoid output, one-hot for
several outputs). Files are validated before anything is trained: NaN or infinite values,
ragged or non-numeric rows, wrong column counts and labels out of range are refused with an
:class:`~derive.errors.InputError` naming the file and the problem.

File formats
    ``.npz``: an array ``X`` (m, n_in) and either ``y`` (m,) integer class labels or ``Y``
    (m, n_out) targets; loaded with ``allow_pickle=False``.
    ``.csv``: one example per row, comma-separated numbers, an optional header line. The
    inputs come first; then either one column holding the class label (0 … n_out−1) or n_out
    target columns. With one output both readings agree.
"""

from __future__ import annotations

import csv
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..model import rules
from ..version import DISTRIBUTION

__all__ = ["BUILTIN", "Dataset", "check_targets", "digits", "load", "load_file", "spirals", "split_indices", "xor"]

BUILTIN = ("xor", "spirals", "digits")


@dataclass
class Dataset:
    """Inputs and either class labels or target rows; ``name`` says where they came from."""

    name: str
    X: np.ndarray
    labels: np.ndarray | None = None  # int64 (m,)
    targets: np.ndarray | None = None  # float64 (m, n_out)
    n_classes: int | None = None

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def targets_for(self, n_in: int, n_out: int) -> np.ndarray:
        """The (m, n_out) target matrix for a network with n_in inputs and n_out outputs."""
        if self.X.shape[1] != n_in:
            raise InputError(f"the data has {self.X.shape[1]} input columns but the network takes {n_in}", self.name)
        if self.targets is not None:
            if self.targets.shape[1] != n_out:
                raise InputError(
                    f"the data has {self.targets.shape[1]} target columns but the network has {n_out} outputs",
                    self.name,
                )
            return self.targets
        assert self.labels is not None
        classes = self.n_classes or int(self.labels.max()) + 1
        if n_out == 1:
            if classes > 2:
                raise InputError(f"{classes} classes need {classes} outputs (softmax), not one", self.name)
            return self.labels.reshape(-1, 1).astype(np.float64)
        if classes > n_out:
            raise InputError(f"labels go up to {classes - 1} but the network has {n_out} outputs", self.name)
        return np.eye(n_out)[self.labels]


def check_targets(Y: np.ndarray, loss: str, name: str) -> None:
    """Refuse targets the loss is not defined for, naming the first bad row (1-based)."""
    problem = rules.loss(loss).invalid_targets(Y)
    if problem is not None:
        raise InputError(problem, name)


def split_indices(
    labels: np.ndarray | None, m: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled train and test row indices; stratified (same share per class) given labels."""
    test = np.zeros(m, dtype=bool)
    if labels is None:
        test[rng.permutation(m)[: int(round(test_fraction * m))]] = True
    else:
        for c in np.unique(labels):
            idx = rng.permutation(np.flatnonzero(labels == c))
            test[idx[: int(round(test_fraction * len(idx)))]] = True
    return rng.permutation(np.flatnonzero(~test)), np.flatnonzero(test)


# ---- generated data ------------------------------------------------------------------------


def xor() -> Dataset:
    """The four points of XOR: label 1 when exactly one input is 1."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return Dataset("xor", X, labels=np.array([0, 1, 1, 0]), n_classes=2)


def spirals(
    n_per_class: int = 200, noise: float = 0.1, turns: float = 1.5, outer_radius: float = 3.0, seed: int = 0
) -> Dataset:
    """Two interleaved spirals in the plane (label 0 and 1), a classic nonlinear problem.

    The outer radius of 3 keeps inputs on the scale a tanh layer separates quickly.
    """
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.random(n_per_class)) * turns * 2 * np.pi  # denser near the centre, as usual
    radius = outer_radius * t / (turns * 2 * np.pi)
    arm = np.column_stack([radius * np.cos(t), radius * np.sin(t)])
    X = np.vstack([arm, -arm]) + noise * radius.mean() * rng.standard_normal((2 * n_per_class, 2))
    labels = np.repeat([0, 1], n_per_class)
    return Dataset("spirals", X, labels=labels, n_classes=2)


def digits() -> Dataset:
    """scikit-learn's 8×8 handwritten digits (1797 images, 10 classes), pixels scaled to [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError(
            f"the digits data set needs scikit-learn: pip install '{DISTRIBUTION}[digits]'", "digits"
        ) from None
    bunch = load_digits()
    return Dataset("digits", bunch.data.astype(np.float64) / 16.0, labels=bunch.target.astype(np.int64), n_classes=10)


# ---- files ---------------------------------------------------------------------------------


def load_file(path: str | Path, n_in: int | None = None, n_out: int | None = None) -> Dataset:
    """Read and validate a .npz or .csv data file (see the module docstring for the layout)."""
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise InputError("no such file" if not p.exists() else "not a regular file", name)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return _load_npz(p, name, n_in, n_out)
    if suffix == ".csv":
        return _load_csv(p, name, n_in, n_out)
    raise InputError(f"unknown data format {p.suffix!r}; use .npz or .csv", name)


def _load_npz(p: Path, name: str, n_in: int | None, n_out: int | None) -> Dataset:
    try:
        with np.load(p, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise InputError(f"not a readable .npz file ({type(err).__name__}: {err})", name) from None
    if "X" not in arrays:
        raise InputError(f"no array 'X' (found: {', '.join(sorted(arrays)) or 'none'})", name)
    X = _numeric(arrays["X"], "X", name)
    if X.ndim != 2:
        raise InputError(f"X must be 2-D (examples × inputs), not shape {X.shape}", name)
    if "y" in arrays:
        y = _numeric(arrays["y"], "y", name)
        if y.ndim != 1:
            raise InputError(f"y must be 1-D class labels, not shape {y.shape}", name)
        labels = _labels(y, name, "y")
        return _finish(name, X, labels=labels, targets=None, n_in=n_in, n_out=n_out)
    if "Y" in arrays:
        Y = _numeric(arrays["Y"], "Y", name)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if Y.ndim != 2:
            raise InputError(f"Y must be 2-D (examples × outputs), not shape {Y.shape}", name)
        return _finish(name, X, labels=None, targets=Y, n_in=n_in, n_out=n_out)
    raise InputError("no labels 'y' or targets 'Y' next to 'X'", name)


def _load_csv(p: Path, name: str, n_in: int | None, n_out: int | None) -> Dataset:
    rows: list[list[float]] = []
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            for line_no, row in enumerate(csv.reader(fh), start=1):
                if not row or all(not cell.strip() for cell in row):
                    continue
                try:
                    values = [float(cell) for cell in row]
                except ValueError:
                    if line_no == 1 and not rows:
                        continue  # a header line
                    bad = next(c for c in row if not _is_float(c))
                    raise InputError(f"{bad.strip()!r} is not a number", name, line_no) from None
                if not all(math.isfinite(v) for v in values):
                    raise InputError("NaN or infinite value", name, line_no)
                if rows and len(values) != len(rows[0]):
                    raise InputError(f"{len(values)} columns, but the first row has {len(rows[0])}", name, line_no)
                rows.append(values)
    except UnicodeDecodeError:
        raise InputError("not a text (UTF-8) CSV file", name) from None
    if not rows:
        raise InputError("no data rows", name)
    data = np.array(rows)
    cols = data.shape[1]
    if n_in is None or n_out is None:  # no network yet: last column is the label
        if cols < 2:
            raise InputError("needs at least one input column and a label column", name)
        return _finish(
            name,
            data[:, :-1],
            labels=_labels(data[:, -1], name, "the label column"),
            targets=None,
            n_in=n_in,
            n_out=n_out,
        )
    if cols == n_in + n_out:
        if n_out == 1 and np.all(np.isin(data[:, -1], (0.0, 1.0))):
            return _finish(
                name,
                data[:, :n_in],
                labels=data[:, -1].astype(np.int64),
                targets=None,
                n_in=n_in,
                n_out=n_out,
            )
        return _finish(name, data[:, :n_in], labels=None, targets=data[:, n_in:], n_in=n_in, n_out=n_out)
    if cols == n_in + 1:
        return _finish(
            name,
            data[:, :n_in],
            labels=_labels(data[:, -1], name, "the label column"),
            targets=None,
            n_in=n_in,
            n_out=n_out,
        )
    expected = f"{n_in + 1} (inputs and a label)" + (f" or {n_in + n_out} (inputs and targets)" if n_out > 1 else "")
    raise InputError(f"{cols} columns, but the network with {n_in} inputs needs {expected}", name)


def _is_float(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _numeric(a: np.ndarray, what: str, name: str) -> np.ndarray:
    if a.dtype.kind not in "biuf":
        raise InputError(f"{what} holds {a.dtype} values, not numbers", name)
    out = a.astype(np.float64)
    if not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise InputError(f"{what} has a NaN or infinite value at index {tuple(int(i) for i in bad)}", name)
    return out


def _labels(y: np.ndarray, name: str, what: str) -> np.ndarray:
    if np.any(y != np.round(y)) or np.any(y < 0):
        bad = y[(y != np.round(y)) | (y < 0)][0]
        raise InputError(f"{what} must hold class numbers 0, 1, 2, …; found {bad:g}", name)
    return y.astype(np.int64)


def _finish(
    name: str,
    X: np.ndarray,
    *,
    labels: np.ndarray | None,
    targets: np.ndarray | None,
    n_in: int | None,
    n_out: int | None,
) -> Dataset:
    m = X.shape[0]
    if m == 0:
        raise InputError("no examples", name)
    rows = len(labels) if labels is not None else targets.shape[0]  # type: ignore[union-attr]
    if rows != m:
        raise InputError(f"{m} rows of inputs but {rows} of labels/targets", name)
    if n_in is not None and X.shape[1] != n_in:
        raise InputError(f"{X.shape[1]} input columns, but the network takes {n_in}", name)
    n_classes = None
    if labels is not None:
        n_classes = int(labels.max()) + 1
        limit = n_out if n_out and n_out > 1 else 2
        if n_out is not None and n_classes > limit:
            raise InputError(
                f"label {n_classes - 1} is out of range for a network with {n_out} output"
                f"{'s' if n_out > 1 else ''} (labels 0 … {limit - 1})",
                name,
            )
        n_classes = max(n_classes, n_out if n_out and n_out > 1 else 2)
    if targets is not None and n_out is not None and targets.shape[1] != n_out:
        raise InputError(f"{targets.shape[1]} target columns, but the network has {n_out} outputs", name)
    return Dataset(name, X, labels=labels, targets=targets, n_classes=n_classes)


def load(spec: str, n_in: int | None = None, n_out: int | None = None, seed: int = 0) -> Dataset:
    """``xor``, ``spirals``, ``digits`` or a path to a .npz/.csv file."""
    if spec == "xor":
        return xor()
    if spec == "spirals":
        return spirals(seed=seed)
    if spec == "digits":
        return digits()
    return load_file(spec, n_in, n_out)
