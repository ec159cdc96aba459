"""``ember.jit``: static graphs. Trace a function or module into a ``Graph``, optimize it with passes,
run it on arrays, save it (JSON + safetensors) and load it without the model's code.

Entry points: ``trace``, ``compile``, ``explain``, ``save``, ``load``; control flow that survives
tracing: ``cond``, ``while_loop``, ``scan`` (also exported as ``ember.cond`` ...).

What a graph freezes (as ``torch.jit.trace`` / ``jax.jit`` do): Python control flow, Python numbers
(hyperparameters, ``x.shape[0]``), tensors made by factories (``ember.randn`` inside the function is one
fixed draw; randomness inside ops such as ``dropout`` is redrawn each run) and the shapes/dtypes of the
inputs. ``compile`` guards what it can: input signature, ``training`` flags, grad mode and optimizer
hyperparameters re-trace; a function whose graph changes on every call runs eagerly with a warning.
Reading a traced tensor's value (``.item()``, ``.numpy()``, ``bool()``) raises ``TraceError``.

State: parameters/buffers (by ``state_dict`` name) and other outside tensors the function writes in
place (optimizer state) or differentiates are bound by reference; their new values are written back
after each run, and ``.grad`` is set, so a compiled training step behaves like the eager one.
After ``optimizer.load_state_dict`` (which replaces state tensors) call ``compiled.reset()``.
"""

from .api import CompiledFunction, compile, explain, find_modules, trace
from .control_flow import cond, scan, while_loop
from .graph_module import GraphModule
from .ir import Graph, Lit, Node, ValueInfo
from .passes import DEFAULT_PASSES, PASSES, run_passes
from .serialize import FORMAT_VERSION, GraphFormatError, load, save
from .tracer import TraceError

__all__ = ["trace", "compile", "explain", "save", "load", "cond", "while_loop", "scan", "Graph", "Node",
           "Lit", "ValueInfo", "GraphModule", "CompiledFunction", "PASSES", "DEFAULT_PASSES",
           "run_passes", "TraceError", "GraphFormatError", "FORMAT_VERSION", "find_modules"]
