"""Hand-written NumPy backprop, the textbook way: the reference the engine is timed against.

Sigmoid hidden layers, softmax output, cross-entropy averaged over the batch; the δ rule
δ^(l) = (δ^(l+1) W^(l+1)) ⊙ a^(l)(1 − a^(l)) with rows as examples. Written as a careful
person writes it from the notes (stable softmax, no needless copies), not tuned further.
Same contract as ``Engine.loss_and_grad``: params = [(W, b)], W (n_out, n_in).
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def loss_and_grad(
    params: list[tuple[np.ndarray, np.ndarray]], X: np.ndarray, Y: np.ndarray
) -> tuple[float, list[tuple[np.ndarray, np.ndarray]]]:
    """Cross-entropy of a sigmoid network with a softmax output, and its gradient."""
    m = X.shape[0]
    activations = [X]
    a = X
    for W, b in params[:-1]:
        a = sigmoid(a @ W.T + b)
        activations.append(a)
    W, b = params[-1]
    z = a @ W.T + b
    z = z - z.max(axis=1, keepdims=True)  # softmax is shift-invariant; this keeps exp finite
    e = np.exp(z)
    s = e.sum(axis=1, keepdims=True)
    p = e / s
    loss = -np.sum(Y * (z - np.log(s))) / m

    delta = (p - Y) / m  # δ^(L) for softmax + cross-entropy
    grads = []
    for l in range(len(params) - 1, -1, -1):
        a_prev = activations[l]
        grads.append((delta.T @ a_prev, delta.sum(axis=0)))
        if l > 0:
            delta = (delta @ params[l][0]) * a_prev * (1 - a_prev)
    grads.reverse()
    return loss, grads
