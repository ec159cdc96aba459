"""Image transforms on NumPy arrays and Tensors (torchvision's names and arguments).

Layouts, as in torchvision: a NumPy array is an image *before* ``ToTensor``: ``(H, W, C)`` or
``(H, W)``, usually uint8. A Tensor is an image *after* ``ToTensor``: ``(C, H, W)`` (any leading
dims, last two are H, W). ``RandomCrop`` and ``RandomHorizontalFlip`` accept both and keep the layout;
``Normalize`` works on ``(C, H, W)`` Tensors (or float arrays in that layout).

Random transforms draw from ``generator`` (an ``ember.Generator``) or, by default, from ember's global
generator, which every DataLoader worker seeds with its own seed: workers never repeat each other's
augmentations, and a seeded run is reproducible.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _config
from ..autograd.tensor import Tensor
from ..backend.device import get_device
from ..backend.random import default_generator


def _rng(generator):
    return (generator if generator is not None else default_generator(get_device("cpu"))).rng


def _hw_axes(img) -> tuple[int, int]:
    """Axes of H and W: (0, 1) for NumPy HWC/HW images, (-2, -1) for CHW Tensors."""
    if isinstance(img, Tensor):
        return img.ndim - 2, img.ndim - 1
    return 0, 1


class Compose:
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        inner = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"{type(self).__name__}({inner}\n)"


class ToTensor:
    """``(H, W, C)`` or ``(H, W)`` array -> ``(C, H, W)`` Tensor. uint8 is scaled to float in [0, 1];
    other dtypes are converted to the default float dtype unscaled."""

    def __call__(self, pic):
        if isinstance(pic, Tensor):
            return pic
        arr = np.asarray(pic)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        if arr.ndim != 3:
            raise ValueError(f"ToTensor: expected an (H, W) or (H, W, C) image, got shape {arr.shape}")
        chw = arr.transpose(2, 0, 1)
        dt = _config.default_dtype.get()
        if arr.dtype == np.uint8:
            out = chw.astype(dt)
            out *= 1.0 / 255.0
        else:
            out = np.ascontiguousarray(chw, dtype=dt)
        return Tensor._make(out)

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a ``(C, H, W)`` (or ``(..., C, H, W)``) image."""

    def __init__(self, mean, std, inplace: bool = False):
        self.mean, self.std, self.inplace = list(mean), list(std), inplace
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero after conversion, leading to division by zero ({std})")

    def __call__(self, tensor):
        arr = tensor._data if isinstance(tensor, Tensor) else np.asarray(tensor)
        if arr.ndim < 3:
            raise ValueError(f"Normalize: expected a (..., C, H, W) image, got shape {arr.shape}")
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize: input should be a float tensor, got {arr.dtype}")
        c = arr.shape[-3]
        if len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means / {len(self.std)} stds for an image with {c} channels")
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1, 1, 1)
        out = arr if self.inplace else arr.copy()
        out -= mean
        out /= std
        if isinstance(tensor, Tensor):
            if self.inplace:
                tensor._vc.value += 1
                return tensor
            return Tensor._make(out)
        return out

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


def _pad_hw(arr, axes, pads, fill, mode):
    """Pad H and W of ``arr`` by ``pads`` = (left, top, right, bottom)."""
    left, top, right, bottom = pads
    width = [(0, 0)] * arr.ndim
    width[axes[0]] = (top, bottom)
    width[axes[1]] = (left, right)
    if mode == "constant":
        return np.pad(arr, width, mode="constant", constant_values=fill)
    return np.pad(arr, width, mode={"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[mode])


class RandomCrop:
    """Crop a random ``size`` window (int or (h, w)), after optional ``padding`` (int, (lr, tb) or
    (l, t, r, b)) filled per ``padding_mode`` ("constant" with ``fill``, "edge", "reflect",
    "symmetric"). ``pad_if_needed`` pads images smaller than ``size``."""

    def __init__(self, size, padding=None, pad_if_needed: bool = False, fill=0, padding_mode: str = "constant",
                 generator=None):
        self.size = (size, size) if isinstance(size, numbers.Number) else tuple(size)
        self.padding, self.pad_if_needed, self.fill = padding, pad_if_needed, fill
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("RandomCrop: padding_mode should be constant, edge, reflect or symmetric, got "
                             f"{padding_mode}")
        self.padding_mode, self.generator = padding_mode, generator

    @staticmethod
    def _pads(padding):
        if isinstance(padding, numbers.Number):
            return (padding,) * 4
        padding = tuple(padding)
        if len(padding) == 2:
            return (padding[0], padding[1], padding[0], padding[1])
        if len(padding) == 4:
            return padding
        raise ValueError(f"RandomCrop: padding must be an int or a 2- or 4-element sequence, got {padding}")

    def __call__(self, img):
        is_tensor = isinstance(img, Tensor)
        arr = img._data if is_tensor else np.asarray(img)
        axes = _hw_axes(img)
        if self.padding is not None:
            arr = _pad_hw(arr, axes, self._pads(self.padding), self.fill, self.padding_mode)
        th, tw = self.size
        h, w = arr.shape[axes[0]], arr.shape[axes[1]]
        if self.pad_if_needed and (h < th or w < tw):
            dh, dw = max(th - h, 0), max(tw - w, 0)
            arr = _pad_hw(arr, axes, (dw, dh, dw, dh), self.fill, self.padding_mode)
            h, w = arr.shape[axes[0]], arr.shape[axes[1]]
        if h < th or w < tw:
            raise ValueError(f"RandomCrop: required crop size {(th, tw)} is larger than the input image size {(h, w)}")
        rng = _rng(self.generator)
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        index = [slice(None)] * arr.ndim
        index[axes[0]] = slice(i, i + th)
        index[axes[1]] = slice(j, j + tw)
        out = np.ascontiguousarray(arr[tuple(index)])
        return Tensor._make(out) if is_tensor else out

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``."""

    def __init__(self, p: float = 0.5, generator=None):
        self.p, self.generator = p, generator

    def __call__(self, img):
        if _rng(self.generator).random() >= self.p:
            return img
        is_tensor = isinstance(img, Tensor)
        arr = img._data if is_tensor else np.asarray(img)
        out = np.ascontiguousarray(np.flip(arr, axis=_hw_axes(img)[1]))
        return Tensor._make(out) if is_tensor else out

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Lambda:
    """Apply a user function."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"
