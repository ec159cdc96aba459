"""Per-op Python overhead: forward + backward of tiny ops on 8x8 tensors, Ember vs PyTorch.

Not a test. Run: ``.venv/bin/python benchmarks/op_overhead.py`` (needs ``pip install torch==2.13.0``).
The two frameworks are timed in alternating rounds so machine noise hits both; the table reports the
median microseconds per forward+backward and the ratio Ember/PyTorch.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import numpy as np

import ember

OPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "matmul": lambda a, b: a @ b,
    "relu": lambda a, b: a.relu(),
    "sum": lambda a, b: a.sum(),
}


def _make(framework, rng):
    a = rng.standard_normal((8, 8)).astype(np.float32)
    b = rng.standard_normal((8, 8)).astype(np.float32)
    if framework == "ember":
        return (ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True),
                lambda shape: ember.ones(shape))
    import torch
    return (torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True),
            lambda shape: torch.ones(shape))


def time_op(framework, fn, iters: int) -> float:
    """Microseconds per forward+backward, averaged over ``iters`` calls."""
    a, b, ones = _make(framework, np.random.default_rng(0))
    seed = ones(tuple(fn(a, b).shape))
    start = time.perf_counter()
    for _ in range(iters):
        out = fn(a, b)
        out.backward(seed)
    return (time.perf_counter() - start) / iters * 1e6


def run(rounds: int = 7, iters: int = 2000) -> dict:
    import torch
    torch.set_num_threads(1)
    frameworks = ["ember", "torch"]
    results = {}
    for name, fn in OPS.items():
        samples = {f: [] for f in frameworks}
        for f in frameworks:          # warm-up
            time_op(f, fn, 200)
        for _ in range(rounds):
            for f in frameworks:
                samples[f].append(time_op(f, fn, iters))
        med = {f: statistics.median(v) for f, v in samples.items()}
        results[name] = {"ember_us": med["ember"], "torch_us": med["torch"], "ratio": med["ember"] / med["torch"]}
    return results


def main():
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.exit("PyTorch is needed for the comparison: pip install torch==2.13.0")
    results = run()
    print(f"{'op (8x8, fwd+bwd)':<20}{'ember us':>10}{'torch us':>10}{'ratio':>8}")
    for name, r in results.items():
        print(f"{name:<20}{r['ember_us']:>10.1f}{r['torch_us']:>10.1f}{r['ratio']:>8.2f}")
    mean_ratio = statistics.geometric_mean([r["ratio"] for r in results.values()])
    print(f"{'geometric mean':<40}{mean_ratio:>8.2f}")
    if "--json" in sys.argv:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
