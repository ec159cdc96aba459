"""Every differentiable primitive and the composites built on them, one module per family."""

from . import activation, comparison, conversion, creation, elementwise, indexing, linalg, random, reduction, shape
# The layer-level families register their primitives here too, so a saved graph loads without ember.nn.
from . import (attention, convolution, ctc, dropout, embedding, loss, loss_margin, normalization, pooling,
               recurrent, resample)
from . import tensor_methods  # noqa: F401  (binds methods and operators onto Tensor)
from . import inplace_extra  # noqa: F401  (addcmul_/addcdiv_/lerp_/maximum_ used by optimizers)

__all__ = ["activation", "attention", "comparison", "conversion", "convolution", "creation", "ctc", "dropout",
           "elementwise", "embedding", "indexing", "linalg", "loss", "loss_margin", "normalization", "pooling",
           "random", "recurrent", "reduction", "resample", "shape"]
