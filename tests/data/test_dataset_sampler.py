"""Datasets, samplers and default_collate (main process)."""

import collections

import numpy as np
import pytest

import ember
from ember.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, RandomSampler, SequentialSampler,
                              Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
                              default_convert, random_split)


def test_tensor_dataset_and_errors():
    x, y = ember.arange(12).reshape(6, 2), ember.tensor([0, 1, 0, 1, 0, 1])
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8, 9] and b.item() == 0
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        TensorDataset(x, ember.zeros(5))


def test_subset_concat_and_add():
    ds = TensorDataset(ember.arange(5))
    sub = Subset(ds, [4, 0, 2])
    assert [sub[i][0].item() for i in range(3)] == [4, 0, 2]
    cat = ConcatDataset([ds, sub])
    assert len(cat) == 8
    assert [cat[i][0].item() for i in range(8)] == [0, 1, 2, 3, 4, 4, 0, 2]
    assert cat[-1][0].item() == 2
    assert len(ds + sub) == 8


def test_random_split_counts_fractions_and_reproducibility():
    ds = TensorDataset(ember.arange(10))
    a, b = random_split(ds, [7, 3], generator=ember.Generator().manual_seed(1))
    got = sorted([a[i][0].item() for i in range(7)] + [b[i][0].item() for i in range(3)])
    assert got == list(range(10))          # a partition
    a2, _ = random_split(ds, [7, 3], generator=ember.Generator().manual_seed(1))
    assert a.indices == a2.indices
    a3, _ = random_split(ds, [7, 3], generator=ember.Generator().manual_seed(2))
    assert a.indices != a3.indices
    parts = random_split(ds, [0.5, 0.3, 0.2])
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(TensorDataset(ember.arange(11)), [0.5, 0.5])  # remainder goes round-robin
    assert [len(p) for p in parts] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(ds, [5, 6])


def test_samplers():
    data = list(range(10))
    assert list(SequentialSampler(data)) == data
    g = ember.Generator().manual_seed(0)
    perm = list(RandomSampler(data, generator=g))
    assert sorted(perm) == data and perm != data
    draws = list(RandomSampler(data, replacement=True, num_samples=50, generator=g))
    assert len(draws) == 50 and set(draws) <= set(data)
    long = list(RandomSampler(data, num_samples=25, generator=g))
    assert len(long) == 25 and collections.Counter(long[:20]) == collections.Counter(data * 2)
    assert sorted(SubsetRandomSampler([3, 5, 7], generator=g)) == [3, 5, 7]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=400, generator=g))
    counts = collections.Counter(w)
    assert set(counts) == {1, 3} and 250 < counts[3] < 350
    no_rep = list(WeightedRandomSampler([1, 1, 1, 0], num_samples=3, replacement=False, generator=g))
    assert sorted(no_rep) == [0, 1, 2]
    assert list(BatchSampler(range(7), 3, drop_last=False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, drop_last=False)) == 3
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        RandomSampler(data, num_samples=0)
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(data, 0, False)


def test_random_sampler_follows_manual_seed_and_changes_per_epoch():
    s = RandomSampler(list(range(20)))
    ember.manual_seed(5)
    e1, e2 = list(s), list(s)
    ember.manual_seed(5)
    assert list(s) == e1 and list(s) == e2 and e1 != e2


def test_default_collate_rules():
    batch = [(np.ones((2, 2), np.float32) * i, i, float(i), {"name": f"s{i}", "t": ember.tensor([i, i])})
             for i in range(3)]
    x, ints, floats, d = default_collate(batch)
    assert isinstance(x, ember.Tensor) and x.shape == (3, 2, 2) and x.dtype == ember.float32
    assert x[2].tolist() == [[2, 2], [2, 2]]
    assert ints.dtype == ember.int64 and ints.tolist() == [0, 1, 2]
    assert floats.dtype == ember.float64
    assert d["name"] == ["s0", "s1", "s2"] and d["t"].tolist() == [[0, 0], [1, 1], [2, 2]]
    Point = collections.namedtuple("Point", "x y")
    p = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(p, Point) and p.x.tolist() == [1, 3]
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ember.zeros(2), ember.zeros(3)])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([object(), object()])
    conv = default_convert((np.zeros(2), 3))
    assert isinstance(conv[0], ember.Tensor) and conv[1] == 3


def test_loader_batches_shuffle_and_drop_last():
    ds = TensorDataset(ember.arange(10), ember.arange(10) * 2)
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[0].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][1].tolist() == [0, 2, 4, 6]
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    ember.manual_seed(0)
    first = [v for b in DataLoader(ds, batch_size=3, shuffle=True) for v in b[0].tolist()]
    assert sorted(first) == list(range(10)) and first != list(range(10))
    ember.manual_seed(0)
    again = [v for b in DataLoader(ds, batch_size=3, shuffle=True) for v in b[0].tolist()]
    assert again == first
    g = ember.Generator().manual_seed(3)
    loader = DataLoader(ds, batch_size=10, shuffle=True, generator=g)
    e1, e2 = next(iter(loader))[0].tolist(), next(iter(loader))[0].tolist()
    assert e1 != e2
    unbatched = list(DataLoader(ds, batch_size=None))
    assert len(unbatched) == 10 and unbatched[3][0].item() == 3
    bs = list(DataLoader(ds, batch_sampler=[[9, 0], [5]]))
    assert [b[0].tolist() for b in bs] == [[9, 0], [5]]


def test_loader_argument_errors():
    ds = TensorDataset(ember.arange(4))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching"):
        DataLoader(ds, batch_size=None, drop_last=True)


class Squares(Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {"x": np.array([i, i * i], dtype=np.float32), "i": i}


def test_custom_dataset_dict_samples():
    b = next(iter(DataLoader(Squares(), batch_size=5)))
    assert b["x"].tolist()[3] == [3.0, 9.0] and b["i"].tolist() == [0, 1, 2, 3, 4]
