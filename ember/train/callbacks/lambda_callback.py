"""``LambdaCallback``: a callback from plain functions."""

from __future__ import annotations

from .base import Callback

__all__ = ["LambdaCallback"]


class LambdaCallback(Callback):
    """``on_epoch_begin/end(epoch, logs)``, ``on_train_batch_begin/end(batch, logs)`` (``on_batch_*`` are
    the same), ``on_train_begin/end(logs)``; also any other hook name passed as a keyword."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, on_batch_begin=None, on_batch_end=None,
                 **kwargs):
        super().__init__()
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                     on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin or on_batch_begin,
                     on_train_batch_end=on_train_batch_end or on_batch_end, **kwargs)
        for name, fn in given.items():
            if fn is None:
                continue
            if not name.startswith("on_") or not hasattr(Callback, name):
                raise TypeError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)
