"""``GradientTape``: TensorFlow's tape API over Ember's eager autograd.

Ember records a graph for every op on tensors that require grad, whether or not a tape is open. The
tape therefore records nothing itself; it decides what ``gradient`` returns:

- trainable tensors (leaves with ``requires_grad``) used inside the block are watched automatically
  (``watch_accessed_variables=True``); with ``False`` only tensors passed to ``watch`` are;
- ``watch(t)`` on a tensor that does not require grad makes it require grad for the duration of the
  block (and of each ``gradient`` call), then restores the flag, so constants stay constants;
- a non-persistent tape computes one set of gradients and then refuses (its graph is freed);
- ``gradient`` called while an outer tape is recording builds a differentiable result
  (``create_graph=True``), so nested tapes give second-order derivatives.

Sources may be a tensor, a (nested) list/tuple or a dict; the result has the same structure, with
``None`` for sources the target does not depend on (``unconnected_gradients="zero"`` gives zeros).
"""

from __future__ import annotations

import contextlib

from .autograd import engine
from .autograd.grad_mode import enable_grad, no_grad
from .autograd.tensor import Tensor

__all__ = ["GradientTape"]

# Tapes whose ``with`` block is open, innermost last.
_ACTIVE: list["GradientTape"] = []


def _flatten(structure, out):
    if isinstance(structure, Tensor):
        out.append(structure)
    elif isinstance(structure, dict):
        for k in structure:
            _flatten(structure[k], out)
    elif isinstance(structure, (list, tuple)):
        for s in structure:
            _flatten(s, out)
    elif structure is None:
        out.append(None)
    else:
        raise TypeError(f"GradientTape: sources must be Tensors, lists, tuples or dicts of them, "
                        f"got {type(structure).__name__}")
    return out


def _pack(structure, flat_iter):
    if isinstance(structure, Tensor) or structure is None:
        return next(flat_iter)
    if isinstance(structure, dict):
        return {k: _pack(structure[k], flat_iter) for k in structure}
    packed = [_pack(s, flat_iter) for s in structure]
    return tuple(packed) if isinstance(structure, tuple) else packed


class GradientTape:
    """Context manager that computes gradients of a target w.r.t. sources (``tf.GradientTape``)."""

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True):
        self.persistent = bool(persistent)
        self.watch_accessed_variables = bool(watch_accessed_variables)
        self._watched: dict[int, Tensor] = {}
        self._restore: list[Tensor] = []    # tensors whose requires_grad we switched on
        self._used = False
        self._recording = False
        self._grad_ctx = None

    # -- context ----------------------------------------------------------------------------------
    def __enter__(self) -> "GradientTape":
        if self._recording:
            raise ValueError("GradientTape: this tape is already recording (tapes cannot be re-entered)")
        self._recording = True
        self._grad_ctx = enable_grad()
        self._grad_ctx.__enter__()
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc) -> None:
        self._recording = False
        if self in _ACTIVE:
            _ACTIVE.remove(self)
        self._grad_ctx.__exit__(*exc)
        for t in self._restore:
            t._requires_grad = False

    def watch(self, tensor) -> None:
        """Track ``tensor`` (a tensor or a structure of them): ``gradient`` can then differentiate
        with respect to it even if it is not trainable."""
        for t in _flatten(tensor, []):
            if t is None:
                continue
            if not t.is_floating_point():
                raise TypeError(f"GradientTape.watch: only floating-point tensors can be watched, got dtype "
                                f"{t.dtype}")
            if not t._requires_grad and t._grad_fn is None:
                t._requires_grad = True
                self._restore.append(t)
            self._watched[id(t)] = t

    def watched_variables(self) -> tuple:
        """The tensors explicitly watched (automatically watched trainable tensors are not listed)."""
        return tuple(self._watched.values())

    def reset(self) -> None:
        """Forget watched tensors and allow this (non-persistent) tape to compute gradients again."""
        for t in self._restore:
            if not self._recording:
                t._requires_grad = False
        self._watched.clear()
        self._used = False

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops inside this block are not recorded (``no_grad``)."""
        with no_grad():
            yield

    # -- gradients --------------------------------------------------------------------------------
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients: str = "none"):
        """d(sum of ``target``)/d(``sources``), with the structure of ``sources``."""
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"GradientTape.gradient: unconnected_gradients must be 'none' or 'zero', got "
                             f"{unconnected_gradients!r}")
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of "
                               "gradients (or jacobians); pass persistent=True to compute several")
        self._used = True
        targets = [t for t in _flatten(target, []) if t is not None]
        srcs = _flatten(sources, [])
        if output_gradients is not None:
            ograds = _flatten(output_gradients, [])
            if len(ograds) != len(targets):
                raise ValueError(f"GradientTape.gradient: got {len(ograds)} output_gradients for "
                                 f"{len(targets)} targets")
        else:
            ograds = [None] * len(targets)
        pairs = [(t, g) for t, g in zip(targets, ograds) if t._requires_grad]
        # Only an outer tape still recording needs a differentiable gradient (second order).
        create_graph = any(tp is not self and tp._recording for tp in _ACTIVE)
        wanted = []
        for i, s in enumerate(srcs):
            if s is None:
                continue
            ok = s._requires_grad or id(s) in self._watched
            if not self.watch_accessed_variables and id(s) not in self._watched:
                ok = False
            if ok:
                wanted.append(i)
        results = [None] * len(srcs)
        if pairs and wanted:
            tmp = [srcs[i] for i in wanted if not srcs[i]._requires_grad and srcs[i]._grad_fn is None]
            for t in tmp:
                t._requires_grad = True
            try:
                roots = [t if g is not None or t.numel() == 1 else t.sum() for t, g in pairs]
                gouts = [g for _, g in pairs]
                grads = engine.grad(roots, [srcs[i] for i in wanted],
                                    grad_outputs=gouts if any(g is not None for g in gouts) else None,
                                    retain_graph=self.persistent or create_graph, create_graph=create_graph,
                                    allow_unused=True)
            finally:
                for t in tmp:
                    t._requires_grad = False
            for i, g in zip(wanted, grads):
                results[i] = g
        if unconnected_gradients == "zero":
            from .ops.creation import zeros_like
            results = [zeros_like(s) if g is None and s is not None else g for s, g in zip(srcs, results)]
        return _pack(sources, iter(results))

    def jacobian(self, target: Tensor, source: Tensor, unconnected_gradients: str = "none"):
        """d(target)/d(source) with shape ``target.shape + source.shape`` (needs ``persistent=True`` or a
        single call: each row is one backward pass through the retained graph)."""
        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of "
                               "gradients (or jacobians); pass persistent=True to compute several")
        self._used = True
        from .ops.creation import zeros, zeros_like
        from .ops.shape import reshape, stack
        n = target.numel()
        rows = []
        flat_t = reshape(target, (-1,))
        for k in range(n):
            if not target._requires_grad:
                rows.append(None)
                continue
            (g,) = engine.grad([flat_t[k]], [source], retain_graph=True, allow_unused=True)
            rows.append(g)
        if all(r is None for r in rows) and unconnected_gradients == "none":
            return None
        rows = [zeros_like(source) if r is None else r for r in rows]
        if not rows:
            return zeros(tuple(target.shape) + tuple(source.shape), dtype=source.dtype)
        return reshape(stack(rows), tuple(target.shape) + tuple(source.shape))
