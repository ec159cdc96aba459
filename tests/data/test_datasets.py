"""File-backed datasets: IDX (raw and gz), CIFAR-10 binary, the digits file; clear errors when missing."""

import gzip
import os

import numpy as np
import pytest

import ember
from ember.utils.data import DataLoader
from ember.utils.data.datasets import CIFAR10, MNIST, Digits, FashionMNIST, read_idx


def write_idx(path, arr, gz):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_reads_idx_files(tmp_path, gz):
    rng = np.random.default_rng(0)
    imgs, labels = rng.integers(0, 256, (7, 28, 28)), rng.integers(0, 10, 7)
    ext = ".gz" if gz else ""
    write_idx(tmp_path / f"t10k-images-idx3-ubyte{ext}", imgs, gz)
    write_idx(tmp_path / f"t10k-labels-idx1-ubyte{ext}", labels, gz)
    ds = MNIST(tmp_path, train=False)
    assert len(ds) == 7
    img, y = ds[3]
    assert img.dtype == np.uint8 and img.shape == (28, 28) and np.array_equal(img, imgs[3]) and y == labels[3]
    assert ds.targets.tolist() == labels.tolist() and tuple(ds.data.shape) == (7, 28, 28)
    x, t = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 28, 28) and t.dtype == ember.int64


def test_missing_and_corrupt_files_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz.*never downloads"):
        MNIST(tmp_path)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        FashionMNIST(tmp_path)
    with pytest.raises(FileNotFoundError, match="data_batch_1.bin.*cifar-10-binary"):
        CIFAR10(tmp_path)
    with pytest.raises(RuntimeError, match="never downloads"):
        MNIST(tmp_path, download=True)
    bad = tmp_path / "x-idx3-ubyte"
    write_idx(bad, np.zeros((3, 4, 4)), gz=False)
    with open(bad, "r+b") as f:
        f.truncate(20)
    with pytest.raises(ValueError, match="x-idx3-ubyte holds .* data bytes.*truncated"):
        read_idx(bad)
    bad.write_bytes(b"\x12\x34\x08\x01")
    with pytest.raises(ValueError, match="is not an IDX file"):
        read_idx(bad)


def test_cifar10_binary(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    labels = rng.integers(0, 10, 3).astype(np.uint8)
    chw = rng.integers(0, 256, (3, 3, 32, 32)).astype(np.uint8)
    records = np.concatenate([labels[:, None], chw.reshape(3, -1)], axis=1)
    (folder / "test_batch.bin").write_bytes(records.tobytes())
    ds = CIFAR10(tmp_path, train=False)
    img, y = ds[1]
    assert img.shape == (32, 32, 3) and np.array_equal(img, chw[1].transpose(1, 2, 0)) and y == labels[1]
    (folder / "test_batch.bin").write_bytes(records.tobytes()[:-5])
    with pytest.raises(ValueError, match="test_batch.bin has .* bytes, not a multiple"):
        CIFAR10(tmp_path, train=False)


def test_digits_split_and_values():
    train, test = Digits(train=True), Digits(train=False)
    assert (len(train), len(test)) == (1437, 360)
    img, y = train[0]
    assert img.shape == (8, 8) and img.dtype == np.float32 and 0 <= img.min() and img.max() <= 1.0
    raw = Digits(train=False, raw=True)
    assert raw[0][0].dtype == np.uint8 and raw[0][0].max() <= 16
    np.testing.assert_allclose(test[5][0], raw[5][0] / 16.0)
    assert sorted(set(test.targets.tolist())) == list(range(10))
    # deterministic split: the same samples every time, train and test disjoint
    assert Digits(train=False).targets.tolist() == test.targets.tolist()
    with pytest.raises(FileNotFoundError, match="digits.csv.gz"):
        Digits(root="/nonexistent")


@pytest.mark.skipif(not os.path.isdir(FashionMNIST.DEFAULT_ROOT),
                    reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_from_debian_package():
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    assert (len(train), len(test)) == (60000, 10000)
    img, y = test[0]
    assert img.shape == (28, 28) and img.dtype == np.uint8 and y == 9        # the first test image is an ankle boot
    assert np.bincount(train.targets.numpy()).tolist() == [6000] * 10
