"""``Optimizer``: parameter groups, per-parameter state and PyTorch-format state dicts.

Subclasses implement ``_update(group, params_with_grad)``, the math of one step for one group,
written with in-place Tensor methods (``add_``, ``mul_``, ``addcmul_``, ``addcdiv_``, ``lerp_``). Those
methods write straight into the arrays when nothing traces (``ember.ops.inplace_extra``), and go
through registered ops when the jit tracer is active, so a traced training step contains its update.

``state_dict()`` follows PyTorch: ``{"state": {index: {...}}, "param_groups": [{..., "params": [index,
...]}]}`` with parameters numbered in group order; it holds references to the state tensors (save it,
don't mutate it). ``load_state_dict`` copies, casting floating state to each parameter's dtype and
device (``step`` stays as saved).
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict

from .. import _config
from ..autograd import function as _function
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor


class _RequiredParameter:
    """Marks a hyper-parameter that has no default (``lr`` of SGD in old PyTorch)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    ``params``: an iterable of Tensors, or of dicts ``{"params": [...], **options}`` (parameter groups
    with their own options; missing options take the optimizer's ``defaults``).
    """

    def __init__(self, params, defaults: dict):
        self.defaults = defaults
        self.state: dict = defaultdict(dict)  # Tensor -> dict (Tensors hash by identity)
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or "
                            f"dicts, but got {type(params).__name__}")
        if isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        self._step_pre_hooks: dict = {}
        self._step_post_hooks: dict = {}
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- groups ------------------------------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters with its own options (e.g. a new layer unfrozen mid-training)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the "
                            "ordering of tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
            # model.named_parameters(): keep the names (PyTorch records them as "param_names")
            names = [n for n, _ in params]
            params = [p for _, p in params]
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        group = dict(param_group)
        group["params"] = params
        if names is not None:
            group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    # -- gradients ---------------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset gradients: drop them (default, frees memory) or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad.detach_()
                    else:
                        p.grad.requires_grad_(False)
                    with no_grad():
                        p.grad.zero_()

    # -- the step ----------------------------------------------------------------------------------
    def step(self, closure=None):
        """One update of every parameter that has a gradient. ``closure`` re-evaluates the model and
        returns the loss (called with gradients enabled); the loss is returned."""
        args, kwargs = (), {"closure": closure}
        for hook in list(self._step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"optimizer step pre-hook must return None or a tuple of (new_args, "
                                       f"new_kwargs), but got {result!r}")
                args, kwargs = result
        closure = kwargs.get("closure", args[0] if args else None)
        loss = None
        self._opt_called = True  # lets a scheduler warn when it is stepped before the optimizer
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._update(group, params)
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return loss

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` before each step; may return new ``(args, kwargs)``.
        Returns a handle whose ``remove()`` unregisters it."""
        return _Handle(self._step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` after each step. Returns a handle with ``remove()``."""
        return _Handle(self._step_post_hooks, hook)

    def _update(self, group: dict, params: list) -> None:
        raise NotImplementedError

    def _grad(self, p: Tensor, group: dict) -> Tensor:
        """The gradient to use: ``-grad`` when maximizing; refuses sparse-like/mismatched gradients."""
        g = p.grad
        if g.shape != p.shape:
            raise RuntimeError(f"{type(self).__name__}: gradient of shape {tuple(g.shape)} does not match its "
                               f"parameter of shape {tuple(p.shape)}")
        return -g if group.get("maximize", False) else g

    @staticmethod
    def _scalar(p: Tensor, value: float = 0.0) -> Tensor:
        """A 0-d state scalar (``step``, NAdam's ``mu_product``) like PyTorch's: float64 when the
        default dtype is float64, else float32, on ``p``'s device."""
        dt = "float64" if _config.default_dtype.get() == "float64" else "float32"
        return Tensor._make(p.device.xp.full((), value, dtype=dt))

    @staticmethod
    def _step_value(step: Tensor):
        """The step count: a Python float normally; the 0-d tensor itself while tracing, so that the
        coefficients derived from it (bias corrections) stay computations in the traced graph."""
        if _function._apply_observers:
            return step
        return float(step._data)

    # -- serialization -----------------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{"state": {index: per-parameter state}, "param_groups": [options + "params": indices]}``."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {index[id(p)]: s for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore state and group options from ``state_dict()`` output (tensors are copied)."""
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        for i, (ours, theirs) in enumerate(zip(self.param_groups, saved_groups)):
            if len(ours["params"]) != len(theirs["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(theirs['params'])} parameters in the state "
                                 f"dict and {len(ours['params'])} in the optimizer")
        id_map = {}
        for ours, theirs in zip(self.param_groups, saved_groups):
            for p, idx in zip(ours["params"], theirs["params"]):
                id_map[_index_key(idx)] = p
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            p = id_map.get(_index_key(key))
            if p is None:
                continue
            state[p] = {k: _cast_state(p, k, v) for k, v in value.items()}
        self.state = state
        new_groups = []
        for ours, theirs in zip(self.param_groups, saved_groups):
            group = {k: _plain(v) for k, v in theirs.items() if k != "params"}
            group["params"] = ours["params"]
            new_groups.append(group)
        self.param_groups = new_groups

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups,
                "_step_pre_hooks": {}, "_step_post_hooks": {}}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


class _Handle:
    _next_id = 0

    def __init__(self, registry: dict, hook):
        _Handle._next_id += 1
        self.id, self._registry = _Handle._next_id, registry
        registry[self.id] = hook

    def remove(self) -> None:
        self._registry.pop(self.id, None)


def _index_key(idx):
    # Indices come back as strings from JSON-based formats; normalize so both forms match.
    return int(idx)


def _plain(v):
    """Group options as saved: lists from JSON become tuples where PyTorch uses tuples (betas...)."""
    if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
        return tuple(v)
    return v


def _cast_state(p: Tensor, key: str, value):
    if isinstance(value, Tensor):
        from ..backend.device import to_device
        arr = to_device(value._data, p.device)
        if key != "step" and arr.dtype.kind == "f" and p._data.dtype.kind == "f":
            arr = arr.astype(p._data.dtype, copy=False)
        if arr is value._data:
            arr = arr.copy()
        return Tensor._make(arr)
    return copy.deepcopy(value)


def check_range(name: str, value, low=0.0, high=None, low_open=False, high_open=True) -> None:
    """Raise ``ValueError`` with PyTorch's message style when a hyper-parameter is out of range."""
    if isinstance(value, Tensor):
        value = value.item()
    bad = value < low if not low_open else value <= low
    if high is not None:
        bad = bad or (value >= high if high_open else value > high)
    if bad or (isinstance(value, float) and math.isnan(value)):
        raise ValueError(f"Invalid {name}: {value}")
