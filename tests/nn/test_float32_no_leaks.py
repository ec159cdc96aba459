"""float32 stays float32: no op inside the forward or backward of a layer or loss produces a float64
tensor (NumPy 2 promotes on np.float64 scalars and bool-times-float temporaries)."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
from ember.autograd import function as _function


@pytest.fixture
def float64_outputs():
    seen = []

    def observer(cls, args, attrs, tensors, ctx):
        for t in tensors:
            if t._data.dtype == np.float64:
                seen.append(cls.op_name or cls.__name__)

    _function._apply_observers.append(observer)
    try:
        yield seen
    finally:
        _function._apply_observers.remove(observer)


X = (8, 6)
CASES = {
    "Linear": lambda x, t: nn.Linear(6, 3)(x),
    "Bilinear": lambda x, t: nn.Bilinear(6, 6, 2)(x, x),
    "BatchNorm1d": lambda x, t: nn.BatchNorm1d(6)(x),
    "BatchNorm1d_cumulative": lambda x, t: nn.BatchNorm1d(6, momentum=None)(x),
    "BatchNorm_eval": lambda x, t: nn.BatchNorm1d(6).eval()(x),
    "LayerNorm": lambda x, t: nn.LayerNorm(6)(x),
    "GroupNorm": lambda x, t: nn.GroupNorm(3, 6)(x),
    "RMSNorm": lambda x, t: nn.RMSNorm(6)(x),
    "InstanceNorm": lambda x, t: nn.InstanceNorm1d(2, track_running_stats=True)(x.reshape(2, 2, 12)),
    "Dropout": lambda x, t: nn.Dropout(0.3)(x),
    "AlphaDropout": lambda x, t: nn.AlphaDropout(0.3).train()(x),
    "Embedding": lambda x, t: nn.Embedding(6, 4, padding_idx=0)(t) * x[:, :4],
    "EmbeddingBag": lambda x, t: nn.EmbeddingBag(6, 4)(t.reshape(2, 4)) * x[:2, :4],
    "PReLU": lambda x, t: nn.PReLU()(x),
    "activations": lambda x, t: nn.Sequential(nn.GELU(), nn.Mish(), nn.Hardswish(), nn.CELU(), nn.Softplus(),
                                              nn.LogSigmoid(), nn.Softshrink(), nn.RReLU())(x),
    "cross_entropy": lambda x, t: F.cross_entropy(x, t),
    "cross_entropy_weight_smooth": lambda x, t: F.cross_entropy(x, t, weight=ember.rand(6), label_smoothing=0.1,
                                                                ignore_index=2),
    "cross_entropy_probs": lambda x, t: F.cross_entropy(x, F.softmax(x.detach(), 1), label_smoothing=0.1),
    "nll": lambda x, t: F.nll_loss(x, t, weight=ember.rand(6)),
    "bce_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, ember.rand(*X), pos_weight=ember.rand(6)),
    "bce": lambda x, t: F.binary_cross_entropy(F.sigmoid(x), ember.rand(*X)),
    "regression": lambda x, t: F.mse_loss(x, x.detach() * 0.5) + F.smooth_l1_loss(x, x.detach() * 0.1, beta=0.5)
                               + F.huber_loss(x, x.detach() * 0.1) + F.l1_loss(x, x.detach() * 0.3),
    "kl_div": lambda x, t: F.kl_div(F.log_softmax(x, 1), F.softmax(x.detach(), 1), reduction="batchmean"),
    "margins": lambda x, t: F.cosine_embedding_loss(x, x.detach() + 1.0, ember.tensor([1, -1] * 4))
                            + F.margin_ranking_loss(x[:, 0], x[:, 1], ember.ones(8)) + F.multi_margin_loss(x, t)
                            + F.triplet_margin_loss(x, x.detach() + 0.5, x.detach() - 0.5),
}


@pytest.mark.parametrize("name", list(CASES))
def test_no_float64_inside(name, float64_outputs):
    ember.manual_seed(0)
    x = ember.randn(*X, requires_grad=True)
    t = ember.tensor([0, 1, 2, 3, 4, 5, 1, 2])
    out = CASES[name](x, t)
    out.sum().backward()
    assert out.dtype == np.float32 and x.grad.dtype == np.float32
    assert float64_outputs == [], f"float64 produced by: {sorted(set(float64_outputs))}"
