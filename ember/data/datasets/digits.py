"""The UCI optical-recognition digits (1797 8x8 images, 0-9) from the copy scikit-learn ships.

The file is ``sklearn/datasets/data/digits.csv.gz``; it is located with ``importlib`` without importing
scikit-learn (which is slow to import). Pixels are 0-16.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from ._common import ImageDataset, refuse_download

_SPLIT_EVERY = 5  # every 5th sample is a test sample: 1437 train / 360 test, all writers in both


def find_digits_file() -> str:
    """Path of scikit-learn's ``digits.csv.gz`` (FileNotFoundError saying how to get it)."""
    spec = importlib.util.find_spec("sklearn")
    how = "install scikit-learn (pip install 'ember[datasets]' or pip install scikit-learn), which ships it"
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"Digits: file 'sklearn/datasets/data/digits.csv.gz' not found: {how}, or pass root= "
                                "a directory that holds digits.csv.gz")
    for base in spec.submodule_search_locations:
        path = os.path.join(base, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"Digits: scikit-learn is installed but datasets/data/digits.csv.gz is missing; {how}")


def load_digits_arrays(path=None) -> tuple[np.ndarray, np.ndarray]:
    """All 1797 samples: (N, 8, 8) uint8 images (0-16) and (N,) int64 labels."""
    path = path or find_digits_file()
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"Digits: cannot parse {path}: {exc}") from None
    if table.ndim != 2 or table.shape[1] != 65:
        raise ValueError(f"Digits: {path} should have 65 columns (64 pixels + label), got shape {table.shape}")
    return table[:, :64].astype(np.uint8).reshape(-1, 8, 8), table[:, 64].astype(np.int64)


class Digits(ImageDataset):
    """8x8 handwritten digits; ``train=True`` gives 1437 samples, ``train=False`` the other 360 (every
    5th sample; deterministic).

    Images are ``(8, 8)`` float32 arrays scaled to [0, 1] (pixels / 16) unless ``raw=True`` (uint8 0-16);
    ``root`` may name a directory holding ``digits.csv.gz`` (default: scikit-learn's copy).
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root=None, train: bool = True, transform=None, target_transform=None, download: bool = False,
                 raw: bool = False):
        refuse_download("Digits", download)
        path = None
        if root is not None:
            path = os.path.join(os.fspath(root), "digits.csv.gz")
            if not os.path.isfile(path):
                raise FileNotFoundError(f"Digits: file {path!r} not found; copy sklearn/datasets/data/digits.csv.gz "
                                        "there or leave root=None to use scikit-learn's copy")
        images, labels = load_digits_arrays(path)
        test = np.arange(len(labels)) % _SPLIT_EVERY == 0
        keep = ~test if train else test
        images, labels = images[keep], labels[keep]
        if not raw:
            images = images.astype(np.float32) / np.float32(16.0)
        self.train = train
        super().__init__(np.ascontiguousarray(images), labels, transform, target_transform)
