"""``Callback`` (flat hooks, Keras names) and ``CallbackList`` (dispatch to many).

A callback receives the trainer (``self.trainer``) and the model (``self.model``) before training;
hooks get the epoch or batch index and a ``logs`` dict of floats. Setting
``self.trainer.stop_training = True`` (or ``self.model.stop_training = True``, as Keras code does)
ends ``fit`` after the current batch/epoch.
"""

from __future__ import annotations

__all__ = ["Callback", "CallbackList"]

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class Callback:
    """Base class: override any of the ``on_*`` hooks."""

    def __init__(self):
        self.trainer = None
        self.model = None
        self.params: dict = {}

    def set_trainer(self, trainer) -> None:
        self.trainer = trainer
        self.model = trainer.model

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # -- helpers shared by callbacks -----------------------------------------------------------------
    def _stop(self) -> None:
        if self.trainer is not None:
            self.trainer.stop_training = True
        elif self.model is not None:
            self.model.stop_training = True


class CallbackList:
    """Calls each hook on every callback, in order."""

    def __init__(self, callbacks=None):
        self.callbacks = list(callbacks or [])

    def append(self, cb: Callback) -> None:
        self.callbacks.append(cb)

    def set_trainer(self, trainer) -> None:
        for cb in self.callbacks:
            cb.set_trainer(trainer)

    def set_params(self, params: dict) -> None:
        for cb in self.callbacks:
            cb.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __getattr__(self, name):
        if name not in _HOOKS:
            raise AttributeError(name)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, name)(*args)
        return call
