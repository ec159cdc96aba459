"""DataLoader worker processes: parallel loading, ordering, seeding, errors, dead workers, timeouts."""

import os
import signal
import time

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from ember.utils.data import transforms as T


class Info(Dataset):
    """Each sample reports which worker loaded it and the random numbers that worker drew."""

    def __len__(self):
        return 16

    def __getitem__(self, i):
        info = get_worker_info()
        return {"i": i, "worker": -1 if info is None else info.id, "pid": os.getpid(),
                "ember": ember.rand(1).item(), "numpy": float(np.random.random()),
                "seed": -1 if info is None else info.seed}


def collect(loader):
    out = {k: [] for k in ("i", "worker", "pid", "ember", "numpy", "seed")}
    for b in loader:
        for k in out:
            out[k] += b[k].tolist()
    return out


def test_workers_load_in_order_in_separate_processes():
    ds = TensorDataset(ember.arange(50))
    got = [v for b in DataLoader(ds, batch_size=4, num_workers=2) for v in b[0].tolist()]
    assert got == list(range(50))
    info = collect(DataLoader(Info(), batch_size=2, num_workers=2))
    assert info["i"] == list(range(16))
    assert set(info["worker"]) == {0, 1} and os.getpid() not in info["pid"] and len(set(info["pid"])) == 2
    assert get_worker_info() is None


def test_worker_seeds_are_distinct_and_reproducible():
    ember.manual_seed(123)
    a = collect(DataLoader(Info(), batch_size=2, num_workers=2))
    ember.manual_seed(123)
    b = collect(DataLoader(Info(), batch_size=2, num_workers=2))
    assert a["ember"] == b["ember"] and a["numpy"] == b["numpy"]          # reproducible
    assert len(set(a["ember"])) == 16 and len(set(a["numpy"])) == 16      # no worker repeats another's draws
    seeds = {w: s for w, s in zip(a["worker"], a["seed"])}
    assert seeds[1] == seeds[0] + 1
    c = collect(DataLoader(Info(), batch_size=2, num_workers=2))           # next epoch: new seeds
    assert c["ember"] != a["ember"]
    g = ember.Generator().manual_seed(9)
    d1 = collect(DataLoader(Info(), batch_size=2, num_workers=2, generator=g))
    g.manual_seed(9)
    d2 = collect(DataLoader(Info(), batch_size=2, num_workers=2, generator=g))
    assert d1["ember"] == d2["ember"]


class Images(Dataset):
    def __init__(self, transform):
        self.transform = transform

    def __len__(self):
        return 32

    def __getitem__(self, i):
        return self.transform(np.arange(16, dtype=np.uint8).reshape(4, 4))


def test_random_augmentations_differ_across_workers():
    tf = T.Compose([T.RandomCrop(4, padding=2), T.RandomHorizontalFlip(), T.ToTensor()])
    ember.manual_seed(7)
    batches = [b for b in DataLoader(Images(tf), batch_size=8, num_workers=2)]
    crops = np.concatenate([b.numpy() for b in batches])
    # worker 0 loads batches 0 and 2, worker 1 batches 1 and 3: with equal seeds they would coincide
    assert not np.array_equal(batches[0].numpy(), batches[1].numpy())
    assert len({c.tobytes() for c in crops}) > 16
    ember.manual_seed(7)
    again = np.concatenate([b.numpy() for b in DataLoader(Images(tf), batch_size=8, num_workers=2)])
    assert np.array_equal(crops, again)


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i


def test_worker_exception_reaches_caller_with_traceback():
    loader = DataLoader(Failing(), batch_size=2, num_workers=2)
    seen = []
    with pytest.raises(ValueError) as err:
        for b in loader:
            seen.append(b.tolist())
    assert seen == [[0, 1], [2, 3]]
    msg = str(err.value)
    assert "Caught ValueError in DataLoader worker process 0" in msg
    assert "bad sample 5" in msg and "Traceback" in msg and "__getitem__" in msg


def test_worker_init_fn_error_and_call():
    def bad_init(worker_id):
        raise KeyError(f"init {worker_id}")

    with pytest.raises(KeyError, match="init 0"):
        list(DataLoader(Failing(), batch_size=2, num_workers=1, worker_init_fn=bad_init))


class Killer(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 4:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


def test_killed_worker_raises_instead_of_hanging():
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker exited unexpectedly: worker \d \(pid \d+\) was killed by signal SIGKILL"):
        list(DataLoader(Killer(), batch_size=2, num_workers=2))
    assert time.monotonic() - start < 10


class Slow(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(3 if i == 2 else 0)
        return i


def test_timeout_raises():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.5 seconds"):
        list(DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5))


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


def test_iterable_dataset_sharded_by_worker_info():
    main = [v for b in DataLoader(Stream(10), batch_size=3) for v in b.tolist()]
    assert main == list(range(10))
    got = [v for b in DataLoader(Stream(10), batch_size=3, num_workers=2) for v in b.tolist()]
    assert sorted(got) == list(range(10))


def test_persistent_workers_keep_processes_across_epochs():
    loader = DataLoader(Info(), batch_size=4, num_workers=2, persistent_workers=True)
    e1, e2 = collect(loader), collect(loader)
    assert e1["i"] == e2["i"] == list(range(16))
    assert set(e1["pid"]) == set(e2["pid"])                  # same processes
    assert e1["ember"] != e2["ember"]                        # random streams continue
    it = iter(loader)
    next(it)                                                  # abandon an epoch midway
    assert collect(loader)["i"] == list(range(16))
    loader._iterator._shutdown_workers()


def test_spawn_context_works_with_picklable_dataset():
    ds = TensorDataset(ember.arange(6))
    got = [v for b in DataLoader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn") for v in b[0].tolist()]
    assert got == list(range(6))
