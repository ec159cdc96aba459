"""Activation modules: one per activation op, with PyTorch's names, arguments and defaults.

The ops themselves live in ``ember.ops.activation``; the few activations PyTorch has only in
``torch.nn.functional`` (threshold, hardshrink, softshrink, tanhshrink, logsigmoid, prelu, glu,
rrelu in eval form) are composites defined here and re-exported by ``nn.functional``.
"""

from __future__ import annotations

from ...autograd.function import op_error
from ...autograd.tensor import Tensor
from ...ops import activation as A
from ...ops import elementwise as E
from ...ops import shape as S
from ...ops.creation import empty
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Softplus", "Softsign",
           "Hardtanh", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softmin",
           "Softmax2d", "Threshold", "Hardshrink", "Softshrink", "Tanhshrink", "LogSigmoid", "PReLU", "GLU",
           "RReLU", "threshold", "threshold_", "hardshrink", "softshrink", "tanhshrink", "logsigmoid", "prelu",
           "glu", "relu", "relu_", "relu6", "elu", "elu_", "selu", "selu_", "celu", "celu_", "leaky_relu",
           "leaky_relu_", "hardtanh", "hardtanh_", "silu", "mish", "hardsigmoid", "hardswish", "rrelu", "rrelu_",
           "gumbel_softmax"]


# -- PyTorch's functional signatures with ``inplace`` (the ops in ember.ops.activation have none) ----

def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.relu(input), inplace)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.relu6(input), inplace)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.elu(input, alpha), inplace)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.selu(input), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.celu(input, alpha), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.leaky_relu(input, negative_slope), inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.hardtanh(input, min_val, max_val), inplace)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.silu(input), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.mish(input), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.hardsigmoid(input), inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, A.hardswish(input), inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return celu(input, alpha, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: negative inputs are scaled by a slope drawn from U(lower, upper) per
    element in training, by the fixed (lower + upper) / 2 in eval."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from ...ops.random import rand
    slope = rand(tuple(input.shape), dtype=input.dtype, device=input.device) * (upper - lower) + lower
    return _maybe_inplace(input, E.where(input >= 0, input, input * slope), inplace)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    return rrelu(input, lower, upper, training, inplace=True)


# -- functional composites -------------------------------------------------------------------------

def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """y = x if x > threshold else value."""
    return _maybe_inplace(input, E.where(input > threshold, input, float(value)), inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _maybe_inplace(input, E.where(input > threshold, input, float(value)), True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x if |x| > lambd else 0."""
    return E.where(E.abs(input) > lambd, input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """y = x - lambd if x > lambd, x + lambd if x < -lambd, else 0."""
    return E.where(input > lambd, input - lambd, E.where(input < -lambd, input + lambd, 0.0))


def tanhshrink(input: Tensor) -> Tensor:
    """y = x - tanh(x)."""
    return input - E.tanh(input)


def logsigmoid(input: Tensor) -> Tensor:
    """y = log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -A.softplus(-input)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """y = x if x >= 0 else weight * x; ``weight`` has 1 or C (= input.shape[1]) entries."""
    n = weight.numel()
    if n != 1:
        if input.ndim < 2 or input.shape[1] != n:
            raise op_error("prelu", f"weight has {n} entries, expected 1 or the number of channels "
                                    f"(dim 1 of the input)", input, weight)
        weight = S.reshape(weight, (n,) + (1,) * (input.ndim - 2))
    else:
        weight = S.reshape(weight, ())
    return E.where(input >= 0, input, weight * input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: a * sigmoid(b) where (a, b) are the two halves of ``input`` along ``dim``."""
    if input.shape[dim] % 2:
        raise op_error("glu", f"halving dimension must be even, but dimension {dim} is size {input.shape[dim]}",
                       input)
    a, b = S.chunk(input, 2, dim)
    return a * A.sigmoid(b)


def _maybe_inplace(input: Tensor, out: Tensor, inplace: bool) -> Tensor:
    return input.copy_(out) if inplace else out


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / tau) with Gumbel(0, 1) noise g; ``hard=True`` returns the one-hot argmax
    in the forward pass with the soft sample's gradient (straight-through)."""
    from ...ops.indexing import scatter
    from ...ops.random import rand
    from ...ops.reduction import argmax
    u = rand(tuple(logits.shape), dtype=logits.dtype, device=logits.device)
    gumbels = -E.log(-E.log(u + eps) + eps)
    y = A.softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y
    y_hard = scatter(y.detach() * 0.0, dim, argmax(y, dim, keepdim=True), value=1.0)
    return y_hard - y.detach() + y


# -- modules ---------------------------------------------------------------------------------------

class _Inplace(Module):
    """An elementwise activation with PyTorch's ``inplace`` flag (the result is written into the input)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def _f(self, input):
        raise NotImplementedError

    def forward(self, input):
        return _maybe_inplace(input, self._f(input), self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    def _f(self, input):
        return A.relu(input)


class ReLU6(_Inplace):
    def _f(self, input):
        return A.relu6(input)


class SELU(_Inplace):
    def _f(self, input):
        return A.selu(input)


class SiLU(_Inplace):
    def _f(self, input):
        return A.silu(input)


class Mish(_Inplace):
    def _f(self, input):
        return A.mish(input)


class Hardsigmoid(_Inplace):
    def _f(self, input):
        return A.hardsigmoid(input)


class Hardswish(_Inplace):
    def _f(self, input):
        return A.hardswish(input)


class LeakyReLU(_Inplace):
    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def _f(self, input):
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Inplace):
    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def _f(self, input):
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    def _f(self, input):
        return A.celu(input, self.alpha)


class Hardtanh(_Inplace):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if not min_val < max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) must be smaller than max_val ({max_val})")
        self.min_val, self.max_val = min_val, max_val

    def _f(self, input):
        return A.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class Threshold(_Inplace):
    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(inplace)
        self.threshold, self.value = threshold, value

    def _f(self, input):
        return threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class RReLU(_Inplace):
    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False):
        super().__init__(inplace)
        self.lower, self.upper = lower, upper

    def forward(self, input):
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input):
        return A.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class _Stateless(Module):
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class Softsign(_Stateless):
    _fn = staticmethod(A.softsign)


class Sigmoid(_Stateless):
    _fn = staticmethod(A.sigmoid)


class Tanh(_Stateless):
    _fn = staticmethod(E.tanh)


class Tanhshrink(_Stateless):
    _fn = staticmethod(tanhshrink)


class LogSigmoid(_Stateless):
    _fn = staticmethod(logsigmoid)


class _Shrink(Module):
    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Hardshrink(_Shrink):
    def forward(self, input):
        return hardshrink(input, self.lambd)


class Softshrink(_Shrink):
    def forward(self, input):
        return softshrink(input, self.lambd)


class _DimActivation(Module):
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_DimActivation):
    def forward(self, input):
        return A.softmax(input, self.dim)


class LogSoftmax(_DimActivation):
    def forward(self, input):
        return A.log_softmax(input, self.dim)


class Softmin(_DimActivation):
    def forward(self, input):
        return A.softmin(input, self.dim)


class Softmax2d(Module):
    """Softmax over channels of (N, C, H, W) or (C, H, W) input."""

    def forward(self, input):
        if input.ndim not in (3, 4):
            raise op_error("Softmax2d", f"expected a 3-d or 4-d input, got {input.ndim}-d", input)
        return A.softmax(input, -3)


class GLU(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class PReLU(Module):
    """y = x if x >= 0 else a * x with a learnable ``weight`` of ``num_parameters`` entries (1 or C)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty((num_parameters,), device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"
