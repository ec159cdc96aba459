"""Training run: an MLP on Fashion-MNIST reaches >= 84% test accuracy after one epoch.

Needs the dataset files (Debian: ``apt-get install dataset-fashion-mnist``); skipped otherwise.
"""

import os

import pytest

import ember
import ember.nn as nn
from ember.optim import Adam
from ember.utils.data import DataLoader
from ember.utils.data import transforms as T
from ember.utils.data.datasets import FashionMNIST

ROOT = os.environ.get("FASHION_MNIST_ROOT", FashionMNIST.DEFAULT_ROOT)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.isfile(os.path.join(ROOT, "train-images-idx3-ubyte.gz"))
                       and not os.path.isfile(os.path.join(ROOT, "train-images-idx3-ubyte")),
                       reason=f"Fashion-MNIST not found in {ROOT} (apt-get install dataset-fashion-mnist, "
                              "or set FASHION_MNIST_ROOT)"),
]


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Small GEMMs: one BLAS thread is fastest and avoids oversubscribing cores shared with other test
    processes (pytest -n) and loader workers."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only affects speed
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def test_fashion_mnist_mlp_one_epoch_reaches_84_percent():
    ember.manual_seed(0)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.2860,), (0.3530,))])
    train = DataLoader(FashionMNIST(ROOT, train=True, transform=tf), batch_size=64, shuffle=True)
    test = DataLoader(FashionMNIST(ROOT, train=False, transform=tf), batch_size=1000)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    loss_fn = nn.CrossEntropyLoss()
    opt = Adam(model.parameters(), lr=2e-3)
    model.train()
    for x, y in train:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    model.eval()
    hits = 0
    with ember.no_grad():
        for x, y in test:
            hits += (model(x).argmax(dim=1) == y).sum().item()
    assert hits / 10000 >= 0.84
