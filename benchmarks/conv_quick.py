"""Quick side-by-side timing of small CNN training steps (forward + backward) in Ember and PyTorch.

Two workloads, batch 64, float32, CPU:

- LeNet: 1x28x28 -> conv 6@5x5 pad 2, relu, maxpool 2, conv 16@5x5, relu, maxpool 2, fc 120, fc 84, fc 10
- convnet: 3x32x32 -> conv 32@3x3 pad 1, relu, conv 64@3x3 pad 1, relu, maxpool 2, conv 128@3x3 pad 1,
  relu, maxpool 2, flatten, fc 10

Both frameworks build the same ``nn.Sequential`` (Conv2d, ReLU, MaxPool2d, Flatten, Linear) with
identical weights (PyTorch's state_dict loaded into Ember) and data; a step is cross-entropy
forward + backward (no optimizer update). Prints the median time per step, the ratio
Ember / PyTorch and whether all parameter gradients agree. PyTorch
runs with its default thread count; the two frameworks run in alternating blocks of steps (see
``time_steps``). Usage: ``python benchmarks/conv_quick.py [--steps N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import ember
import ember.nn

LENET = [("conv", 1, 6, 5, 2), "relu", ("pool", 2), ("conv", 6, 16, 5, 0), "relu", ("pool", 2), "flatten",
         ("fc", 16 * 5 * 5, 120), "relu", ("fc", 120, 84), "relu", ("fc", 84, 10)]
CONVNET = [("conv", 3, 32, 3, 1), "relu", ("conv", 32, 64, 3, 1), "relu", ("pool", 2),
           ("conv", 64, 128, 3, 1), "relu", ("pool", 2), "flatten", ("fc", 128 * 8 * 8, 10)]


def build(nn, spec):
    """The spec as an ``nn.Sequential`` of ``nn`` (ember.nn or torch.nn): the same layer names."""
    layers = []
    for layer in spec:
        if layer == "relu":
            layers.append(nn.ReLU())
        elif layer == "flatten":
            layers.append(nn.Flatten())
        elif layer[0] == "pool":
            layers.append(nn.MaxPool2d(layer[1]))
        elif layer[0] == "conv":
            _, cin, cout, k, pad = layer
            layers.append(nn.Conv2d(cin, cout, k, padding=pad))
        else:
            layers.append(nn.Linear(layer[1], layer[2]))
    return nn.Sequential(*layers)


def make_step(model, loss_fn, x, y):
    """One training step's forward and backward (no optimizer: the same for both frameworks)."""
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    return step


def grads_match(spec, x, y) -> bool:
    """One step of both models in float64: do all parameter gradients agree (1e-6 of their scale)?

    (In float32 the two frameworks' conv outputs differ in the last bits, which flips max-pool
    choices between near-equal neighbours and moves a few gradients by a pixel: not a useful check.)
    """
    import torch
    previous = ember.get_default_dtype()
    ember.set_default_dtype(ember.float64)
    try:
        e, t, em, tm = make_pair(spec, x.astype(np.float64), y, torch_dtype=torch.float64)
    finally:
        ember.set_default_dtype(previous)
    e(), t()
    return all(np.abs(ep.grad.numpy() - tp.grad.numpy()).max() <= 1e-6 * np.abs(tp.grad.numpy()).max()
               for ep, tp in zip(em.parameters(), tm.parameters()))


def make_pair(spec, x, y, torch_dtype=None):
    """(ember step, torch step, ember model, torch model) with identical weights and data."""
    import torch
    torch_model = build(torch.nn, spec)
    if torch_dtype is not None:
        torch_model = torch_model.to(torch_dtype)
    ember_model = build(ember.nn, spec)
    ember_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})
    e = make_step(ember_model, ember.nn.CrossEntropyLoss(), ember.tensor(x), ember.tensor(y))
    t = make_step(torch_model, torch.nn.CrossEntropyLoss(), torch.tensor(x), torch.tensor(y))
    return e, t, ember_model, torch_model


def time_steps(steps_by_name: dict, n: int, warmup: int = 2, rounds: int = 3) -> dict:
    """Median seconds per step of each callable.

    The callables run in alternating blocks (``rounds`` blocks of about n / rounds steps each), so
    that both frameworks see similar background load on a shared machine, with a pause between
    blocks: after a GEMM, OpenBLAS worker threads spin for a while, and on a 2-core machine that
    spinning would otherwise slow down whatever runs next (including the other framework).
    """
    for _ in range(warmup):
        for step in steps_by_name.values():
            step()
    times = {k: [] for k in steps_by_name}
    per_block = max(1, -(-n // rounds))
    for _ in range(rounds):
        for k, step in steps_by_name.items():
            time.sleep(0.3)
            for _ in range(per_block):
                t0 = time.perf_counter()
                step()
                times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    try:
        import torch
        threads = torch.get_num_threads()
    except ImportError:
        torch = None
        threads = 0
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"batch 64, float32, CPU ({os.cpu_count()} cores, load average {load:.1f}); torch threads: "
          f"{threads if torch else 'torch not installed'}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}")
    print(f"{'workload':18s} {'ember ms':>10s} {'torch ms':>10s} {'ratio':>7s}  grads match")
    for name, spec, shape in [("lenet", LENET, (64, 1, 28, 28)), ("convnet", CONVNET, (64, 3, 32, 32))]:
        x = rng.standard_normal(shape).astype(np.float32)
        y = rng.integers(0, 10, shape[0])
        if torch is None:
            model = build(ember.nn, spec)
            step = make_step(model, ember.nn.CrossEntropyLoss(), ember.tensor(x), ember.tensor(y))
            te = time_steps({"ember": step}, args.steps)["ember"]
            print(f"{name:18s} {te * 1e3:10.1f}")
            continue
        ok = grads_match(spec, x, y)
        e_step, t_step, em, tm = make_pair(spec, x, y)
        res = time_steps({"ember": e_step, "torch": t_step}, args.steps)
        te, tt = res["ember"], res["torch"]
        print(f"{name:18s} {te * 1e3:10.1f} {tt * 1e3:10.1f} {te / tt:7.2f}  {ok}")
        limiter = _numpy_blas_limiter(1)
        if limiter is not None:  # NumPy's OpenBLAS on one thread (torch unchanged)
            def e_one():
                with limiter():
                    return e_step()
            res = time_steps({"ember": e_one, "torch": t_step}, args.steps)
            te, tt = res["ember"], res["torch"]
            print(f"{name + ' (blas 1)':18s} {te * 1e3:10.1f} {tt * 1e3:10.1f} {te / tt:7.2f}")


def _numpy_blas_limiter(n: int):
    """A context-manager factory limiting NumPy's OpenBLAS to ``n`` threads (None without threadpoolctl).

    Multithreaded OpenBLAS degrades sharply on an oversubscribed machine (its threads wait for each
    other across scheduler ticks); this row shows Ember's time without that effect.
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    selected = ThreadpoolController().select(internal_api="openblas")
    if not selected.lib_controllers:
        return None
    return lambda: selected.limit(limits=n)

if __name__ == "__main__":
    main()
