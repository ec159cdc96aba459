"""Attach the op functions to ``Tensor`` as methods and operators, and define the in-place forms.

In-place ops (``add_``, ``x += y``, ``x[i] = v``...) follow PyTorch: when no graph is recorded they
write straight into the tensor's memory; when one is, the result is computed by the out-of-place op
(on a snapshot of the old value, so a backward that needs it still sees it), written into the tensor
and the tensor takes the new ``grad_fn``. Each write bumps the version counter shared with views, so a
backward that saved the old value raises instead of computing a wrong gradient.
"""

from __future__ import annotations

import numpy as np

from .. import _config, _dtype
from ..autograd.tensor import Tensor
from ..backend.device import get_device
from . import activation as A
from . import creation as C
from . import elementwise as E
from . import indexing as I
from . import linalg as L
from . import random as R
from . import reduction as Rd
from . import shape as S
from ..autograd import function as _function
from ..backend.device import array_module
from ._util import as_tensor_like, to_python_scalar


def _reflect(fn):
    return lambda self, other: fn(_operand(other), self)


def _operand(other):
    if isinstance(other, np.ndarray):
        return C.tensor(other)
    return other


def _binary_method(fn):
    return lambda self, other: fn(self, _operand(other))


# -- operators -------------------------------------------------------------------------------------
Tensor.__add__ = _binary_method(E.add)
Tensor.__radd__ = _reflect(E.add)
Tensor.__sub__ = _binary_method(E.sub)
Tensor.__rsub__ = _reflect(E.sub)
Tensor.__mul__ = _binary_method(E.mul)
Tensor.__rmul__ = _reflect(E.mul)
Tensor.__truediv__ = _binary_method(E.div)
Tensor.__rtruediv__ = _reflect(E.div)
Tensor.__floordiv__ = _binary_method(E.floor_divide)
Tensor.__rfloordiv__ = _reflect(E.floor_divide)
Tensor.__mod__ = _binary_method(E.remainder)
Tensor.__rmod__ = _reflect(E.remainder)
Tensor.__pow__ = _binary_method(E.pow)
Tensor.__rpow__ = _reflect(E.pow)
Tensor.__matmul__ = lambda self, other: L.matmul(self, as_tensor_like(other, self))
Tensor.__rmatmul__ = lambda self, other: L.matmul(as_tensor_like(other, self), self)
Tensor.__neg__ = E.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = E.abs
Tensor.__invert__ = lambda self: E.logical_not(self) if self.dtype == _dtype.BOOL else E.bitwise_not(self)
Tensor.__and__ = _binary_method(E.bitwise_and)
Tensor.__rand__ = _reflect(E.bitwise_and)
Tensor.__or__ = _binary_method(E.bitwise_or)
Tensor.__ror__ = _reflect(E.bitwise_or)
Tensor.__xor__ = _binary_method(E.bitwise_xor)
Tensor.__rxor__ = _reflect(E.bitwise_xor)
Tensor.__eq__ = lambda self, other: False if other is None else E.eq(self, _operand(other))
Tensor.__ne__ = lambda self, other: True if other is None else E.ne(self, _operand(other))
Tensor.__lt__ = _binary_method(E.lt)
Tensor.__le__ = _binary_method(E.le)
Tensor.__gt__ = _binary_method(E.gt)
Tensor.__ge__ = _binary_method(E.ge)
Tensor.__getitem__ = I.getitem

# -- plain methods: Tensor.name(self, ...) == module.name(self, ...) ------------------------------
_METHODS = {
    E: ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "floor_divide",
        "remainder", "neg", "negative", "pow", "float_power", "maximum", "minimum", "atan2", "arctan2",
        "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal", "sin",
        "cos", "tan", "atan", "asin", "acos", "arctan", "arcsin", "arccos", "sinh", "cosh", "tanh",
        "erf", "abs", "absolute", "sign", "floor", "ceil", "trunc", "fix", "round", "square", "clamp",
        "clip", "clamp_min", "clamp_max", "lerp", "nan_to_num", "eq", "ne", "lt", "le", "gt", "ge",
        "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or",
        "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
        "isnan", "isinf", "isfinite", "isclose", "allclose", "equal", "rsub"],
    A: ["sigmoid", "relu", "softmax", "log_softmax", "logit"],
    Rd: ["sum", "mean", "nansum", "var", "std", "prod", "amax", "amin", "max", "min", "argmax", "argmin",
         "logsumexp", "norm", "dist", "all", "any", "count_nonzero", "cumsum", "cumprod", "sort",
         "argsort", "topk", "median"],
    S: ["reshape", "view", "view_as", "reshape_as", "flatten", "unflatten", "squeeze", "unsqueeze",
        "permute", "transpose", "swapaxes", "swapdims", "t", "movedim", "moveaxis", "expand",
        "expand_as", "broadcast_to", "repeat", "tile", "repeat_interleave", "split", "chunk", "unbind",
        "narrow", "flip", "fliplr", "flipud", "roll", "tril", "triu", "diagonal", "diag", "contiguous",
        "clone", "diag_embed"],
    I: ["gather", "scatter", "scatter_add", "index_select", "index_add", "index_put", "take_along_dim",
        "masked_fill", "masked_select", "masked_scatter", "nonzero", "argwhere"],
    L: ["matmul", "mm", "bmm", "mv", "dot", "inner", "vdot", "outer", "ger", "addmm", "baddbmm"],
}
for _module, _names in _METHODS.items():
    for _name in _names:
        setattr(Tensor, _name, getattr(_module, _name))

Tensor.where = lambda self, condition, other: E.where(condition, self, other)
Tensor.T = property(lambda self: S.permute(self, list(range(self.ndim))[::-1]) if self.ndim > 1 else self)
Tensor.mT = property(lambda self: S.transpose(self, -2, -1))
Tensor.H = Tensor.T
Tensor.mH = Tensor.mT


def _view(self, *shape):
    if len(shape) == 1 and (isinstance(shape[0], (np.dtype, str)) or shape[0] in (float, int, bool)):
        raise TypeError("view(dtype) is not supported; use .to(dtype)")
    return S.reshape(self, *shape)


Tensor.view = _view


def _new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    return C.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_like(factory):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        return factory(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    return method


Tensor.new_tensor = _new_tensor
Tensor.new_zeros = _new_like(C.zeros)
Tensor.new_ones = _new_like(C.ones)
Tensor.new_empty = _new_like(C.empty)
Tensor.new_full = lambda self, size, fill_value, dtype=None, device=None, requires_grad=False: C.full(
    size, fill_value, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


# -- dtype and device conversion -------------------------------------------------------------------
def _to(self, *args, dtype=None, device=None, non_blocking=False, copy=False):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``."""
    for a in args:
        if isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif isinstance(a, str) and a.removeprefix("ember.").removeprefix("torch.") in _dtype.ALIASES:
            dtype = a
        elif isinstance(a, (str, int)) or type(a).__name__ == "Device":
            device = a
        elif a is not None:
            dtype = a
    out = self
    if device is not None:
        out = E.to_device(out, get_device(device))
    if dtype is not None:
        out = E.cast(out, _dtype.as_dtype(dtype))
    if copy and out is self:
        out = S.clone(self)
    return out


Tensor.to = _to
Tensor.cpu = lambda self: E.to_device(self, "cpu")
Tensor.cuda = lambda self, device=None: E.to_device(self, "cuda" if device is None else (
    f"cuda:{device}" if isinstance(device, int) else device))
Tensor.float = lambda self: E.cast(self, _dtype.FLOAT32)
Tensor.double = lambda self: E.cast(self, _dtype.FLOAT64)
Tensor.half = lambda self: E.cast(self, _dtype.FLOAT16)
Tensor.long = lambda self: E.cast(self, _dtype.INT64)
Tensor.int = lambda self: E.cast(self, _dtype.INT32)
Tensor.short = lambda self: E.cast(self, _dtype.INT16)
Tensor.byte = lambda self: E.cast(self, _dtype.UINT8)
Tensor.char = lambda self: E.cast(self, _dtype.INT8)
Tensor.bool = lambda self: E.cast(self, _dtype.BOOL)
Tensor.type_as = lambda self, other: E.cast(self, other.dtype)


def _type(self, dtype=None):
    if dtype is None:
        return f"ember.{self.dtype.name}"
    return E.cast(self, dtype)


Tensor.type = _type


# -- in-place ops ----------------------------------------------------------------------------------
def _recording(self, *others) -> bool:
    if not _config.grad_enabled.get():
        return False
    return self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)


def _check_inplace(self, op: str) -> None:
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation "
            f"(shape {tuple(self.shape)}). Wrap it in ember.no_grad() or use an out-of-place op.")
    base = self._base
    if base is not None and (base._requires_grad or self._requires_grad):
        raise RuntimeError(
            f"{op}: in-place modification of a view (shape {tuple(self.shape)}) of a tensor that requires "
            "grad is not supported; assign through the base tensor (base[idx] = value) or use "
            "out-of-place ops.")


def _snapshot(self) -> Tensor:
    """The current value as a separate tensor with the same history (kept by the new node)."""
    t = Tensor._make(self._data.copy())
    t._requires_grad, t._grad_fn, t._output_nr = self._requires_grad, self._grad_fn, self._output_nr
    return t


def _adopt(self, result: Tensor, op: str) -> Tensor:
    """Write ``result`` into ``self`` and take over its autograd history."""
    if tuple(result.shape) != tuple(self.shape):
        raise RuntimeError(f"{op}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                           f"shape {tuple(result.shape)}")
    _write(self, result._data, op)
    if result._grad_fn is not None:
        self._grad_fn, self._output_nr, self._requires_grad = result._grad_fn, result._output_nr, True
    return self


def _write(self, value, op: str, key=Ellipsis) -> None:
    if not getattr(self._data.flags, "writeable", True):
        raise RuntimeError(f"{op}: the tensor (shape {tuple(self.shape)}) is a read-only view (e.g. from "
                           "expand); clone() it before writing")
    self._data[key] = value
    self._vc.value += 1
    for obs in _function._apply_observers:   # the jit tracer records in-place writes as graph state
        hook = getattr(obs, "on_inplace_write", None)
        if hook is not None:
            hook(self, key, value)


def _inplace(fn, name):
    def method(self, *args, **kwargs):
        args = tuple(_operand(a) for a in args)
        if _recording(self, *args, *kwargs.values()):
            _check_inplace(self, name)
            return _adopt(self, fn(_snapshot(self), *args, **kwargs), name)
        result = fn(Tensor._make(self._data), *args, **kwargs)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"{name}: output with shape {tuple(self.shape)} doesn't match the "
                               f"broadcast shape {tuple(result.shape)}")
        if result._data.dtype.kind == "f" and self._data.dtype.kind != "f":
            raise RuntimeError(f"{name}: result type {result.dtype} can't be cast to the desired output "
                               f"type {self.dtype}")
        _write(self, result._data, name)
        return self
    method.__name__ = name
    method.__doc__ = f"In-place version of ``{fn.__name__}``."
    return method


for _name, _fn in [("add_", E.add), ("sub_", E.sub), ("mul_", E.mul), ("div_", E.div), ("pow_", E.pow),
                   ("clamp_", E.clamp), ("clip_", E.clamp), ("neg_", E.neg), ("exp_", E.exp),
                   ("log_", E.log), ("sqrt_", E.sqrt), ("abs_", E.abs), ("sigmoid_", A.sigmoid),
                   ("tanh_", E.tanh), ("relu_", A.relu), ("floor_", E.floor), ("ceil_", E.ceil),
                   ("round_", E.round), ("trunc_", E.trunc), ("remainder_", E.remainder),
                   ("floor_divide_", E.floor_divide), ("masked_fill_", I.masked_fill),
                   ("clamp_min_", E.clamp_min), ("clamp_max_", E.clamp_max), ("lerp_", E.lerp),
                   ("scatter_", I.scatter), ("scatter_add_", I.scatter_add), ("index_add_", I.index_add),
                   ("reciprocal_", E.reciprocal), ("square_", E.square), ("sin_", E.sin), ("cos_", E.cos),
                   ("nan_to_num_", E.nan_to_num), ("tril_", S.tril), ("triu_", S.triu),
                   ("index_put_", I.index_put)]:
    setattr(Tensor, _name, _inplace(_fn, _name))



def _fast_inplace(ufunc_name: str, name: str, slow):
    """add_/sub_/mul_/div_: when no graph is recorded and nobody traces, one ufunc with ``out=``
    (no temporary beyond ``alpha * other``); otherwise the recorded, traceable path."""
    def method(self, other, *, alpha=1):
        other = _operand(other)
        if _function._apply_observers or _recording(self, other):
            return slow(self, other, alpha=alpha) if alpha != 1 else slow(self, other)
        arr = other._data if isinstance(other, Tensor) else to_python_scalar(other)
        if alpha != 1:
            arr = arr * alpha
        data = self._data
        xp = np if type(data) is np.ndarray else array_module(data)
        try:
            getattr(xp, ufunc_name)(data, arr, out=data, casting="same_kind")
        except (TypeError, ValueError) as exc:
            other_desc = tuple(other.shape) if isinstance(other, Tensor) else repr(other)
            raise RuntimeError(f"{name}: can't update a tensor of shape {tuple(self.shape)} and dtype "
                               f"{self.dtype} in place with {other_desc}: {exc}") from None
        self._vc.value += 1
        return self
    method.__name__ = name
    method.__doc__ = slow.__doc__
    return method


def _alpha_op(fn):
    def with_alpha(input, other, alpha=1):
        return fn(input, other * alpha if alpha != 1 else other)
    with_alpha.__name__ = fn.__name__
    return with_alpha


for _name, _ufunc, _fn in [("add_", "add", E.add), ("sub_", "subtract", E.sub),
                           ("mul_", "multiply", _alpha_op(E.mul)), ("div_", "true_divide", _alpha_op(E.div))]:
    setattr(Tensor, _name, _fast_inplace(_ufunc, _name, _inplace(_fn, _name)))

Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_
Tensor.__imod__ = Tensor.remainder_
Tensor.__ifloordiv__ = Tensor.floor_divide_


def _no_history_fill(name, fill):
    """In-place fills that discard the old value: allowed on non-leaves, refused on grad leaves."""
    def method(self, *args, **kwargs):
        if _config.grad_enabled.get() and self._requires_grad:
            _check_inplace(self, name)
        fill(self, *args, **kwargs)
        if _config.grad_enabled.get() and self._grad_fn is not None:
            _cut_history(self)
        return self
    method.__name__ = name
    return method


def _cut_history(self) -> None:
    """After an overwrite that does not depend on the old value, the old history gets a zero gradient
    and ``self`` still requires grad (PyTorch's FillBackward/CopyBackwards): where(True, new, old)."""
    keep = E.full_like_op(self, True, dtype="bool")
    new = E.Where.apply(keep, Tensor._make(self._data), _alias(self))
    self._grad_fn, self._output_nr = new._grad_fn, new._output_nr


def _fill(self, value):
    _write(self, value._data if isinstance(value, Tensor) else value, "fill_")


def _zero(self):
    _write(self, 0, "zero_")


Tensor.fill_ = _no_history_fill("fill_", _fill)
Tensor.zero_ = _no_history_fill("zero_", _zero)
Tensor.uniform_ = _no_history_fill("uniform_", lambda self, a=0.0, b=1.0, generator=None: R.fill_uniform_(self, a, b, generator))
Tensor.normal_ = _no_history_fill("normal_", lambda self, mean=0.0, std=1.0, generator=None: R.fill_normal_(self, mean, std, generator))


def _bernoulli_(self, p=0.5, generator=None):
    self.copy_(R.bernoulli(self, p, generator=generator))
    return self


Tensor.bernoulli_ = _bernoulli_
Tensor.bernoulli = lambda self, generator=None: R.bernoulli(self, generator=generator)


def _copy_(self, src, non_blocking=False):
    """Copy ``src`` into ``self`` (broadcasting, casting, across devices); differentiable w.r.t. src."""
    src = _operand(src)
    if not isinstance(src, Tensor):
        src = C.tensor(src)
    if _recording(self, src):
        _check_inplace(self, "copy_")
        moved = E.cast(E.to_device(src, self.device), self.dtype)
        out = S.clone(S.expand(moved, tuple(self.shape)))
        had_history = self._grad_fn is not None
        _adopt(self, out, "copy_")
        if out._grad_fn is None and had_history:
            _cut_history(self)
        return self
    from ..backend.device import to_device
    arr = to_device(src._data, self.device)
    np.broadcast_shapes(tuple(arr.shape), tuple(self.shape))
    _write(self, arr, "copy_")
    return self


Tensor.copy_ = _copy_


def _setitem(self, key, value):
    try:
        _setitem_impl(self, key, value)
    except ValueError as exc:  # NumPy's broadcasting failure: report it as PyTorch does, naming both shapes
        shape = tuple(value.shape) if hasattr(value, "shape") else type(value).__name__
        raise RuntimeError(f"__setitem__: can't assign a value of shape {shape} into a tensor of shape "
                           f"{tuple(self.shape)} at index {key!r}: {exc}") from None


def _setitem_impl(self, key, value):
    value = _operand(value)
    if isinstance(value, (list, tuple)):
        value = C.tensor(value, dtype=self.dtype, device=self.device)
    if _recording(self, value):
        _check_inplace(self, "__setitem__")
        new = I.index_put_values(_alias(self), key, value)
        spec, tensors = I.encode_index(key, self)
        arr = value._data if isinstance(value, Tensor) else value
        _write(self, arr.astype(self.dtype, copy=False) if hasattr(arr, "astype") else arr, "__setitem__",
               I.decode_index(spec, [t._data for t in tensors]))
        self._grad_fn, self._output_nr, self._requires_grad = new._grad_fn, new._output_nr, True
        return
    spec, tensors = I.encode_index(key, self)
    I._check_bounds(self, spec, tensors)
    arr = value._data if isinstance(value, Tensor) else value
    _write(self, arr, "__setitem__", I.decode_index(spec, [t._data for t in tensors]))


def _alias(self) -> Tensor:
    """Same data and history as ``self`` (index_put copies its base, so no snapshot is needed)."""
    t = Tensor._make(self._data)
    t._requires_grad, t._grad_fn, t._output_nr = self._requires_grad, self._grad_fn, self._output_nr
    return t


Tensor.__setitem__ = _setitem
