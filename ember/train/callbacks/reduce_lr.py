"""``ReduceLROnPlateau``: multiply the learning rate by ``factor`` when a value stops improving."""

from __future__ import annotations

import warnings

from .base import Callback
from .early_stopping import monitor_op

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau(Callback):
    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got {factor}")
        self.monitor, self.factor, self.patience = monitor, float(factor), int(patience)
        self.verbose, self.min_delta, self.cooldown, self.min_lr = verbose, float(min_delta), cooldown, float(min_lr)
        self._better, self._init, self.mode = monitor_op(monitor, mode, "ReduceLROnPlateau")
        self._reset()

    def _reset(self):
        self.best = self._init
        self.wait = 0
        self.cooldown_counter = 0

    def _improved(self, a, b):
        # Keras: improved when a < best - min_delta ('min') or a > best + min_delta ('max')
        return a < b - self.min_delta if self.mode == "min" else a > b + self.min_delta

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = self.trainer.get_lr()
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(f"ReduceLROnPlateau: monitor {self.monitor!r} is not in the logs (available: "
                          f"{sorted(logs)})", stacklevel=2)
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._improved(value, self.best):
            self.best = value
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = self.trainer.get_lr()
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.trainer.set_lr(new)
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
