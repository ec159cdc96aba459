"""Spectral normalization (PyTorch's ``torch.nn.utils.spectral_norm`` / ``remove_spectral_norm``):
``weight = weight_orig / sigma`` with sigma, the largest singular value of ``weight_orig`` (as a
(shape[dim], -1) matrix), estimated by power iteration on the buffers ``weight_u`` / ``weight_v``.
The iteration runs before each forward in training mode; eval mode reuses the last estimate."""

from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...ops import linalg as LA
from ...ops import reduction as R
from ...ops import shape as S
from ...ops.normalization import normalize
from ..init import normal_
from ..parameter import Parameter

__all__ = ["spectral_norm", "remove_spectral_norm"]


class _SpectralNormHook:
    def __init__(self, name: str, n_power_iterations: int, dim: int, eps: float):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations="
                             f"{n_power_iterations}")
        self.name, self.n, self.dim, self.eps = name, n_power_iterations, dim, eps

    def matrix(self, w):
        if self.dim != 0:
            w = S.movedim(w, self.dim, 0)
        return S.reshape(w, (w.shape[0], -1))

    def compute(self, module, do_power_iteration: bool):
        w = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        mat = self.matrix(w)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n):
                    v_new = normalize(LA.mv(S.t(mat), u), dim=0, eps=self.eps)
                    u_new = normalize(LA.mv(mat, v_new), dim=0, eps=self.eps)
                    v.copy_(v_new)
                    u.copy_(u_new)
        sigma = R.sum(u * LA.mv(mat, v))
        return w / sigma

    def __call__(self, module, args):
        object.__setattr__(module, self.name, self.compute(module, module.training))


def spectral_norm(module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None):
    """Reparameterize ``module.<name>`` as weight_orig / sigma(weight_orig); returns the module.
    ``dim`` defaults to 1 for transposed convolutions and 0 otherwise."""
    hooks = module.__dict__.setdefault("_ember_spectral_norm", {})
    if name in hooks:
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    if dim is None:
        dim = 1 if type(module).__name__.startswith("ConvTranspose") else 0
    weight = getattr(module, name)
    if not isinstance(weight, Parameter):
        raise TypeError(f"spectral_norm: module.{name} must be a Parameter, got {type(weight).__name__}")
    hook = _SpectralNormHook(name, n_power_iterations, dim, eps)
    with no_grad():
        mat = hook.matrix(weight)
        h, w = mat.shape
        u = normalize(normal_(weight.new_empty(h)), dim=0, eps=eps)
        v = normalize(normal_(weight.new_empty(w)), dim=0, eps=eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    module.register_buffer(name + "_u", u.detach())
    module.register_buffer(name + "_v", v.detach())
    object.__setattr__(module, name, weight.detach())
    hooks[name] = (module.register_forward_pre_hook(hook), hook)
    return module


def remove_spectral_norm(module, name: str = "weight"):
    """Undo ``spectral_norm``: ``module.<name>`` becomes a Parameter holding the normalized weight."""
    hooks = module.__dict__.get("_ember_spectral_norm", {})
    if name not in hooks:
        raise ValueError(f"spectral_norm of '{name}' not found in {module}")
    handle, hook = hooks.pop(name)
    with no_grad():
        weight = hook.compute(module, False).detach()
    handle.remove()
    del module._parameters[name + "_orig"]
    del module._buffers[name + "_u"]
    del module._buffers[name + "_v"]
    module.__dict__.pop(name, None)
    module.register_parameter(name, Parameter(weight))
    return module
