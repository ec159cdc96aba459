"""Graph files: JSON round trip, save/load runs without the model's code, clear load errors."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import ember
import ember.nn.functional as F
import ember.optim
from ember import jit
from ember.jit.serialize import graph_from_json, graph_to_json

from .helpers import MODELS, assert_close, build, model_inputs


def _roundtrip(graph):
    d = graph_to_json(graph)
    text = json.dumps(d)
    g2 = graph_from_json(json.loads(text), graph.constant_values)
    return d, g2


@pytest.mark.parametrize("name", sorted(MODELS))
def test_json_round_trip_gives_an_identical_graph(name):
    gm = jit.trace(build(name), model_inputs(name))
    for graph in (gm.graph, jit.run_passes(gm.graph)[0]):
        d, g2 = _roundtrip(graph)
        assert graph_to_json(g2) == d
        assert str(g2) == str(graph)
        assert [n.op for n in g2.nodes] == [n.op for n in graph.nodes]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_saved_forward_graph_loads_and_matches(tmp_path, name):
    model = build(name)
    model.eval()
    gm = jit.trace(model, model_inputs(name))
    path = tmp_path / "model.ember"
    jit.save(gm, path)
    loaded = jit.load(path)
    (x,) = model_inputs(name, seed=4)
    with ember.no_grad():
        assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert set(loaded.graph.params) == {k for k, _ in model.named_parameters()}


def test_saved_training_step_runs_and_trains(tmp_path):
    model = build("mlp")
    ref = build("mlp")
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_opt = ember.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)

    def step_of(m, o):
        def step(x, y):
            o.zero_grad()
            loss = F.cross_entropy(m(x), y)
            loss.backward()
            o.step()
            return loss
        return step

    (x,) = model_inputs("mlp")
    y = ember.tensor([0, 1, 2, 0, 1])
    step_of(model, opt)(x, y)                      # the first step creates the momentum buffers
    step_of(ref, ref_opt)(x, y)
    compiled = jit.compile(step_of(model, opt))
    compiled(x, y), compiled(x, y)                   # trace twice (steady state) ...
    step_of(ref, ref_opt)(x, y), step_of(ref, ref_opt)(x, y)
    gm = compiled.graph_module(x, y)
    path = tmp_path / "step.ember"
    jit.save(gm, path)
    loaded = jit.load(path)
    assert loaded.graph.updates and loaded.graph.state
    losses = []
    for i in range(3):
        (xi,) = model_inputs("mlp", seed=20 + i)
        losses.append(loaded(xi, y).item())
        want = step_of(ref, ref_opt)(xi, y).item()
        assert losses[-1] == pytest.approx(want, rel=1e-6)
    for k, p in ref.named_parameters():
        assert_close(loaded.tensors[k], p)


def _saved_file(tmp_path):
    gm = jit.trace(lambda x: ember.relu(x) * 2.0, ember.randn(3))
    path = tmp_path / "g.ember"
    jit.save(gm, path)
    return gm, path


def _rewrite(path, graph_json, tensors=None):
    from safetensors.numpy import load_file, save_file
    arrays = load_file(str(path)) if tensors is None else tensors
    save_file(arrays, str(path), metadata={"format": "ember.jit", "version": "1",
                                           "ember.jit.graph": graph_json})


def test_load_rejects_wrong_version(tmp_path):
    gm, path = _saved_file(tmp_path)
    d = graph_to_json(gm.graph)
    d["version"] = 99
    _rewrite(path, json.dumps(d))
    with pytest.raises(jit.GraphFormatError, match="version 99 is not supported"):
        jit.load(path)


def test_load_rejects_unknown_op(tmp_path):
    gm, path = _saved_file(tmp_path)
    d = graph_to_json(gm.graph)
    d["nodes"][0]["op"] = "launch_missiles"
    _rewrite(path, json.dumps(d))
    with pytest.raises(jit.GraphFormatError, match="unknown op 'launch_missiles'"):
        jit.load(path)


def test_load_rejects_malformed_files(tmp_path):
    gm, path = _saved_file(tmp_path)
    _rewrite(path, "{not json")
    with pytest.raises(jit.GraphFormatError, match="malformed"):
        jit.load(path)
    d = graph_to_json(gm.graph)
    del d["nodes"][0]["outputs"]
    _rewrite(path, json.dumps(d))
    with pytest.raises(jit.GraphFormatError, match="malformed graph JSON"):
        jit.load(path)
    d = graph_to_json(gm.graph)
    d["nodes"][0]["inputs"] = [42]
    _rewrite(path, json.dumps(d))
    with pytest.raises(jit.GraphFormatError, match="reads %42 before it is defined"):
        jit.load(path)
    garbage = tmp_path / "garbage.ember"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(jit.GraphFormatError, match="not a valid graph file"):
        jit.load(garbage)


def test_load_rejects_missing_or_misshapen_weights(tmp_path):
    model = build("mlp")
    gm = jit.trace(model, model_inputs("mlp"))
    path = tmp_path / "m.ember"
    jit.save(gm, path)
    from safetensors.numpy import load_file
    arrays = load_file(str(path))
    meta_graph = json.dumps(graph_to_json(gm.graph))
    arrays["param/0.weight"] = np.zeros((2, 2))
    _rewrite(path, meta_graph, arrays)
    with pytest.raises(jit.GraphFormatError, match=r"'param/0.weight' has shape \(2, 2\)"):
        jit.load(path)
    del arrays["param/0.weight"]
    _rewrite(path, meta_graph, arrays)
    with pytest.raises(jit.GraphFormatError, match="'param/0.weight' is missing"):
        jit.load(path)


def test_no_pickle_in_the_file(tmp_path):
    _, path = _saved_file(tmp_path)
    data = path.read_bytes()
    assert b"ember.jit.graph" in data and b"\x80\x04" not in data[:64]


MODEL_SOURCE = textwrap.dedent('''
    import ember
    import ember.nn as nn


    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 6)
            self.b = nn.Linear(6, 2)

        def forward(self, x):
            h = ember.tanh(self.a(x))
            return ember.cond(h.sum() > 0, lambda t: self.b(t) * 2.0, lambda t: self.b(t) - 1.0, (h,))
''')


def test_load_in_fresh_process_without_the_model_code(tmp_path):
    src = tmp_path / "tinynet_mod.py"
    src.write_text(MODEL_SOURCE)
    sys.path.insert(0, str(tmp_path))
    try:
        import tinynet_mod
        ember.manual_seed(3)
        model = tinynet_mod.TinyNet().double()
        x = ember.tensor(np.random.default_rng(0).standard_normal((5, 4)))
        gm = jit.trace(model, x)
        with ember.no_grad():
            want = [model(x).numpy(), model(-x).numpy()]
        jit.save(gm, tmp_path / "tiny.ember")
        np.save(tmp_path / "x.npy", x.numpy())
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("tinynet_mod", None)
    src.unlink()
    script = textwrap.dedent(f'''
        import sys, numpy as np, ember
        from ember import jit
        m = jit.load({str(tmp_path / "tiny.ember")!r})
        x = ember.tensor(np.load({str(tmp_path / "x.npy")!r}))
        np.save({str(tmp_path / "out0.npy")!r}, m(x).numpy())
        np.save({str(tmp_path / "out1.npy")!r}, m(-x).numpy())
        assert "tinynet_mod" not in sys.modules
    ''')
    env = dict(os.environ, PYTHONPATH=os.getcwd())
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          cwd=str(tmp_path), timeout=120)
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out0.npy"), want[0])
    np.testing.assert_array_equal(np.load(tmp_path / "out1.npy"), want[1])
    assert not np.allclose(want[0], want[1])
