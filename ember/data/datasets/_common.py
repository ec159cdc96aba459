"""Shared pieces of the file-backed datasets: the sample protocol and file lookup."""

from __future__ import annotations

import os

import numpy as np

from ...autograd.tensor import Tensor
from ..dataset import Dataset


class ImageDataset(Dataset):
    """``images`` (N, H, W) or (N, H, W, C) uint8 and ``labels`` (N,) int64, both NumPy arrays.

    ``dataset[i]`` is ``(transform(image), target_transform(label))`` with the image an ``(H, W[, C])``
    NumPy array (apply ``transforms.ToTensor()`` for a ``(C, H, W)`` float Tensor) and the label an int.
    ``data`` and ``targets`` expose all images/labels as Tensors (sharing memory), like torchvision.
    """

    classes: list[str] = []

    def __init__(self, images: np.ndarray, labels: np.ndarray, transform=None, target_transform=None):
        self._images, self._labels = images, labels.astype(np.int64, copy=False)
        self.transform, self.target_transform = transform, target_transform

    @property
    def data(self) -> Tensor:
        return Tensor._make(self._images)

    @property
    def targets(self) -> Tensor:
        return Tensor._make(self._labels)

    def __len__(self) -> int:
        return len(self._labels)

    def __getitem__(self, index):
        img, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __repr__(self):
        return f"{type(self).__name__}(n={len(self)}, image_shape={self._images.shape[1:]})"


def find_file(root, names, dataset: str, how_to_get: str, subdirs=("",)) -> str:
    """The first existing ``root/<subdir>/<name>``; otherwise FileNotFoundError naming what is missing
    and how to obtain it (ember never downloads)."""
    tried = []
    for sub in subdirs:
        for name in names:
            path = os.path.join(os.fspath(root), sub, name)
            if os.path.isfile(path):
                return path
            tried.append(path)
    raise FileNotFoundError(f"{dataset}: file {names[0]!r} not found (looked for {', '.join(tried)}). Ember never "
                            f"downloads datasets; {how_to_get}")


def refuse_download(dataset: str, download: bool) -> None:
    if download:
        raise RuntimeError(f"{dataset}: ember never downloads datasets (download=True); place the files in root")
