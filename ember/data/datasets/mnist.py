"""MNIST and Fashion-MNIST from their IDX files (gzipped or raw), never downloaded."""

from __future__ import annotations

import gzip
import os

import numpy as np

from ._common import ImageDataset, find_file, refuse_download

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format: magic 0 0 <dtype> <ndim>, big-endian int32 dims, data);
    ``.gz`` files are decompressed. Raises ValueError naming the file if it is malformed or truncated."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:
        raise ValueError(f"read_idx: cannot read {path}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic number {raw[:4]!r})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"read_idx: {path} is truncated (header)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(f"read_idx: {path} holds {len(raw) - header} data bytes, but its header {shape} "
                         f"needs {count * dtype.itemsize} (truncated or corrupted)")
    arr = np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


class MNIST(ImageDataset):
    """The MNIST digits: 60000 train / 10000 test 28x28 uint8 images, labels 0-9.

    Looks in ``root``, ``root/<ClassName>/raw`` and ``root/raw`` for ``train-images-idx3-ubyte`` etc.,
    with or without ``.gz``.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]
    _how_to_get = ("download train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz "
                   "and t10k-labels-idx1-ubyte.gz from the MNIST site (or a mirror) into root.")

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        name = type(self).__name__
        refuse_download(name, download)
        self.root, self.train = os.fspath(root), train
        prefix = "train" if train else "t10k"
        subdirs = ("", os.path.join(name, "raw"), "raw")
        img_path = find_file(self.root, [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-images-idx3-ubyte"], name,
                             self._how_to_get, subdirs)
        lbl_path = find_file(self.root, [f"{prefix}-labels-idx1-ubyte.gz", f"{prefix}-labels-idx1-ubyte"], name,
                             self._how_to_get, subdirs)
        images, labels = read_idx(img_path), read_idx(lbl_path)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{name}: {img_path} has shape {images.shape} and {lbl_path} has shape {labels.shape}; "
                             "expected (N, H, W) images and N labels")
        super().__init__(images, labels, transform, target_transform)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: same format and sizes as MNIST, 10 clothing classes.

    The default ``root`` is where Debian's ``dataset-fashion-mnist`` package installs the files.
    """

    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    DEFAULT_ROOT = "/usr/share/datasets/fashion-mnist"
    _how_to_get = ("on Debian/Ubuntu run `apt-get install dataset-fashion-mnist` (installs into "
                   "/usr/share/datasets/fashion-mnist), or download the four *-ubyte.gz files from "
                   "https://github.com/zalandoresearch/fashion-mnist into root.")

    def __init__(self, root=DEFAULT_ROOT, train: bool = True, transform=None, target_transform=None,
                 download: bool = False):
        super().__init__(root, train, transform, target_transform, download)
