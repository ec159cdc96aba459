"""Adamax: Adam with the infinity norm (Kingma & Ba, section 7)."""

from __future__ import annotations

from ..ops.creation import zeros_like
from .adam import check_betas
from .optimizer import Optimizer, check_range


class Adamax(Optimizer):
    """PyTorch's Adamax. Per parameter at step t (g negated when ``maximize``)::

        g = g + weight_decay * p
        m = m + (1 - beta1) * (g - m)
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1**t) * m / u

    State: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 foreach=None, *, maximize: bool = False):
        check_range("learning rate", lr)
        check_range("epsilon value", eps)
        check_betas(betas)
        check_range("weight_decay value", weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _update(self, group, params):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        for p in params:
            g = self._grad(p, group)
            state = self.state[p]
            if not state:
                state["step"] = self._scalar(p)
                state["exp_avg"] = zeros_like(p)
                state["exp_inf"] = zeros_like(p)
            state["step"] += 1
            if wd != 0:
                g = g.add(p, alpha=wd)
            exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
            exp_avg.lerp_(g, 1 - beta1)
            exp_inf.mul_(beta2).maximum_(g.abs().add_(eps))
            step = self._step_value(state["step"])
            p.addcdiv_(exp_avg, exp_inf, value=-lr / (1 - beta1 ** step))
