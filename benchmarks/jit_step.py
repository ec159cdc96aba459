"""Time one training step, Ember eager vs ``ember.jit.compile`` (and PyTorch eager when installed).

Default workload ``mlp``: 784-512-512-10 ReLU MLP, batch 128, cross-entropy, SGD(lr=0.01, momentum=0.9),
float32. ``--workload lenet`` (LeNet-5 on 1x28x28, batch 64) and ``--workload transformer`` (2-layer
encoder, d_model 128, 4 heads, sequence 32, batch 32, vocabulary 1000, mean-pooled classifier) are
stand-ins until the shared benchmark runner defines them.

Eager and compiled steps are timed in interleaved rounds (so load from other processes hits both
alike); prints the median step time of each and the ratio eager / compiled (> 1: compiled is faster).

    python benchmarks/jit_step.py [--workload mlp|lenet|transformer] [--steps 50] [--warmup 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ember
import ember.optim


def _mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(784, 512), lib.nn.ReLU(), lib.nn.Linear(512, 512), lib.nn.ReLU(),
                             lib.nn.Linear(512, 10))


def _lenet(lib):
    n = lib.nn
    return n.Sequential(n.Conv2d(1, 6, 5, padding=2), n.ReLU(), n.MaxPool2d(2), n.Conv2d(6, 16, 5), n.ReLU(),
                        n.MaxPool2d(2), n.Flatten(), n.Linear(400, 120), n.ReLU(), n.Linear(120, 84), n.ReLU(),
                        n.Linear(84, 10))


def _transformer(lib):
    n = lib.nn

    class Encoder(n.Module):
        def __init__(self):
            super().__init__()
            self.emb = n.Embedding(1000, 128)
            layer = n.TransformerEncoderLayer(128, 4, dim_feedforward=256, dropout=0.0, batch_first=True)
            self.enc = n.TransformerEncoder(layer, 2)
            self.head = n.Linear(128, 10)

        def forward(self, tokens):
            return self.head(self.enc(self.emb(tokens)).mean(dim=1))

    return Encoder()


WORKLOADS = {
    "mlp": (_mlp, lambda rng, b: rng.standard_normal((b, 784)).astype(np.float32), 128),
    "lenet": (_lenet, lambda rng, b: rng.standard_normal((b, 1, 28, 28)).astype(np.float32), 64),
    "transformer": (_transformer, lambda rng, b: rng.integers(0, 1000, (b, 32)), 32),
}


def build(workload="mlp", seed=0, lib=None):
    """(model, step) for ``workload`` in ``lib`` (ember by default, or torch)."""
    lib = lib or ember
    lib.manual_seed(seed)
    model = WORKLOADS[workload][0](lib)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    cross_entropy = lib.nn.functional.cross_entropy

    def step(x, y):
        opt.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def timed(fn, batches, warmup, steps):
    for i in range(warmup):
        fn(*batches[i % len(batches)])
    times = []
    for i in range(steps):
        x, y = batches[i % len(batches)]
        t0 = time.perf_counter()
        fn(x, y)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", choices=sorted(WORKLOADS), default="mlp")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=None)
    args = ap.parse_args()
    _, make_x, default_batch = WORKLOADS[args.workload]
    batch = args.batch or default_batch
    rng = np.random.default_rng(0)
    batches_np = [(make_x(rng, batch), rng.integers(0, 10, batch).astype(np.int64)) for _ in range(8)]
    batches = [(ember.tensor(x), ember.tensor(y)) for x, y in batches_np]

    _, eager_step = build(args.workload)
    _, step = build(args.workload)
    compiled = ember.jit.compile(step)
    timed(eager_step, batches, args.warmup, 1)
    timed(compiled, batches, args.warmup, 1)
    te, tj = [], []
    for _ in range(max(1, args.steps // 5)):     # interleaved rounds
        te.append(timed(eager_step, batches, 0, 5))
        tj.append(timed(compiled, batches, 0, 5))
    t_eager, t_jit = statistics.median(te), statistics.median(tj)
    print(f"{args.workload} batch {batch}, SGD momentum 0.9, float32")
    print(f"  ember eager     {t_eager * 1e3:8.3f} ms/step")
    print(f"  ember compiled  {t_jit * 1e3:8.3f} ms/step")
    print(f"  ratio eager/compiled = {t_eager / t_jit:.3f}  (compiled is {100 * (1 - t_jit / t_eager):.1f}% faster)")
    try:
        import torch
    except ImportError:
        return
    _, torch_step = build(args.workload, lib=torch)
    tb = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in batches_np]
    t_torch = timed(torch_step, tb, args.warmup, args.steps)
    print(f"  torch eager     {t_torch * 1e3:8.3f} ms/step   (compiled/torch = {t_jit / t_torch:.3f})")


if __name__ == "__main__":
    main()
