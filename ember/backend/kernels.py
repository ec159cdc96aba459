"""Array kernels with one NumPy and one CuPy implementation; ops call these, never numpy/cupy directly
when the two libraries differ."""

from __future__ import annotations

import math

import numpy as np

try:  # SciPy's erf is a fast compiled ufunc; without SciPy a slower exact fallback is used.
    from scipy.special import erf as _scipy_erf, erfinv as _scipy_erfinv
except ImportError:  # pragma: no cover - exercised by monkeypatching in tests
    _scipy_erf = _scipy_erfinv = None

_erf_scalar = np.frompyfunc(math.erf, 1, 1)


def erf(xp, x):
    """Elementwise error function, exact to double precision, same dtype as ``x``."""
    if xp is not np:
        import cupyx.scipy.special as cusp
        return cusp.erf(x)
    if _scipy_erf is not None:
        return _scipy_erf(x).astype(x.dtype, copy=False)
    return _erf_scalar(x).astype(x.dtype)


def scatter_add(xp, target, index, values):
    """``target[index] += values`` with repeated indices accumulated (unbuffered), in place."""
    if xp is np:
        np.add.at(target, index, values)
    else:
        import cupyx
        cupyx.scatter_add(target, index, values)
    return target


def scatter_add_along(xp, target, dim: int, index, values):
    """In place: ``target[..., index[i,j,..], ...] += values[i,j,..]`` along ``dim`` (torch.scatter_add_)."""
    idx = list(xp.indices(index.shape, sparse=True))
    idx[dim] = index
    return scatter_add(xp, target, tuple(idx), values)
