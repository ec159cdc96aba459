"""`make demo`: train an MLP on the UCI handwritten digits with a PyTorch-style loop.

DataLoader (shuffled, augmented, 2 worker processes) -> MLP with dropout -> CrossEntropyLoss -> AdamW ->
cosine lr schedule, one line per epoch; then the weights are saved (safetensors, atomic write), loaded
into a fresh model, and the reloaded model is evaluated again: it must print the same accuracy.
Exits non-zero if the test accuracy is below 97% or the reloaded model disagrees.
"""

import os
import sys
import tempfile
import time

# The matrices here are tiny (batch 32 x 256): one BLAS thread is fastest, and it leaves the second core
# to the data-loading workers instead of oversubscribing it. Must be set before NumPy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import ember  # noqa: E402
import ember.nn as nn  # noqa: E402
from ember.optim import AdamW  # noqa: E402
from ember.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402
from ember.utils.data import DataLoader  # noqa: E402
from ember.utils.data import transforms as T  # noqa: E402
from ember.utils.data.datasets import Digits  # noqa: E402

EPOCHS = 40
TARGET = 0.97


def make_model() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 256), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(256, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))


@ember.no_grad()
def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    for images, labels in loader:
        correct += (model(images).argmax(dim=1) == labels).sum().item()
        total += len(labels)
    return correct / total


def main() -> int:
    start = time.perf_counter()
    ember.manual_seed(int(os.environ.get("SEED", 0)))
    # pixels in [0, 1] standardized with the training set's mean/std; training images are shifted by up
    # to one pixel (random per sample: each worker process draws its own seeded stream)
    to_input = [T.ToTensor(), T.Normalize((0.305,), (0.376,))]
    train_set = Digits(train=True, transform=T.Compose([T.RandomCrop(8, padding=1), *to_input]))
    test_set = Digits(train=False, transform=T.Compose(to_input))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=2, persistent_workers=True)
    test_loader = DataLoader(test_set, batch_size=256)
    print(f"digits: {len(train_set)} train / {len(test_set)} test images of 8x8; "
          f"{sum(p.numel() for p in make_model().parameters())} parameters")

    model = make_model()
    loss_fn = nn.CrossEntropyLoss()
    optimizer = AdamW(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = CosineAnnealingLR(optimizer, T_max=EPOCHS)
    for epoch in range(1, EPOCHS + 1):
        t0 = time.perf_counter()
        model.train()
        running, seen = 0.0, 0
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(labels)
            seen += len(labels)
        lr = scheduler.get_last_lr()[0]
        scheduler.step()
        acc = evaluate(model, test_loader)
        print(f"epoch {epoch:2d}  loss {running / seen:.4f}  test acc {acc:.2%}  lr {lr:.2e}  "
              f"({time.perf_counter() - t0:.2f}s)")

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "digits_mlp.safetensors")
        ember.save(model.state_dict(), path)
        restored = make_model()
        restored.load_state_dict(ember.load(path))
        reloaded_acc = evaluate(restored, test_loader)
        size = os.path.getsize(path)
    print(f"saved {size} bytes and reloaded into a new model: test acc {reloaded_acc:.2%} "
          f"({'same' if reloaded_acc == acc else 'DIFFERENT'})")
    print(f"total time {time.perf_counter() - start:.1f}s")
    ok = acc >= TARGET and reloaded_acc == acc
    if not ok:
        print(f"FAILED: expected test accuracy >= {TARGET:.0%} and identical accuracy after reloading")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
