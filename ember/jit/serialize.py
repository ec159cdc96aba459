"""Graph files: ``ember.jit.save`` / ``ember.jit.load``.

One safetensors file holds everything: the weights (``param/<name>``, ``buffer/<name>``,
``state/<name>``, ``const/<name>``) as tensors and the graph as versioned JSON in the file's metadata
(``ember.jit.graph``). No pickle: loading cannot run code. Loading checks the format version, that
every op (including ops inside fused kernels and control-flow sub-graphs) is registered, that every
value is defined before use and that every weight has the recorded shape and dtype.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from ..autograd.function import OP_REGISTRY
from ..autograd.tensor import Tensor
from ..backend.device import to_numpy
from .graph_module import GraphModule
from .ir import Graph, Lit, Node, ValueInfo

FORMAT = "ember.jit"
FORMAT_VERSION = 1
_KINDS = ("param", "buffer", "state", "const")


class GraphFormatError(ValueError):
    """A graph file or graph JSON that is malformed, from another version, or uses unknown ops."""


# -- JSON ------------------------------------------------------------------------------------------
def graph_to_json(graph: Graph, inline_constants: bool = False) -> dict:
    """The graph as a JSON-ready dict. Constant arrays are left out (they go to the weights file)
    unless ``inline_constants`` (control-flow sub-graphs, which live inside a node's attrs)."""
    def ref(i):
        return {"lit": i.value} if isinstance(i, Lit) else i

    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "values": {str(k): [list(v.shape), v.dtype] for k, v in graph.values.items()},
        "inputs": list(graph.inputs),
        "params": dict(graph.params),
        "buffers": dict(graph.buffers),
        "state": dict(graph.state),
        "constants": dict(graph.constants),
        "nodes": [{"op": n.op, "inputs": [ref(i) for i in n.inputs], "outputs": list(n.outputs),
                   "attrs": n.attrs, "needs": list(n.needs)} for n in graph.nodes],
        "outputs": list(graph.outputs),
        "output_spec": graph.output_spec,
        "updates": dict(graph.updates),
        "grads": dict(graph.grads),
        **({"inline_constants": {k: [to_numpy(a).dtype.name, list(a.shape), to_numpy(a).ravel().tolist()]
                                 for k, a in graph.constant_values.items()}} if inline_constants else {}),
    }


def _fail(msg):
    raise GraphFormatError(f"ember.jit.load: {msg}")


def graph_from_json(d, constant_values: dict | None = None) -> Graph:
    """Rebuild (and validate) a Graph from ``graph_to_json`` output."""
    if not isinstance(d, dict):
        _fail(f"the graph must be a JSON object, got {type(d).__name__}")
    if d.get("format") != FORMAT:
        _fail(f"not an ember.jit graph (format {d.get('format')!r})")
    if d.get("version") != FORMAT_VERSION:
        _fail(f"graph format version {d.get('version')!r} is not supported (this ember reads version "
              f"{FORMAT_VERSION})")
    try:
        g = Graph()
        g.values = {int(k): ValueInfo(tuple(int(s) for s in v[0]), str(np.dtype(v[1]))) for k, v in d["values"].items()}
        g._next = max(g.values, default=-1) + 1
        g.inputs = [int(v) for v in d["inputs"]]
        g.params = {str(k): int(v) for k, v in d["params"].items()}
        g.buffers = {str(k): int(v) for k, v in d["buffers"].items()}
        g.state = {str(k): int(v) for k, v in d["state"].items()}
        g.constants = {str(k): int(v) for k, v in d["constants"].items()}
        for nd in d["nodes"]:
            ins = [Lit(i["lit"]) if isinstance(i, dict) else int(i) for i in nd["inputs"]]
            g.nodes.append(Node(str(nd["op"]), ins, [int(o) for o in nd["outputs"]], dict(nd["attrs"]),
                                [bool(x) for x in nd.get("needs", [])]))
        g.outputs = [int(v) for v in d["outputs"]]
        g.output_spec = d["output_spec"]
        g.updates = {str(k): int(v) for k, v in d["updates"].items()}
        g.grads = {str(k): int(v) for k, v in d["grads"].items()}
    except GraphFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        _fail(f"malformed graph JSON ({type(exc).__name__}: {exc})")
    if constant_values is not None:
        g.constant_values = dict(constant_values)
    elif "inline_constants" in d:
        try:
            g.constant_values = {k: np.asarray(v[2], dtype=v[0]).reshape(v[1])
                                 for k, v in d["inline_constants"].items()}
        except (TypeError, ValueError, IndexError) as exc:
            _fail(f"malformed inline constant ({exc})")
    validate(g)
    return g


def validate(g: Graph) -> None:
    """Every op registered (recursively), every value defined once and before use."""
    defined = set(g.sources())
    for v in defined:
        if v not in g.values:
            _fail(f"value %{v} has no shape/dtype entry")
    for k, n in enumerate(g.nodes):
        _check_op(n.op, f"node {k}")
        for i in n.value_inputs():
            if i not in defined:
                _fail(f"node {k} ({n.op}) reads %{i} before it is defined")
        for o in n.outputs:
            if o in defined:
                _fail(f"node {k} ({n.op}) redefines %{o}")
            if o not in g.values:
                _fail(f"value %{o} has no shape/dtype entry")
            defined.add(o)
        _check_nested(n, k)
    for v in list(g.outputs) + list(g.updates.values()) + list(g.grads.values()):
        if v not in defined:
            _fail(f"the graph returns %{v}, which is never defined")
    for name in list(g.updates) + list(g.grads):
        if name not in g.params and name not in g.buffers and name not in g.state:
            _fail(f"update/grad target {name!r} is not a param, buffer or state of the graph")


def _check_op(op, where):
    if not isinstance(op, str) or op not in OP_REGISTRY:
        _fail(f"{where} uses unknown op {op!r}")


def _check_nested(n: Node, k: int) -> None:
    if n.op == "fused_elementwise":
        from .fused import KERNELS
        for step in n.attrs.get("program", []):
            if not isinstance(step, list) or not step or step[0] not in KERNELS:
                _fail(f"node {k} (fused_elementwise) has an unknown step {step!r:.60}")
    for key in ("branches", "cond_graph", "body_graph"):
        sub = n.attrs.get(key)
        if sub is None:
            continue
        for s in (sub if isinstance(sub, list) else [sub]):
            graph_from_json(s)


# -- files -----------------------------------------------------------------------------------------
def save(graph_module: GraphModule, path) -> None:
    """Write ``graph_module`` (graph JSON + weights) to one safetensors file, atomically."""
    from safetensors.numpy import save_file
    g = graph_module.graph
    tensors = {}
    for kind, table in (("param", g.params), ("buffer", g.buffers), ("state", g.state)):
        for name in table:
            tensors[f"{kind}/{name}"] = np.array(to_numpy(graph_module.tensors[name]._data), order="C")
    for name in g.constants:
        tensors[f"const/{name}"] = np.array(to_numpy(g.constant_values[name]), order="C")
    meta = {"format": FORMAT, "version": str(FORMAT_VERSION), "ember.jit.graph": json.dumps(graph_to_json(g))}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".ember-jit-", dir=folder)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=meta)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _import_op_packages() -> None:
    """Register every op family (loading must not depend on which modules the caller imported)."""
    import importlib
    import pkgutil

    import ember.ops
    for mod in pkgutil.iter_modules(ember.ops.__path__, "ember.ops."):
        importlib.import_module(mod.name)
    for name in ("ember.nn", "ember.nn.functional", "ember.jit.fused", "ember.jit.control_flow"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def load(path) -> GraphModule:
    """Load a graph file written by ``save``; returns a callable ``GraphModule``."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file
    from safetensors import safe_open
    _import_op_packages()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"ember.jit.load: no such file: {path}")
    try:
        with safe_open(path, "np") as f:
            meta = f.metadata() or {}
        arrays = load_file(path)
    except (SafetensorError, OSError, ValueError) as exc:
        _fail(f"{path} is not a valid graph file ({exc})")
    if meta.get("format") != FORMAT or "ember.jit.graph" not in meta:
        _fail(f"{path} is a safetensors file but not an ember.jit graph (no graph metadata)")
    try:
        d = json.loads(meta["ember.jit.graph"])
    except json.JSONDecodeError as exc:
        _fail(f"the graph JSON in {path} is malformed ({exc})")
    consts = {}
    g = graph_from_json(d)
    for name, v in g.constants.items():
        consts[name] = _weight(arrays, "const", name, g.values[v])
    g.constant_values = consts
    tensors = {}
    for kind, table in (("param", g.params), ("buffer", g.buffers), ("state", g.state)):
        for name, v in table.items():
            # loaded weights do not require grad (fast inference); call requires_grad_() to train
            tensors[name] = Tensor._make(_weight(arrays, kind, name, g.values[v]))
    return GraphModule(g, tensors)


def _weight(arrays, kind, name, info):
    key = f"{kind}/{name}"
    if key not in arrays:
        _fail(f"weight {key!r} is missing from the file")
    arr = arrays[key]
    if tuple(arr.shape) != info.shape or arr.dtype.name != info.dtype:
        _fail(f"weight {key!r} has shape {tuple(arr.shape)} and dtype {arr.dtype}, the graph expects "
              f"{info.shape} and {info.dtype}")
    return np.array(arr)   # writable, owned (training-step graphs update it in place)
