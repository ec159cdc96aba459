"""Adagrad (Duchi et al.)."""

from __future__ import annotations

from ..ops.creation import full_like
from .optimizer import Optimizer, check_range


class Adagrad(Optimizer):
    """PyTorch's Adagrad. Per parameter at step t (g negated when ``maximize``)::

        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g;   p = p - clr * g / (sqrt(s) + eps)

    State (created with the optimizer, as in PyTorch): ``step`` and ``sum`` (starts at
    ``initial_accumulator_value``).
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False):
        check_range("learning rate", lr)
        check_range("lr_decay value", lr_decay)
        check_range("weight_decay value", weight_decay)
        check_range("initial_accumulator_value value", initial_accumulator_value)
        check_range("epsilon value", eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = self._scalar(p)
                state["sum"] = full_like(p, group["initial_accumulator_value"])

    def _update(self, group, params):
        lr, lr_decay, wd, eps = group["lr"], group["lr_decay"], group["weight_decay"], group["eps"]
        for p in params:
            g = self._grad(p, group)
            state = self.state[p]
            state["step"] += 1
            step = self._step_value(state["step"])
            if wd != 0:
                g = g.add(p, alpha=wd)
            clr = lr / (1 + (step - 1) * lr_decay)
            state["sum"].addcmul_(g, g, value=1)
            std = state["sum"].sqrt().add_(eps)
            p.addcdiv_(g, std, value=-clr)
