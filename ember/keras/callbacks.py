"""Keras callbacks (``keras.callbacks``): the ``ember.train`` callbacks under their Keras names."""

from ..train.callbacks import (CSVLogger, Callback, CallbackList, EarlyStopping, History, LambdaCallback,
                               LearningRateScheduler, ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TensorBoard,
                               TerminateOnNaN)

__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "TensorBoard",
           "TerminateOnNaN"]
