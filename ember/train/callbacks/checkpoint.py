"""``ModelCheckpoint``: save the model (or its weights) after epochs, optionally only when it improved.

``filepath`` may hold ``{epoch}`` (1-based, as in Keras) and any logged value (``{val_loss:.2f}``).
Writes go through the trainer's ``save_checkpoint``, which is atomic (temporary file, fsync, rename).
"""

from __future__ import annotations

import os
import warnings

from .base import Callback
from .early_stopping import monitor_op

__all__ = ["ModelCheckpoint"]


class ModelCheckpoint(Callback):
    def __init__(self, filepath: str, monitor: str = "val_loss", verbose: int = 0, save_best_only: bool = False,
                 save_weights_only: bool = False, mode: str = "auto", save_freq="epoch",
                 initial_value_threshold: float | None = None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or an int, got {save_freq!r}")
        self.save_freq = save_freq
        self._better, init, self.mode = monitor_op(monitor, mode, "ModelCheckpoint")
        self.best = init if initial_value_threshold is None else initial_value_threshold
        self._batches = 0
        self._epoch = 0

    def _path(self, epoch: int, logs: dict) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **(logs or {}))
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: filepath {self.filepath!r} names {e} which is not among the logged "
                           f"values {sorted(logs or {})}") from None

    def _save(self, epoch: int, logs: dict) -> None:
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                warnings.warn(f"ModelCheckpoint: can save best model only with {self.monitor!r} available, "
                              "skipping", stacklevel=3)
                return
            if not self._better(value, self.best):
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {value:.5f}, "
                      f"saving model to {self._path(epoch, logs)}")
            self.best = value
        path = self._path(epoch, logs)
        self.trainer.save_checkpoint(path, weights_only=self.save_weights_only)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self._epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs)
