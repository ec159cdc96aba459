"""Ember vs PyTorch, side by side: training-step and inference time per workload, in one run.

    .venv/bin/python benchmarks/run.py [--workloads mlp,lenet] [--seconds 2] [--json out.json]
                                      [--no-inference] [--no-overhead] [--no-compiled] [--threads N]

For each workload (``benchmarks/workloads.py``) both frameworks get the same initial weights (PyTorch's,
copied as NumPy arrays), the same float32 batch and the same loss/optimizer. After warm-up the two are
timed in alternating rounds (so load from other processes hits both alike) until each has at least
``--seconds`` of timed steps; the table shows median milliseconds per step, the ratio Ember/PyTorch,
and achieved GFLOP/s (FLOPs counted by ``torch.utils.flop_counter`` on the PyTorch model: matmuls and
convolutions, forward + backward) next to this machine's SGEMM peak (NumPy float32 2048x2048 matmul,
measured in the same run). The CPU-time ratio (process CPU time per step, all threads) is less
sensitive to other processes than wall time when the machine is shared. An inference row (forward under ``no_grad``, ``eval()`` mode) follows
each training row, and ``ember.jit.compile`` of the training step is timed too (a third contender in
the same rounds) unless ``--no-compiled``. Results go to ``--json`` (default ``benchmarks/results/latest.json``).
Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))            # workloads.py, op_overhead.py
sys.path.insert(0, str(HERE.parent))     # ember from the checkout

import ember  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

ROUND_SECONDS = 0.25     # one framework's share of one interleaved round


# -- building both sides --------------------------------------------------------------------------

class Side:
    """One framework's model, optimizer, batch and step functions for one workload."""

    def __init__(self, lib, wl, x, y, weights=None):
        self.lib = lib
        lib.manual_seed(0)
        self.model = wl.model(lib)
        if weights is not None:   # Ember: load PyTorch's initial weights
            self.model.load_state_dict({k: lib.tensor(v) for k, v in weights.items()})
        self.opt = wl.make_optimizer(lib, self.model.parameters())
        if lib.__name__ == "torch":
            self.x, self.y = lib.from_numpy(x), lib.from_numpy(y)
        else:
            self.x, self.y = lib.tensor(x), lib.tensor(y)
        self.cross_entropy = lib.nn.functional.cross_entropy

    def train_step(self):
        self.opt.zero_grad()
        loss = self.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.opt.step()
        return loss

    def infer_step(self):
        with self.lib.no_grad():
            return self.model(self.x)

    def weights(self):
        return {k: v.detach().numpy().copy() for k, v in self.model.state_dict().items()}


def _count_flops(wl, torch_side, train: bool) -> float | None:
    """FLOPs of one step (matmuls and convolutions), counted on the PyTorch model in training mode
    (in eval mode PyTorch's fused inference fast paths hide them from the counter)."""
    if wl.forward_flops:
        return float(wl.forward_flops * (3 if train else 1))
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    was_training = torch_side.model.training
    torch_side.model.train()
    with FlopCounterMode(display=False) as counter:
        torch_side.train_step() if train else torch_side.infer_step()
    torch_side.model.train(was_training)
    return float(counter.get_total_flops()) or None


# -- timing ---------------------------------------------------------------------------------------

def _steps(fn, seconds: float, cpu: list | None = None) -> list:
    """Run ``fn`` repeatedly for about ``seconds``; per-call wall times (process CPU times, all
    threads, appended to ``cpu`` when given)."""
    times = []
    end = time.perf_counter() + seconds
    while True:
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        if cpu is not None:
            cpu.append(time.process_time() - c0)
        times.append(t1 - t0)
        if t1 >= end:
            return times


def interleaved(fns: dict, seconds: float, warmup: int = 3) -> tuple:
    """Time each of ``fns`` (name -> callable) in alternating rounds until each has ``seconds`` of
    timed calls; per-call wall times and CPU times by name."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples = {k: [] for k in fns}
    cpu = {k: [] for k in fns}
    while min(sum(v) for v in samples.values()) < seconds:
        for k, fn in fns.items():
            samples[k] += _steps(fn, ROUND_SECONDS, cpu[k])
    return samples, cpu


def sgemm_peak(n: int = 2048, seconds: float = 1.0) -> float:
    """GFLOP/s of a NumPy float32 n x n matmul (median of repeated calls)."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.T.copy()
    out = np.empty_like(a)
    np.matmul(a, b, out=out)
    times = _steps(lambda: np.matmul(a, b, out=out), seconds)
    return 2 * n ** 3 / statistics.median(times) / 1e9


# -- one workload ---------------------------------------------------------------------------------

def _loss_check(e: Side, t: Side) -> float:
    """Relative difference of the first loss: confirms both sides compute the same thing."""
    le, lt = float(e.train_step().item()), float(t.train_step().item())
    return abs(le - lt) / max(abs(lt), 1e-12)


def run_workload(wl, seconds: float, inference: bool, compiled: bool) -> list:
    import torch
    rng = np.random.default_rng(0)
    x, y = wl.inputs(rng, wl.batch)
    t = Side(torch, wl, x, y)
    e = Side(ember, wl, x, y, weights=t.weights())
    rows = []
    loss_rel = _loss_check(e, t)
    flops = _count_flops(wl, t, train=True)
    fns = {"ember": e.train_step, "torch": t.train_step}
    comp_note = None
    if compiled:
        try:
            comp = ember.jit.compile(e.train_step)
            comp()
            fns["compiled"] = comp
        except Exception as exc:  # noqa: BLE001 - report, do not stop the run
            comp_note = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    s, cpu = interleaved(fns, seconds)
    rows.append(_row(wl.name, "train", s, cpu, flops, loss_rel))
    if "compiled" in s:
        rows.append(_row(wl.name, "compiled", s, cpu, flops, None, ember_key="compiled"))
    elif comp_note:
        rows[-1]["compiled_error"] = comp_note
    if inference:
        iflops = _count_flops(wl, t, train=False)
        e.model.eval()
        t.model.eval()
        s, cpu = interleaved({"ember": e.infer_step, "torch": t.infer_step}, seconds)
        rows.append(_row(wl.name, "infer", s, cpu, iflops, None))
    return rows


def _row(name, mode, samples, cpu, flops, loss_rel, ember_key="ember"):
    """One table row; ``ember_key`` picks the Ember contender ("ember" eager or "compiled")."""
    em, tm = statistics.median(samples[ember_key]), statistics.median(samples["torch"])
    ec, tc = statistics.median(cpu[ember_key]), statistics.median(cpu["torch"])
    return {"workload": name, "mode": mode,
            "ember_ms": em * 1e3, "torch_ms": tm * 1e3, "ratio": em / tm,
            "ember_cpu_ms": ec * 1e3, "torch_cpu_ms": tc * 1e3, "cpu_ratio": ec / tc,
            "ember_steps": len(samples[ember_key]), "torch_steps": len(samples["torch"]),
            "gflop": flops / 1e9 if flops else None,
            "ember_gflops": flops / em / 1e9 if flops else None,
            "torch_gflops": flops / tm / 1e9 if flops else None,
            "first_loss_rel_diff": loss_rel}


# -- report ---------------------------------------------------------------------------------------

def header() -> dict:
    import torch
    info = {"date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "python": platform.python_version(), "numpy": np.__version__, "torch": torch.__version__,
            "ember": getattr(ember, "__version__", "?"), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "blas_threads": None}
    try:
        from threadpoolctl import threadpool_info
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        blas.sort(key=lambda p: "numpy" not in p.get("filepath", ""))   # NumPy's own BLAS first
        if blas:
            info["blas_threads"] = blas[0]["num_threads"]
            info["blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')}"
    except ImportError:
        pass
    return info


def format_table(info, peak, rows, overhead=None) -> str:
    lines = [f"Ember vs PyTorch {info['torch']} (CPU), {info['date_utc']} UTC; {info['cores']} cores, "
             f"torch threads {info['torch_threads']}, NumPy BLAS threads {info['blas_threads']} "
             f"({info.get('blas', 'BLAS ?')}); SGEMM peak (NumPy float32 2048^2) {peak:.1f} GFLOP/s",
             "",
             "| workload | mode | Ember ms | PyTorch ms | Ember/PyTorch | CPU-time ratio | Ember GFLOP/s "
             "| PyTorch GFLOP/s | % of peak (Ember) |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        g = r["ember_gflops"]
        gs = (f"{r['ember_gflops']:.1f} | {r['torch_gflops']:.1f} | {100 * g / peak:.0f}%"
              if g else "- | - | -")
        lines.append(f"| {r['workload']} | {r['mode']} | {r['ember_ms']:.2f} | {r['torch_ms']:.2f} | "
                     f"{r['ratio']:.2f} | {r['cpu_ratio']:.2f} | {gs} |")
    lines.append("")
    lines.append("train: eager training step; compiled: the same step through ember.jit.compile (PyTorch "
                 "column: PyTorch eager); infer: forward under no_grad.")
    failed = [r for r in rows if "compiled_error" in r]
    for r in failed:
        lines.append(f"{r['workload']}: ember.jit.compile failed ({r['compiled_error']})")
    if overhead:
        lines += ["", "Per-op overhead (8x8 forward+backward, 1 torch thread; benchmarks/op_overhead.py):",
                  "", "| op | Ember us | PyTorch us | ratio |", "| --- | ---: | ---: | ---: |"]
        for name, r in overhead.items():
            lines.append(f"| {name} | {r['ember_us']:.1f} | {r['torch_us']:.1f} | {r['ratio']:.2f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, from: " + ", ".join(WORKLOADS))
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per framework and workload (training)")
    ap.add_argument("--json", default=str(HERE / "results" / "latest.json"))
    ap.add_argument("--no-inference", action="store_true")
    ap.add_argument("--no-overhead", action="store_true", help="skip the per-op overhead table")
    ap.add_argument("--no-compiled", action="store_true",
                    help="skip timing ember.jit.compile of the training step (interleaved with the other two)")
    ap.add_argument("--threads", type=int, default=None,
                    help="set both PyTorch's and NumPy's BLAS thread count (default: each library's own default)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is needed for the comparison: pip install torch==2.13.0")
    names = [w for w in args.workloads.split(",") if w]
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        sys.exit(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")

    if args.threads:
        torch.set_num_threads(args.threads)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            sys.exit("--threads needs threadpoolctl (pip install threadpoolctl) to set NumPy's BLAS threads")
        threadpool_limits(args.threads)
    info = header()
    peak = sgemm_peak()
    print(f"SGEMM peak {peak:.1f} GFLOP/s; torch threads {info['torch_threads']}, BLAS threads {info['blas_threads']}",
          flush=True)
    rows = []
    for name in names:
        for r in run_workload(WORKLOADS[name], args.seconds, not args.no_inference, not args.no_compiled):
            rows.append(r)
            print(f"  {r['workload']:<12} {r['mode']:<6} ember {r['ember_ms']:8.2f} ms  torch {r['torch_ms']:8.2f} ms"
                  f"  ratio {r['ratio']:.2f}  (CPU-time ratio {r['cpu_ratio']:.2f})", flush=True)
    peak_end = sgemm_peak()
    overhead = None
    if not args.no_overhead:
        import op_overhead
        threads = torch.get_num_threads()
        overhead = op_overhead.run(rounds=5, iters=1000)
        torch.set_num_threads(threads)    # op_overhead pins torch to one thread
    print()
    table = format_table(info, max(peak, peak_end), rows, overhead)   # the best of start and end
    print(table)
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"info": info, "sgemm_peak_gflops": peak, "sgemm_peak_end_gflops": peak_end,
                               "results": rows, "op_overhead": overhead}, indent=2))
    print(f"\nresults written to {out}")


if __name__ == "__main__":
    main()
