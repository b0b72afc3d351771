"""Time derive's generated engine against hand-written NumPy and PyTorch eager, on one thread.

    python benchmarks/bench_engine.py            # full run, markdown table on stdout
    python benchmarks/bench_engine.py --quick    # fewer repetitions, for a smoke test

Every implementation computes the same thing (cost and gradient of a sigmoid network with a
softmax/cross-entropy output) on the same arrays, in the same process. Repetitions are
interleaved (each round times every implementation, in a shuffled order) so drifts in clock
speed and memory state hit all alike. The table shows the median time of each implementation;
each ratio is the median of the per-round ratios (paired samples: a slow spell of a shared
machine falls on both sides of a ratio). "GEMM share" is the time of the matrix products alone
(same shapes and transposes) over derive's time: what no elementwise trick can remove.

PyTorch runs in its own interleaved rounds against the hand-written reference, after the
derive/hand rounds of the same shape. Interleaved with the NumPy implementations, its
allocator's traffic changes how glibc hands memory back to them: the hand-written version,
which allocates fresh arrays every call, then skips page faults it pays when run on its own
(the large float64 case measured 7 % faster that way). ``--torch-interleaved`` puts all three
in the same rounds instead.

Clock: CPU time of this process (``time.process_time``) by default, so that time spent waiting
for a core on a shared machine is not counted; ``--clock wall`` uses ``time.perf_counter``.
Every implementation runs on one thread, so CPU time is the work done.

Threads: OMP/OPENBLAS/MKL_NUM_THREADS are set to 1 before NumPy is imported (and threadpoolctl
pins BLAS when installed); PyTorch gets ``torch.set_num_threads(1)``. OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE are left as the environment has them; the BLAS kernel in use is printed.

The header names the CPU, the load average (a shared machine's numbers are only as good as its
quiet), the BLAS kernel and NumPy's SIMD targets: NumPy's exp and tanh are vectorised for
AVX-512 and much slower without it, which moves the elementwise share of every implementation.
An AVX-512 machine runs the code paths of an AVX2 one (AMD Zen 2/3, Intel before Skylake-X) with

    NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR" OPENBLAS_CORETYPE=Haswell \
        python benchmarks/bench_engine.py

(the caches stay the machine's own).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # before NumPy loads its BLAS: one thread for everyone

import argparse  # noqa: E402
import functools  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hand_numpy  # noqa: E402
from machine import cpu_model  # noqa: E402

from derive import Network  # noqa: E402

SHAPES = [
    ("tiny", [2, 4, 2], 4),
    ("small", [64, 32, 10], 32),
    ("medium", [784, 128, 10], 256),
    ("large", [784, 1024, 1024, 10], 512),
]


def _blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return "BLAS: threadpoolctl not installed (threads pinned by environment variables)"
    threadpool_limits(1)
    parts = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture', '')}, {i.get('num_threads')} thread(s)"
        for i in threadpool_info()
        if i.get("user_api") == "blas"
    ]
    return "BLAS: " + "; ".join(parts)


def _numpy_simd() -> str:
    """The SIMD targets NumPy's ufuncs dispatch to (exp is 7x faster with AVX-512 than without)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # other NumPy versions: not shown
        return "unknown"
    return " ".join(t for t in __cpu_dispatch__ if __cpu_features__.get(t)) or "baseline only"


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def _problem(sizes: list[int], m: int, dtype: type, seed: int = 0):
    rng = np.random.default_rng(seed)
    params = [
        (
            (rng.standard_normal((o, i)) / np.sqrt(i)).astype(dtype),
            (0.1 * rng.standard_normal(o)).astype(dtype),
        )
        for i, o in zip(sizes, sizes[1:], strict=False)
    ]
    X = rng.standard_normal((m, sizes[0])).astype(dtype)
    Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], m)]
    return params, X, Y


def _gemms(params, X: np.ndarray) -> Callable[[], None]:
    """The matrix products of one backprop pass, alone, with the engine's shapes and transposes."""
    m = X.shape[0]
    acts = [X] + [np.ones((m, W.shape[0]), dtype=X.dtype) for W, _ in params]
    deltas = [np.ones((m, W.shape[0]), dtype=X.dtype) for W, _ in params]

    def run() -> None:
        for l, (W, _) in enumerate(params):
            acts[l] @ W.T
        for l in range(len(params) - 1, -1, -1):
            deltas[l].T @ acts[l]
            if l > 0:
                deltas[l] @ params[l][0]

    return run


def _torch_impl(params, X, Y):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tp = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    tX, tY = torch.tensor(X), torch.tensor(Y)
    flat = [t for pair in tp for t in pair]

    def run():
        for t in flat:
            t.grad = None
        a = tX
        for W, b in tp[:-1]:
            a = torch.sigmoid(torch.addmm(b, a, W.T))
        W, b = tp[-1]
        z = torch.addmm(b, a, W.T)
        loss = -(tY * torch.log_softmax(z, dim=1)).sum() / tX.shape[0]
        loss.backward()
        return loss

    return run


CLOCK = time.process_time


def _calls_per_sample(fn: Callable[[], object], budget: float) -> int:
    n, elapsed = 1, 0.0
    while True:
        start = CLOCK()
        for _ in range(n):
            fn()
        elapsed = CLOCK() - start
        if elapsed >= budget or n >= 1 << 20:
            return max(1, int(n * budget / max(elapsed, 1e-9)))
        n *= 4


def _bench(impls: dict[str, Callable[[], object]], reps: int, budget: float) -> dict[str, list[float]]:
    counts = {k: _calls_per_sample(f, budget) for k, f in impls.items()}
    samples: dict[str, list[float]] = {k: [] for k in impls}
    order = random.Random(0)
    for _ in range(reps):
        names = list(impls)
        order.shuffle(names)  # interleaved, in a new order each round: no one always runs first
        for k in names:
            f, n = impls[k], counts[k]
            start = CLOCK()
            for _ in range(n):
                f()
            samples[k].append((CLOCK() - start) / n)
    return samples


def _paired_ratio(samples: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of a/b, each ratio from one round: both ran back to back, under the
    same conditions, so a slow spell on a shared machine cancels instead of landing on one side."""
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def _check_same_results(engine, params, X, Y) -> None:
    J, grads = engine.loss_and_grad(params, X, Y)
    J_ref, grads_ref = hand_numpy.loss_and_grad(params, X, Y)
    tol = 1e-4 if X.dtype == np.float32 else 1e-10
    assert abs(J - J_ref) <= tol * abs(J_ref), (J, J_ref)
    for pair, ref in zip(grads, grads_ref, strict=True):
        for g, r in zip(pair, ref, strict=True):
            assert g.dtype == X.dtype and np.max(np.abs(g - r)) <= tol * max(np.max(np.abs(r)), 1e-30)


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter repetitions")
    parser.add_argument("--reps", type=int, default=None, help="interleaved repetitions (default 15, quick 3)")
    parser.add_argument("--only", default=None, help="comma-separated shape names (tiny,small,medium,large)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu", help="CPU time (default) or wall time")
    parser.add_argument(
        "--torch-interleaved", action="store_true", help="time PyTorch in the same rounds as derive and hand"
    )
    args = parser.parse_args(argv)
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    reps = args.reps or (3 if args.quick else 21)
    budget = 0.02 if args.quick else 0.1

    print(f"CPU: {cpu_model()}, {os.cpu_count()} logical CPU(s); {_load()}")
    print(_blas_info())
    print(f"NumPy SIMD dispatch: {_numpy_simd()}")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if var in os.environ:
            print(
                f"note: {var}={os.environ[var]} is set by the environment (kept; it can slow a current "
                "NumPy's BLAS, for every implementation alike)"
            )
    clock = "CPU time (process_time)" if args.clock == "cpu" else "wall time"
    print(f"numpy {np.__version__}; {reps} interleaved repetitions, median {clock} per call\n")

    rows = []
    header = "| shape | dtype | derive | hand NumPy | PyTorch eager | derive/hand | torch/hand | GEMM share |"
    print(header)
    print("|" + "---|" * 8)
    only = set(args.only.split(",")) if args.only else None
    for name, sizes, m in SHAPES:
        if only and name not in only:
            continue
        net = Network(sizes, hidden="sigmoid", output="softmax", loss="cce")
        engine = net.compile()
        for dtype in (np.float64, np.float32):
            params, X, Y = _problem(sizes, m, dtype)
            _check_same_results(engine, params, X, Y)
            impls: dict[str, Callable[[], object]] = {
                # partial: the same (small) calling cost for both
                "derive": functools.partial(engine.loss_and_grad, params, X, Y),
                "hand": functools.partial(hand_numpy.loss_and_grad, params, X, Y),
            }
            impls["gemm"] = _gemms(params, X)
            torch_run = _torch_impl(params, X, Y)
            if torch_run is not None and args.torch_interleaved:
                impls["torch"] = torch_run
            samples = _bench(impls, reps, budget)
            ratio = _paired_ratio(samples, "derive", "hand")
            torch_t, torch_ratio = None, "n/a"
            if torch_run is not None:
                if not args.torch_interleaved:  # its own rounds, paired with the hand-written reference
                    pair = _bench({"torch": torch_run, "hand": impls["hand"]}, reps, budget)
                    samples["torch"] = pair["torch"]
                    samples["hand_vs_torch"] = pair["hand"]
                torch_t = statistics.median(samples["torch"])
                torch_ratio = (
                    f"{_paired_ratio(samples, 'torch', 'hand_vs_torch' if 'hand_vs_torch' in samples else 'hand'):.2f}"
                )
            t = {k: statistics.median(v) for k, v in samples.items()}
            row = (
                f"| {name} {'-'.join(map(str, sizes))} b{m} | {np.dtype(dtype).name} | "
                f"{_fmt(t['derive'])} | {_fmt(t['hand'])} | {_fmt(torch_t) if torch_t else 'n/a'} | "
                f"{ratio:.2f} | {torch_ratio} | {min(t['gemm'] / t['derive'], 1.0):.0%} |"
            )
            rows.append((name, ratio))
            print(row, flush=True)
    print(f"\n{_load()} at the end")
    worst = max(r for _, r in rows)
    print(f"\nworst derive/hand ratio: {worst:.2f} (required <= 1.00)")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
