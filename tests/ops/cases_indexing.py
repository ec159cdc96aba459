"""Op-table rows for indexing: x[key], index_put, gather/scatter, index_select, masks, nonzero, one_hot."""

import numpy as np

import ember
from ember.ops import indexing as I

from .opcase import Bool, Const, Int, OpCase

S = (2, 3)
S3 = (2, 3, 4)


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


_idx = np.array([2, 0, 2])            # repeated index: gradients must add up
_idx2 = np.array([[0, 1, 1], [1, 0, 0]])
_mask = np.array([[True, False, True], [False, False, True]])


def _scatter_ref(x, dim, index, src):
    out = x.copy()
    for pos in np.ndindex(index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        out[tuple(tgt)] = src[pos]
    return out


def _scatter_add_ref(x, dim, index, src):
    out = x.copy()
    for pos in np.ndindex(index.shape):
        tgt = list(pos)
        tgt[dim] = index[pos]
        out[tuple(tgt)] += src[pos]
    return out


_perm_rows = np.array([[1, 0, 2], [2, 1, 0]])  # a permutation per row: scatter writes each slot once

CASES = [
    # -- x[key] ---------------------------------------------------------------------------------
    case("getitem_int", lambda x: x[1], lambda x: x[1], [S], "getitem index_put"),
    case("getitem_negative_int", lambda x: x[-1, -2], lambda x: x[-1, -2], [S], "getitem"),
    case("getitem_slices", lambda x: x[:, 1:3, ::2], lambda x: x[:, 1:3, ::2], [S3], "getitem"),
    case("getitem_none_ellipsis", lambda x: x[None, ..., 1], lambda x: x[None, ..., 1], [S3], "getitem"),
    case("getitem_int_tensor_repeated", lambda x: x[ember.tensor(_idx)], lambda x: x[_idx], [(3, 2)],
         "index index_put"),
    case("getitem_int_list", lambda x: x[:, [2, 0, 2]], lambda x: x[:, [2, 0, 2]], [S], "index"),
    case("getitem_two_int_tensors", lambda x: x[ember.tensor([0, 1, 1]), ember.tensor([2, 2, 0])],
         lambda x: x[[0, 1, 1], [2, 2, 0]], [S], "index"),
    case("getitem_int_tensor_2d", lambda x: x[ember.tensor(_idx2)], lambda x: x[_idx2], [(2, 2)], "index"),
    case("getitem_bool_mask", lambda x: x[ember.tensor(_mask)], lambda x: x[_mask], [S], "index index_put"),
    case("getitem_bool_rows", lambda x: x[ember.tensor([True, False, True])], lambda x: x[[True, False, True]],
         [(3, 2)], "index"),
    case("getitem_slice_and_tensor", lambda x: x[1:, ember.tensor([0, 0]), :2],
         lambda x: x[1:, [0, 0], :2], [S3], "index"),
    case("getitem_mask_from_comparison", lambda x: x[x > 0], lambda x: x[x > 0], [S], "index gt"),
    case("index_put", lambda x, v: ember.index_put(x, (ember.tensor([0, 1]), ember.tensor([2, 0])), v),
         lambda x, v: _put(x, ([0, 1], [2, 0]), v), [S, (2,)], "index_put index"),
    case("index_put_accumulate", lambda x, v: ember.index_put(x, (ember.tensor(_idx),), v, accumulate=True),
         lambda x, v: _put(x, (_idx,), v, True), [(3, 2), (3, 2)], "index_put"),
    case("index_put_broadcast_value", lambda x, v: I.index_put_values(x, (slice(None), 1), v),
         lambda x, v: _put(x, (slice(None), 1), v), [S, (1,)], "index_put getitem"),
    case("index_add", lambda x, s: ember.index_add(x, 1, ember.tensor([2, 0, 2]), s),
         lambda x, s: _index_add(x, 1, [2, 0, 2], s), [S, S], "index_put"),
    # -- gather / scatter -------------------------------------------------------------------------
    case("gather", lambda x, i: ember.gather(x, 1, i), lambda x, i: np.take_along_axis(x, i, 1),
         [S, Const(_idx2)], "gather scatter_add"),
    case("gather_dim0_smaller_index", lambda x: x.gather(0, ember.tensor([[1, 0]])),
         lambda x: np.take_along_axis(x[:, :2], np.array([[1, 0]]), 0), [S], "gather"),
    case("scatter", lambda x, s: ember.scatter(x, 1, ember.tensor(_perm_rows), s),
         lambda x, s: _scatter_ref(x, 1, _perm_rows, s), [S, S], "scatter gather"),
    case("scatter_src_larger_than_index", lambda x, s: x.scatter(0, ember.tensor([[1, 0]]), s),
         lambda x, s: _scatter_ref(x, 0, np.array([[1, 0]]), s), [S, (2, 3)], "scatter"),
    case("scatter_value", lambda x: ember.scatter(x, 0, ember.tensor([[1, 0, 1]]), value=7.0),
         lambda x: _scatter_ref(x, 0, np.array([[1, 0, 1]]), np.full((1, 3), 7.0, np.float32)), [S], "scatter"),
    case("scatter_add", lambda x, s: ember.scatter_add(x, 1, ember.tensor(_idx2), s),
         lambda x, s: _scatter_add_ref(x, 1, _idx2, s), [S, S], "scatter_add gather"),
    case("scatter_add_src_larger_than_index", lambda x, s: x.scatter_add(1, ember.tensor([[0, 0], [2, 2]]), s),
         lambda x, s: _scatter_add_ref(x, 1, np.array([[0, 0], [2, 2]]), s), [S, S], "scatter_add"),
    case("scatter_reduce_add", lambda x, s: ember.scatter(x, 0, ember.tensor([[1, 1, 0]]), s, reduce="add"),
         lambda x, s: _scatter_add_ref(x, 0, np.array([[1, 1, 0]]), s), [S, (1, 3)], "scatter_add"),
    case("index_select", lambda x: ember.index_select(x, 1, ember.tensor(_idx)), lambda x: x[:, _idx], [S],
         "index index_put"),
    case("index_select_dim0", lambda x: x.index_select(0, ember.tensor([1, 1])), lambda x: x[[1, 1]], [S3], "index"),
    case("take_along_dim", lambda x, i: ember.take_along_dim(x, i, 1), lambda x, i: np.take_along_axis(x, i, 1),
         [S, Int((2, 4), 0, 3)], "gather expand"),
    case("take_along_dim_broadcast", lambda x: ember.take_along_dim(x, ember.tensor([[0], [2]]), 1),
         lambda x: np.take_along_axis(x, np.array([[0], [2]]), 1), [S], "gather"),
    case("take_along_dim_flat", lambda x, i: ember.take_along_dim(x, i), lambda x, i: np.take(x, i.reshape(-1)),
         [S, Int((4,), 0, 6)], "gather reshape"),
    # -- masks ------------------------------------------------------------------------------------
    case("masked_fill", lambda x, m: x.masked_fill(m, -2.0), lambda x, m: np.where(m, -2.0, x).astype(np.float32),
         [S, Bool(S)], "where"),
    case("masked_fill_broadcast_mask", lambda x, m: ember.masked_fill(x, m, 0.5),
         lambda x, m: np.where(m, 0.5, x).astype(np.float32), [S, Bool((3,))], "where"),
    case("masked_fill_tensor_value", lambda x, v: x.masked_fill(ember.tensor(_mask), v),
         lambda x, v: np.where(_mask, v, x), [S, Const(1.5)], "where cast"),
    case("masked_fill_int", lambda n, m: n.masked_fill(m, 9), lambda n, m: np.where(m, 9, n), [Int(S), Bool(S)],
         "where", grad=False),
    case("masked_select", lambda x, m: x.masked_select(m), lambda x, m: x[m], [S, Bool(S)], "index expand"),
    case("masked_select_broadcast", lambda x: ember.masked_select(x, ember.tensor([True, False, True])),
         lambda x: x[:, [True, False, True]].reshape(-1), [S], "index"),
    case("masked_scatter", lambda x, s: ember.masked_scatter(x, ember.tensor(_mask), s),
         lambda x, s: _masked_scatter(x, _mask, s), [S, (4,)], "index_put getitem"),
    case("nonzero", lambda x: x.nonzero(), np.argwhere, [Const([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])], "nonzero",
         grad=False),
    case("nonzero_as_tuple", lambda m: ember.nonzero(m, as_tuple=True), np.nonzero, [Bool(S3)], "nonzero getitem",
         grad=False),
    case("where_one_argument", lambda m: ember.where(m), np.nonzero, [Bool(S)], "nonzero", grad=False),
    case("one_hot", lambda n: I.one_hot(n, 5), lambda n: np.eye(5, dtype=np.int64)[n], [Int(S, 0, 5)], "one_hot",
         grad=False),
    case("one_hot_inferred_classes", lambda n: I.one_hot(n), lambda n: np.eye(n.max() + 1, dtype=np.int64)[n],
         [Int((4,), 0, 3)], "one_hot", grad=False),
]


def _put(x, key, v, accumulate=False):
    out = x.copy()
    if accumulate:
        np.add.at(out, key, v)
    else:
        out[key] = v
    return out


def _index_add(x, dim, index, src):
    out = x.copy()
    key = (slice(None),) * dim + (np.asarray(index),)
    np.add.at(out, key, src)
    return out


def _masked_scatter(x, mask, src):
    out = x.copy()
    out[mask] = src[:mask.sum()]
    return out
