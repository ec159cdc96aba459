"""``Tensor``: an array (NumPy or CuPy) plus the autograd record of how it was computed.

Only the core lives here: storage, autograd attributes, conversions and printing. Arithmetic,
reductions, shape and indexing methods are attached by ``ember.ops.tensor_methods``, because they are
ops and ops sit above autograd in the layering (DESIGN section 2).
"""

from __future__ import annotations

import copy
import weakref

import numpy as np

from .. import _config, _dtype
from ..backend import device as _device


class _VersionCounter:
    """Shared by a tensor and its views; bumped by every in-place write (detects stale saved tensors)."""

    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


class Tensor:
    """An n-dimensional array with autograd. Create with ``ember.tensor``, ``ember.zeros``, ...

    ``requires_grad`` tensors record the operations applied to them; ``backward()`` then fills
    ``.grad`` of the leaves. ``grad_fn`` is the node that produced a non-leaf tensor.
    """

    __slots__ = ("_data", "_requires_grad", "_grad_fn", "_output_nr", "_vc", "_base", "grad",
                 "_hooks", "_retains_grad", "__weakref__", "__dict__")

    __array_priority__ = 1000  # NumPy defers to Tensor's reflected operators

    def __init__(self, data=None, *, requires_grad: bool = False):
        from ..ops.creation import _to_array  # creation helpers sit in ops (layering)
        arr = _to_array([] if data is None else data, _config.default_dtype.get(), None)
        self._init(arr)
        if requires_grad:
            self.requires_grad = True

    def _init(self, arr):
        self._data = arr
        self._requires_grad = False
        self._grad_fn = None
        self._output_nr = 0
        self._vc = _VersionCounter()
        self._base = None
        self.grad = None
        self._hooks = None
        self._retains_grad = False

    @classmethod
    def _make(cls, arr, requires_grad: bool = False) -> "Tensor":
        """Fast internal constructor around an existing array (no copy, no checks)."""
        t = object.__new__(cls)
        t._data = arr
        t._requires_grad = requires_grad
        t._grad_fn = None
        t._output_nr = 0
        t._vc = _VersionCounter()
        t._base = None
        t.grad = None
        t._hooks = None
        t._retains_grad = False
        return t

    # -- basic attributes -------------------------------------------------------------------------
    @property
    def data(self) -> "Tensor":
        """A tensor sharing storage with this one but detached from the graph."""
        return self.detach()

    @data.setter
    def data(self, value: "Tensor"):
        arr = value._data if isinstance(value, Tensor) else value
        self._data = arr
        self._vc.value += 1

    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self):
        return _device.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    def stride(self, dim: int | None = None):
        strides = tuple(s // self._data.dtype.itemsize for s in self._data.strides)
        return strides if dim is None else strides[dim]

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0] if isinstance(self._data, np.ndarray) else self._data.data.ptr

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # -- autograd attributes ----------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool):
        if self._grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables; use detach() to get "
                    "a tensor that does not require grad")
            return
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients (got dtype {self._data.dtype})")
        if value and _config.inference_mode.get():
            raise RuntimeError("requires_grad cannot be set inside inference_mode")
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _version(self) -> int:
        return self._vc.value

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves keep it anyway)."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
            return
        node = self._grad_fn
        if node._retained is None:
            node._retained = {}
        node._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a non-None return replaces it.

        Returns a handle with ``remove()``.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            node = self._grad_fn
            if node._pre_hooks is None:
                node._pre_hooks = {}
            hooks = node._pre_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def detach(self) -> "Tensor":
        """A new leaf tensor sharing storage (and the version counter) with this one."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        t._base = self
        return t

    def detach_(self) -> "Tensor":
        self._grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``; see ``ember.autograd.backward``."""
        from .engine import backward
        backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    # -- conversions ------------------------------------------------------------------------------
    def _check_concrete(self, what: str) -> None:
        from . import function
        for obs in function._apply_observers:
            check = getattr(obs, "on_concrete_read", None)
            if check is not None:
                check(self, what)

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The data as a NumPy array (shared with the tensor on the CPU)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        self._check_concrete(".numpy()")
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} tensor to numpy. Use Tensor.cpu() to copy the tensor "
                    "to host memory first.")
            return _device.to_numpy(self._data)
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        self._check_concrete(".item()")
        return self._data.reshape(()).item() if isinstance(self._data, np.ndarray) else _device.to_numpy(self._data).item()

    def tolist(self):
        self._check_concrete(".tolist()")
        return _device.to_numpy(self._data).tolist()

    def __array__(self, dtype=None, copy=None):
        self._check_concrete("__array__")
        arr = _device.to_numpy(self._data)
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} elements is ambiguous")
        self._check_concrete("bool()")
        return bool(self._data.reshape(()))

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self):
        return complex(self.item())

    def __hash__(self):
        return id(self)

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __reduce_ex__(self, protocol):
        # DataLoader workers send batches through pickle; only data travels, never a graph.
        return (_rebuild_tensor, (_device.to_numpy(self._data), self._requires_grad and self._grad_fn is None))

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol")
        t = object.__new__(type(self))
        Tensor._init(t, self._data.copy())
        t._requires_grad = self._requires_grad
        memo[id(self)] = t
        if self.__dict__:
            t.__dict__.update(copy.deepcopy(self.__dict__, memo))
        if self.grad is not None:
            t.grad = copy.deepcopy(self.grad, memo)
        return t

    # -- printing ---------------------------------------------------------------------------------
    def __repr__(self):
        return _format_tensor(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)


def _rebuild_tensor(arr, requires_grad):
    t = Tensor._make(arr)
    t._requires_grad = requires_grad
    return t


class Size(tuple):
    """The shape of a tensor: a tuple with ``numel()`` (PyTorch's ``torch.Size``)."""

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"ember.Size({list(self)})"


class _HookHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _format_tensor(t: Tensor) -> str:
    """PyTorch's repr: 4 decimals, scientific notation when magnitudes span > 1e3 (or > 1e8 / < 1e-4),
    integral floats as ``1.``, summarised with ``...`` past 1000 elements, lines of at most 80 chars."""
    arr = _device.to_numpy(t._data)
    prefix = "tensor("
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    default_float = _config.default_dtype.get()
    if arr.size == 0:
        if arr.ndim != 1:
            extras.append(f"size={tuple(arr.shape)}")
        if arr.dtype != default_float:  # nothing to infer an integer dtype from
            extras.append(f"dtype=ember.{arr.dtype.name}")
        body = "[]"
    else:
        if arr.dtype not in (default_float, np.dtype(np.int64), np.dtype(np.bool_)):
            extras.append(f"dtype=ember.{arr.dtype.name}")
        if arr.dtype == np.float16:
            arr = arr.astype(np.float32)
        summarize = arr.size > 1000
        fmt = _ElementFormatter(_edge_items(arr) if summarize else arr.reshape(-1))
        body = _format_array(arr, len(prefix), summarize, fmt)
    if t._grad_fn is not None:
        extras.append(f"grad_fn=<{t._grad_fn.name()}>")
    elif t._requires_grad:
        extras.append("requires_grad=True")
    out = prefix + body
    last_line = len(out) - out.rfind("\n") + 1
    for e in extras:
        if last_line + len(e) + 2 > 80:
            out += ",\n" + " " * len(prefix) + e
            last_line = len(prefix) + len(e)
        else:
            out += ", " + e
            last_line += len(e) + 2
    return out + ")"


_EDGE = 3


def _edge_items(arr: np.ndarray) -> np.ndarray:
    """The values a summarised print shows (first and last 3 along every dim), flattened."""
    for d in range(arr.ndim):
        if arr.shape[d] > 2 * _EDGE:
            arr = np.concatenate([arr.take(range(_EDGE), d), arr.take(range(arr.shape[d] - _EDGE, arr.shape[d]), d)], d)
    return arr.reshape(-1)


class _ElementFormatter:
    """Chooses one format (integer-valued, fixed or scientific) and one width for all elements."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        if not self.floating:
            self.width = max(len(str(v)) for v in values.tolist()) if values.size else 1
            return
        finite = values[np.isfinite(values) & (values != 0)].astype(np.float64)
        if finite.size == 0:
            return
        mags = np.abs(finite)
        lo, hi = mags.min(), mags.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8
            widths = [len(f"{v:.4e}") if self.sci_mode else len(f"{v:.0f}") + 1 for v in finite.tolist()]
        else:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
            widths = [len(f"{v:.4e}" if self.sci_mode else f"{v:.4f}") for v in finite.tolist()]
        self.width = max(widths)

    def __call__(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.4e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if value != value or value in (float("inf"), float("-inf")) else ".")
        else:
            text = f"{value:.4f}"
        return " " * (self.width - len(text)) + text


def _format_array(arr: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormatter) -> str:
    if arr.ndim == 0:
        return fmt(arr.item())
    n = arr.shape[0]
    if arr.ndim == 1:
        per_line = max(1, (80 - indent) // (fmt.width + 2))
        if summarize and n > 2 * _EDGE:
            items = [fmt(v) for v in arr[:_EDGE].tolist()] + [" ..."] + [fmt(v) for v in arr[-_EDGE:].tolist()]
        else:
            items = [fmt(v) for v in arr.tolist()]
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(n) if not (summarize and n > 2 * _EDGE) else [*range(_EDGE), None, *range(n - _EDGE, n)]
    parts = ["..." if i is None else _format_array(arr[i], indent + 1, summarize, fmt) for i in rows]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(parts) + "]"
