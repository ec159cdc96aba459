"""The Tensor surface: operators (incl. reflected and in-place forms), x[key] and x[key] = v with their
gradients, conversions, printing, and the errors bad input gets (naming the op and the shapes)."""

import numpy as np
import pytest

import ember
from ember.ops import linalg as L

A = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
B = np.array([[2.0, 1.0, -3.0], [0.25, 2.0, 5.0]], np.float32)


def T(x, **kw):
    return ember.tensor(x, **kw)


def close(t, want):
    np.testing.assert_allclose(t.detach().numpy(), want, rtol=1e-6, atol=1e-6)


# -- operators ------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b, lambda a, b: a // b,
    lambda a, b: a % b, lambda a, b: abs(a) ** b, lambda a, b: a < b, lambda a, b: a <= b, lambda a, b: a > b,
    lambda a, b: a >= b, lambda a, b: a == b, lambda a, b: a != b,
], ids=["add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "lt", "le", "gt", "ge", "eq", "ne"])
def test_binary_operators_tensor_scalar_numpy_and_reflected(op):
    a, b = T(A), T(B)
    close(op(a, b), op(A, B))
    close(op(a, 1.5), op(A, np.float32(1.5)))
    close(op(2.5, b), op(np.float32(2.5), B))             # reflected: Python scalar on the left
    close(op(a, B), op(A, B))                               # NumPy array on the right
    assert isinstance(op(A, b), ember.Tensor)               # NumPy array on the left defers to Tensor
    close(op(A, b), op(A, B))


def test_unary_bitwise_and_matmul_operators():
    a = T(A)
    close(-a, -A)
    close(+a, A)
    close(abs(a), np.abs(A))
    m, n = T([True, False, True]), T([True, True, False])
    assert (~m).tolist() == [False, True, False]
    assert (m & n).tolist() == [True, False, False] and (m | n).tolist() == [True, True, True]
    assert (m ^ n).tolist() == [False, True, True]
    i = T([6, 3, -1])
    assert (~i).tolist() == [-7, -4, 0] and (i & 5).tolist() == [4, 1, 5] and (5 | i).tolist() == [7, 7, -1]
    assert (3 ^ i).tolist() == [5, 0, -4]
    close(a @ T(B.T), A @ B.T)
    close(A @ T(B.T), A @ B.T)                              # __rmatmul__
    close(a @ B.T, A @ B.T)


def test_inplace_operators_without_grad_write_in_place():
    a = T(A.copy())
    data = a._data
    a += 1
    a -= T(B)
    a *= 2
    a /= 4
    assert a._data is data                                  # same memory: a real in-place update
    close(a, (A + 1 - B) * 2 / 4)
    b = T([[5.0, 7.0]])
    b **= 2
    b %= 10
    b //= 2
    close(b, (np.array([[25.0, 49.0]]) % 10) // 2)
    c = T([1.0, 2.0])
    c.add_(T([1.0, 1.0]), alpha=3).mul_(2).clamp_(0, 9).sub_(1, alpha=2)
    close(c, [6.0, 7.0])
    assert c._version >= 4


def test_inplace_errors():
    n = T([1, 2, 3])
    with pytest.raises(RuntimeError, match=r"add_: can't update a tensor of shape \(3,\) and dtype int64"):
        n += 1.5
    with pytest.raises(RuntimeError, match=r"add_: can't update a tensor of shape \(3,\).*\(2, 3\)"):
        ember.ones(3).add_(ember.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"mul_: output with shape \(3,\) doesn't match the broadcast shape \(2, 3\)"):
        ember.ones(3, requires_grad=True).mul(1).mul_(ember.ones(2, 3))
    leaf = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"add_: a leaf Variable that requires grad .*shape \(3,\)"):
        leaf += 1
    with pytest.raises(RuntimeError, match="exp_: a leaf Variable that requires grad"):
        leaf.exp_()
    with pytest.raises(RuntimeError, match=r"add_: can't update a tensor of shape \(2, 3\).*read-only"):
        ember.ones(3).expand(2, 3).add_(1)
    with ember.no_grad():
        leaf += 1                                           # allowed without recording
    close(leaf, [2.0, 2.0, 2.0])


def test_inplace_on_nonleaf_records_gradient():
    x = T([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y.add_(1).mul_(y.detach().clone()).sigmoid_()
    z = 1 / (1 + np.exp(-((2 * np.array([1.0, 2, 3]) + 1) ** 2)))
    y.sum().backward()
    # d/dx sigmoid((2x + 1) * c) with c = (2x + 1) held constant
    c = 2 * np.array([1.0, 2, 3]) + 1
    close(x.grad, z * (1 - z) * 2 * c)


def test_inplace_modification_of_a_saved_tensor_is_detected():
    w = T([1.0, 2.0], requires_grad=True)
    y = w.exp()
    y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*shape \(2,\).*ExpBackward"):
        y.sum().backward()


# -- indexing -------------------------------------------------------------------------------------

def test_getitem_matches_numpy():
    x = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    t = T(x)
    for key in [1, -1, (0, 2), slice(1, None), (slice(None), slice(0, 3, 2)), (None, Ellipsis, 1), (Ellipsis, None),
                (1, slice(None), -1), ([1, 0],), (slice(None), [2, 2, 0]), ([0, 1], [2, 0], [3, 1])]:
        np_key = key
        close(t[key], x[np_key])
    close(t[T([1, 1])], x[[1, 1]])
    close(t[T(x > 10)], x[x > 10])
    close(t[t > 10], x[x > 10])
    close(t[:, T([True, False, True])], x[:, [True, False, True]])
    close(t[T([[0, 1], [1, 0]])], x[np.array([[0, 1], [1, 0]])])
    close(t[0, T([2, 0]), 1:3], x[0, [2, 0], 1:3])
    assert t[1, 2, 3].shape == () and t[1, 2, 3].item() == 23.0


def test_basic_indexing_returns_a_view():
    t = ember.zeros(2, 3)
    row = t[1]
    row += 5
    v = t.view(6)
    v[0] = 7
    assert t.tolist() == [[7.0, 0.0, 0.0], [5.0, 5.0, 5.0]]


def test_indexing_gradients_accumulate_repeated_indices():
    x = T([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = x[T([0, 0, 3, 0])] * T([1.0, 2.0, 3.0, 4.0])
    y.sum().backward()
    close(x.grad, [7.0, 0.0, 0.0, 3.0])
    x.grad = None
    x[1:3].sum().backward()
    close(x.grad, [0.0, 1.0, 1.0, 0.0])
    x.grad = None
    (x[x > 2.5] ** 2).sum().backward()
    close(x.grad, [0.0, 0.0, 6.0, 8.0])
    m = T(np.arange(6.0).reshape(2, 3), requires_grad=True)
    m[T([1, 1]), T([2, 2])].sum().backward()
    close(m.grad, [[0, 0, 0], [0, 0, 2]])


def test_setitem_values_and_gradients():
    a = ember.zeros(2, 3)
    a[0] = T([1.0, 2.0, 3.0])
    a[:, 1] = 7
    a[a > 5] = -1
    a[T([1, 0]), T([0, 2])] = T([5.0, 6.0])
    a[..., None][1, 2] = 9.0
    assert a.tolist() == [[1.0, -1.0, 6.0], [5.0, -1.0, 9.0]]

    x = T([1.0, 2.0, 3.0], requires_grad=True)
    v = T(5.0, requires_grad=True)
    y = x * 1
    y[0] = v * 2
    y[T([False, False, True])] = 0.0
    close(y, [10.0, 2.0, 0.0])
    (y * T([1.0, 2.0, 3.0])).sum().backward()
    close(x.grad, [0.0, 2.0, 0.0])                          # overwritten entries get no gradient
    close(v.grad, 2.0)


def test_setitem_errors():
    with pytest.raises(RuntimeError, match=r"__setitem__: can't assign a value of shape \(3,\) into a tensor of shape \(3,\)"):
        ember.zeros(3)[:2] = ember.ones(3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        ember.zeros(3)[5] = 1.0
    with pytest.raises(RuntimeError, match="__setitem__: a leaf Variable that requires grad"):
        ember.zeros(3, requires_grad=True)[0] = 1.0


def test_index_errors():
    t = ember.zeros(2, 3)
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        t[2]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 2"):
        t[T([0, 3])]
    with pytest.raises(IndexError, match=r"shape of the mask \(3,\) at index 0 does not match.*\(2, 3\)"):
        t[T([True, False, True])]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        t[T([0.0])]


# -- conversions ------------------------------------------------------------------------------------

def test_to_dtype_device_and_shortcuts():
    t = T([[1.5, 2.0]])
    assert t.to(ember.float64).dtype == np.float64 and t.to("float16").dtype == np.float16
    assert t.to("cpu") is t and t.to(ember.device("cpu")) is t and t.cpu() is t
    assert t.to("cpu", ember.int64).tolist() == [[1, 2]]
    assert t.to(T([1], dtype=ember.int32)).dtype == np.int32
    assert t.to(dtype=ember.float64, copy=True).dtype == np.float64
    c = t.to(ember.float32, copy=True)
    assert c is not t and c.tolist() == t.tolist()
    assert t.double().dtype == np.float64 and t.half().dtype == np.float16 and t.long().dtype == np.int64
    assert t.int().dtype == np.int32 and t.bool().dtype == np.bool_ and t.byte().dtype == np.uint8
    assert t.type() == "ember.float32" and t.type(ember.float64).dtype == np.float64
    w = T([1.0, 2.0], requires_grad=True)
    (w.to(ember.float64) * T([3.0, 4.0], dtype=ember.float64)).sum().backward()
    assert w.grad.dtype == np.float32
    close(w.grad, [3.0, 4.0])


def test_item_tolist_numpy_array_and_dlpack():
    t = T([[1.5, 2.0]])
    assert t[0, 1].item() == 2.0 and isinstance(t[0, 1].item(), float)
    assert isinstance(T([3]).item(), int) and T(True).item() is True
    assert t.tolist() == [[1.5, 2.0]] and T(2).tolist() == 2
    assert t.numpy().dtype == np.float32 and t.numpy() is t._data      # shares memory on the CPU
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert float(T([[2.5]])) == 2.5 and int(T(3.7)) == 3 and [1, 2, 3][T(1)] == 2
    assert list(T([[1, 2], [3, 4]]))[1].tolist() == [3, 4] and len(ember.zeros(4, 2)) == 4
    np.testing.assert_array_equal(np.from_dlpack(t), [[1.5, 2.0]])
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        t.item()
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        T([1.0], requires_grad=True).numpy()
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with 2 elements is ambiguous"):
        bool(T([1, 2]))
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [1, 2][T(1.0)]


# -- printing ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("make,want", [
    (lambda: T([[1.5, 2.0], [3.0, -4.25]]), "tensor([[ 1.5000,  2.0000],\n        [ 3.0000, -4.2500]])"),
    (lambda: T([1, 2, 3]), "tensor([1, 2, 3])"),
    (lambda: T([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: T(3.5), "tensor(3.5000)"),
    (lambda: T([True, False]), "tensor([ True, False])"),
    (lambda: T([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: T([1.0, float("inf"), float("nan")]), "tensor([1., inf, nan])"),
    (lambda: T([]), "tensor([])"),
    (lambda: ember.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: T([], dtype=ember.int64), "tensor([], dtype=ember.int64)"),
    (lambda: T([1.5], dtype=ember.float64), "tensor([1.5000], dtype=ember.float64)"),
    (lambda: T([1, 2], dtype=ember.int32), "tensor([1, 2], dtype=ember.int32)"),
    (lambda: ember.zeros(2, requires_grad=True), "tensor([0., 0.], requires_grad=True)"),
    (lambda: T([1.0, 2.0], requires_grad=True) * 2, "tensor([2., 4.], grad_fn=<MulBackward>)"),
    (lambda: ember.arange(2000), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (lambda: ember.arange(2000.0), "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n"
                                   "        1.9990e+03])"),
    (lambda: T([[[1.0, 2.0]], [[3.0, 4.5]]]), "tensor([[[1.0000, 2.0000]],\n\n        [[3.0000, 4.5000]]])"),
])
def test_repr_like_pytorch(make, want):
    assert repr(make()) == want


# -- errors name the op and the shapes ---------------------------------------------------------------

@pytest.mark.parametrize("fn,pattern", [
    (lambda a, b: a + b, r"add: the size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
                         r"dimension 1.*\(2, 3\), \(4,\)"),
    (lambda a, b: a * b.reshape(4, 1), r"mul: .*\(2, 3\), \(4, 1\) do not broadcast"),
    (lambda a, b: ember.maximum(a, b), r"maximum: .*\(2, 3\), \(4,\)"),
    (lambda a, b: ember.where(a > 0, a, b), r"where: .*\(2, 3\), \(2, 3\), \(4,\)"),
    (lambda a, b: a @ b, r"matmul: shapes cannot be multiplied \(2x3 and 4\)"),
    (lambda a, b: ember.mm(a, a), r"matmul: shapes cannot be multiplied \(2x3 and 2x3\)"),
    (lambda a, b: ember.bmm(a, a), r"bmm: expects 3-d tensors.*shape=\(2, 3\)"),
    (lambda a, b: ember.dot(b, b[:3]), r"dot: inconsistent tensor size: 4 and 3"),
    (lambda a, b: ember.einsum("ij,jk->ik", a, a), r"einsum: subscript 'j' has size 2 in operand 1 but size 3"),
    (lambda a, b: L.linear(a, ember.ones(4, 2)), r"linear: input's last dim \(3\) must equal weight's in_features \(2\)"),
    (lambda a, b: L.linear(a, ember.ones(4, 3), b[:3]), r"linear: bias of shape \(3,\) does not broadcast to the "
                                                          r"output shape \(2, 4\)"),
    (lambda a, b: ember.cat([a, b]), r"cat: sizes of tensors must match except in dimension 0.*\(2, 3\).*\(4,\)"),
    (lambda a, b: ember.stack([a, b]), r"stack: expects each tensor to be equal size.*\(2, 3\).*\(4,\)"),
    (lambda a, b: a.reshape(4, 2), r"reshape: shape \[4, 2\] is invalid for input of size 6"),
    (lambda a, b: a.expand(3, 3), r"expand: the expanded size of the tensor \(3\) must match the existing size \(2\)"),
    (lambda a, b: a.permute(0, 0), r"permute: dims \[0, 0\] is not a permutation"),
    (lambda a, b: ember.gather(a, 1, ember.tensor([[5]])), r"gather: index 5 is out of bounds for dimension 1 with size 3"),
    (lambda a, b: ember.gather(a, 1, ember.tensor([[0.5]])), r"gather: index must be an integer tensor, got float32"),
    (lambda a, b: ember.masked_fill(a, ember.tensor([1, 0, 1]), 0.0), r"masked_fill: mask must be a bool tensor"),
    (lambda a, b: ember.topk(a, 5), r"topk: k \(5\) out of range for dimension 1 of size 3"),
    (lambda a, b: ember.narrow(a, 1, 2, 3), r"narrow: start \(2\) \+ length \(3\) exceeds dimension size \(3\)"),
    (lambda a, b: ember.split(b, [1, 1]), r"split: split sizes \[1, 1\] don't add up to the size 4"),
    (lambda a, b: ember.tensor([1, 2]) & b[:2], r"bitwise_and: only integer and bool tensors.*float32"),
    (lambda a, b: ember.mean(ember.tensor([1, 2])), r"mean: could not infer output dtype.*int64"),
])
def test_errors_name_the_op_and_shapes(fn, pattern):
    a, b = ember.ones(2, 3), ember.ones(4)
    with pytest.raises(RuntimeError, match=pattern):
        fn(a, b)


def test_dtype_mismatches_name_the_op_and_dtypes():
    x32, w64 = ember.ones(2, 3), ember.ones(4, 3, dtype=ember.float64)
    with pytest.raises(RuntimeError, match=r"linear: input dtype float32 and weight dtype float64 differ"):
        L.linear(x32, w64)
    with pytest.raises(RuntimeError, match=r"bmm: .*|matmul: expected both inputs to have the same dtype"):
        ember.bmm(ember.ones(1, 2, 3), ember.ones(1, 3, 2, dtype=ember.float64))
    with pytest.raises(RuntimeError, match=r"one_hot: expects an integer \(class index\) tensor, got float32"):
        ember.ops.indexing.one_hot(x32)
    with pytest.raises(RuntimeError, match=r"index_select: index must be a 1-d tensor"):
        ember.index_select(x32, 0, ember.tensor([[0]]))


def test_broadcast_errors_are_runtime_and_value_errors():
    with pytest.raises(RuntimeError) as info:
        ember.ones(2, 3) * ember.ones(2)
    assert isinstance(info.value, ValueError)   # NumPy users catch ValueError, PyTorch users RuntimeError


@pytest.mark.skipif(not ember.cuda_available(), reason="needs a CUDA device")
def test_device_mismatch_names_the_op_and_devices():
    a, b = ember.ones(2, 3), ember.ones(2, 3, device="cuda")
    for fn, op in [(lambda: a + b, "add"), (lambda: a @ b.t(), "matmul"), (lambda: ember.cat([a, b]), "cat"),
                   (lambda: ember.where(a > 0, a, b), "where")]:
        with pytest.raises(RuntimeError, match=rf"{op}: expected all tensors on the same device.*cpu.*cuda"):
            fn()


@pytest.mark.parametrize("fn,pattern", [
    (lambda a: a.sum(3), r"sum: dimension out of range \(expected to be in range of \[-2, 1\], but got 3\)"),
    (lambda a: ember.softmax(a, 2), r"softmax: dimension out of range"),
    (lambda a: a.transpose(0, 2), r"transpose: dimension out of range"),
    (lambda a: a.flip(3), r"flip: dimension out of range"),
])
def test_dimension_errors(fn, pattern):
    with pytest.raises(IndexError, match=pattern):
        fn(ember.ones(2, 3))


_X0 = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]])
_W = np.arange(6.0).reshape(2, 3)


@pytest.mark.parametrize("op,value,grad", [
    (lambda y: y.relu_(), np.maximum(_X0, 0), _W * (_X0 > 0)),
    (lambda y: y.clamp_(-1, 2), np.clip(_X0, -1, 2), _W * ((_X0 >= -1) & (_X0 <= 2))),
    (lambda y: y.masked_fill_(y > 1, 0.5), np.where(_X0 > 1, 0.5, _X0), _W * (_X0 <= 1)),
    (lambda y: y.scatter_(1, T([[2], [0]]), T([[7.0], [8.0]], dtype=ember.float64)),
     np.array([[1.5, -2.0, 7.0], [8.0, 4.0, -1.0]]), _W * np.array([[1, 1, 0], [0, 1, 1]])),
    (lambda y: y.index_add_(1, T([0, 0]), ember.ones(2, 2, dtype=ember.float64)), _X0 + [[2, 0, 0]], _W),
    (lambda y: y.copy_(T([1.0, 2.0, 3.0])), np.array([[1.0, 2, 3], [1, 2, 3]]), 0 * _W),
    (lambda y: y.fill_(2.0), np.full((2, 3), 2.0), 0 * _W),
    (lambda y: y.zero_(), np.zeros((2, 3)), 0 * _W),
    (lambda y: y.pow_(2), _X0 ** 2, _W * 2 * _X0),
    (lambda y: y.sub_(ember.ones(3, dtype=ember.float64), alpha=2), _X0 - 2, _W),
    (lambda y: y.lerp_(ember.zeros(2, 3, dtype=ember.float64), 0.25), 0.75 * _X0, 0.75 * _W),
    (lambda y: y.index_put_((T([0, 1]), T([1, 2])), T([5.0, 6.0], dtype=ember.float64)),
     np.array([[1.5, 5.0, 3.0], [0.5, 4.0, 6.0]]), _W * np.array([[1, 0, 1], [1, 1, 0]])),
], ids=["relu_", "clamp_", "masked_fill_", "scatter_", "index_add_", "copy_", "fill_", "zero_", "pow_", "sub_",
        "lerp_", "index_put_"])
def test_inplace_methods_values_and_gradients(op, value, grad):
    x = T(_X0, requires_grad=True)
    y = x * 1.0
    assert op(y) is y
    close(y, value)
    assert y.requires_grad
    (y * T(_W)).sum().backward()
    close(x.grad, grad)
    with ember.no_grad():                      # the unrecorded path writes the same values
        z = T(_X0)
        op(z)
    close(z, value)
