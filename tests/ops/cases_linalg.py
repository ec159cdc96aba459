"""Op-table rows for matmul and friends, einsum and the fused linear."""

import numpy as np

import ember
from ember.ops import linalg as L

from .opcase import OpCase


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


CASES = [
    case("matmul_2d", lambda a, b: a @ b, np.matmul, [(2, 3), (3, 2)], "matmul permute"),
    case("matmul_batched", ember.matmul, np.matmul, [(2, 2, 3), (2, 3, 2)], "matmul"),
    case("matmul_broadcast_batch", ember.matmul, np.matmul, [(2, 1, 2, 3), (3, 3, 1)], "matmul"),
    case("matmul_3d_2d", ember.matmul, np.matmul, [(2, 2, 3), (3, 2)], "matmul"),
    case("matmul_vec_vec", ember.matmul, np.matmul, [(3,), (3,)], "matmul reshape"),
    case("matmul_vec_mat", ember.matmul, np.matmul, [(3,), (3, 2)], "matmul reshape"),
    case("matmul_mat_vec", ember.matmul, np.matmul, [(2, 3), (3,)], "matmul reshape"),
    case("matmul_batched_vec", ember.matmul, np.matmul, [(2, 2, 3), (3,)], "matmul"),
    case("matmul_vec_batched", ember.matmul, np.matmul, [(2,), (2, 2, 3)], "matmul"),
    case("rmatmul_numpy", lambda a: np.ones((2, 2), np.float32).astype(a.dtype) @ a,
         lambda a: np.ones((2, 2), np.float32) @ a, [(2, 3)], "matmul", grad=False),
    case("mm", ember.mm, np.matmul, [(2, 3), (3, 4)], "matmul"),
    case("bmm", ember.bmm, np.matmul, [(2, 2, 3), (2, 3, 2)], "matmul"),
    case("mv", ember.mv, np.matmul, [(2, 3), (3,)], "matmul"),
    case("dot", ember.dot, np.dot, [(4,), (4,)], "matmul"),
    case("outer", ember.outer, np.outer, [(3,), (2,)], "mul reshape"),
    case("addmm", ember.addmm, lambda c, a, b: c + a @ b, [(2, 2), (2, 3), (3, 2)], "matmul add"),
    case("addmm_alpha_beta_broadcast", lambda c, a, b: ember.addmm(c, a, b, beta=0.5, alpha=2.0),
         lambda c, a, b: 0.5 * c + 2.0 * (a @ b), [(2,), (2, 3), (3, 2)], "matmul add mul"),
    case("baddbmm", lambda c, a, b: ember.baddbmm(c, a, b, alpha=0.5),
         lambda c, a, b: c + 0.5 * (a @ b), [(2, 2, 2), (2, 2, 3), (2, 3, 2)], "matmul add mul"),
    case("einsum_matmul", lambda a, b: ember.einsum("ij,jk->ik", a, b), np.matmul, [(2, 3), (3, 2)], "einsum"),
    case("einsum_implicit_output", lambda a, b: ember.einsum("ij,jk", a, b), np.matmul, [(2, 3), (3, 2)], "einsum"),
    case("einsum_batched_ellipsis", lambda a, b: ember.einsum("...ij,...jk->...ik", a, b), np.matmul,
         [(2, 2, 3), (2, 3, 2)], "einsum"),
    case("einsum_sum_inside_operand", lambda a, b: ember.einsum("ij,k->k", a, b),
         lambda a, b: np.einsum("ij,k->k", a, b), [(2, 3), (2,)], "einsum expand reshape"),
    case("einsum_three_operands", lambda a, b, c: ember.einsum("bi,bj,ij->b", a, b, c),
         lambda a, b, c: np.einsum("bi,bj,ij->b", a, b, c), [(2, 3), (2, 2), (3, 2)], "einsum"),
    case("einsum_transpose", lambda a: ember.einsum("ijk->kji", a), lambda a: a.transpose(2, 1, 0),
         [(2, 3, 2)], "einsum"),
    case("einsum_list_operands", lambda a, b: ember.einsum("i,i->", [a, b]), np.dot, [(3,), (3,)], "einsum"),
    case("linear", L.linear, lambda x, w, b: x @ w.T + b, [(2, 3), (4, 3), (4,)], "linear matmul sum"),
    case("linear_no_bias", L.linear, lambda x, w: x @ w.T, [(2, 3), (4, 3)], "linear"),
    case("linear_batched", L.linear, lambda x, w, b: x @ w.T + b, [(2, 2, 3), (2, 3), (2,)], "linear reshape"),
    case("linear_vector_input", L.linear, lambda x, w, b: x @ w.T + b, [(3,), (2, 3), (2,)], "linear"),
    case("linear_vector_weight", L.linear, lambda x, w, b: x @ w + b, [(2, 3), (3,), ()], "matmul add"),
]
