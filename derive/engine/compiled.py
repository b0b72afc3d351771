"""The compiled backprop engine: generated code, run on NumPy arrays or another array namespace.

``compile_network(net)`` generates the source of ``forward`` and ``loss_and_grad`` from the
proved closed forms (:mod:`derive.codegen`), compiles it once, and wraps it in an
:class:`Engine`. Nothing here imports SymPy at call time: the generated functions see only
``xp``, the array namespace.

Array namespaces
    NumPy is the default. Its reductions are bound as the ufunc reductions themselves
    (``numpy.add.reduce`` for ``xp.sum``): same results as ``numpy.sum`` without its Python
    wrapper, which matters for small batches. PyTorch gets a small adapter (``torch.amax`` for
    ``xp.max``, scalars accepted by ``maximum``/``logaddexp``); any other module that follows
    NumPy's names (CuPy, the array API) is used as it is.

Underflow
    e^{-2000} is 0 in floating point, and that is the right answer; NumPy would still flag it
    ("underflow encountered in exp") under ``errstate(all="raise")``. The engine evaluates with
    underflow ignored and leaves overflow, invalid and divide-by-zero as the caller set them.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import special

from ..errors import InputError
from ..model import network as network_module
from .codegen import generate_source
from .train import History, fit

if TYPE_CHECKING:
    from ..model.network import Network

__all__ = ["Engine", "Params", "array_namespace", "compile_network"]

Params = list[tuple[Any, Any]]  # [(W, b) per layer]; W (n_out, n_in), b (n_out,)


# --------------------------------------------------------------------------------------------
# Array namespaces.
# --------------------------------------------------------------------------------------------


def _aligned_empty(shape: tuple[int, ...], dtype: Any = float) -> np.ndarray:
    """``np.empty`` starting on a 64-byte boundary (a cache line, one AVX-512 register).

    Workspace buffers are reused for every call, so aligning them once is free; vector loads then
    never straddle two cache lines (elementwise passes measured about 10 % faster than on
    NumPy's default 16-byte alignment).
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + 64, dtype=np.uint8)
    start = -raw.ctypes.data % 64
    return raw[start : start + nbytes].view(dtype).reshape(shape)


def _numpy_namespace() -> types.SimpleNamespace:
    ns = types.SimpleNamespace(**{name: getattr(np, name) for name in dir(np) if not name.startswith("_")})
    # Same arithmetic as numpy.sum / numpy.max (they call these), minus a Python-level wrapper.
    ns.sum = np.add.reduce
    ns.max = np.maximum.reduce
    ns.empty = _aligned_empty  # called only by the generated ``workspace``
    ns.erf = special.erf  # NumPy has no erf (GELU): SciPy's ufunc, which also takes out=
    ns.__name__ = "numpy"
    return ns


_NUMPY = _numpy_namespace()

# Underflow is ignored around NumPy calls (see the module docstring). Entering np.errstate costs
# about 1.5 µs, a twentieth of a tiny batch, so it is skipped when NumPy's error state is the
# untouched default (which already ignores underflow). NumPy 2 keeps that state in a context
# variable; where that internal is not found, the engine always enters np.errstate.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _error_state

    _default_error_state = _error_state.get() if np.geterr()["under"] == "ignore" else None
except (ImportError, AttributeError):  # pragma: no cover - other NumPy versions
    _error_state = _default_error_state = None
_NO_WORKSPACES: dict[tuple[Any, ...], tuple[Any, ...]] = {}


class _TorchNamespace:
    """The NumPy-named functions the generated code calls, for PyTorch tensors."""

    def __init__(self, torch: types.ModuleType) -> None:
        self._torch = torch
        self.__name__ = "torch"
        self.tanh, self.exp, self.log, self.erf, self.expm1 = torch.tanh, torch.exp, torch.log, torch.erf, torch.expm1

    def sum(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self._torch.sum(x) if axis is None else self._torch.sum(x, dim=axis, keepdim=keepdims)

    def max(self, x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
        return self._torch.amax(x) if axis is None else self._torch.amax(x, dim=axis, keepdim=keepdims)

    def _pair(self, a: Any, b: Any) -> tuple[Any, Any]:
        # torch.maximum / torch.logaddexp take tensors only; a Python scalar becomes one alike.
        like = b if isinstance(b, self._torch.Tensor) else a

        def as_tensor(v: Any) -> Any:
            if isinstance(v, self._torch.Tensor):
                return v
            return self._torch.as_tensor(v, dtype=like.dtype, device=like.device)

        return as_tensor(a), as_tensor(b)

    def maximum(self, a: Any, b: Any) -> Any:
        return self._torch.maximum(*self._pair(a, b))

    def heaviside(self, a: Any, b: Any) -> Any:
        return self._torch.heaviside(*self._pair(a, b))

    def minimum(self, a: Any, b: Any) -> Any:
        return self._torch.minimum(*self._pair(a, b))

    def logaddexp(self, a: Any, b: Any) -> Any:
        return self._torch.logaddexp(*self._pair(a, b))

    def vdot(self, a: Any, b: Any) -> Any:
        return self._torch.sum(a * b)  # torch.vdot takes 1-D tensors only


_TORCH_NAMESPACES: dict[int, _TorchNamespace] = {}


def array_namespace(xp: Any = None) -> Any:
    """The namespace the generated code calls as ``xp``, for the module ``xp`` (None: NumPy)."""
    if xp is None or xp is np or xp is _NUMPY:
        return _NUMPY
    if isinstance(xp, _TorchNamespace):
        return xp
    if getattr(xp, "__name__", "") == "torch":
        if id(xp) not in _TORCH_NAMESPACES:
            _TORCH_NAMESPACES[id(xp)] = _TorchNamespace(xp)
        return _TORCH_NAMESPACES[id(xp)]
    return xp


def _namespace_of(array: Any) -> Any:
    """The namespace for an array that is not a NumPy array (PyTorch tensors, array-API arrays)."""
    module = type(array).__module__.split(".")[0]
    if module == "torch":
        import torch

        return array_namespace(torch)
    if hasattr(array, "__array_namespace__"):
        return array_namespace(array.__array_namespace__())  # NumPy's own subclasses map to _NUMPY
    return _NUMPY


# --------------------------------------------------------------------------------------------
# The engine.
# --------------------------------------------------------------------------------------------


@dataclass
class _Compiled:
    forward: Callable[[Params, Any], Any]
    loss_and_grad: Callable[[Params, Any, Any], tuple[Any, Params]]
    workspace: Callable[[Any, Any], tuple[Any, ...]]
    loss_and_grad_into: Callable[[Params, Any, Any, tuple[Any, ...]], tuple[Any, Params]]


MAX_WORKSPACES = 8  # per thread and engine: batch shapes kept warm (train batch, last batch, test set…)


@dataclass
class Engine:
    """Backpropagation for one network, compiled from its proved closed forms.

    ``source`` is the generated module (inspect it; it never mentions SymPy). ``params`` are a
    list over layers of ``(W, b)`` with ``W`` of shape (n_out, n_in) and ``b`` of shape (n_out,);
    ``X`` is (m, n_in), ``Y`` is (m, n_out), one example per row. Results keep the input dtype.

    On NumPy the engine runs ``loss_and_grad_into``: the same closed forms, every intermediate
    written into buffers allocated once per batch shape and dtype (per thread) and reused. The
    returned cost and gradients are always new arrays. ``buffered=False`` runs the plain
    ``loss_and_grad`` instead (what other array namespaces run).
    """

    net: Network
    source: str
    namespace_functions: frozenset[str]
    _code: types.CodeType = field(repr=False)
    _default_ns: Any = field(default=None, repr=False)  # None: NumPy, or the arrays' own namespace
    buffered: bool = True
    buffered_functions: frozenset[str] = frozenset()
    _by_namespace: dict[int, _Compiled] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        numpy_fns = self._compiled(_NUMPY)
        self._np_forward = numpy_fns.forward
        self._np_loss_and_grad = numpy_fns.loss_and_grad
        self._np_into = numpy_fns.loss_and_grad_into
        self._np_workspace = numpy_fns.workspace
        self._local = threading.local()  # workspaces are per thread: calls may run concurrently
        self._fast = self._default_ns is None and self.buffered

    # ---- compiled functions per namespace ---------------------------------------------------

    def _compiled(self, ns: Any) -> _Compiled:
        compiled = self._by_namespace.get(id(ns))
        if compiled is None:
            missing = sorted(name for name in self.namespace_functions if not hasattr(ns, name))
            if missing:
                raise InputError(f"array namespace {getattr(ns, '__name__', ns)!r} lacks {', '.join(missing)}")
            scope: dict[str, Any] = {"xp": ns}  # our generated code sees the namespace, nothing else
            exec(self._code, scope)  # noqa: S102 - the source is generated by derive.codegen
            compiled = _Compiled(
                scope["forward"], scope["loss_and_grad"], scope["workspace"], scope["loss_and_grad_into"]
            )
            self._by_namespace[id(ns)] = compiled
        return compiled

    def _for(self, xp: Any, X: Any) -> _Compiled | None:
        """The compiled functions for a non-NumPy call, or None for the NumPy fast path."""
        if xp is None:
            if self._default_ns is not None:
                return self._compiled(self._default_ns)
            if type(X) is np.ndarray:
                return None
            ns = _namespace_of(X)
        else:
            ns = array_namespace(xp)
        return None if ns is _NUMPY else self._compiled(ns)

    def _workspace(self, key: tuple[Any, ...], params: Params, X: np.ndarray) -> tuple[Any, ...]:
        cache: dict[tuple[Any, ...], tuple[Any, ...]] = self._local.__dict__.setdefault("workspaces", {})
        if len(cache) >= MAX_WORKSPACES:
            del cache[next(iter(cache))]  # the oldest shape
        dtype = np.result_type(X, *(a for pair in params for a in pair))
        cache[key] = ws = self._np_workspace(X, dtype)
        return ws

    # ---- the public calls -------------------------------------------------------------------

    def loss_and_grad(self, params: Params, X: Any, Y: Any, xp: Any = None) -> tuple[Any, Params]:
        """The cost J (mean over the m rows, plus λ/(2m) Σ‖W‖²) and [(dJ/dW, dJ/db) per layer]."""
        if self._fast and xp is None and type(X) is np.ndarray:
            key = (X.shape[0], X.dtype, params[0][0].dtype, Y.dtype)
            ws = self._local.__dict__.get("workspaces", _NO_WORKSPACES).get(key)
            if ws is None:
                ws = self._workspace(key, params, X)
            if _default_error_state is not None and _error_state.get() is _default_error_state:
                return self._np_into(params, X, Y, ws)
            with np.errstate(under="ignore"):
                return self._np_into(params, X, Y, ws)
        compiled = self._for(xp, X)
        if compiled is not None:
            return compiled.loss_and_grad(params, X, Y)
        with np.errstate(under="ignore"):
            return self._np_loss_and_grad(params, X, Y)

    def forward(self, params: Params, X: Any, xp: Any = None) -> Any:
        """The output activations a^(L) for the rows of X (softmax probabilities for CCE)."""
        compiled = self._for(xp, X)
        if compiled is not None:
            return compiled.forward(params, X)
        with np.errstate(under="ignore"):
            return self._np_forward(params, X)

    def predict(self, params: Params, X: Any, xp: Any = None) -> Any:
        """Class labels: the largest output for several outputs, output > 0.5 for one."""
        out = self.forward(params, X, xp=xp)
        if self.net.sizes[-1] > 1:
            return out.argmax(1)
        return (out[:, 0] > 0.5) * 1

    def init_params(self, rng: np.random.Generator | int | None = None, dtype: Any = np.float64) -> Params:
        """Random weights (Glorot normal; He normal before a rectifier) and zero biases, as NumPy arrays."""
        rng = np.random.default_rng(rng)
        params: Params = []
        sizes = self.net.sizes
        for n_in, n_out, act in zip(sizes, sizes[1:], self.net.activations, strict=False):
            scale = np.sqrt(2.0 / n_in) if act.he_init else np.sqrt(2.0 / (n_in + n_out))
            W = (rng.standard_normal((n_out, n_in)) * scale).astype(dtype)
            params.append((W, np.zeros(n_out, dtype=dtype)))
        return params

    def train(
        self,
        params: Params,
        X: Any,
        Y: Any,
        *,
        lr: float = 0.1,
        epochs: int = 10,
        batch: int = 32,
        momentum: float = 0.0,
        rng: np.random.Generator | int | None = None,
        **options: Any,
    ) -> History:
        """Mini-batch SGD (with momentum when > 0) on (X, Y); updates ``params`` in place.

        Returns the history: loss and accuracy per epoch (see :func:`derive.train.fit`).
        """
        return fit(self, params, X, Y, lr=lr, epochs=epochs, batch=batch, momentum=momentum, rng=rng, **options)

    def check(self, params: Params, X: Any, Y: Any | None = None, where: str = "input") -> None:
        """Raise InputError (one line) unless params, X and Y have the shapes this network needs."""
        sizes = self.net.sizes
        if len(params) != len(sizes) - 1:
            raise InputError(f"{len(params)} layers of parameters for a network with {len(sizes) - 1}", where)
        for l, (pair, n_in, n_out) in enumerate(zip(params, sizes, sizes[1:], strict=False), start=1):
            W, b = pair
            if tuple(W.shape) != (n_out, n_in) or tuple(b.shape) != (n_out,):
                raise InputError(
                    f"layer {l}: W {tuple(W.shape)} and b {tuple(b.shape)}, expected ({n_out}, {n_in}) and ({n_out},)",
                    where,
                )
        _check_matrix(X, sizes[0], "X", where)
        if Y is not None:
            _check_matrix(Y, sizes[-1], "Y", where)
            if Y.shape[0] != X.shape[0]:
                raise InputError(f"X has {X.shape[0]} rows but Y has {Y.shape[0]}", where)


def _check_matrix(a: Any, cols: int, name: str, where: str) -> None:
    if len(a.shape) != 2 or a.shape[1] != cols:
        raise InputError(f"{name} has shape {tuple(a.shape)}, expected (m, {cols})", where)
    if a.shape[0] == 0:
        raise InputError(f"{name} has no rows", where)


def compile_network(net: Network, xp: Any = None, buffered: bool = True) -> Engine:
    """Generate, compile and wrap the backprop code of ``net``.

    ``xp`` is the array namespace calls use by default (``numpy``, ``torch``, …). Without it
    NumPy arrays run on NumPy and other arrays (PyTorch tensors) on their own namespace; a call
    can always name one with ``xp=``. ``buffered=False`` makes NumPy calls run the plain
    ``loss_and_grad`` (no reused buffers) instead of ``loss_and_grad_into``.
    """
    generated = generate_source(net)
    code = compile(generated.source, f"<derive engine {net.label}>", "exec")
    default = None if xp is None or array_namespace(xp) is _NUMPY else array_namespace(xp)
    engine = Engine(
        net, generated.source, generated.namespace_functions, code, default, buffered, generated.buffered_functions
    )
    if default is not None:
        engine._compiled(default)  # fail now, not at the first call, if the namespace lacks a function
    return engine


network_module.OPERATIONS["compile"] = compile_network
