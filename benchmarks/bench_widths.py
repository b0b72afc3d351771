"""How derive() grows with the width: the symbolic part (flat: lemmas for every size) and the
numeric witness (linear in the parameters), each network in a fresh process on one core.

    python benchmarks/bench_widths.py            # widths 2, 8, 32, 128, 1024, 4096 and the goals
    python benchmarks/bench_widths.py --quick    # without width 4096

Networks: [w, w, w, 10] with sigmoid hidden layers and a softmax/cross-entropy output (two hidden
layers), then 2-3-2 and 784-1024-1024-10 for the goal "784-1024-1024-10 ≤ 10 s cold (required ≤ 60 s
and ≤ 10× the 2-3-2 network in the same run)". Each run is a new Python process pinned to one CPU
(BLAS on one thread): "cold" includes proving the lemmas, which a process does once; the time to
import derive is printed apart. Peak memory is the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import cpu_model  # noqa: E402

CHILD = r"""
import json, os, resource, sys, time
os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
start = time.perf_counter()
from derive import Network
imported = time.perf_counter() - start
sizes = json.loads(sys.argv[1])
net = Network(sizes, hidden="sigmoid", output="softmax", loss="cce")
start = time.perf_counter()
d = net.derive()
total = time.perf_counter() - start
print(json.dumps({
    "sizes": sizes, "parameters": net.n_parameters, "import": imported, "total": total,
    "symbolic": d.symbolic_seconds, "witness": d.witness_seconds, "steps": len(d.steps),
    "all_proved": d.all_proved, "for_all_sizes": d.for_all_sizes, "witness_ok": d.witness.ok,
    "compared": d.witness.compared, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def run(sizes: list[int]) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(sizes)], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{sizes}: {done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="leave out width 4096")
    args = parser.parse_args()
    widths = [2, 8, 32, 128, 1024] + ([] if args.quick else [4096])
    print(f"# derive() by width, one core, a fresh process each — {cpu_model()}, load {os.getloadavg()[0]:.2f}")
    print()
    print("| network | parameters | symbolic (s) | witness (s) | derive() total (s) | import (s) | peak MB | proved |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {}
    for sizes in [[w, w, w, 10] for w in widths] + [[2, 3, 2], [784, 1024, 1024, 10]]:
        r = run(sizes)
        rows["-".join(map(str, sizes))] = r
        proved = "all sizes" if r["all_proved"] and r["for_all_sizes"] and r["witness_ok"] else "NO"
        print(f"| {'-'.join(map(str, sizes))} | {r['parameters']:,} | {r['symbolic']:.2f} | {r['witness']:.2f} | "
              f"{r['total']:.2f} | {r['import']:.2f} | {r['peak_mb']:.0f} | {proved} |", flush=True)
    big, small = rows["784-1024-1024-10"]["total"], rows["2-3-2"]["total"]
    print()
    print(f"784-1024-1024-10: {big:.2f} s cold (goal ≤ 10 s, required ≤ 60 s); "
          f"{big / small:.1f}× the 2-3-2 network's {small:.2f} s (required ≤ 10×)")
    ok = big <= 60 and big <= 10 * small and all(
        r["all_proved"] and r["for_all_sizes"] and r["witness_ok"] for r in rows.values()
    )
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
