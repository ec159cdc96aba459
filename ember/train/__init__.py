"""The training loop (``Trainer``), metrics, callbacks and progress bars shared by every front door
(``ember.keras``, plain ``nn.Module`` training, the CLI)."""

from . import callbacks, metrics
from .callbacks import (CSVLogger, Callback, CallbackList, EarlyStopping, History, LambdaCallback,
                        LearningRateScheduler, ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, SummaryWriter,
                        TensorBoard, TerminateOnNaN)
from .data_adapter import DataAdapter
from .progress import Progbar
from .trainer import Trainer

__all__ = ["CSVLogger", "Callback", "CallbackList", "DataAdapter", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "Progbar", "ProgbarLogger", "ReduceLROnPlateau",
           "SummaryWriter", "TensorBoard", "TerminateOnNaN", "Trainer", "callbacks", "metrics"]
