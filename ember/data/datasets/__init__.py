"""Datasets read from local files; none of them downloads anything."""

from .cifar import CIFAR10
from .digits import Digits
from .mnist import MNIST, FashionMNIST, read_idx

__all__ = ["CIFAR10", "Digits", "FashionMNIST", "MNIST", "read_idx"]
