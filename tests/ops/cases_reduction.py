"""Op-table rows for reductions, scans and sorting."""

import numpy as np

import ember

from .opcase import Bool, Const, Int, OpCase

S = (2, 3)
S3 = (2, 3, 2)


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


def distinct(x):
    """Values with well separated entries (no ties for max/sort, away from 0 for norms)."""
    flat = np.argsort(np.argsort(x.reshape(-1))).reshape(x.shape).astype(np.float64)
    return (flat - x.size / 2 + 0.5) * 0.7 + 0.05 * np.tanh(x)


def _lse(x, axis, keepdims=False):
    m = x.max(axis=axis, keepdims=True)
    out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _take(x, idx, dim):
    return np.take_along_axis(x, idx, axis=dim)


_with_zero = [[1.5, 0.0, -2.0], [0.5, 3.0, -1.0]]
_two_zeros = [[0.0, 2.0, 0.0], [0.7, -1.2, 0.0]]

CASES = [
    case("sum_all", lambda x: x.sum(), np.sum, [S], "sum"),
    case("sum_dim", lambda x: ember.sum(x, 1), lambda x: x.sum(1), [S], "sum"),
    case("sum_dims_keepdim", lambda x: x.sum(dim=(0, 2), keepdim=True), lambda x: x.sum((0, 2), keepdims=True),
         [S3], "sum"),
    case("sum_negative_dim", lambda x: x.sum(-1), lambda x: x.sum(-1), [S3], "sum"),
    case("sum_int_to_int64", lambda n: n.sum(0), lambda n: n.sum(0).astype(np.int64), [Int(S)], "sum", grad=False),
    case("sum_bool", lambda m: m.sum(), lambda m: np.int64(m.sum()), [Bool(S)], "sum", grad=False),
    case("mean_all", ember.mean, np.mean, [S], "sum mul"),
    case("mean_dims", lambda x: x.mean((1, 2)), lambda x: x.mean((1, 2)), [S3], "sum mul"),
    case("mean_keepdim", lambda x: x.mean(0, keepdim=True), lambda x: x.mean(0, keepdims=True), [S], "sum mul"),
    case("var", lambda x: x.var(1), lambda x: x.var(1, ddof=1), [S], "sum sub mul div"),
    case("var_correction0", lambda x: ember.var(x, (0, 1), correction=0, keepdim=True),
         lambda x: x.var((0, 1), keepdims=True), [S3], "sum sub mul div"),
    case("var_all", lambda x: ember.var(x), lambda x: x.var(ddof=1), [S], "sum"),
    case("std", lambda x: x.std(0), lambda x: x.std(0, ddof=1), [(3, 2)], "sqrt sum"),
    case("std_unbiased_false", lambda x: ember.std(x, 1, unbiased=False), lambda x: x.std(1), [S], "sqrt"),
    case("prod_all", lambda x: x.prod(), np.prod, [S], "prod cumprod cat flip"),
    case("prod_dim_keepdim", lambda x: ember.prod(x, 1, keepdim=True), lambda x: x.prod(1, keepdims=True), [S3],
         "prod"),
    case("prod_with_zero", lambda x: x.prod(1), lambda x: x.prod(1), [Const(_with_zero)], "prod"),
    case("prod_two_zeros", lambda x: x.prod(), np.prod, [Const(_two_zeros)], "prod"),
    case("prod_int", lambda n: n.prod(0), lambda n: n.prod(0).astype(np.int64), [Int(S, -3, 4)], "prod", grad=False),
    case("max_all", lambda x: x.max(), np.max, [S], "amax", domain=distinct),
    case("max_all_ties", lambda x: x.max(), np.max, [Const([[1.0, 3.0, 3.0], [-1.0, 0.0, 2.0]])], "amax",
         gradgrad=False),
    case("max_dim", lambda x: ember.max(x, 1), lambda x: (x.max(1), x.argmax(1)), [S], "max_dim scatter",
         domain=distinct),
    case("max_dim_keepdim", lambda x: x.max(dim=0, keepdim=True),
         lambda x: (x.max(0, keepdims=True), x.argmax(0)[None]), [S3], "max_dim", domain=distinct),
    case("min_dim", lambda x: ember.min(x, -1), lambda x: (x.min(-1), x.argmin(-1)), [S3], "max_dim",
         domain=distinct),
    case("min_all", lambda x: x.min(), np.min, [S], "amax", domain=distinct),
    case("max_binary", lambda a, b: ember.max(a, b), np.maximum, [S, S], "maximum", domain=distinct),
    case("amax", lambda x: ember.amax(x, (0, 2)), lambda x: x.max((0, 2)), [S3], "amax", domain=distinct),
    case("amin_keepdim", lambda x: ember.amin(x, 1, keepdim=True), lambda x: x.min(1, keepdims=True), [S3],
         "amax", domain=distinct),
    case("argmax", lambda x: x.argmax(), lambda x: np.int64(x.argmax()), [S], "argmax", grad=False),
    case("argmax_dim", lambda x: ember.argmax(x, 1, keepdim=True), lambda x: x.argmax(1)[:, None], [S], "argmax",
         grad=False),
    case("argmin_dim", lambda x: ember.argmin(x, 0), lambda x: x.argmin(0), [S3], "argmax", grad=False),
    case("logsumexp", lambda x: ember.logsumexp(x, 1), lambda x: _lse(x, 1), [S], "logsumexp"),
    case("logsumexp_dims_keepdim", lambda x: x.logsumexp((0, 2), keepdim=True),
         lambda x: _lse(x, (0, 2), True), [S3], "logsumexp"),
    case("logsumexp_large", lambda x: ember.logsumexp(x, 0), lambda x: _lse(x.astype(np.float64), 0),
         [S], "logsumexp", domain=lambda x: x * 1000 + 500, grad=False, rtol=1e-5),
    case("norm_fro", lambda x: x.norm(), np.linalg.norm, [S], "norm", domain=distinct),
    case("norm_2_dim", lambda x: ember.norm(x, 2, dim=1), lambda x: np.linalg.norm(x, axis=1), [S], "norm"),
    case("norm_1", lambda x: ember.norm(x, 1, dim=(0, 1)), lambda x: np.abs(x).sum((0, 1)), [S3], "norm",
         domain=distinct),
    case("norm_inf", lambda x: ember.norm(x, float("inf"), dim=0, keepdim=True),
         lambda x: np.abs(x).max(0, keepdims=True), [S], "norm", domain=distinct),
    case("norm_3", lambda x: ember.norm(x, 3), lambda x: (np.abs(x) ** 3).sum() ** (1 / 3), [S], "norm",
         domain=distinct),
    case("norm_0", lambda x: ember.norm(x, 0), lambda x: np.float32((x != 0).sum()),
         [Const(_with_zero)], "norm"),
    case("norm_of_zero_vector", lambda x: ember.norm(x * 0.0, 2, dim=1), lambda x: np.zeros(2, np.float32), [S],
         "norm mul", gradgrad=False),
    case("all", lambda m: m.all(), np.all, [Bool(S)], "all", grad=False),
    case("all_dim", lambda m: ember.all(m, 1), lambda m: m.all(1), [Int(S, 0, 3)], "all", grad=False),
    case("any_dims_keepdim", lambda m: ember.any(m, (0, 1), keepdim=True), lambda m: m.any((0, 1), keepdims=True),
         [Bool(S3)], "all", grad=False),
    case("cumsum", lambda x: x.cumsum(1), lambda x: x.cumsum(1), [S], "cumsum flip"),
    case("cumsum_int", lambda n: n.cumsum(0), lambda n: n.cumsum(0).astype(np.int64), [Int(S)], "cumsum", grad=False),
    case("cumprod", lambda x: ember.cumprod(x, -1), lambda x: x.cumprod(-1), [S3], "cumprod tril"),
    case("cumprod_with_zero", lambda x: x.cumprod(1), lambda x: x.cumprod(1), [Const(_with_zero)], "cumprod"),
    case("sort", lambda x: x.sort(1), lambda x: (np.sort(x, 1), np.argsort(x, 1)), [S], "sort scatter",
         domain=distinct),
    case("sort_descending", lambda x: ember.sort(x, 0, descending=True),
         lambda x: (-np.sort(-x, 0), np.argsort(-x, 0)), [S3], "sort", domain=distinct),
    case("sort_stable_ties", lambda x: x.sort(-1, stable=True),
         lambda x: (np.sort(x, -1), np.argsort(x, -1, kind="stable")),
         [Const([[2.0, 1.0, 2.0, 1.0], [0.0, 0.0, 0.0, -1.0]])], "sort", grad=False),
    case("argsort", lambda x: x.argsort(dim=1, descending=True), lambda x: np.argsort(-x, 1), [S], "sort",
         grad=False, domain=distinct),
    case("topk", lambda x: x.topk(2, dim=1), lambda x: (-np.sort(-x, 1)[:, :2], np.argsort(-x, 1)[:, :2]),
         [(2, 4)], "sort", domain=distinct),
    case("topk_smallest", lambda x: ember.topk(x, 1, dim=0, largest=False),
         lambda x: (np.sort(x, 0)[:1], np.argsort(x, 0)[:1]), [S], "sort", domain=distinct),
    case("median", lambda x: x.median(), lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2], [S], "sort index",
         domain=distinct),
    case("median_dim", lambda x: ember.median(x, 1),
         lambda x: (np.sort(x, 1)[:, 1], np.argsort(x, 1)[:, 1]), [(2, 4)], "sort getitem", domain=distinct),
    case("count_nonzero", lambda x: ember.count_nonzero(x, 1), lambda x: np.count_nonzero(x, 1).astype(np.int64),
         [Const(_two_zeros)], "ne sum", grad=False),
]
