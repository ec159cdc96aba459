"""Ember: a small deep-learning framework on NumPy (CPU) and CuPy (GPU).

The top-level namespace mirrors ``torch``: tensors and their factories, math ops, autograd switches,
dtypes, devices and seeding.
"""

from . import _config
from ._dtype import (BOOL as bool, FLOAT16 as float16, FLOAT16 as half, FLOAT32 as float32, FLOAT32 as float,
                     FLOAT64 as float64, FLOAT64 as double, INT8 as int8, INT16 as int16, INT16 as short,
                     INT32 as int32, INT32 as int, INT64 as int64, INT64 as long, UINT8 as uint8)
from .autograd import (Size, Tensor, enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled,
                       no_grad, set_grad_enabled)
from . import autograd
from .backend import Device as device, Generator, cuda_available, get_device, initial_seed, manual_seed
from .ops import activation as _act, elementwise as _ew, indexing as _ix, linalg as _la, reduction as _red
from .ops import shape as _sh
from .ops.creation import (arange, as_tensor, empty, empty_like, eye, from_dlpack, from_numpy, full, full_like,
                           linspace, logspace, ones, ones_like, tensor, zeros, zeros_like)
from .ops.random import (bernoulli, normal, rand, rand_like, randint, randint_like, randn, randn_like,
                         randperm)
from .ops.elementwise import (abs, absolute, acos, add, allclose, arccos, arcsin, arctan, arctan2, asin, atan,
                              atan2, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, ceil, clamp, clamp_max,
                              clamp_min, clip, cos, cosh, div, divide, eq, equal, erf, exp, exp2, expm1, fix,
                              float_power, floor, floor_divide, ge, greater, greater_equal, gt, isclose, isfinite,
                              isinf, isnan, le, lerp, less, less_equal, log, log1p, log2, log10, logical_and,
                              logical_not, logical_or, logical_xor, lt, maximum, minimum, mul, multiply,
                              nan_to_num, ne, neg, negative, not_equal, pow, reciprocal, remainder, round, rsqrt,
                              rsub, sign, sin, sinh, sqrt, square, sub, subtract, tan, tanh, true_divide, trunc,
                              where)
from .ops.activation import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh, leaky_relu, log_softmax, logit,
                             mish, relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign)
from .ops.reduction import (all, amax, amin, any, argmax, argmin, argsort, count_nonzero, cumprod, cumsum, dist,
                            logsumexp, max, mean, median, min, nansum, norm, prod, sort, std, std_mean, sum,
                            topk, var, var_mean)
from .ops.shape import (broadcast_shapes, broadcast_tensors, broadcast_to, cat, chunk, clone, concat,
                        concatenate, contiguous, diag, diag_embed, diagonal, expand, flatten, flip, fliplr,
                        flipud, hstack, movedim, moveaxis, narrow, pad as _pad, permute, repeat_interleave,
                        reshape, roll, split, squeeze, stack, swapaxes, swapdims, t, tile, transpose, tril, triu,
                        unbind, unflatten, unsqueeze, vstack)
from .ops.indexing import (argwhere, gather, index_add, index_put, index_select, masked_fill, masked_scatter,
                           masked_select, nonzero, scatter, scatter_add, take_along_dim)
from .ops.linalg import addmm, baddbmm, bmm, dot, einsum, ger, inner, matmul, mm, mv, outer, vdot
from . import optim, utils
from .io import load, save
from . import nn
from .gradient_tape import GradientTape
from . import train, keras
from . import models

from . import jit
from .jit import cond, scan, while_loop

# PyTorch's top-level aliases of common layer functions (torch.conv2d, torch.max_pool2d, ...).
from .nn.functional import (adaptive_avg_pool1d, adaptive_max_pool1d, avg_pool1d, conv1d, conv2d, conv3d,
                            conv_transpose1d, conv_transpose2d, conv_transpose3d, max_pool1d, max_pool2d,
                            max_pool3d, pixel_shuffle, pixel_unshuffle)

__version__ = "0.1.0"


def get_default_dtype():
    """The dtype floating-point factories produce (float32 unless changed)."""
    return _config.default_dtype.get()


def set_default_dtype(d) -> None:
    from ._dtype import as_dtype
    dt = as_dtype(d)
    if dt.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {dt}")
    _config.default_dtype.set(dt)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(t: Tensor) -> bool:
    return t.is_floating_point()


def numel(t: Tensor) -> int:
    return t.numel()


def seed() -> int:
    """Seed the default generators from OS entropy; returns the seed."""
    from .backend.random import default_generator
    s = default_generator(get_device("cpu")).seed()
    manual_seed(s)
    return s
