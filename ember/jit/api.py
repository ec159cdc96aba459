"""``trace``, ``compile`` and ``explain``: the user-facing entry points of ``ember.jit``."""

from __future__ import annotations

import functools
import hashlib
import json
import warnings

from .. import _config
from ..autograd.tensor import Tensor
from .graph_module import GraphModule
from .ir import Graph, Lit, flatten_tree
from .tracer import Tracer


def _is_tensor(o) -> bool:
    return isinstance(o, Tensor)


def _module_class():
    try:
        from ..nn.module import Module
    except ImportError:  # pragma: no cover - nn not importable
        return None
    return Module


def find_modules(fn) -> dict:
    """The ``Module``s a function uses: itself, its bound ``self``, closure cells and named globals."""
    Module = _module_class()
    if Module is None:
        return {}
    if isinstance(fn, Module):
        return {"": fn}
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, Module):
        return {"": owner}
    fn = getattr(fn, "__wrapped__", fn)
    code = getattr(fn, "__code__", None)
    found = {}
    if code is not None:
        for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
            try:
                obj = cell.cell_contents
            except ValueError:
                continue
            if isinstance(obj, Module):
                found[name] = obj
        glob = getattr(fn, "__globals__", {})
        for name in code.co_names:
            obj = glob.get(name)
            if isinstance(obj, Module):
                found.setdefault(name, obj)
    if len(found) == 1:
        return {"": next(iter(found.values()))}
    return found


def find_optimizers(fn) -> list:
    """Optimizers a function uses through closure cells or named globals (their hyperparameters are
    frozen into a traced graph, so they are part of the compile cache key)."""
    try:
        from ..optim.optimizer import Optimizer
    except ImportError:  # pragma: no cover
        return []
    fn = getattr(fn, "__wrapped__", fn)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    objs = []
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            objs.append(cell.cell_contents)
        except ValueError:
            pass
    glob = getattr(fn, "__globals__", {})
    objs += [glob.get(n) for n in code.co_names]
    return [o for o in objs if isinstance(o, Optimizer)]


def _hyperparameters(optimizers) -> str:
    return json.dumps([[{k: v for k, v in g.items() if k != "params"} for g in o.param_groups]
                       for o in optimizers], default=str, sort_keys=True)


def _names(modules: dict) -> dict:
    """id(array) -> (kind, state_dict name) over ``modules`` (prefixed by variable name if several)."""
    names = {}
    for prefix, m in modules.items():
        pre = f"{prefix}." if prefix else ""
        for name, p in m.named_parameters():
            names.setdefault(id(p._data), ("param", pre + name))
        for name, b in m.named_buffers():
            if b is not None:
                names.setdefault(id(b._data), ("buffer", pre + name))
    return names


def _trace(fn, args, modules=None):
    modules = find_modules(fn) if modules is None else modules
    tracer = Tracer(_names(modules))
    leaves, _ = flatten_tree(args, _is_tensor)
    with tracer:
        for t in leaves:
            tracer.add_input(t)
        result = fn(*args)
        graph = tracer.finish(result)
    return GraphModule(graph, tracer.bound_tensors()), result


def trace(fn_or_module, example_inputs, *, modules: dict | None = None) -> GraphModule:
    """Run ``fn_or_module(*example_inputs)`` once under the tracer; return the ``GraphModule``.

    ``example_inputs``: a Tensor or a tuple of arguments (tensors, numbers, nested tuples/lists/dicts;
    non-tensor values are frozen into the graph). Parameters and buffers are named by ``state_dict``
    name; ``modules`` ({prefix: Module}) overrides which modules are searched for names.
    """
    args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    gm, _ = _trace(fn_or_module, args, modules)
    return gm


def graph_signature(graph: Graph) -> str:
    """A digest of a graph's structure and constant contents (equal digests: same computation)."""
    h = hashlib.sha1()
    for n in graph.nodes:
        ins = [["l", i.value] if isinstance(i, Lit) else i for i in n.inputs]
        h.update(json.dumps([n.op, ins, n.outputs, n.attrs], sort_keys=True, default=str).encode())
    h.update(json.dumps([graph.inputs, graph.params, graph.buffers, graph.state, graph.constants,
                         graph.outputs, graph.output_spec, graph.updates, graph.grads],
                        sort_keys=True, default=str).encode())
    for name in sorted(graph.constant_values):
        arr = graph.constant_values[name]
        from ..backend.device import to_numpy
        h.update(to_numpy(arr).tobytes())
    return h.hexdigest()


class _Entry:
    __slots__ = ("signature", "gm", "traces", "ready", "eager", "report")

    def __init__(self):
        self.signature, self.gm, self.traces = None, None, 0
        self.ready = self.eager = False
        self.report = None


class CompiledFunction:
    """What ``ember.jit.compile`` returns: traces per input signature, then runs the optimized graph.

    A signature is the structure of the arguments, each tensor's shape, dtype, device and
    requires_grad, the ``training`` flag of every module the function uses, the grad mode and the
    hyperparameters (``param_groups`` without the params) of the optimizers it uses, so a learning-rate
    schedule re-traces instead of running a stale graph. A new
    signature is traced until two consecutive traces give the same graph (the first call of a training
    step creates optimizer state lazily, so its graph differs from the steady state); from then on the
    optimized graph runs. A function whose graph keeps changing (it freezes values that change between
    calls, e.g. random draws from a factory) falls back to eager execution with a warning.
    """

    def __init__(self, fn, passes=None, max_traces: int = 4):
        from .passes import resolve_passes
        self.fn = fn
        self.passes = resolve_passes(passes)
        self.max_traces = max_traces
        self._cache: dict = {}
        self._optimizers = find_optimizers(fn)
        self._submodules = [m for mm in find_modules(fn).values() for m in mm.modules()]
        self.last_report = None
        functools.update_wrapper(self, fn, updated=())

    def _key(self, args, leaves, spec):
        flags = tuple(m.training for m in self._submodules)
        return (json.dumps(spec, default=str),
                tuple((tuple(t.shape), t.dtype.name, str(t.device), t._requires_grad) for t in leaves),
                flags, _config.grad_enabled.get(), _hyperparameters(self._optimizers))

    def __call__(self, *args):
        leaves, spec = flatten_tree(args, _is_tensor)
        key = self._key(args, leaves, spec)
        entry = self._cache.get(key)
        if entry is None:
            entry = self._cache[key] = _Entry()
        if entry.ready:
            return entry.gm(*args)
        if entry.eager:
            return self.fn(*args)
        gm, result = _trace(self.fn, args)
        sig = graph_signature(gm.graph)
        entry.traces += 1
        if sig == entry.signature:
            from .passes import run_passes
            graph, entry.report = run_passes(gm.graph, self.passes)
            self.last_report = entry.report
            entry.gm = gm.with_graph(graph)
            entry.ready = True
        elif entry.traces >= self.max_traces:
            warnings.warn(f"ember.jit.compile: {getattr(self.fn, '__name__', self.fn)} gives a different "
                          f"graph on every call ({entry.traces} traces); running it eagerly", RuntimeWarning)
            entry.eager = True
        entry.signature = sig
        return result

    def graph_module(self, *args) -> GraphModule | None:
        """The optimized GraphModule used for these arguments (None until it is ready)."""
        leaves, spec = flatten_tree(args, _is_tensor)
        entry = self._cache.get(self._key(args, leaves, spec))
        return entry.gm if entry is not None and entry.ready else None

    def reset(self) -> None:
        """Forget every traced graph (e.g. after changing a learning rate frozen in the graph)."""
        self._cache.clear()


def compile(fn=None, *, passes=None):
    """Decorator: trace ``fn`` on first use (per input signature) and run its optimized graph after.

    ``passes``: names or functions (``ember.jit.passes.PASSES``); None means all, in the default order.
    Works for forward functions and whole training steps (forward, ``backward()``, ``optimizer.step()``):
    parameters, optimizer state and ``.grad`` are updated in place when the compiled step runs.
    """
    if fn is None:
        return lambda f: CompiledFunction(f, passes)
    return CompiledFunction(fn, passes)


def explain(fn, example_inputs=None, passes=None) -> str:
    """Which passes fired and how many nodes each removed, as a text report.

    ``fn``: a ``CompiledFunction`` (its last optimization), a ``GraphModule`` or a function/module
    traced on ``example_inputs``.
    """
    from .passes import format_report, run_passes
    if isinstance(fn, CompiledFunction):
        if fn.last_report is None:
            if example_inputs is None:
                raise RuntimeError("ember.jit.explain: the compiled function has not been optimized yet; "
                                   "call it (twice) or pass example_inputs")
            args = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
            gm, _ = _trace(fn.fn, args)
            return format_report(run_passes(gm.graph, fn.passes if passes is None else passes)[1])
        return format_report(fn.last_report)
    if isinstance(fn, GraphModule):
        gm = fn
    else:
        if example_inputs is None:
            raise TypeError("ember.jit.explain(fn, example_inputs): a plain function needs example inputs")
        gm = trace(fn, example_inputs)
    return format_report(run_passes(gm.graph, passes)[1])
