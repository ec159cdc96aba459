"""Reference tests: every core op's forward values and gradients equal PyTorch's on random inputs.

Each row is a function ``f(m, *inputs)`` written once and run twice, with ``m`` the ``ember`` namespace
and with the ``torch`` namespace (``m.F`` is the functional namespace of each). Gradients are those of
``sum(w * output)`` for a fixed random ``w``, compared in float64.
"""

import pytest

torch = pytest.importorskip("torch")

import types  # noqa: E402

import numpy as np  # noqa: E402

import ember  # noqa: E402
from ember.ops import activation as _A, indexing as _I, linalg as _L, shape as _S  # noqa: E402

from .opcase import Bool, Const, Int  # noqa: E402

# Edge rows (log(0), 0 * inf...) make NumPy warn where PyTorch is silent; the values are what is checked.
pytestmark = [pytest.mark.reference, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

EF = types.SimpleNamespace(
    relu=_A.relu, relu6=_A.relu6, leaky_relu=_A.leaky_relu, elu=_A.elu, selu=_A.selu, celu=_A.celu,
    gelu=_A.gelu, silu=_A.silu, mish=_A.mish, softplus=_A.softplus, softsign=_A.softsign,
    hardtanh=_A.hardtanh, hardsigmoid=_A.hardsigmoid, hardswish=_A.hardswish, sigmoid=_A.sigmoid,
    softmax=_A.softmax, log_softmax=_A.log_softmax, pad=_S.pad, one_hot=_I.one_hot, linear=_L.linear,
)


class _Namespace:
    """``module`` plus ``F`` (its functional namespace), without touching the real modules."""

    def __init__(self, module, functional):
        self._module, self.F = module, functional

    def __getattr__(self, name):
        return getattr(self._module, name)


NS = {"ember": _Namespace(ember, EF), "torch": _Namespace(torch, torch.nn.functional)}


def positive(x):
    return np.abs(x) + 0.5


def nonzero(x):
    return np.sign(x) * (np.abs(x) + 0.5)


def unit(x):
    return 0.9 * np.tanh(x)


def distinct(x):
    r = np.argsort(np.argsort(x.reshape(-1))).reshape(x.shape).astype(np.float64)
    return (r - x.size / 2 + 0.5) * 0.7 + 0.05 * np.tanh(x)


def off_integers(x):
    return np.floor(x * 2) / 2 + 0.25 + 0.1 * np.tanh(x)


S, S3 = (2, 3), (2, 3, 4)
R = []


def ref(name, fn, inputs, domain=None):
    R.append(pytest.param(fn, inputs, domain, id=name))


def idx(m, values):
    return m.tensor(values)


# -- elementwise ----------------------------------------------------------------------------------
ref("add", lambda m, a, b: m.add(a, b, alpha=2), [S, (3,)])
ref("sub_rsub", lambda m, a, b: (a - b, 2 - a), [S, (2, 1)])
ref("mul", lambda m, a, b: a * b * 3, [S, S])
ref("div", lambda m, a, b: (a / b, 1.5 / b), [S, (3,)], nonzero)
ref("div_floor_trunc", lambda m, a, b: (m.div(a, b, rounding_mode="floor"), m.div(a, b, rounding_mode="trunc")),
    [S, S], nonzero)
ref("remainder", lambda m, a, b: (a % b, m.remainder(a, 0.7)), [S, S], nonzero)
ref("neg", lambda m, a: -a, [S])
ref("pow_tt", lambda m, a, b: a ** b, [S, S], positive)
ref("pow_ts", lambda m, a: (a ** 3, a ** 0.5, a ** -2, m.pow(a, 2)), [S], positive)
ref("pow_st", lambda m, a: (2.0 ** a, m.pow(3, a)), [S])
for _n in ["exp", "exp2", "expm1", "sin", "cos", "atan", "sinh", "cosh", "tanh", "erf", "sigmoid", "square"]:
    ref(_n, lambda m, a, _n=_n: getattr(m, _n)(a), [S])
for _n in ["log", "log2", "log10", "sqrt", "rsqrt"]:
    ref(_n, lambda m, a, _n=_n: getattr(m, _n)(a), [S], positive)
for _n in ["abs", "sign", "reciprocal"]:
    ref(_n, lambda m, a, _n=_n: getattr(m, _n)(a), [S], nonzero)
for _n in ["tan", "asin", "acos"]:
    ref(_n, lambda m, a, _n=_n: getattr(m, _n)(a), [S], unit)
for _n in ["floor", "ceil", "round", "trunc"]:
    ref(_n, lambda m, a, _n=_n: getattr(m, _n)(a), [S], off_integers)
ref("log1p", lambda m, a: m.log1p(a), [S], lambda x: np.abs(x) - 0.5)
ref("logit", lambda m, a: (m.logit(a), m.logit(a, eps=0.2)), [S], lambda x: 0.05 + 0.9 / (1 + np.exp(-x)))
ref("atan2", lambda m, a, b: m.atan2(a, b), [S, S], nonzero)
ref("maximum_minimum", lambda m, a, b: (m.maximum(a, b), m.minimum(a, b)), [S, (3,)])
ref("maximum_ties", lambda m, a: (m.maximum(a, a.detach()), m.minimum(a, a.detach())), [S])
ref("where", lambda m, c, a, b: m.where(c, a, b), [Bool(S), S, (3,)])
ref("where_scalar", lambda m, a: m.where(a > 0, a, 0.0), [S])
ref("lerp", lambda m, a, b, w: (m.lerp(a, b, 0.3), m.lerp(a, b, w)), [S, S, S])
ref("clamp", lambda m, a, lo, hi: (m.clamp(a, -0.5, 0.5), m.clamp(a, min=lo), m.clamp(a, lo, hi), a.clamp(max=0.2)),
    [S, (3,), (2, 1)], lambda x: 2 * x)
ref("nan_to_num", lambda m, a: m.nan_to_num(a, nan=0.5, posinf=3.0, neginf=-3.0),
    [Const([[1.0, np.nan, -2.0], [np.inf, -np.inf, 0.5]])])
ref("predicates", lambda m, a: (m.isnan(a), m.isinf(a), m.isfinite(a)),
    [Const([[1.0, np.nan, -2.0], [np.inf, -np.inf, 0.5]])])
ref("comparisons", lambda m, a, b: (a == b, a != b, a < b, a <= b, a > b, a >= b, a > 0.5),
    [Int(S), Int(S)])
ref("logical", lambda m, a, b: (m.logical_and(a, b), m.logical_or(a, b), m.logical_xor(a, b), m.logical_not(a), ~a),
    [Bool(S), Bool(S)])
ref("bitwise", lambda m, a, b: (a & b, a | b, a ^ b, ~a), [Int(S, -4, 8), Int(S, 0, 8)])
ref("int_true_div", lambda m, a, b: (a / b, a // b, a % b, m.div(a, b, rounding_mode="trunc")),
    [Int(S, -9, 9), Int(S, 1, 4)])
ref("int_times_float", lambda m, a: (a * 2.5, a + 1, a / 2, m.exp(a), m.sqrt(a)), [Int(S, 0, 5)])

# -- activations ----------------------------------------------------------------------------------
for _n, _kw in [("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
                ("selu", {}), ("celu", {"alpha": 1.5}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
                ("silu", {}), ("mish", {}), ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 1.0}),
                ("softsign", {}), ("hardtanh", {"min_val": -0.5, "max_val": 0.8}), ("hardsigmoid", {}),
                ("hardswish", {}), ("sigmoid", {})]:
    ref(f"{_n}{_kw}", lambda m, a, _n=_n, _kw=_kw: getattr(m.F, _n)(a, **_kw), [S], lambda x: 4 * nonzero(x))
ref("softmax", lambda m, a: (m.softmax(a, 1), m.softmax(a, dim=0), m.log_softmax(a, -1)), [S3])
ref("softmax_large", lambda m, a: (m.softmax(a * 1000, 1), m.log_softmax(a * 1000, 1)), [S])

# -- reductions -----------------------------------------------------------------------------------
ref("sum", lambda m, a: (a.sum(), a.sum(1), a.sum((0, 2), keepdim=True), m.sum(a, -1)), [S3])
ref("sum_int", lambda m, a: (a.sum(), a.sum(0)), [Int(S)])
ref("mean", lambda m, a: (a.mean(), a.mean(1), a.mean((0, 2), keepdim=True)), [S3])
ref("var_std", lambda m, a: (a.var(), a.var(1), m.var(a, (0, 2), correction=0, keepdim=True), a.std(0),
                             m.std(a, 2, unbiased=False)), [S3])
ref("var_std_signatures", lambda m, a: (a.var(1, True), a.var(1, False, True), a.var(False), a.std(0, unbiased=False),
                                        *m.var_mean(a, 1, correction=0), *m.std_mean(a, False)), [S3])
ref("prod", lambda m, a: (a.prod(), a.prod(1), m.prod(a, 0, keepdim=True)), [S])
ref("prod_zeros", lambda m, a: (a.prod(), a.prod(1), a.prod(0)),
    [Const([[0.0, 2.0, 0.0], [0.7, -1.2, 1.5], [0.3, 0.0, 2.0]])])
ref("max_min", lambda m, a: (*m.max(a, 1), *a.min(dim=0, keepdim=True), a.max(), a.min()), [S3], distinct)
ref("max_ties", lambda m, a: (a.max(), m.amax(a, 1)), [Const([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])])
ref("amax_amin", lambda m, a: (m.amax(a, (0, 2)), m.amin(a, 1, keepdim=True)), [S3], distinct)
ref("argmax_argmin", lambda m, a: (a.argmax(), a.argmax(1), m.argmin(a, 0, keepdim=True)), [S3], distinct)
ref("logsumexp", lambda m, a: (m.logsumexp(a, 1), a.logsumexp((0, 2), keepdim=True)), [S3])
ref("norm", lambda m, a: (a.norm(), m.norm(a, 1), m.norm(a, float("inf"), dim=1), m.norm(a, 3, dim=(0, 1)),
                          m.norm(a, "fro", dim=(1, 2), keepdim=True), m.norm(a, 2, dim=0)), [S3], distinct)
ref("all_any", lambda m, a: (a.all(), a.any(1), m.all(a, 0, keepdim=True), m.any(a)), [Bool(S3)])
ref("cumsum_cumprod", lambda m, a: (a.cumsum(1), m.cumprod(a, -1)), [S3])
ref("cumprod_zeros", lambda m, a: m.cumprod(a, 1), [Const([[0.0, 2.0, 0.0, 1.5], [0.7, 0.0, -1.5, 2.0]])])
ref("sort", lambda m, a: (*a.sort(1), *m.sort(a, 0, descending=True), a.argsort(-1)), [S3], distinct)
ref("topk", lambda m, a: (*a.topk(2, 1), *m.topk(a, 1, dim=0, largest=False)), [S3], distinct)
ref("median", lambda m, a: (a.median(), *m.median(a, 1)), [(3, 4)], distinct)

# -- shape ----------------------------------------------------------------------------------------
ref("views", lambda m, a: (a.reshape(4, 6), a.view(-1), a.flatten(1), m.unflatten(a, 2, (2, 2)),
                           a.unsqueeze(1), a[:, :1].squeeze(1), a.squeeze(), a.mT),
    [S3])
ref("permutes", lambda m, a: (a.transpose(0, 2), a.permute(1, 2, 0), m.movedim(a, 0, -1), m.swapaxes(a, 1, 2),
                              a.movedim((0, 1), (2, 0))), [S3])
ref("expand", lambda m, a: (a.expand(2, 3, 4), m.broadcast_to(a, (2, 3, 4)), a.expand(-1, 4)), [(3, 1)])
ref("repeat_tile", lambda m, a: (a.repeat(2, 1, 2), m.tile(a, (2,)), m.repeat_interleave(a, 2, dim=0)), [S])
ref("varargs_methods", lambda m, a: (a.flip(0, 1), a.tile(2, 1), m.tile(a, (2,)), a.permute([1, 0]), a.view((3, 2)),
                                     a.repeat((2, 1)), a.expand((2, 2, 3)), a.reshape([6])), [S])
ref("cat_stack", lambda m, a, b: (m.cat([a, b], 1), m.stack([a, a], 0), m.stack([a, b[:, :3]], -1),
                                  m.hstack([a, b]), m.vstack([a, b[:, 1:]])), [S, (2, 4)])
ref("split_chunk_unbind", lambda m, a: (*a.split(2, 1), *m.split(a, [1, 3], 1), *a.chunk(3, 1), *m.unbind(a, 0)),
    [(2, 4)])
ref("flip_roll", lambda m, a: (a.flip(0), m.flip(a, (0, 2)), a.roll(1, 1), m.roll(a, (1, -2), (0, 2)), m.roll(a, 3)),
    [S3])
ref("pad", lambda m, a: (m.F.pad(a, (1, 2)), m.F.pad(a, (1, 0, 2, 1), value=-1.0), m.F.pad(a, (-1, 1)),
                         m.F.pad(a, (2, 1, 1, 1), mode="reflect"), m.F.pad(a, (2, 3, 1, 0), mode="replicate"),
                         m.F.pad(a, (1, 2), mode="circular")), [S3])
ref("narrow_tri_diag", lambda m, a: (a.narrow(1, 1, 2), m.narrow(a, 0, 1, 1), a.tril(), m.triu(a, 1), m.tril(a, -1),
                                     a.diagonal(), m.diagonal(a, 1), m.diagonal(a, -1, 1, 0), m.diag(a)), [(3, 4)])
ref("diag_vector", lambda m, a: (m.diag(a), m.diag(a, -1), m.diag_embed(a[None])), [(3,)])
ref("contiguous_clone", lambda m, a: (a.mT.contiguous(), a.clone()), [S3])

# -- indexing -------------------------------------------------------------------------------------
ref("getitem_basic", lambda m, a: (a[1], a[-1, 1:], a[:, ::2, 1], a[None, ..., 0], a[..., 1:3]), [S3])
ref("getitem_tensors", lambda m, a: (a[idx(m, [2, 0, 2])], a[:, idx(m, [1, 1])], a[idx(m, [0, 1]), idx(m, [2, 0])],
                                     a[idx(m, [[0, 1], [1, 1]])], a[1:, idx(m, [0, 0]), :2], a[[0, 2]]), [(3, 3, 4)])
ref("getitem_none_ellipsis_tensors", lambda m, a: (a[None, idx(m, [0, 0])], a[..., idx(m, [1, 1])],
                                                  a[idx(m, [0, 0]), None, 1:], a[1:, ..., idx(m, [3, 3])],
                                                  a[:, None, idx(m, [2, 2]), None]), [(3, 4)])
ref("getitem_masks", lambda m, a: (a[a > 0], a[idx(m, [True, False, True])], a[:, idx(m, [False, True, True])]),
    [(3, 3)])
ref("gather_scatter", lambda m, a, s: (m.gather(a, 1, idx(m, [[0, 1, 1], [2, 0, 0]])),
                                       m.scatter(a, 1, idx(m, [[1, 0, 2], [2, 1, 0]]), s),
                                       m.scatter(a, 0, idx(m, [[1, 0, 1]]), value=7.0),
                                       m.scatter_add(a, 1, idx(m, [[0, 0, 2], [2, 2, 2]]), s)), [S, S])
# (scatter/scatter_add with a src larger than the index are in the op table only: PyTorch 2.13's own
# backward fails on them with "ScatterBackward0 returned an invalid gradient".)
ref("index_select_take", lambda m, a, i: (m.index_select(a, 1, idx(m, [2, 0, 2])), a.index_select(0, idx(m, [1, 1])),
                                          m.take_along_dim(a, i, 1), m.take_along_dim(a, idx(m, [[0], [2]]), 1),
                                          m.take_along_dim(a, idx(m, [5, 0, 3]))), [S, Int((2, 4), 0, 3)])
ref("index_put_add", lambda m, a, v: (m.index_put(a, (idx(m, [0, 1]), idx(m, [2, 0])), v[0, :2]),
                                      a.index_put((idx(m, [1, 1]),), v[0], accumulate=True),
                                      m.index_add(a, 1, idx(m, [2, 0, 2]), v)), [S, S])
ref("masked", lambda m, a, mask, s: (a.masked_fill(mask, -2.0), m.masked_fill(a, mask[0], 0.5),
                                     a.masked_select(mask), m.masked_select(a, mask[1]),
                                     m.masked_scatter(a, mask, s)), [S, Bool(S), (6,)])
ref("nonzero_one_hot", lambda m, a, n: (a.nonzero(), *m.nonzero(a, as_tuple=True), m.F.one_hot(n, 5), m.F.one_hot(n)),
    [Const([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]), Int(S, 0, 5)])

# -- linear algebra -------------------------------------------------------------------------------
ref("matmul", lambda m, a, b, v: (a @ b, m.matmul(a[0], b), m.matmul(v[:3], b), m.matmul(a, v[:3]),
                                  m.matmul(v[:3], v[:3])), [(2, 2, 3), (3, 4), (4,)])
ref("matmul_broadcast", lambda m, a, b: m.matmul(a, b), [(2, 1, 2, 3), (3, 3, 2)])
ref("mm_bmm_mv_dot_outer", lambda m, a, b, v: (m.mm(a[0], b[0]), m.bmm(a, b), m.mv(a[0], v), m.dot(v, v),
                                               m.outer(v, v[:2])), [(2, 2, 3), (2, 3, 2), (3,)])
ref("addmm", lambda m, c, a, b: (m.addmm(c, a, b), m.addmm(c[0], a, b, beta=0.5, alpha=2.0)), [(2, 2), (2, 3), (3, 2)])
ref("einsum", lambda m, a, b, c: (m.einsum("ij,jk->ik", a, b), m.einsum("ij,jk", a, b), m.einsum("ij->j", a),
                                  m.einsum("bi,bj,ij->b", a, c, b), m.einsum("...j,jk->...k", a, b),
                                  m.einsum("ij,k->k", a, c[0])), [(2, 3), (3, 2), (2, 2)])
ref("einsum_more", lambda m, a, b, c: (m.einsum("ij,ij->i", a, a), m.einsum("bij,bjk->bik", b, c),
                                       m.einsum("i,j->ij", a[0], a[1]), m.einsum("i,i,i->", a[0], a[1], a[0]),
                                       m.einsum("bij->", b), m.einsum("...ij->...ji", b)),
    [(2, 3), (2, 2, 3), (2, 3, 2)])
ref("linear", lambda m, x, w, b: (m.F.linear(x, w, b), m.F.linear(x, w), m.F.linear(x[0], w, b),
                                  m.F.linear(x.reshape(3, 1, 3)[:, :, :3], w, b)), [(3, 3), (2, 3), (2,)])


# -- edge cases: bounds, NaN, zeros, 0-d and empty tensors -----------------------------------------
_BOUNDS = [[-3.0, 3.0, 0.0, 6.0, -1.0, 1.0]]
ref("activation_bounds", lambda m, a: (m.F.hardtanh(a), m.F.relu6(a), m.F.hardsigmoid(a), m.F.hardswish(a),
                                       m.F.relu(a), m.F.leaky_relu(a, 0.1), m.F.elu(a), a.clamp(-1.0, 1.0)),
    [Const(_BOUNDS)])
_NAN = [[1.0, np.nan, -2.0, 3.0]]
ref("nan_propagation", lambda m, a: (a.max(), a.min(), m.maximum(a, m.zeros_like(a)), m.minimum(a, m.zeros_like(a)),
                                     m.F.relu(a), m.sign(a), *a.sort(1, descending=True), *a.sort(1), *a.topk(2, 1),
                                     a.argmax(), m.nan_to_num(a)), [Const(_NAN)])
ref("zero_safe_gradients", lambda m, a: (a ** m.zeros_like(a), a[0] ** 2.5, m.atan2(a, a), (a * 0 + 1).std(),
                                         m.logit(a[0]), (a * 0).norm(), m.norm(a * 0, 1), m.abs(a), a.prod()),
    [Const([[0.0, 1.0, 0.0, 0.5]])])
ref("zero_dim_inputs", lambda m, a: (a.sum(0), a.sum(-1, keepdim=True), *a.max(0), *a.min(-1), a.argmax(0),
                                     m.softmax(a, 0), m.log_softmax(a, -1), m.logsumexp(a, 0), a.cumsum(0),
                                     a.cumprod(0), *a.sort(0), *a.topk(1, 0), a.prod(0), a.flip(0), a.mean(0),
                                     a.var(0, correction=0), a.norm(), a.squeeze(0), a.unsqueeze(0), a[None], a[...],
                                     a.expand(2, 3), a.reshape(1, 1), a.flatten()), [Const(2.5)])
ref("empty_inputs", lambda m, a: (a.sum(), a.sum(0), a.mean(1), a.prod(), *a.max(1), m.amax(a, 1),
                                  m.logsumexp(a, 0), m.softmax(a, 1), a.norm(), a.flatten(), a.cumsum(0)),
    [(0, 3)])
ref("empty_dim_list_reduces_all", lambda m, a: (a.sum(dim=()), a.mean(dim=())), [S])
ref("ties", lambda m, a: (*a.max(1), a.max(), m.amax(a, 1), m.maximum(a, a.detach().clone()), *a.sort(1),
                          *a.sort(1, descending=True), a.argmax()),
    # (which of tied elements median() and topk() pick is unspecified in PyTorch)
    [Const([[1.0, 2.0, 2.0, 1.0], [0.0, 0.0, 3.0, 3.0]])])


def _make(specs, domain, seed):
    rng = np.random.default_rng(seed)
    out = []
    for spec in specs:
        if isinstance(spec, tuple):
            arr = rng.standard_normal(spec)
            out.append(domain(arr) if domain is not None else arr)
        elif isinstance(spec, Int):
            out.append(rng.integers(spec.low, spec.high, spec.shape).astype(np.int64))
        elif isinstance(spec, Bool):
            out.append(rng.random(spec.shape) < 0.5)
        else:
            out.append(np.asarray(spec.value, dtype=np.float64))
    return out


def _run(m, fn, arrays):
    mod = NS[m]
    ins = []
    for a in arrays:
        t = mod.tensor(a)
        if a.dtype.kind == "f":
            t.requires_grad_(True)
        ins.append(t)
    out = fn(mod, *ins)
    outs = list(out) if isinstance(out, tuple) else [out]
    return ins, outs


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


@pytest.mark.parametrize("fn,specs,domain", R)
def test_matches_torch(fn, specs, domain):
    arrays = _make(specs, domain, seed=0)
    e_in, e_out = _run("ember", fn, arrays)
    t_in, t_out = _run("torch", fn, arrays)
    assert len(e_out) == len(t_out)
    rng = np.random.default_rng(1)
    e_loss, t_loss = [], []
    for k, (e, t) in enumerate(zip(e_out, t_out)):
        want = _np(t)
        got = _np(e)
        assert got.shape == want.shape, f"output {k}: shape {got.shape} vs torch {want.shape}"
        assert str(got.dtype) == str(want.dtype), f"output {k}: dtype {got.dtype} vs torch {want.dtype}"
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10, err_msg=f"output {k}")
        if t.requires_grad:
            assert e.requires_grad, f"output {k} should require grad"
            w = rng.standard_normal(want.shape)
            e_loss.append((e * ember.tensor(w)).sum())
            t_loss.append((t * torch.tensor(w)).sum())
    if not t_loss:
        return
    sum(t_loss).backward()
    sum(e_loss).backward()
    for k, (e, t) in enumerate(zip(e_in, t_in)):
        if not t.requires_grad:
            continue
        tg = np.zeros(t.shape) if t.grad is None else t.grad.numpy()
        eg = np.zeros(tuple(e.shape)) if e.grad is None else e.grad.numpy()
        np.testing.assert_allclose(eg, tg, rtol=1e-7, atol=1e-10, err_msg=f"gradient of input {k}")


def test_repr_matches_torch_on_random_tensors():
    rng = np.random.default_rng(0)
    for trial in range(60):
        shape = tuple(rng.integers(1, 12 if trial % 5 == 0 else 4, rng.integers(0, 4)))
        a = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 10)
        kind = trial % 5
        a = [a.astype(np.float32), np.round(a).astype(np.int64), a > 0, np.round(a).astype(np.float32),
             np.clip(a, -6e4, 6e4).astype(np.float16)][kind]
        if a.size and a.dtype.kind == "f" and trial % 3 == 0:
            a.flat[0] = [np.nan, np.inf, 0.0][trial % 9 // 3]
        assert repr(ember.tensor(a)) == repr(torch.tensor(a)).replace("torch.", "ember."), (a.dtype, a.shape)
