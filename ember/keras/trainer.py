"""``KerasTrainer``: the ``ember.train.Trainer`` loop with Keras conventions.

Differences from the PyTorch-style base: the model is called as ``model(x, training=...)`` with a
list/dict of inputs passed as one argument; losses take ``(y_true, y_pred, sample_weight)``; several
outputs get one loss each (a list/dict of losses or one loss for all), weighted by ``loss_weights``;
regularization terms (``model.losses``) are added to the loss; metrics may be given per output.
"""

from __future__ import annotations

from ..train import metrics as metrics_mod
from ..train.trainer import Trainer
from . import losses as losses_mod

__all__ = ["KerasTrainer"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class KerasTrainer(Trainer):
    def __init__(self, model, optimizer, loss, metrics=None, loss_weights=None, output_names=None):
        super().__init__(model, optimizer, loss_fn=loss, metrics=None)
        self.output_names = list(output_names or ["output"])
        n = len(self.output_names)
        self.losses = self._per_output(loss, "loss", losses_mod.get)
        if loss_weights is None:
            self.loss_weights = [1.0] * n
        elif isinstance(loss_weights, dict):
            self.loss_weights = [float(loss_weights.get(name, 1.0)) for name in self.output_names]
        else:
            self.loss_weights = [float(w) for w in _as_list(loss_weights)]
            if len(self.loss_weights) != n:
                raise ValueError(f"compile: loss_weights has {len(self.loss_weights)} entries for {n} outputs")
        self.output_metric_specs = self._metric_specs(metrics)

    # -- configuration ------------------------------------------------------------------------------
    def _per_output(self, spec, what, get):
        n = len(self.output_names)
        if isinstance(spec, dict):
            unknown = set(spec) - set(self.output_names)
            if unknown:
                raise ValueError(f"compile: {what} names unknown outputs {sorted(unknown)}; outputs are "
                                 f"{self.output_names}")
            return [get(spec.get(name)) for name in self.output_names]
        if isinstance(spec, (list, tuple)):
            if len(spec) != n:
                raise ValueError(f"compile: {what} has {len(spec)} entries for {n} outputs")
            return [get(s) for s in spec]
        return [get(spec)] * n

    def _metric_specs(self, metrics):
        n = len(self.output_names)
        if metrics is None:
            return [[] for _ in range(n)]
        if isinstance(metrics, dict):
            return [_as_list(metrics.get(name, [])) for name in self.output_names]
        metrics = list(metrics)
        if n > 1 and len(metrics) == n and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
            return [list(m or []) for m in metrics]
        if n > 1 and metrics:
            # Keras 2 behaviour: the same metrics for every output
            return [list(metrics) for _ in range(n)]
        return [metrics] + [[] for _ in range(n - 1)]

    # -- the hooks the base loop calls --------------------------------------------------------------
    def forward(self, x, training: bool):
        return self.model(x, training=training)

    def _has_loss(self) -> bool:
        return any(loss is not None for loss in self.losses)

    def _split(self, y, y_pred):
        preds = _as_list(y_pred) if len(self.output_names) > 1 else [y_pred]
        if isinstance(y_pred, dict):
            preds = [y_pred[name] for name in self.output_names]
        if y is None:
            ys = [None] * len(preds)
        elif isinstance(y, dict):
            ys = [y.get(name) for name in self.output_names]
        elif len(preds) > 1:
            ys = _as_list(y)
            if len(ys) != len(preds):
                raise ValueError(f"fit: the model has {len(preds)} outputs but y has {len(ys)} entries")
        else:
            ys = [y]
        return ys, preds

    def compute_loss(self, x, y, y_pred, sample_weight=None):
        ys, preds = self._split(y, y_pred)
        total = None
        for loss, w, yt, yp in zip(self.losses, self.loss_weights, ys, preds):
            if loss is None or yt is None:
                continue
            value = loss(yt, yp, sample_weight=sample_weight)
            if w != 1.0:
                value = value * w
            total = value if total is None else total + value
        if total is None:
            raise ValueError("compile: no loss to train with (give compile a loss, or targets y for every output "
                             "that has one)")
        for reg in self.model.losses:
            total = total + reg
        return total

    def _resolve_metrics(self, y, y_pred):
        ys, preds = self._split(y, y_pred)
        out = []
        multi = len(self.output_names) > 1
        for i, specs in enumerate(self.output_metric_specs):
            for spec in specs:
                if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
                    loss = self.losses[i]
                    m = metrics_mod.resolve_accuracy(getattr(loss, "name", None), tuple(ys[i].shape),
                                                     tuple(preds[i].shape),
                                                     from_logits=bool(getattr(loss, "from_logits", False)))
                    m.name = spec
                elif isinstance(spec, str):
                    m = metrics_mod.get(spec)
                    m.name = spec
                else:
                    m = metrics_mod.get(spec)
                if multi:
                    m.name = f"{self.output_names[i]}_{m.name}"
                m._output_index = i
                out.append(m)
        names = [m.name for m in out]
        if len(set(names)) != len(names):
            raise ValueError(f"compile: metric names must be unique, got {names}")
        return out

    def _update_metrics(self, loss, y, y_pred, sample_weight, batch_size) -> dict:
        from ..train.metrics import as_numpy
        self._loss_tracker.update_state(float(as_numpy(loss)), sample_weight=batch_size)
        logs = {"loss": self._loss_tracker.result()}
        logs.update(self._update_output_metrics(y, y_pred, sample_weight))
        return logs

    def _update_metrics_no_loss(self, y, y_pred, sw):
        return self._update_output_metrics(y, y_pred, sw)

    def _update_output_metrics(self, y, y_pred, sample_weight) -> dict:
        if y is None:
            return {}
        if self._metrics is None:
            self._metrics = self._resolve_metrics(y, y_pred)
        ys, preds = self._split(y, y_pred)
        logs = {}
        for m in self._metrics:
            i = m._output_index
            if ys[i] is None:
                continue
            m.update_state(ys[i], preds[i], sample_weight=sample_weight)
            logs[m.name] = m.result()
        return logs

    # -- weights: Keras models expose their own state -------------------------------------------------
    def named_weights(self):
        return [(n, p) for n, p in self.model.named_parameters()]

    def before_backward(self) -> None:
        # built on the first step (lazy layers have weights now); later calls add weights that became
        # trainable since (build ignores the ones it has)
        self.optimizer.build(self.model.trainable_variables)
