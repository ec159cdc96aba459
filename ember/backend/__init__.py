"""Devices, array modules and random generators. The only package that imports CuPy."""

from .device import (CPU, Device, array_module, cuda_available, cuda_device_count, device_of, get_device,
                     to_device, to_numpy)
from .random import Generator, default_generator, initial_seed, manual_seed
from . import kernels, malloc

malloc.tune()

__all__ = ["CPU", "Device", "Generator", "array_module", "cuda_available", "cuda_device_count",
           "default_generator", "device_of", "get_device", "initial_seed", "kernels", "manual_seed",
           "to_device", "to_numpy"]
