"""``ProgbarLogger``: the per-epoch progress bar (``verbose=1``) or one line per epoch (``verbose=2``)."""

from __future__ import annotations

import sys

from ..progress import Progbar
from .base import Callback

__all__ = ["ProgbarLogger"]


class ProgbarLogger(Callback):
    """Prints ``Epoch i/N`` and a bar of steps with ETA and running loss/metrics; after each epoch the
    final line carries the validation values too. Evaluation (``evaluate``) gets its own bar."""

    def __init__(self, count_mode: str = "steps", stateful_metrics=None, stream=None):
        super().__init__()
        self.stream = stream
        self.verbose = 1
        self.epochs = 1
        self._bar = None
        self._in_fit = False
        self._seen = 0

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)

    def _new_bar(self, target):
        self._seen = 0
        self._bar = Progbar(target, verbose=self.verbose, stream=self.stream or sys.stdout,
                            stateful_metrics=None)
        self._bar.stateful_metrics = _AllKeys()

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose:
            stream = self.stream or sys.stdout
            stream.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            stream.flush()
        self._new_bar(self.params.get("steps"))

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None and self._bar.target is not None and self._seen >= self._bar.target:
            return          # the final line is written at epoch end, with validation values
        self._bar.update(self._seen, list((logs or {}).items()), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar(self.params.get("test_steps"))

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self._seen = batch + 1
            if self._bar.target is not None and self._seen >= self._bar.target:
                return
            self._bar.update(self._seen, list((logs or {}).items()), finalize=False)

    def on_test_end(self, logs=None):
        if not self._in_fit:
            self._bar.update(self._seen, list((logs or {}).items()), finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar(self.params.get("predict_steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar.target is not None and self._seen >= self._bar.target:
            return
        self._bar.update(self._seen, finalize=False)

    def on_predict_end(self, logs=None):
        self._bar.update(self._seen, finalize=True)


class _AllKeys:
    """Every logged value is already a running result (the trainer averages), so show it as is."""

    def __contains__(self, item):
        return True
