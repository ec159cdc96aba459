"""``Trainer``: the one training loop (train_step / eval_step / predict_step, callbacks, metrics, progress).

``ember.keras.Model.fit`` and the CLI are front doors to this loop; any ``nn.Module`` can use it
directly::

    trainer = Trainer(model, optimizer, loss_fn=nn.CrossEntropyLoss(), metrics=["accuracy"])
    history = trainer.fit(train_loader, epochs=5, val_data=val_loader)

Conventions (PyTorch order): ``loss_fn(y_pred, y)``; a batch is ``x``, ``(x, y)`` or
``(x, y, sample_weight)``; ``x`` given as a tuple/list is unpacked into ``model(*x)``. The logged
``loss`` is the running mean over the epoch's batches weighted by batch size; metrics are running
results too. Subclasses (the Keras facade) override ``forward`` and ``compute_loss``.
"""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from . import metrics as metrics_mod
from .callbacks import Callback, CallbackList, History, ProgbarLogger
from .data_adapter import DataAdapter, nest_map
from .metrics import Mean, as_numpy
from .state_io import save_state

__all__ = ["Trainer"]


def _first_leaf(x):
    if isinstance(x, dict):
        return _first_leaf(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return _first_leaf(x[0])
    return x


def _loss_name(loss_fn) -> str | None:
    if loss_fn is None:
        return None
    if isinstance(loss_fn, str):
        return loss_fn
    name = getattr(loss_fn, "name", None) or getattr(loss_fn, "__name__", None) or type(loss_fn).__name__
    lowered = str(name).lower()
    # PyTorch-style class names -> the Keras family they belong to
    if lowered in ("crossentropyloss", "nllloss", "cross_entropy", "nll_loss"):
        return "sparse_categorical_crossentropy"
    if "bce" in lowered or "binary" in lowered:
        return "binary_crossentropy"
    return str(name)


def _from_logits(loss_fn) -> bool:
    if loss_fn is None or isinstance(loss_fn, str):
        return False
    if getattr(loss_fn, "from_logits", False):
        return True
    return "withlogits" in type(loss_fn).__name__.lower() or "with_logits" in getattr(loss_fn, "__name__", "")


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``loss_fn``; reports ``metrics``; runs ``callbacks``.

    ``metrics``: Metric objects, names ('accuracy', 'mae', ...) or functions of NumPy arrays.
    ``lr_scheduler``: optional ``ember.optim.lr_scheduler`` object stepped after each epoch (a
    ReduceLROnPlateau-style scheduler gets the monitored ``val_loss``/``loss``).
    """

    def __init__(self, model, optimizer=None, loss_fn=None, metrics=None, callbacks=None, lr_scheduler=None,
                 device=None):
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.metric_specs = list(metrics or [])
        self.callbacks = list(callbacks or [])
        self.lr_scheduler = lr_scheduler
        self.device = device
        self.stop_training = False
        self.history: History | None = None
        self._metrics = None
        self._loss_tracker = Mean(name="loss")
        self.global_step = 0

    # -- hooks subclasses override -----------------------------------------------------------------
    def forward(self, x, training: bool):
        """Run the model on one input batch."""
        if isinstance(x, (list, tuple)):
            return self.model(*x)
        if isinstance(x, dict):
            return self.model(**x)
        return self.model(x)

    def compute_loss(self, x, y, y_pred, sample_weight=None) -> Tensor:
        """The scalar loss of one batch (``loss_fn(y_pred, y)``; with ``sample_weight`` the loss must
        accept ``reduction='none'``-style per-sample output or a ``sample_weight`` keyword)."""
        if self.loss_fn is None:
            raise ValueError("Trainer: no loss_fn given; pass loss_fn=... or override compute_loss")
        if sample_weight is None:
            return self.loss_fn(y_pred, y)
        try:
            return self.loss_fn(y_pred, y, sample_weight=sample_weight)
        except TypeError:
            pass
        reduction = getattr(self.loss_fn, "reduction", None)
        if reduction is None:
            raise ValueError("Trainer: sample weights need a loss with a 'reduction' attribute or a "
                             "sample_weight keyword")
        self.loss_fn.reduction = "none"
        try:
            per = self.loss_fn(y_pred, y)
        finally:
            self.loss_fn.reduction = reduction
        w = sample_weight.to(per.dtype) if hasattr(sample_weight, "to") else sample_weight
        while w.ndim < per.ndim:
            w = w.unsqueeze(-1)
        return (per * w).sum() / per.numel() if reduction == "mean" else (per * w).sum()

    def before_backward(self) -> None:
        """Called after the forward pass of a training step (lazily built models have their weights
        now; the Keras facade builds its optimizer here)."""

    def metrics_targets(self, y, y_pred):
        """The (y_true, y_pred) pair metrics see (Keras facade: the first output)."""
        return y, y_pred

    # -- metrics -----------------------------------------------------------------------------------
    def _resolve_metrics(self, y, y_pred):
        y, y_pred = self.metrics_targets(y, y_pred)
        out = []
        for spec in self.metric_specs:
            if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
                yt, yp = _first_leaf(y), _first_leaf(y_pred)
                m = metrics_mod.resolve_accuracy(_loss_name(self.loss_fn), tuple(yt.shape), tuple(yp.shape),
                                                 from_logits=_from_logits(self.loss_fn))
                if spec != "accuracy":
                    m.name = spec
                out.append(m)
            else:
                out.append(metrics_mod.get(spec))
        names = [m.name for m in out]
        if len(set(names)) != len(names):
            raise ValueError(f"Trainer: metric names must be unique, got {names}")
        return out

    @property
    def metrics(self) -> list:
        """The loss tracker followed by the resolved metrics (available after the first batch)."""
        return [self._loss_tracker] + list(self._metrics or [])

    def reset_metrics(self) -> None:
        self._loss_tracker.reset_state()
        for m in self._metrics or ():
            m.reset_state()

    def _update_metrics(self, loss, y, y_pred, sample_weight, batch_size) -> dict:
        self._loss_tracker.update_state(float(as_numpy(loss)), sample_weight=batch_size)
        logs = {"loss": self._loss_tracker.result()}
        if y is None:
            return logs
        if self._metrics is None:
            self._metrics = self._resolve_metrics(y, y_pred)
        yt, yp = self.metrics_targets(y, y_pred)
        for m in self._metrics:
            m.update_state(yt, yp, sample_weight=sample_weight)
            logs[m.name] = m.result()
        return logs

    # -- devices -----------------------------------------------------------------------------------
    def _model_device(self):
        if self.device is not None:
            return self.device
        params = getattr(self.model, "parameters", None)
        if params is not None:
            for p in params():
                return p.device
        return None

    def _to_device(self, batch):
        dev = self._model_device()
        if dev is None or getattr(dev, "type", "cpu") == "cpu":
            return batch
        return nest_map(lambda t: t.to(dev) if isinstance(t, Tensor) else t, batch)

    # -- steps -------------------------------------------------------------------------------------
    def _batch_size(self, x) -> int:
        leaf = _first_leaf(x)
        return int(leaf.shape[0]) if leaf is not None and getattr(leaf, "ndim", 0) else 1

    def train_step(self, batch) -> dict:
        """Forward, loss, backward and optimizer step on one ``(x, y, sample_weight)`` batch; returns logs."""
        x, y, sw = self._to_device(batch)
        y_pred = self.forward(x, training=True)
        loss = self.compute_loss(x, y, y_pred, sw)
        self.before_backward()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.global_step += 1
        with no_grad():
            return self._update_metrics(loss.detach(), y, nest_map(_detach, y_pred), sw, self._batch_size(x))

    def eval_step(self, batch) -> dict:
        x, y, sw = self._to_device(batch)
        with no_grad():
            y_pred = self.forward(x, training=False)
            loss = self.compute_loss(x, y, y_pred, sw) if (y is not None and self._has_loss()) else None
            if loss is None:
                return self._update_metrics_no_loss(y, y_pred, sw)
            return self._update_metrics(loss, y, y_pred, sw, self._batch_size(x))

    def _has_loss(self) -> bool:
        return self.loss_fn is not None

    def _update_metrics_no_loss(self, y, y_pred, sw):
        if y is None:
            return {}
        if self._metrics is None:
            self._metrics = self._resolve_metrics(y, y_pred)
        yt, yp = self.metrics_targets(y, y_pred)
        logs = {}
        for m in self._metrics:
            m.update_state(yt, yp, sample_weight=sw)
            logs[m.name] = m.result()
        return logs

    def predict_step(self, batch):
        x, _, _ = self._to_device(batch)
        with no_grad():
            return self.forward(x, training=False)

    # -- mode --------------------------------------------------------------------------------------
    def _set_mode(self, training: bool) -> None:
        if hasattr(self.model, "train"):
            self.model.train(training)

    # -- loops -------------------------------------------------------------------------------------
    def _callbacks(self, callbacks, verbose, add_history: bool) -> CallbackList:
        cbs = list(self.callbacks) + list(callbacks or [])
        for cb in cbs:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances, got {type(cb).__name__}")
        # as Keras: the progress bar and History come after the user's callbacks, so they see the values
        # callbacks add to the logs (e.g. learning_rate)
        if verbose and not any(isinstance(cb, ProgbarLogger) for cb in cbs):
            cbs.append(ProgbarLogger())
        if add_history:
            self.history = History()
            cbs.append(self.history)
        lst = CallbackList(cbs)
        lst.set_trainer(self)
        return lst

    @staticmethod
    def _adapter(data, batch_size=None, shuffle=False, steps=None) -> DataAdapter:
        if isinstance(data, DataAdapter):
            return data
        if isinstance(data, tuple) and 1 <= len(data) <= 3 and not hasattr(data, "_fields"):
            return DataAdapter(*data, batch_size=batch_size, shuffle=shuffle, steps_per_epoch=steps)
        return DataAdapter(data, batch_size=batch_size, shuffle=shuffle, steps_per_epoch=steps)

    def fit(self, train_data, epochs: int = 1, val_data=None, verbose=1, callbacks=None, initial_epoch: int = 0,
            steps_per_epoch: int | None = None, validation_steps: int | None = None, validation_freq: int = 1,
            batch_size: int | None = None, shuffle: bool = True) -> History:
        """Train for ``epochs`` epochs (counting from ``initial_epoch``). ``train_data``/``val_data``: a
        loader, dataset, generator, ``DataAdapter`` or an ``(x, y[, sample_weight])`` tuple of arrays."""
        if self.optimizer is None:
            raise ValueError("Trainer.fit: no optimizer given")
        if verbose == "auto":
            verbose = 1
        train = self._adapter(train_data, batch_size, shuffle, steps_per_epoch)
        val = self._adapter(val_data, batch_size, False, validation_steps) if val_data is not None else None
        cbs = self._callbacks(callbacks, verbose, add_history=True)
        cbs.set_params({"epochs": epochs, "steps": train.steps, "verbose": verbose})
        self.stop_training = False
        if hasattr(self.model, "stop_training"):
            self.model.stop_training = False
        cbs.on_train_begin({})
        logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            self._set_mode(True)
            cbs.on_epoch_begin(epoch, {})
            logs = {}
            step = -1
            for step, batch in enumerate(train):
                cbs.on_train_batch_begin(step, {})
                logs = self.train_step(batch)
                cbs.on_train_batch_end(step, dict(logs))
                if self._should_stop():
                    break
            if step < 0:
                raise ValueError("Trainer.fit: the training data produced no batches (an exhausted generator? "
                                 "pass steps_per_epoch for generators that should last several epochs)")
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._run_eval(val, cbs, in_fit=True)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            self._step_scheduler(epoch_logs)
            cbs.on_epoch_end(epoch, epoch_logs)
            logs = epoch_logs
            if self._should_stop():
                break
        cbs.on_train_end(logs)
        self._set_mode(False)
        return self.history

    def _should_stop(self) -> bool:
        return bool(self.stop_training or getattr(self.model, "stop_training", False))

    def _step_scheduler(self, logs):
        s = self.lr_scheduler
        if s is None:
            return
        if "plateau" in type(s).__name__.lower():
            s.step(logs.get("val_loss", logs.get("loss")))
        else:
            s.step()

    def _run_eval(self, adapter: DataAdapter, cbs: CallbackList, in_fit: bool = False) -> dict:
        self.reset_metrics()
        self._set_mode(False)
        cbs.on_test_begin({})
        logs = {}
        for step, batch in enumerate(adapter):
            cbs.on_test_batch_begin(step, {})
            logs = self.eval_step(batch)
            cbs.on_test_batch_end(step, dict(logs))
        cbs.on_test_end(dict(logs))
        if in_fit:
            self._set_mode(True)
        return logs

    def evaluate(self, data, verbose=1, callbacks=None, steps: int | None = None,
                 batch_size: int | None = None) -> dict:
        """Loss and metrics over ``data``; returns the logs dict."""
        if verbose == "auto":
            verbose = 1
        adapter = self._adapter(data, batch_size, False, steps)
        cbs = self._callbacks(callbacks, verbose, add_history=False)
        cbs.set_params({"verbose": verbose, "test_steps": adapter.steps, "epochs": 1})
        return self._run_eval(adapter, cbs)

    def predict(self, data, verbose=0, callbacks=None, steps: int | None = None, batch_size: int | None = None):
        """Model outputs over ``data`` in eval mode, concatenated along the batch axis, as NumPy
        arrays (a list/tuple/dict of them for several outputs)."""
        if verbose == "auto":
            verbose = 1
        adapter = self._adapter(data, batch_size, False, steps)
        cbs = self._callbacks(callbacks, verbose, add_history=False)
        cbs.set_params({"verbose": verbose, "predict_steps": adapter.steps, "epochs": 1})
        was_training = getattr(self.model, "training", False)
        self._set_mode(False)
        outs = []
        cbs.on_predict_begin({})
        try:
            for step, batch in enumerate(adapter):
                cbs.on_predict_batch_begin(step, {})
                out = nest_map(lambda t: np.array(as_numpy(t)) if isinstance(t, Tensor) else t,
                               self.predict_step(batch))
                outs.append(out)
                cbs.on_predict_batch_end(step, {"outputs": out})
        finally:
            self._set_mode(was_training)
        cbs.on_predict_end({})
        if not outs:
            raise ValueError("Trainer.predict: the data produced no batches")
        return _concat(outs)

    # -- weights and checkpoints (used by callbacks) ------------------------------------------------
    def get_weights_snapshot(self) -> dict:
        """A copy of every parameter and buffer, as NumPy arrays."""
        return {k: np.array(as_numpy(v)) for k, v in self.model.state_dict().items()}

    def set_weights_snapshot(self, snapshot: dict) -> None:
        self.model.load_state_dict(snapshot)

    def named_weights(self):
        """(name, tensor) for every parameter (for histograms)."""
        return list(self.model.named_parameters())

    def save_checkpoint(self, path: str, weights_only: bool = False) -> None:
        """Save the model (``model.save`` when it has one, unless ``weights_only``) or its weights,
        atomically."""
        if not weights_only and hasattr(self.model, "save") and callable(self.model.save):
            self.model.save(path)
        elif hasattr(self.model, "save_weights") and callable(self.model.save_weights):
            self.model.save_weights(path)
        else:
            save_state(path, self.model.state_dict())

    # -- learning rate (used by callbacks) -----------------------------------------------------------
    def get_lr(self) -> float:
        opt = self.optimizer
        if hasattr(opt, "learning_rate") and not hasattr(opt, "param_groups"):
            return float(opt.learning_rate)
        return float(opt.param_groups[0]["lr"])

    def set_lr(self, lr: float) -> None:
        opt = self.optimizer
        if hasattr(opt, "learning_rate") and not hasattr(opt, "param_groups"):
            opt.learning_rate = float(lr)
            return
        for g in opt.param_groups:
            g["lr"] = float(lr)


def _detach(t):
    return t.detach() if isinstance(t, Tensor) else t


def _concat(outs: list):
    first = outs[0]
    if isinstance(first, dict):
        return {k: _concat([o[k] for o in outs]) for k in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_concat([o[i] for o in outs]) for i in range(len(first)))
    return np.concatenate(outs, axis=0) if getattr(first, "ndim", 0) else np.asarray(outs)
