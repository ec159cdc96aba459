"""Every differentiable primitive and the composites built on them, one module per family."""

from . import activation, creation, elementwise, indexing, linalg, random, reduction, shape
from . import tensor_methods  # noqa: F401  (binds methods and operators onto Tensor)
from . import inplace_extra  # noqa: F401  (addcmul_/addcdiv_/lerp_/maximum_ used by optimizers)

__all__ = ["activation", "creation", "elementwise", "indexing", "linalg", "random", "reduction", "shape"]
