"""Every model of the zoo (``ember.models``, small configurations): traced == eager for outputs and
parameter gradients (float64, 1e-6 relative) before and after all passes, in eval mode and, with the
same seed for dropout, in training mode; the saved graph reloads with identical outputs.

VGG is left out: its fixed 4096-wide classifier is too large for a unit test in float64.
LSTMClassifier counts sequence lengths from the token values (``input_ids.numpy()``) when no lengths
are given: tracing that fails loudly; with explicit lengths (frozen into the graph) it traces."""

import numpy as np
import pytest

import ember
from ember import jit

from .helpers import assert_close

models = pytest.importorskip("ember.models")


def _zoo():
    rng = np.random.default_rng(0)
    ids = lambda *s: ember.tensor(rng.integers(1, 20, s))
    out = {
        "mlp": (lambda: models.MLP(6, [8, 8], 3), lambda: ember.tensor(rng.standard_normal((4, 6)))),
        "lenet5": (lambda: models.LeNet5(num_classes=3), lambda: ember.tensor(rng.standard_normal((2, 1, 28, 28)))),
        # resnet18's blocks with one block per stage (resnet18 itself only adds repeats)
        "resnet": (lambda: models.ResNet(models.BasicBlock, [1, 1, 1, 1], num_classes=3),
                   lambda: ember.tensor(rng.standard_normal((2, 3, 16, 16)))),
        "lstm_classifier": (lambda: models.LSTMClassifier(20, 6, 5, 3), lambda: (ids(3, 5), [5, 3, 4])),
        "transformer_classifier": (lambda: models.TransformerClassifier(20, 3, d_model=8, nhead=2, num_layers=1,
                                                                        dim_feedforward=16, max_len=16),
                                   lambda: ids(3, 5)),
        "bert": (lambda: models.BertForSequenceClassification(models.BertConfig(
            vocab_size=30, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16,
            max_position_embeddings=16, num_labels=3)), lambda: ids(2, 6)),
    }
    return out


ZOO = _zoo()


def _grads(model):
    return {k: p.grad.numpy().copy() for k, p in model.named_parameters() if p.grad is not None}


CASES = [pytest.param(n, m, marks=pytest.mark.slow) if n == "resnet"
         else (n, m) for n in sorted(ZOO) for m in ("eval", "train")]


def _args(x):
    return x if isinstance(x, tuple) else (x,)


@pytest.mark.parametrize("name,mode", CASES)
def test_zoo_model_traced_equals_eager(name, mode, tmp_path):
    build, make_input = ZOO[name]
    ember.manual_seed(0)
    model = build().double()
    getattr(model, mode)()
    x = _args(make_input())
    gm = jit.trace(model, x)
    x2 = _args(make_input())
    if name == "lstm_classifier":
        x2 = (x2[0], x[1])                  # the lengths are frozen into the graph
    stateful = bool(gm.graph.updates)       # training-mode batch norm updates running stats
    for graph in (gm.graph, jit.run_passes(gm.graph)[0]):
        runner = gm.with_graph(graph)
        snapshot = {k: b.numpy().copy() for k, b in model.named_buffers()}
        ember.manual_seed(1)
        want = model(*x2)
        if not stateful:
            want.sum().backward()
            want_grads = _grads(model)
            model.zero_grad()
        for k, b in model.named_buffers():
            b.numpy()[...] = snapshot[k]
        ember.manual_seed(1)
        got = runner(*x2)
        assert_close(got, want.detach())
        if not stateful:
            got.sum().backward()
            got_grads = _grads(model)
            assert set(got_grads) == set(want_grads)
            for k in want_grads:
                assert_close(got_grads[k], want_grads[k])
            model.zero_grad()
    if mode == "eval":
        jit.save(gm, tmp_path / "m.ember")
        loaded = jit.load(tmp_path / "m.ember")
        with ember.no_grad():
            assert_close(loaded(*x2), model(*x2), rtol=1e-12)


def test_lstm_classifier_without_lengths_fails_loudly():
    model = models.LSTMClassifier(20, 6, 5, 3)
    with pytest.raises(jit.TraceError, match=r"\.numpy\(\) reads the value of a traced tensor.*ember\.cond"):
        jit.trace(model, ember.tensor(np.ones((2, 4), dtype=np.int64)))
