"""Each pass: same outputs, updates and gradients before and after, on random inputs; plus what
each pass is for (it fires on the pattern it targets)."""

import numpy as np
import pytest

import ember
import ember.nn.functional as F
import ember.optim
from ember import jit
from ember.autograd.tensor import Tensor
from ember.jit.graph_module import GraphModule
from ember.jit.passes import PASSES, run_passes

from .helpers import MODELS, assert_close, build, model_inputs


def _fresh(gm, graph):
    """A GraphModule over copies of the bound tensors (running it must not disturb the others)."""
    return GraphModule(graph, {k: Tensor._make(t._data.copy(), t._requires_grad) for k, t in gm.tensors.items()})


def _random_inputs(graph, seed):
    rng = np.random.default_rng(seed)
    out = []
    for v in graph.inputs:
        info = graph.values[v]
        if info.dtype.startswith("float"):
            out.append(ember.tensor(rng.standard_normal(info.shape).astype(info.dtype)))
        else:
            out.append(ember.tensor(rng.integers(0, 3, info.shape).astype(info.dtype)))
    return out


def check_equivalent(gm, before, after, seed=0):
    """Run both graphs on the same random inputs: outputs, updated state and .grad must agree."""
    for s in (seed, seed + 1):
        inputs = _random_inputs(before, s)
        a, b = _fresh(gm, before), _fresh(gm, after)
        with ember.no_grad():             # random ops (dropout) draw the same numbers in both runs
            ember.manual_seed(s)
            out_a = a.run_arrays(inputs)
            ember.manual_seed(s)
            out_b = b.run_arrays(inputs)
        for x, y in zip(out_a, out_b):
            assert_close(y, x)
        for name in before.updates:
            assert_close(b.tensors[name], a.tensors[name])
        for name in before.grads:
            assert_close(b.tensors[name].grad, a.tensors[name].grad)
        if not before.updates and before.params:
            # gradients through the graph (differentiable replay) agree too
            a, b = _fresh(gm, before), _fresh(gm, after)
            for t in list(a.tensors.values()) + list(b.tensors.values()):
                t.requires_grad_(t.dtype.kind == "f")
            ember.manual_seed(s)
            a(*inputs).sum().backward()
            ember.manual_seed(s)
            b(*inputs).sum().backward()
            for name in before.params:
                assert_close(b.tensors[name].grad, a.tensors[name].grad)


def _train_step_graph(name="mlp", optim="sgd"):
    model = build(name)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optim == "sgd" else \
        ember.optim.Adam(model.parameters(), lr=0.01)

    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    (x,) = model_inputs(name)
    y = ember.tensor([0, 1, 2, 0, 1])
    step(x, y)                          # create optimizer state, then trace the steady state
    return jit.trace(step, (x, y))


def _graphs():
    out = {f"forward_{n}": jit.trace(build(n), model_inputs(n)) for n in sorted(MODELS)}
    out["train_mlp_sgd"] = _train_step_graph("mlp", "sgd")
    out["train_mlp_ln_adam"] = _train_step_graph("mlp_ln_gelu", "adam")
    return out


GRAPHS = _graphs()


@pytest.mark.parametrize("graph_name", sorted(GRAPHS))
@pytest.mark.parametrize("pass_name", sorted(PASSES))
def test_pass_preserves_outputs_updates_and_grads(pass_name, graph_name):
    gm = GRAPHS[graph_name]
    before = gm.graph
    after = PASSES[pass_name](before)
    assert after is not before and len(before.nodes) == len(gm.graph.nodes)   # pure: input untouched
    check_equivalent(gm, before, after)


@pytest.mark.parametrize("graph_name", sorted(GRAPHS))
def test_all_passes_together(graph_name):
    gm = GRAPHS[graph_name]
    after, report = run_passes(gm.graph)
    # plain forward graphs may have nothing to remove; a training step always does (fusion of the
    # optimizer update chains at least)
    assert len(after.nodes) < len(gm.graph.nodes) if graph_name.startswith("train") else \
        len(after.nodes) <= len(gm.graph.nodes)
    check_equivalent(gm, gm.graph, after, seed=5)


def _synthetic():
    def f(x, w):
        a = ember.exp(x) + 1.0
        b = ember.exp(x) + 1.0                       # CSE
        ember.sin(x) * 4.0                           # DCE: computed, never used
        c = (a * 1.0 + 0.0) / 1.0                    # mul by one, add 0, div by 1
        t = w.permute(1, 0).permute(1, 0)            # transpose of transpose
        r = x.reshape(2, 6).reshape(3, 4).reshape(12)  # reshape chain
        k = ember.full_like(x, 2.0) * 3.0            # constant folding (shape arithmetic)
        return (c * b + k).sum() + (t @ w.T).sum() + r.sum()

    x, w = ember.randn(3, 4), ember.randn(3, 5)
    return jit.trace(f, (x, w))


def test_each_pass_fires_on_its_pattern():
    gm = _synthetic()
    g = gm.graph
    ops = [n.op for n in g.nodes]
    assert ops.count("exp") == 2 and "sin" in ops

    cse = PASSES["cse"](g)
    assert [n.op for n in cse.nodes].count("exp") == 1
    dce = PASSES["dce"](g)
    assert "sin" not in [n.op for n in dce.nodes]
    simp = PASSES["simplify"](g)
    sops = [n.op for n in simp.nodes]
    assert sops.count("permute") == 1 and sops.count("reshape") == 1      # w.T stays; chains collapse
    assert len(simp.nodes) < len(g.nodes) - 4
    fold = PASSES["constant_fold"](g)
    assert len(fold.constants) > len(g.constants)
    fused = PASSES["fuse_elementwise"](PASSES["dce"](g))
    assert "fused_elementwise" in [n.op for n in fused.nodes]
    mem = PASSES["plan_memory"](fused)
    assert any(n.attrs.get("inplace", -1) >= 0 for n in mem.nodes)
    for after in (cse, dce, simp, fold, fused, mem, run_passes(g)[0]):
        check_equivalent(gm, g, after)


def test_explain_reports_passes_and_removed_nodes():
    gm = _synthetic()
    text = jit.explain(gm)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["pass", "fired"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == {"simplify", "constant_fold", "cse", "dce", "fuse_elementwise", "plan_memory"}
    assert rows["cse"][1] == "yes" and int(rows["cse"][5]) >= 1
    assert rows["fuse_elementwise"][1] == "yes"
    x = ember.randn(4)
    assert "fused" in jit.explain(lambda x: ember.exp(x) * 2.0 + 1.0, x)


def test_fused_kernel_writes_in_place_into_parameters_in_a_training_step():
    gm = _train_step_graph()
    g, _ = run_passes(gm.graph)
    inplace = [n for n in g.nodes if n.attrs.get("inplace", -1) >= 0]
    srcs = g.sources()
    targets = {srcs[n.inputs[n.attrs["inplace"]]][0] for n in inplace if n.inputs[n.attrs["inplace"]] in srcs}
    assert {"param", "state"} <= targets
    check_equivalent(gm, gm.graph, g)
