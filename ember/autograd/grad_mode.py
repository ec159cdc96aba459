"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``.

Each works as a context manager and as a decorator, like PyTorch's.
"""

from __future__ import annotations

import functools

from .. import _config


def is_grad_enabled() -> bool:
    return _config.grad_enabled.get()


def is_inference_mode_enabled() -> bool:
    return _config.inference_mode.get()


class _GradModeSwitch:
    """Base: sets grad mode on enter, restores it on exit; calling it on a function decorates it."""

    enabled = False

    def __enter__(self):
        self._token = _config.grad_enabled.set(self.enabled)
        return self

    def __exit__(self, *exc):
        _config.grad_enabled.reset(self._token)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)
        return wrapper

    def _args(self):
        return ()


class no_grad(_GradModeSwitch):
    """Operations inside record no graph: results have ``requires_grad=False``."""

    enabled = False


class enable_grad(_GradModeSwitch):
    """Re-enable recording inside a ``no_grad`` region."""

    enabled = True


class set_grad_enabled(_GradModeSwitch):
    """Turn recording on or off; effective immediately (like PyTorch) and as a context manager."""

    def __init__(self, mode: bool):
        self.enabled = bool(mode)
        self._prev = _config.grad_enabled.get()
        _config.grad_enabled.set(self.enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _config.grad_enabled.set(self._prev)
        return False

    def _args(self):
        return (self.enabled,)


class inference_mode(_GradModeSwitch):
    """Like ``no_grad`` (nothing is recorded), and ``requires_grad`` cannot be switched on inside.

    Unlike PyTorch, tensors created inside are ordinary tensors afterwards (no inference-tensor flag).
    """

    def __init__(self, mode: bool = True):
        self.mode = bool(mode)
        self.enabled = not self.mode

    def __enter__(self):
        self._token = _config.grad_enabled.set(self.enabled)
        self._itoken = _config.inference_mode.set(self.mode)
        return self

    def __exit__(self, *exc):
        _config.inference_mode.reset(self._itoken)
        _config.grad_enabled.reset(self._token)
        return False

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError("inference_mode(...) decorates a function")
        return super().__call__(fn)

    def _args(self):
        return (self.mode,)
