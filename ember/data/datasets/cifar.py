"""CIFAR-10 from the binary version's files (``cifar-10-batches-bin``), never downloaded."""

from __future__ import annotations

import os

import numpy as np

from ._common import ImageDataset, find_file, refuse_download

_RECORD = 1 + 3 * 32 * 32


def read_cifar_bin(path) -> tuple[np.ndarray, np.ndarray]:
    """One binary batch file: records of 1 label byte + 3072 pixel bytes (R, G, B planes of 32x32).
    Returns (N, 32, 32, 3) uint8 HWC images and (N,) labels."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % _RECORD:
        raise ValueError(f"CIFAR10: {path} has {raw.size} bytes, not a multiple of the {_RECORD}-byte record "
                         "(truncated or not a CIFAR-10 binary batch)")
    rec = raw.reshape(-1, _RECORD)
    images = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), rec[:, 0].astype(np.int64)


class CIFAR10(ImageDataset):
    """CIFAR-10: 50000 train / 10000 test 32x32 RGB images (HWC uint8), 10 classes.

    Reads ``data_batch_1.bin`` ... ``data_batch_5.bin`` (train) or ``test_batch.bin`` from ``root`` or
    ``root/cifar-10-batches-bin``.
    """

    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    _how_to_get = ("download the binary version (cifar-10-binary.tar.gz) from "
                   "https://www.cs.toronto.edu/~kriz/cifar.html and extract it into root.")

    def __init__(self, root, train: bool = True, transform=None, target_transform=None, download: bool = False):
        refuse_download("CIFAR10", download)
        self.root, self.train = os.fspath(root), train
        names = [f"data_batch_{i}.bin" for i in range(1, 6)] if train else ["test_batch.bin"]
        parts = [read_cifar_bin(find_file(self.root, [n], "CIFAR10", self._how_to_get, ("", "cifar-10-batches-bin")))
                 for n in names]
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        super().__init__(images, labels, transform, target_transform)
