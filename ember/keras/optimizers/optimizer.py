"""Keras optimizers over ``ember.optim``: Keras names, arguments and defaults.

A Keras optimizer is created without variables; it builds its ``ember.optim`` optimizer on the first
``apply_gradients(zip(grads, vars))`` or when ``Model.compile``/``fit`` hands it the model's
trainable variables. Each update: clip (``clipvalue`` per element, ``clipnorm`` per variable,
``global_clipnorm`` over all), set the learning rate from the schedule at ``iterations``, apply
Keras' decoupled ``weight_decay`` (``w -= lr * weight_decay * w``), then run the inner update.
"""

from __future__ import annotations

import math

from ... import optim
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from . import schedules

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD"]


class Optimizer:
    """Base class: subclasses set ``_make(params, lr)`` building the ``ember.optim`` object."""

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected arguments {sorted(kwargs)}")
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of clipnorm, clipvalue and global_clipnorm can be set")
        if use_ema:
            raise NotImplementedError("use_ema=True is not supported by ember.keras optimizers")
        if isinstance(learning_rate, (int, float)) and learning_rate < 0:
            raise ValueError(f"learning_rate must be >= 0, got {learning_rate}")
        self._learning_rate = learning_rate if isinstance(learning_rate, schedules.LearningRateSchedule) \
            else float(learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._inner = None
        self._variables: list[Tensor] = []

    # -- learning rate -------------------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a LearningRateSchedule; its learning rate cannot "
                            "be set directly")
        self._learning_rate = float(value)
        self._sync_lr()

    lr = learning_rate

    def _sync_lr(self):
        if self._inner is not None:
            lr = self.learning_rate
            for g in self._inner.param_groups:
                g["lr"] = lr

    # -- building ----------------------------------------------------------------------------------
    @property
    def variables(self) -> list:
        return list(self._variables)

    def build(self, variables) -> None:
        """Create the inner optimizer for ``variables`` (a second call adds new variables)."""
        variables = [v for v in variables if v is not None]
        if self._inner is None:
            if not variables:
                raise ValueError(f"{type(self).__name__}: no variables to optimize")
            self._variables = list(variables)
            self._known = {id(v) for v in self._variables}
            self._inner = self._make(self._variables, self.learning_rate)
            return
        new = [v for v in variables if id(v) not in self._known]
        if new:
            self._variables.extend(new)
            self._known.update(id(v) for v in new)
            self._inner.add_param_group({"params": new})

    @property
    def built(self) -> bool:
        return self._inner is not None

    def _make(self, params, lr):
        raise NotImplementedError

    # -- updates -----------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        for v in self._variables:
            v.grad = None

    def _clip(self, grads: list) -> None:
        grads = [g for g in grads if g is not None]
        if self.clipvalue is not None:
            for g in grads:
                g.clamp_(-self.clipvalue, self.clipvalue)
        elif self.clipnorm is not None:
            for g in grads:
                n = float((g * g).sum().item()) ** 0.5
                if n > self.clipnorm:
                    g.mul_(self.clipnorm / n)
        elif self.global_clipnorm is not None:
            total = math.sqrt(sum(float((g * g).sum().item()) for g in grads))
            if total > self.global_clipnorm:
                for g in grads:
                    g.mul_(self.global_clipnorm / total)

    def step(self) -> None:
        """One update from the ``.grad`` of the variables (what ``fit`` calls after ``backward``)."""
        if self._inner is None:
            raise RuntimeError(f"{type(self).__name__}.step(): the optimizer has no variables yet; call build() "
                               "or apply_gradients() first")
        with no_grad():
            self._clip([v.grad for v in self._variables])
            self._sync_lr()
            if self.weight_decay:
                lr = self.learning_rate
                for v in self._variables:
                    if v.grad is not None:
                        v.mul_(1.0 - lr * self.weight_decay)
        self._inner.step()
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> int:
        """Apply ``(gradient, variable)`` pairs (``zip(grads, model.trainable_variables)``); pairs whose
        gradient is None are skipped. Returns ``iterations``."""
        pairs = list(grads_and_vars)
        for g, v in pairs:
            if not isinstance(v, Tensor):
                raise TypeError(f"apply_gradients: expected (gradient, variable) pairs of Tensors, got a variable "
                                f"of type {type(v).__name__}")
            if g is not None and tuple(g.shape) != tuple(v.shape):
                raise ValueError(f"apply_gradients: gradient shape {tuple(g.shape)} does not match variable shape "
                                 f"{tuple(v.shape)}")
        self.build([v for _, v in pairs])
        given = {id(v) for g, v in pairs if g is not None}
        saved = {id(v): v.grad for v in self._variables}
        for v in self._variables:
            v.grad = None
        for g, v in pairs:
            if g is not None:
                v.grad = g.detach() if g.dtype == v.dtype else g.detach().to(v.dtype)
        try:
            self.step()
        finally:
            for v in self._variables:
                v.grad = saved[id(v)] if id(v) not in given else None
        return self.iterations

    def apply(self, grads, trainable_variables=None) -> int:
        """Keras 3's ``optimizer.apply(grads, variables)`` (variables default to the built ones)."""
        variables = list(trainable_variables) if trainable_variables is not None else list(self._variables)
        return self.apply_gradients(zip(grads, variables))

    # -- state and config --------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": schedules.serialize(lr)
                if isinstance(lr, schedules.LearningRateSchedule) else lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.deserialize(lr)
        return cls(**config)

    def state_dict(self) -> dict:
        return {"iterations": self.iterations, "inner": None if self._inner is None else self._inner.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.iterations = state["iterations"]
        if state.get("inner") is not None:
            if self._inner is None:
                raise RuntimeError("load_state_dict: build the optimizer (compile/fit) before loading its state")
            self._inner.load_state_dict(state["inner"])

    def __repr__(self):
        return f"<{type(self).__name__} learning_rate={self.learning_rate:g} iterations={self.iterations}>"


class SGD(Optimizer):
    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _make(self, params, lr):
        return optim.SGD(params, lr=lr, momentum=self.momentum, nesterov=self.nesterov)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adam", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = beta_1, beta_2, epsilon, amsgrad

    def _make(self, params, lr):
        return optim.Adam(params, lr=lr, betas=(self.beta_1, self.beta_2), eps=self.epsilon, amsgrad=self.amsgrad)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with Keras' decoupled weight decay (default 0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, name=name, **kwargs)


class RMSprop(Optimizer):
    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="rmsprop", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = rho, momentum, epsilon, centered

    def _make(self, params, lr):
        return optim.RMSprop(params, lr=lr, alpha=self.rho, eps=self.epsilon, momentum=self.momentum,
                             centered=self.centered)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adagrad", **kwargs):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _make(self, params, lr):
        return optim.Adagrad(params, lr=lr, initial_accumulator_value=self.initial_accumulator_value,
                             eps=self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
