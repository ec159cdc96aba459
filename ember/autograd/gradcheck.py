"""``gradcheck`` / ``gradgradcheck``: compare analytic gradients with central finite differences.

Use float64 inputs: with eps=1e-6 the truncation and rounding errors of float32 exceed any useful
tolerance. Both raise ``GradcheckError`` naming the input and the worst element (or return False
with ``raise_exception=False``).
"""

from __future__ import annotations

import numpy as np

from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _flat_outputs(fn, inputs):
    out = fn(*inputs)
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor) and o._data.dtype.kind == "f")


def _numerical_jacobian(fn, inputs, k, eps):
    """d(outputs)/d(inputs[k]) by central differences: a list (per output) of (numel_in, numel_out)."""
    x = inputs[k]
    flat = x._data.reshape(-1)
    cols = []
    with no_grad():
        for i in range(flat.size):
            orig = flat[i].item()
            flat[i] = orig + eps
            plus = [o._data.astype(np.float64).reshape(-1).copy() for o in _flat_outputs(fn, inputs)]
            flat[i] = orig - eps
            minus = [o._data.astype(np.float64).reshape(-1).copy() for o in _flat_outputs(fn, inputs)]
            flat[i] = orig
            cols.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    n_out = len(cols[0]) if cols else 0
    return [np.stack([c[j] for c in cols]) if cols else None for j in range(n_out)]


def _analytical_jacobian(fn, inputs, diff_idx, create_graph=False):
    outputs = _flat_outputs(fn, inputs)
    jac = {k: [np.zeros((inputs[k].numel(), o.numel())) for o in outputs] for k in diff_idx}
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        flat_n = out.numel()
        for m in range(flat_n):
            g = np.zeros(flat_n, dtype=out._data.dtype)
            g[m] = 1.0
            grads = _grad([out], [inputs[k] for k in diff_idx],
                          grad_outputs=[Tensor._make(g.reshape(out._data.shape))],
                          retain_graph=True, allow_unused=True)
            for k, gk in zip(diff_idx, grads):
                if gk is not None:
                    jac[k][j][:, m] = np.asarray(gk._data, dtype=np.float64).reshape(-1)
    return jac


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0) -> bool:
    """Check analytic first derivatives of ``fn`` w.r.t. every input with ``requires_grad``."""
    inputs = _as_tuple(inputs)
    diff_idx = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for k in diff_idx:
        if inputs[k].dtype != np.float64:
            import warnings
            warnings.warn(f"gradcheck: input {k} is {inputs[k].dtype}, not float64; the check may fail "
                          "from rounding alone", stacklevel=2)
    analytic = _analytical_jacobian(fn, inputs, diff_idx)
    for k in diff_idx:
        numeric = _numerical_jacobian(fn, inputs, k, eps)
        for j, (a, n) in enumerate(zip(analytic[k], numeric)):
            if n is None:
                continue
            if not np.allclose(a, n, atol=atol, rtol=rtol):
                diff = np.abs(a - n)
                worst = np.unravel_index(np.argmax(diff), diff.shape)
                msg = (f"Jacobian mismatch for output {j} with respect to input {k}: at (input element "
                       f"{worst[0]}, output element {worst[1]}) numerical {n[worst]:.6g} vs analytical "
                       f"{a[worst]:.6g} (max abs diff {diff.max():.3g}).\nnumerical:\n{n}\nanalytical:\n{a}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True, gen_non_contig_grad_outputs: bool = False) -> bool:
    """Check second derivatives: gradcheck of the function (inputs, v) -> d(fn·v)/d(inputs)."""
    inputs = _as_tuple(inputs)
    diff_idx = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    outputs = _flat_outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(Tensor._make(rng.standard_normal(o.shape).astype(o._data.dtype)).requires_grad_()
                             for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_grads(*args):
        xs, vs = args[:n], args[n:]
        with enable_grad():  # also when the numerical Jacobian evaluates this under no_grad
            outs = _flat_outputs(fn, xs)
            diff_inputs = [xs[k] for k in diff_idx]
            gs = _grad(list(outs), diff_inputs, grad_outputs=list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grads, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
