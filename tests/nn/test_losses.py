"""Loss modules: options, reductions, shape errors, numerical stability, and PyTorch references
(values and input gradients in float64 to 1e-6). Functional forms are checked against NumPy in
tests/ops/cases_loss.py."""

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F


def t(a, **kw):
    return ember.tensor(np.asarray(a), **kw)


def test_shape_mismatch_raises_with_both_shapes():
    x, y = ember.randn(4, 1), ember.randn(4)
    for loss in (nn.MSELoss(), nn.L1Loss(), nn.SmoothL1Loss(), nn.HuberLoss(), nn.BCEWithLogitsLoss(),
                 nn.KLDivLoss(reduction="batchmean")):
        with pytest.raises(RuntimeError, match=r"input and target shapes must match, got input \(4, 1\) and "
                                               r"target \(4,\)"):
            loss(x, y)
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: input and target shapes must match"):
        nn.BCELoss()(ember.rand(3), ember.rand(3, 1))
    with pytest.raises(RuntimeError, match=r"cross_entropy: for input of shape \(4, 3\) .* must have shape "
                                           r"\(4,\), got target \(4, 1\)"):
        nn.CrossEntropyLoss()(ember.randn(4, 3), ember.zeros(4, 1, dtype=ember.int64))
    with pytest.raises(RuntimeError, match=r"target values must be in \[0, 3\).*got 3"):
        nn.CrossEntropyLoss()(ember.randn(2, 3), t([0, 3]))
    with pytest.raises(RuntimeError, match=r"margin_ranking_loss: target shape \(3, 1\) must be \(3,\)"):
        nn.MarginRankingLoss()(ember.randn(3), ember.randn(3), ember.ones(3, 1))
    with pytest.raises(RuntimeError, match=r"binary_cross_entropy: all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(t([1.5]), t([1.0]))


def test_invalid_reduction():
    with pytest.raises(ValueError, match="'avg' is not a valid value for reduction"):
        nn.MSELoss(reduction="avg")(ember.zeros(2), ember.zeros(2))
    with pytest.raises(ValueError, match="'batchmean'"):
        F.mse_loss(ember.zeros(2), ember.zeros(2), reduction="batchmean")


def test_reductions_relate():
    x, y = ember.randn(3, 4), ember.randn(3, 4)
    none = nn.MSELoss(reduction="none")(x, y)
    assert tuple(none.shape) == (3, 4)
    np.testing.assert_allclose(nn.MSELoss(reduction="sum")(x, y).item(), none.numpy().sum(), rtol=1e-5)
    np.testing.assert_allclose(nn.MSELoss()(x, y).item(), none.numpy().mean(), rtol=1e-5)
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"
    # PyTorch's legacy size_average / reduce flags
    np.testing.assert_allclose(nn.L1Loss(size_average=False)(x, y).item(),
                               np.abs(x.numpy() - y.numpy()).sum(), rtol=1e-5)
    assert tuple(nn.L1Loss(reduce=False)(x, y).shape) == (3, 4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0/0 and log(0) on purpose
def test_cross_entropy_all_ignored_is_nan_like_pytorch():
    loss = F.cross_entropy(ember.randn(2, 3), t([-100, -100]))
    assert np.isnan(loss.item())
    assert F.cross_entropy(ember.randn(2, 3), t([-100, -100]), reduction="sum").item() == 0.0


def test_cross_entropy_is_stable_for_huge_logits():
    x = t([[1000.0, 0.0, -1000.0], [-5000.0, 5000.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, t([0, 0]))
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), 5000.0, rtol=1e-6)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0, 0], [-0.5, 0.5, 0]], atol=1e-6)


def test_bce_with_logits_is_stable():
    x = t([100.0, -100.0, 800.0, -800.0], requires_grad=True)
    y = t([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(loss.detach().numpy(), [100.0, 100.0, 0.0, 0.0], atol=1e-6)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, -1.0, 0.0, 0.0], atol=1e-6)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # 0/0 and log(0) on purpose
def test_bce_log_clamped_at_minus_100():
    loss = F.binary_cross_entropy(t([0.0, 1.0]), t([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100.0, 100.0])


def test_loss_modules_register_weights_as_buffers():
    ce = nn.CrossEntropyLoss(weight=ember.ones(3))
    assert "weight" in dict(ce.named_buffers())
    ce.double()
    assert ce.weight.dtype == np.float64
    bce = nn.BCEWithLogitsLoss(pos_weight=ember.ones(2))
    assert set(dict(bce.named_buffers())) == {"pos_weight"}


def test_kl_div_batchmean_and_log_target_agree():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(4), size=3)
    q = rng.dirichlet(np.ones(4), size=3)
    a = nn.KLDivLoss(reduction="batchmean")(t(np.log(q)), t(p)).item()
    b = nn.KLDivLoss(reduction="batchmean", log_target=True)(t(np.log(q)), t(np.log(p))).item()
    want = (p * np.log(p / q)).sum(1).mean()
    np.testing.assert_allclose([a, b], [want, want], rtol=1e-5)


# -- PyTorch references ------------------------------------------------------------------------------

def _ref_cases(torch, rng):
    """(name, ember fn, torch fn, float inputs (differentiated), extra constant inputs)."""
    tf, tF = torch.nn, torch.nn.functional
    logits = rng.standard_normal((6, 5))
    spatial = rng.standard_normal((2, 5, 3, 2))
    idx = np.array([1, 4, 0, 2, 2, 3])
    idx_ign = np.array([1, -100, 0, 2, -100, 3])
    sp_idx = rng.integers(0, 5, (2, 3, 2))
    sp_idx[0, 1, 1] = 7
    w = np.array([0.5, 1.0, 2.0, 1.5, 0.3])
    probs = rng.dirichlet(np.ones(5), size=6)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    unit = 1 / (1 + np.exp(-rng.standard_normal((4, 3))))
    y01 = (rng.random((4, 3)) > 0.5).astype(np.float64)
    pm = np.array([1.0, -1.0, 1.0, -1.0])
    cases = []

    def add(name, ours, theirs, floats, consts=()):
        cases.append((name, ours, theirs, floats, consts))

    def build(red):  # a function, so that every lambda binds its own ``red``
        add(f"ce_{red}", lambda x, c: nn.CrossEntropyLoss(reduction=red)(x, c),
            lambda x, c: tf.CrossEntropyLoss(reduction=red)(x, c), [logits], [idx])
        add(f"ce_weight_ignore_smooth_{red}",
            lambda x, c, w: nn.CrossEntropyLoss(weight=w, reduction=red, label_smoothing=0.15)(x, c),
            lambda x, c, w: tf.CrossEntropyLoss(weight=w, reduction=red, label_smoothing=0.15)(x, c),
            [logits], [idx_ign, w])
        add(f"ce_spatial_weight_ignore7_{red}",
            lambda x, c, w: nn.CrossEntropyLoss(weight=w, ignore_index=7, reduction=red, label_smoothing=0.1)(x, c),
            lambda x, c, w: tf.CrossEntropyLoss(weight=w, ignore_index=7, reduction=red, label_smoothing=0.1)(x, c),
            [spatial], [sp_idx, w])
        add(f"ce_probs_weight_smooth_{red}",
            lambda x, p, w: nn.CrossEntropyLoss(weight=w, reduction=red, label_smoothing=0.2)(x, p),
            lambda x, p, w: tf.CrossEntropyLoss(weight=w, reduction=red, label_smoothing=0.2)(x, p),
            [logits], [probs, w])
        add(f"nll_weight_ignore_{red}", lambda x, c, w: nn.NLLLoss(weight=w, reduction=red)(x, c),
            lambda x, c, w: tf.NLLLoss(weight=w, reduction=red)(x, c), [logits], [idx_ign, w])
        add(f"mse_{red}", lambda x, y: nn.MSELoss(reduction=red)(x, y), lambda x, y: tf.MSELoss(reduction=red)(x, y),
            [a, b])
        add(f"l1_{red}", lambda x, y: nn.L1Loss(reduction=red)(x, y), lambda x, y: tf.L1Loss(reduction=red)(x, y),
            [a, b])
        add(f"smooth_l1_{red}", lambda x, y: nn.SmoothL1Loss(reduction=red, beta=0.5)(x, y),
            lambda x, y: tf.SmoothL1Loss(reduction=red, beta=0.5)(x, y), [a, b])
        add(f"huber_{red}", lambda x, y: nn.HuberLoss(reduction=red, delta=0.8)(x, y),
            lambda x, y: tf.HuberLoss(reduction=red, delta=0.8)(x, y), [a, b])
        add(f"bce_{red}", lambda x, y, w: nn.BCELoss(weight=w, reduction=red)(x, y),
            lambda x, y, w: tf.BCELoss(weight=w, reduction=red)(x, y), [unit], [y01, np.array([1.0, 2.0, 0.5])])
        add(f"bce_logits_{red}", lambda x, y, w, pw: nn.BCEWithLogitsLoss(w, reduction=red, pos_weight=pw)(x, y),
            lambda x, y, w, pw: tf.BCEWithLogitsLoss(w, reduction=red, pos_weight=pw)(x, y), [a],
            [unit, np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 0.2])])
        add(f"cosine_embedding_{red}", lambda x1, x2, y: nn.CosineEmbeddingLoss(0.2, reduction=red)(x1, x2, y),
            lambda x1, x2, y: tf.CosineEmbeddingLoss(0.2, reduction=red)(x1, x2, y), [a, b], [pm])
        add(f"margin_ranking_{red}", lambda x1, x2, y: nn.MarginRankingLoss(0.3, reduction=red)(x1, x2, y),
            lambda x1, x2, y: tf.MarginRankingLoss(0.3, reduction=red)(x1, x2, y), [a[:, 0], b[:, 0]], [pm])
        add(f"soft_margin_{red}", lambda x, y: nn.SoftMarginLoss(reduction=red)(x, y),
            lambda x, y: tf.SoftMarginLoss(reduction=red)(x, y), [a[:, 0]], [pm])
        add(f"hinge_embedding_{red}", lambda x, y: nn.HingeEmbeddingLoss(reduction=red)(x, y),
            lambda x, y: tf.HingeEmbeddingLoss(reduction=red)(x, y), [a[:, 0]], [pm])
        add(f"triplet_{red}", lambda x, p, n: nn.TripletMarginLoss(reduction=red)(x, p, n),
            lambda x, p, n: tf.TripletMarginLoss(reduction=red)(x, p, n), [a, b, a[::-1].copy()])
        add(f"poisson_nll_full_{red}", lambda x, y: nn.PoissonNLLLoss(full=True, reduction=red)(x, y),
            lambda x, y: tf.PoissonNLLLoss(full=True, reduction=red)(x, y), [a], [np.abs(b) * 3])
        add(f"gaussian_nll_{red}", lambda x, y, v: nn.GaussianNLLLoss(reduction=red)(x, y, v),
            lambda x, y, v: tf.GaussianNLLLoss(reduction=red)(x, y, v), [a, np.abs(b) + 0.1], [unit])
        add(f"multilabel_soft_margin_{red}", lambda x, y: nn.MultiLabelSoftMarginLoss(reduction=red)(x, y),
            lambda x, y: tf.MultiLabelSoftMarginLoss(reduction=red)(x, y), [a], [y01])
        add(f"multi_margin_p1_{red}", lambda x, c, w: nn.MultiMarginLoss(margin=0.8, weight=w, reduction=red)(x, c),
            lambda x, c, w: tf.MultiMarginLoss(margin=0.8, weight=w, reduction=red)(x, c), [logits], [idx, w])
        add(f"multi_margin_p2_{red}", lambda x, c: nn.MultiMarginLoss(p=2, reduction=red)(x, c),
            lambda x, c: tf.MultiMarginLoss(p=2, reduction=red)(x, c), [logits], [idx])
        add(f"multilabel_margin_{red}", lambda x, c: nn.MultiLabelMarginLoss(reduction=red)(x, c),
            lambda x, c: tf.MultiLabelMarginLoss(reduction=red)(x, c), [logits[:4]],
            [np.array([[3, 0, -1, 1, 2], [1, 2, 3, -1, -1], [-1, 1, 1, 1, 1], [0, 1, 2, 3, 4]])])
        add(f"triplet_with_cosine_distance_{red}",
            lambda x, p, n: nn.TripletMarginWithDistanceLoss(
                distance_function=lambda u, v: 1.0 - F.cosine_similarity(u, v), swap=True, reduction=red)(x, p, n),
            lambda x, p, n: tf.TripletMarginWithDistanceLoss(
                distance_function=lambda u, v: 1.0 - tF.cosine_similarity(u, v), swap=True, reduction=red)(x, p, n),
            [a, b, a[::-1].copy()])

    def build_kl(red):
        add(f"kl_div_{red}", lambda x, y: nn.KLDivLoss(reduction=red)(x, y),
            lambda x, y: tf.KLDivLoss(reduction=red)(x, y), [np.log(probs)], [probs[::-1].copy()])
        add(f"kl_div_log_target_{red}", lambda x, y: nn.KLDivLoss(reduction=red, log_target=True)(x, y),
            lambda x, y: tf.KLDivLoss(reduction=red, log_target=True)(x, y), [np.log(probs), np.log(probs[::-1])])

    for red in ("mean", "sum", "none"):
        build(red)
    for red in ("batchmean", "mean", "sum", "none"):
        build_kl(red)
    return cases


def _names():
    """The case names without importing torch (the lambdas are never called)."""
    import types
    fake = types.SimpleNamespace(nn=types.SimpleNamespace(functional=None))
    return [c[0] for c in _ref_cases(fake, np.random.default_rng(0))]


@pytest.mark.reference
@pytest.mark.parametrize("name", _names())
def test_loss_matches_torch(name):
    torch = pytest.importorskip("torch")
    import warnings
    case = {c[0]: c for c in _ref_cases(torch, np.random.default_rng(0))}[name]
    _, ours, theirs, floats, consts = case
    xe = [ember.tensor(f, requires_grad=True) for f in floats]
    xt = [torch.tensor(f, requires_grad=True) for f in floats]
    ce = [ember.tensor(c) for c in consts]
    ct = [torch.tensor(c) for c in consts]
    ye = ours(*xe, *ce)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yt = theirs(*xt, *ct)
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-6)
    g = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (ye * ember.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    for a, b in zip(xe, xt):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-6)


def test_ctc_loss_gradcheck_and_impossible_alignments():
    from ember.autograd import gradcheck
    lp = F.log_softmax(ember.randn(5, 2, 4, dtype=ember.float64), 2).detach().requires_grad_()
    assert gradcheck(lambda x: F.ctc_loss(x, t([[1, 2], [3, 3]]), [5, 4], [2, 2], reduction="none"), [lp])
    assert gradcheck(lambda x: nn.CTCLoss(blank=3)(x, t([1, 2, 0]), [5, 3], [2, 1]), [lp])
    short = F.log_softmax(ember.randn(2, 1, 4, dtype=ember.float64), 2)
    assert F.ctc_loss(short, t([[1, 1, 2]]), [2], [3], reduction="sum").item() == float("inf")
    assert F.ctc_loss(short, t([[1, 1, 2]]), [2], [3], reduction="sum", zero_infinity=True).item() == 0.0


def test_ctc_loss_single_frame_value():
    """One frame, one label: the loss is -log p(label)."""
    lp = F.log_softmax(t([[[0.5, 1.5, -1.0]]]), 2)
    np.testing.assert_allclose(F.ctc_loss(lp, t([[1]]), [1], [1], reduction="sum").item(),
                               -lp.numpy()[0, 0, 1], rtol=1e-6)


@pytest.mark.reference
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_torch(reduction, concatenated):
    """Values, and gradients w.r.t. the logits in front of log_softmax (PyTorch's CTC backward returns
    the logits gradient in place of the log_probs gradient; through log_softmax both agree)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 4, 6))
    tg = rng.integers(1, 6, (4, 5))
    tg[0, 1] = tg[0, 0]                       # a repeated label needs a blank in between
    il, tl = np.array([12, 10, 7, 12]), np.array([5, 3, 0, 4])
    targets = np.concatenate([tg[i, :tl[i]] for i in range(4)]) if concatenated else tg
    xe, xt = ember.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    le = nn.CTCLoss(reduction=reduction)(F.log_softmax(xe, 2), ember.tensor(targets), ember.tensor(il), ember.tensor(tl))
    lt = torch.nn.CTCLoss(reduction=reduction)(xt.log_softmax(2), torch.tensor(targets), torch.tensor(il),
                                               torch.tensor(tl))
    np.testing.assert_allclose(le.detach().numpy(), lt.detach().numpy(), rtol=1e-10)
    g = rng.standard_normal(tuple(lt.shape))
    (le * ember.tensor(g)).sum().backward()
    (lt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-8, atol=1e-12)
