"""The op-table format shared by every ``tests/ops/cases_*.py`` file (DESIGN section 8).

Each case names the registered primitives it exercises (``covers``); ``test_op_table.py`` runs every
case three ways — forward in float32 against a NumPy reference, ``gradcheck`` in float64, and
``gradgradcheck`` where the op is twice differentiable — and ``test_registry.py`` fails when a
registered op is covered by no case.

Input specs:
- a tuple: a float tensor of that shape with standard-normal values (mapped through ``domain``);
- ``Int(shape, low, high)`` / ``Bool(shape)``: integer / bool tensors (never differentiated);
- ``Const(array)``: a fixed tensor built from ``array`` (float arrays are differentiated unless
  ``grad=False`` is passed to it);
- anything else (Python numbers, None, strings): passed through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

import ember


@dataclass(frozen=True)
class Int:
    shape: tuple
    low: int = 0
    high: int = 5


@dataclass(frozen=True)
class Bool:
    shape: tuple


@dataclass(frozen=True)
class Const:
    value: Any
    grad: bool = True


@dataclass
class OpCase:
    name: str
    fn: Callable                       # (*tensors) -> Tensor or tuple of Tensors
    ref: Callable | None               # (*numpy arrays) -> array or tuple; None: forward not compared
    inputs: list
    covers: tuple = ()                 # registered op names this case exercises
    domain: Callable | None = None     # maps the float inputs (np arrays) into the op's domain
    grad: bool = True
    gradgrad: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    grad_atol: float = 1e-5
    grad_rtol: float = 1e-3
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.name


def make_inputs(case: OpCase, dtype=np.float32, requires_grad: bool = False):
    """(ember tensors/values, numpy arrays/values) for ``case`` in ``dtype``."""
    rng = np.random.default_rng(case.seed)
    tensors, arrays = [], []
    for spec in case.inputs:
        if isinstance(spec, tuple):
            arr = rng.standard_normal(spec)
            if case.domain is not None:
                arr = case.domain(arr)
            arr = np.asarray(arr, dtype=dtype)
            tensors.append(ember.tensor(arr, requires_grad=requires_grad))
            arrays.append(arr)
        elif isinstance(spec, Int):
            arr = rng.integers(spec.low, spec.high, spec.shape).astype(np.int64)
            tensors.append(ember.tensor(arr))
            arrays.append(arr)
        elif isinstance(spec, Bool):
            arr = rng.random(spec.shape) < 0.5
            tensors.append(ember.tensor(arr))
            arrays.append(arr)
        elif isinstance(spec, Const):
            arr = np.asarray(spec.value)
            if arr.dtype.kind == "f":
                arr = arr.astype(dtype)
            rg = requires_grad and spec.grad and arr.dtype.kind == "f"
            tensors.append(ember.tensor(arr, requires_grad=rg))
            arrays.append(arr)
        else:
            tensors.append(spec)
            arrays.append(spec)
    return tensors, arrays


def as_tuple(x):
    return x if isinstance(x, tuple) else (x,)
