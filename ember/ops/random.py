"""Random tensor factories (``rand``, ``randn``, ``randint``, ``normal``, ``bernoulli``, ``randperm``)
and the in-place fills ``uniform_`` / ``normal_``. All draw from the per-device generators in
``ember.backend.random`` (or an explicit ``generator=``), never from NumPy's global state."""

from __future__ import annotations

import numpy as np

from .. import _dtype
from ..autograd.tensor import Tensor
from ..backend.device import get_device
from ..backend.random import Generator, default_generator
from .creation import _finish, _float_or, _size


def _gen(generator: Generator | None, device) -> Generator:
    if generator is not None:
        return generator
    return default_generator(get_device(device))


def _floats(draw, size, dtype, device, generator, requires_grad):
    dt = _float_or(dtype)
    gen = _gen(generator, device)
    draw_dtype = dt if dt != _dtype.FLOAT16 else _dtype.FLOAT32
    with gen.device:
        arr = draw(gen.rng, _size(size), draw_dtype)
    return _finish(arr.astype(dt, copy=False), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _floats(lambda rng, s, d: rng.random(s, dtype=d), size, dtype, device, generator, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _floats(lambda rng, s, d: rng.standard_normal(s, dtype=d), size, dtype, device, generator,
                   requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high); ``randint(high, size)`` starts at 0. int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high is None:
        low, high = 0, low
    gen = _gen(generator, device)
    with gen.device:
        arr = gen.rng.integers(low, high, _size((size,)), dtype=np.int64)
    return _finish(arr.astype(_dtype.as_dtype(dtype) or _dtype.INT64, copy=False), requires_grad)


def randperm(n: int, *, generator=None, dtype=None, device=None) -> Tensor:
    gen = _gen(generator, device)
    with gen.device:
        arr = gen.rng.permutation(int(n))
    return _finish(arr.astype(_dtype.as_dtype(dtype) or _dtype.INT64, copy=False), False)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples; ``mean``/``std`` may be numbers (then ``size`` is required) or tensors."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        gen = _gen(generator, ref.device)
        z = gen.rng.standard_normal(shape, dtype=np.float32 if ref.dtype == np.float16 else ref.dtype)
        return _finish((m + s * z).astype(ref.dtype, copy=False), requires_grad)
    if size is None:
        raise TypeError("normal() with scalar mean and std needs a size")
    t = randn(size, generator=generator, dtype=dtype, device=device)
    t._data *= std
    t._data += mean
    return _finish(t._data, requires_grad)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """0/1 samples with probability ``input`` (or the scalar ``p``), in ``input``'s dtype."""
    probs = input._data if p is None else p
    gen = _gen(generator, input.device)
    with gen.device:
        u = gen.rng.random(input.shape, dtype=np.float64)
    return Tensor._make((u < probs).astype(input.dtype))


def rand_like(t: Tensor, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return rand(t.shape, generator=generator, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t: Tensor, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return randn(t.shape, generator=generator, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def randint_like(t: Tensor, low, high=None, *, generator=None, dtype=None, device=None) -> Tensor:
    return randint(low, high, t.shape, generator=generator, dtype=dtype or t.dtype,
                   device=device or t.device)


def fill_uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """In place: uniform samples on [a, b). Used by ``Tensor.uniform_`` and ``nn.init``."""
    gen = _gen(generator, t.device)
    draw_dtype = t.dtype if t.dtype != _dtype.FLOAT16 else _dtype.FLOAT32
    with gen.device:
        u = gen.rng.random(t.shape, dtype=draw_dtype)
    t._data[...] = u * (b - a) + a
    t._vc.value += 1
    return t


def fill_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """In place: normal samples. Used by ``Tensor.normal_`` and ``nn.init``."""
    gen = _gen(generator, t.device)
    draw_dtype = t.dtype if t.dtype != _dtype.FLOAT16 else _dtype.FLOAT32
    with gen.device:
        z = gen.rng.standard_normal(t.shape, dtype=draw_dtype)
    t._data[...] = z * std + mean
    t._vc.value += 1
    return t
