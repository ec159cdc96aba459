"""Training run: an MLP on the UCI digits with the PyTorch-style loop reaches >= 95% test accuracy,
and a checkpoint (model + optimizer + scheduler) resumes training exactly."""

import pytest

import ember
import ember.nn as nn
from ember.optim import SGD, Adam
from ember.optim.lr_scheduler import OneCycleLR, StepLR
from ember.utils.data import DataLoader
from ember.utils.data import transforms as T
from ember.utils.data.datasets import Digits


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


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


@ember.no_grad()
def accuracy(model, loader):
    model.eval()
    hits = n = 0
    for x, y in loader:
        hits += (model(x).argmax(dim=1) == y).sum().item()
        n += len(y)
    return hits / n


def train_epoch(model, loader, loss_fn, opt, sched=None, per_batch=False):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
        if per_batch:
            sched.step()
    if sched is not None and not per_batch:
        sched.step()


def test_digits_mlp_reaches_95_percent_with_workers():
    ember.manual_seed(0)
    train = DataLoader(Digits(train=True, transform=T.ToTensor()), batch_size=32, shuffle=True, num_workers=2,
                       persistent_workers=True)
    test = DataLoader(Digits(train=False, transform=T.ToTensor()), batch_size=128)
    model, loss_fn = mlp(), nn.CrossEntropyLoss()
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    sched = OneCycleLR(opt, max_lr=0.2, epochs=12, steps_per_epoch=len(train))
    for _ in range(12):
        train_epoch(model, train, loss_fn, opt, sched, per_batch=True)
    assert accuracy(model, test) >= 0.95


def test_checkpoint_resume_is_exact(tmp_path):
    def setup():
        ember.manual_seed(1)
        model = mlp()
        opt = Adam(model.parameters(), lr=3e-3)
        return model, opt, StepLR(opt, step_size=2, gamma=0.5)

    data = Digits(train=True, transform=T.ToTensor())
    test = DataLoader(Digits(train=False, transform=T.ToTensor()), batch_size=360)
    loss_fn = nn.CrossEntropyLoss()
    model, opt, sched = setup()
    for _ in range(2):
        train_epoch(model, DataLoader(data, batch_size=64, shuffle=True), loss_fn, opt, sched)
    ember.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                "rng": ember.Generator().get_state()}, tmp_path / "ckpt.safetensors")
    g = ember.Generator().manual_seed(5)
    train_epoch(model, DataLoader(data, batch_size=64, shuffle=True, generator=g), loss_fn, opt, sched)
    ckpt = ember.load(tmp_path / "ckpt.safetensors")
    model2, opt2, sched2 = setup()
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    sched2.load_state_dict(ckpt["sched"])
    g.manual_seed(5)
    train_epoch(model2, DataLoader(data, batch_size=64, shuffle=True, generator=g), loss_fn, opt2, sched2)
    for (name, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items()):
        assert a.tolist() == b.tolist(), name
    assert sched2.get_last_lr() == sched.get_last_lr() == [3e-3 * 0.5]
    assert accuracy(model2, test) == accuracy(model, test) > 0.8
