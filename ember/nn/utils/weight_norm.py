"""Weight normalization (PyTorch's ``torch.nn.utils.weight_norm`` / ``remove_weight_norm``):
``weight = g * v / ||v||`` with the norm taken over every dim but ``dim``. ``weight`` is replaced by
the parameters ``weight_g`` and ``weight_v`` and recomputed by a forward pre-hook before each call."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops import elementwise as E
from ...ops import reduction as R
from ..parameter import Parameter

__all__ = ["weight_norm", "remove_weight_norm"]


def norm_except_dim(v, pow: float = 2, dim: int = 0):
    """The ``pow``-norm of ``v`` over all dims except ``dim`` (kept, others size 1); ``dim=-1``: the
    norm of the whole tensor (PyTorch's convention)."""
    if dim == -1:
        return R.norm(v, pow)
    dims = [d for d in range(v.ndim) if d != dim % v.ndim]
    return R.norm(v, pow, dims, keepdim=True) if dims else E.abs(v)


def _compute(module, name: str, dim: int):
    g = getattr(module, name + "_g")
    v = getattr(module, name + "_v")
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNormHook:
    def __init__(self, name: str, dim: int):
        self.name, self.dim = name, dim

    def __call__(self, module, args):
        object.__setattr__(module, self.name, _compute(module, self.name, self.dim))


def weight_norm(module, name: str = "weight", dim: int | None = 0):
    """Reparameterize ``module.<name>`` as g * v / ||v||; returns the module."""
    hooks = module.__dict__.setdefault("_ember_weight_norm", {})
    if name in hooks:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    if dim is None:
        dim = -1
    weight = getattr(module, name)
    if not isinstance(weight, Parameter):
        raise TypeError(f"weight_norm: module.{name} must be a Parameter, got {type(weight).__name__}")
    del module._parameters[name]
    with no_grad():
        g = norm_except_dim(weight, 2, dim)
    module.register_parameter(name + "_g", Parameter(g.detach()))
    module.register_parameter(name + "_v", Parameter(weight.detach()))
    hook = _WeightNormHook(name, dim)
    object.__setattr__(module, name, _compute(module, name, dim))
    hooks[name] = module.register_forward_pre_hook(hook)
    return module


def remove_weight_norm(module, name: str = "weight"):
    """Undo ``weight_norm``: ``module.<name>`` becomes a Parameter again holding the current value."""
    hooks = module.__dict__.get("_ember_weight_norm", {})
    if name not in hooks:
        raise ValueError(f"weight_norm of '{name}' not found in {module}")
    handle = hooks.pop(name)
    dim = next(h for h in module._forward_pre_hooks.values() if isinstance(h, _WeightNormHook) and h.name == name).dim
    with no_grad():
        weight = _compute(module, name, dim).detach()
    handle.remove()
    del module._parameters[name + "_g"]
    del module._parameters[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module
