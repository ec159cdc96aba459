"""TensorBoard logging: a small ``SummaryWriter`` over the ``tensorboard`` package's own event-file
writer and protos, and the Keras ``TensorBoard`` callback on top of it.

Layout and tags follow Keras so existing dashboards work: ``log_dir/train`` and ``log_dir/validation``
hold ``epoch_loss``, ``epoch_<metric>`` (validation values without the ``val_`` prefix) at step
``epoch``; with ``update_freq='batch'`` (or an int N) ``batch_<name>`` is written to ``train`` every N
batches at the global batch step; with ``histogram_freq=N`` every parameter's histogram is written
to ``train`` every N epochs.
"""

from __future__ import annotations

import os
import time

import numpy as np

from ..metrics import as_numpy
from .base import Callback

__all__ = ["SummaryWriter", "TensorBoard"]


def _tb():
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.compat.proto.histogram_pb2 import HistogramProto
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as e:       # pragma: no cover - depends on the environment
        raise ImportError("TensorBoard logging needs the 'tensorboard' package: pip install tensorboard") from e
    return event_pb2, summary_pb2, HistogramProto, EventFileWriter


class SummaryWriter:
    """Writes scalars and histograms to a TensorBoard event file in ``log_dir``."""

    def __init__(self, log_dir: str, flush_secs: int = 120, filename_suffix: str = ""):
        self._event_pb2, self._summary_pb2, self._Histogram, EventFileWriter = _tb()
        self.log_dir = os.fspath(log_dir)
        os.makedirs(self.log_dir, exist_ok=True)
        self._writer = EventFileWriter(self.log_dir, flush_secs=flush_secs, filename_suffix=filename_suffix)

    def _add(self, value, step: int, wall_time: float | None) -> None:
        summary = self._summary_pb2.Summary(value=[value])
        event = self._event_pb2.Event(wall_time=time.time() if wall_time is None else wall_time, step=int(step),
                                      summary=summary)
        self._writer.add_event(event)

    def add_scalar(self, tag: str, value, global_step: int = 0, walltime: float | None = None) -> None:
        self._add(self._summary_pb2.Summary.Value(tag=tag, simple_value=float(value)), global_step, walltime)

    def add_histogram(self, tag: str, values, global_step: int = 0, bins: int = 30,
                      walltime: float | None = None) -> None:
        v = np.asarray(as_numpy(values), dtype=np.float64).ravel()
        if v.size == 0:
            return
        counts, edges = np.histogram(v, bins=bins)
        hist = self._Histogram(min=float(v.min()), max=float(v.max()), num=float(v.size), sum=float(v.sum()),
                               sum_squares=float((v * v).sum()), bucket_limit=edges[1:].tolist(),
                               bucket=counts.astype(np.float64).tolist())
        self._add(self._summary_pb2.Summary.Value(tag=tag, histo=hist), global_step, walltime)

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TensorBoard(Callback):
    """Keras' ``TensorBoard`` callback (scalars per epoch and optionally per batch, weight histograms).

    ``write_graph``, ``write_images``, ``profile_batch`` and ``embeddings_freq`` are accepted for
    compatibility; graphs, images, profiles and embeddings are not written.
    """

    def __init__(self, log_dir: str = "logs", histogram_freq: int = 0, write_graph: bool = True,
                 write_images: bool = False, write_steps_per_second: bool = False, update_freq="epoch",
                 profile_batch=0, embeddings_freq: int = 0, embeddings_metadata=None):
        super().__init__()
        if update_freq != "epoch" and update_freq != "batch" and not isinstance(update_freq, int):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an int, got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.write_steps_per_second = write_steps_per_second
        self._train = self._val = None
        self._step = 0
        self._epoch_start = 0.0

    def _writers(self):
        if self._train is None:
            self._train = SummaryWriter(os.path.join(self.log_dir, "train"))
            self._val = SummaryWriter(os.path.join(self.log_dir, "validation"))
        return self._train, self._val

    def on_train_begin(self, logs=None):
        self._writers()
        self._step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        self._epoch_steps += 1
        if isinstance(self.update_freq, int) and self._step % self.update_freq == 0:
            train, _ = self._writers()
            for k, v in (logs or {}).items():
                train.add_scalar("batch_" + k, v, self._step)

    def on_epoch_end(self, epoch, logs=None):
        train, val = self._writers()
        for k, v in (logs or {}).items():
            if k.startswith("val_"):
                val.add_scalar("epoch_" + k[4:], v, epoch)
            else:
                train.add_scalar("epoch_" + k, v, epoch)
        if self.write_steps_per_second:
            dt = time.perf_counter() - self._epoch_start
            train.add_scalar("epoch_steps_per_second", self._epoch_steps / dt if dt > 0 else 0.0, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            for name, p in self.trainer.named_weights():
                train.add_histogram(name, p, epoch)
        train.flush()
        val.flush()

    def on_train_end(self, logs=None):
        if self._train is not None:
            self._train.close()
            self._val.close()
        self._train = self._val = None
