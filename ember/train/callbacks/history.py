"""``History``: records every epoch's logs; ``fit`` returns it."""

from __future__ import annotations

from .base import Callback

__all__ = ["History"]


class History(Callback):
    """``history.history["loss"]`` is the list of epoch losses; ``history.epoch`` the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def set_trainer(self, trainer) -> None:
        super().set_trainer(trainer)
        # Keras exposes the model on the history it returns
        self.model = trainer.model
