"""Training callbacks (Keras names and semantics); each receives the trainer and the model."""

from .base import Callback, CallbackList
from .checkpoint import ModelCheckpoint
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .lr_scheduler import LearningRateScheduler
from .progbar import ProgbarLogger
from .reduce_lr import ReduceLROnPlateau
from .tensorboard import SummaryWriter, TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = ["CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback",
           "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "ReduceLROnPlateau", "SummaryWriter",
           "TensorBoard", "TerminateOnNaN", "REGISTRY", "build"]

# Config front doors (the CLI, YAML files) build callbacks by class name: build(spec) = REGISTRY[type](**rest)
REGISTRY = {cls.__name__: cls for cls in (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
                                          ModelCheckpoint, ProgbarLogger, ReduceLROnPlateau, TensorBoard,
                                          TerminateOnNaN)}


def build(spec: dict) -> Callback:
    """A callback from ``{"type": "EarlyStopping", "patience": 3, ...}``."""
    spec = dict(spec)
    kind = spec.pop("type", None)
    if kind not in REGISTRY:
        raise ValueError(f"unknown callback type {kind!r}; known: {sorted(REGISTRY)}")
    return REGISTRY[kind](**spec)
