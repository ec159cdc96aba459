"""Op-table rows for shape ops: views, broadcasting, joining/splitting, flips, padding, triangles."""

import numpy as np

import ember
from ember.ops import shape as Sh

from .opcase import Int, OpCase

S = (2, 3)
S3 = (2, 3, 2)


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


def _split(x, sizes, axis):
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


CASES = [
    case("reshape", lambda x: x.reshape(3, 2), lambda x: x.reshape(3, 2), [S], "reshape"),
    case("reshape_infer", lambda x: ember.reshape(x, (-1, 4)), lambda x: x.reshape(-1, 4), [S3], "reshape"),
    case("view", lambda x: x.view(6), lambda x: x.reshape(6), [S], "reshape"),
    case("view_of_transposed", lambda x: x.t().reshape(6), lambda x: x.T.reshape(6), [S], "reshape permute"),
    case("flatten", lambda x: x.flatten(), lambda x: x.reshape(-1), [S3], "reshape"),
    case("flatten_range", lambda x: ember.flatten(x, 1, 2), lambda x: x.reshape(2, 6), [S3], "reshape"),
    case("unflatten", lambda x: ember.unflatten(x, 1, (3, 1)), lambda x: x.reshape(2, 3, 1), [S], "reshape"),
    case("squeeze_all", lambda x: x.squeeze(), lambda x: x.squeeze(), [(2, 1, 3, 1)], "reshape"),
    case("squeeze_dim", lambda x: x.squeeze(1), lambda x: x.squeeze(1), [(2, 1, 3, 1)], "reshape"),
    case("squeeze_non_singleton", lambda x: x.squeeze(0), lambda x: x, [S], "reshape"),
    case("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x[..., None], [S], "reshape"),
    case("unsqueeze_front", lambda x: ember.unsqueeze(x, 0), lambda x: x[None], [S], "reshape"),
    case("transpose", lambda x: x.transpose(0, 2), lambda x: x.swapaxes(0, 2), [S3], "permute"),
    case("swapaxes", lambda x: ember.swapaxes(x, -1, 0), lambda x: x.swapaxes(-1, 0), [S3], "permute"),
    case("permute", lambda x: x.permute(2, 0, 1), lambda x: x.transpose(2, 0, 1), [S3], "permute"),
    case("T", lambda x: x.T, lambda x: x.T, [S], "permute"),
    case("movedim", lambda x: ember.movedim(x, 0, -1), lambda x: np.moveaxis(x, 0, -1), [S3], "permute"),
    case("movedim_multi", lambda x: x.movedim((0, 1), (2, 0)), lambda x: np.moveaxis(x, (0, 1), (2, 0)),
         [(2, 3, 4)], "permute"),
    case("expand", lambda x: x.expand(2, 3, 4), lambda x: np.broadcast_to(x, (2, 3, 4)), [(3, 1)], "expand sum"),
    case("expand_keep", lambda x: x.expand(-1, 3), lambda x: np.broadcast_to(x, (2, 3)), [(2, 1)], "expand"),
    case("broadcast_to", lambda x: ember.broadcast_to(x, (2, 2, 3)), lambda x: np.broadcast_to(x, (2, 2, 3)),
         [(3,)], "expand"),
    case("broadcast_tensors", lambda a, b: ember.broadcast_tensors(a, b),
         lambda a, b: tuple(np.broadcast_arrays(a, b)), [(2, 1), (3,)], "expand"),
    case("repeat", lambda x: x.repeat(2, 1, 2), lambda x: np.tile(x, (2, 1, 2)), [S], "tile reshape sum"),
    case("tile", lambda x: ember.tile(x, (3,)), lambda x: np.tile(x, 3), [S], "tile"),
    case("repeat_interleave", lambda x: ember.repeat_interleave(x, 2, dim=1), lambda x: np.repeat(x, 2, 1), [S],
         "expand reshape"),
    case("cat", lambda a, b: ember.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1), [S, (2, 2)],
         "cat split"),
    case("cat_negative_dim_three", lambda a, b, c: ember.cat((a, b, c), -3),
         lambda a, b, c: np.concatenate([a, b, c], -3), [(1, 2, 2), (2, 2, 2), (1, 2, 2)], "cat"),
    case("cat_mixed_dtypes", lambda a, n: ember.cat([a, n]), lambda a, n: np.concatenate([a, n]).astype(np.float32),
         [S, Int(S)], "cat cast", grad=False),
    case("stack", lambda a, b: ember.stack([a, b], 1), lambda a, b: np.stack([a, b], 1), [S, S], "cat reshape"),
    case("stack_last", lambda a, b: ember.stack((a, b), -1), lambda a, b: np.stack([a, b], -1), [S, S], "cat"),
    case("hstack_vstack", lambda a, b: (ember.hstack([a, b]), ember.vstack([a, b])),
         lambda a, b: (np.hstack([a, b]), np.vstack([a, b])), [S, S], "cat"),
    case("split_size", lambda x: x.split(2, dim=1), lambda x: _split(x, [2, 1], 1), [(2, 3)], "split cat"),
    case("split_sections", lambda x: ember.split(x, [1, 3], 0), lambda x: _split(x, [1, 3], 0), [(4, 2)], "split"),
    case("split_one_output_used", lambda x: ember.split(x, 2, 1)[1] * 2.0, lambda x: x[:, 2:] * 2, [(2, 4)],
         "split cat"),
    case("chunk", lambda x: x.chunk(3, 0), lambda x: _split(x, [2, 2, 1], 0), [(5, 2)], "split"),
    case("chunk_fewer", lambda x: ember.chunk(x, 4, 1), lambda x: _split(x, [1, 1, 1], 1), [S], "split"),
    case("unbind", lambda x: x.unbind(1), lambda x: tuple(x[:, i] for i in range(3)), [S], "split reshape"),
    case("flip", lambda x: x.flip(0), lambda x: np.flip(x, 0), [S], "flip"),
    case("flip_dims", lambda x: ember.flip(x, (0, 2)), lambda x: np.flip(x, (0, 2)), [S3], "flip"),
    case("fliplr_flipud", lambda x: (ember.fliplr(x), ember.flipud(x)), lambda x: (np.fliplr(x), np.flipud(x)),
         [S], "flip"),
    case("roll", lambda x: x.roll(1, 1), lambda x: np.roll(x, 1, 1), [S], "roll"),
    case("roll_multi", lambda x: ember.roll(x, (1, -2), (0, 2)), lambda x: np.roll(x, (1, -2), (0, 2)), [(2, 3, 3)],
         "roll"),
    case("roll_flat", lambda x: ember.roll(x, 2), lambda x: np.roll(x, 2), [S], "roll"),
    case("pad_constant", lambda x: Sh.pad(x, (1, 2)), lambda x: np.pad(x, ((0, 0), (1, 2))), [S], "constant_pad getitem"),
    case("pad_constant_value_2d", lambda x: Sh.pad(x, (1, 0, 0, 2), value=-1.5),
         lambda x: np.pad(x, ((0, 0), (0, 2), (1, 0)), constant_values=-1.5), [S3], "constant_pad"),
    case("pad_negative_crops", lambda x: Sh.pad(x, (-1, 1)), lambda x: np.pad(x[:, 1:], ((0, 0), (0, 1))), [S],
         "constant_pad getitem"),
    case("pad_reflect", lambda x: Sh.pad(x, (2, 1), mode="reflect"), lambda x: np.pad(x, ((0, 0), (0, 0), (2, 1)), "reflect"),
         [(1, 2, 3)], "index"),
    case("pad_reflect_2d", lambda x: Sh.pad(x, (1, 1, 1, 0), mode="reflect"),
         lambda x: np.pad(x, ((0, 0), (1, 0), (1, 1)), "reflect"), [(1, 2, 3)], "index"),
    case("pad_replicate", lambda x: Sh.pad(x, (2, 3), mode="replicate"), lambda x: np.pad(x, ((0, 0), (2, 3)), "edge"),
         [S], "index"),
    case("pad_circular", lambda x: Sh.pad(x, (1, 2), mode="circular"), lambda x: np.pad(x, ((0, 0), (1, 2)), "wrap"),
         [S], "index"),
    case("narrow", lambda x: x.narrow(1, 1, 2), lambda x: x[:, 1:3], [S], "getitem"),
    case("narrow_negative_start", lambda x: ember.narrow(x, 0, -1, 1), lambda x: x[-1:], [S], "getitem"),
    case("tril", lambda x: x.tril(), np.tril, [(3, 3)], "tril"),
    case("tril_offset_batched", lambda x: ember.tril(x, -1), lambda x: np.tril(x, -1), [(2, 3, 4)], "tril"),
    case("triu", lambda x: ember.triu(x, 1), lambda x: np.triu(x, 1), [(3, 4)], "tril"),
    case("diagonal", lambda x: x.diagonal(), np.diagonal, [(3, 4)], "permute index"),
    case("diagonal_offset", lambda x: ember.diagonal(x, 1, 1, 2),
         lambda x: np.diagonal(x, 1, 1, 2), [(2, 3, 4)], "index"),
    case("diagonal_negative_offset", lambda x: ember.diagonal(x, -1), lambda x: np.diagonal(x, -1), [(3, 3)], "index"),
    case("diagonal_swapped_dims", lambda x: ember.diagonal(x, 0, 1, 0), lambda x: np.diagonal(x, 0, 1, 0),
         [(3, 2)], "index"),
    case("diag_matrix", lambda x: ember.diag(x), np.diag, [(3, 3)], "index"),
    case("diag_vector", lambda x: ember.diag(x, 1), lambda x: np.diag(x, 1), [(3,)], "index_put full_like"),
    case("diag_embed", ember.diag_embed, lambda x: np.stack([np.diag(r) for r in x]), [S], "mul tril"),
    case("contiguous", lambda x: x.t().contiguous(), lambda x: np.ascontiguousarray(x.T), [S], "contiguous"),
    case("clone", lambda x: x.clone(), np.copy, [S], "clone"),
]
