"""``LearningRateScheduler``: set the learning rate from ``schedule(epoch, lr)`` before each epoch."""

from __future__ import annotations

from .base import Callback

__all__ = ["LearningRateScheduler"]


class LearningRateScheduler(Callback):
    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        try:
            lr = self.schedule(epoch, self.trainer.get_lr())
        except TypeError:                   # Keras also accepts schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int)) and not hasattr(lr, "__float__"):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, got {type(lr).__name__}")
        self.trainer.set_lr(float(lr))
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.trainer.get_lr()
