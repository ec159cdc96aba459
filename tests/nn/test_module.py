"""Module API: registration, iteration, modes, hooks, state_dict, devices/dtypes, repr, errors."""

import copy
import pickle

import numpy as np
import pytest

import ember
import ember.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(ember.ones(4))
        self.register_buffer("steps", ember.zeros(1))
        self.register_buffer("cache", ember.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
        self.head = nn.Linear(4, 2, bias=False)

    def forward(self, x):
        return self.head(ember.relu(self.block(x)))


def test_registration_by_assignment_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["block.scale", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert len(list(net.parameters())) == 4
    assert [n for n, _ in net.named_buffers()] == ["block.steps", "block.cache"]
    assert [n for n, _ in net.named_children()] == ["block", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "block", "block.fc", "head"]
    assert list(net.children())[1] is net.head
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.block.named_parameters(prefix="b", recurse=False)] == ["b.scale"]


def test_getattr_returns_registered_objects_and_raises_for_unknown():
    b = Block()
    assert b.fc is b._modules["fc"]
    assert b.steps is b._buffers["steps"]
    with pytest.raises(AttributeError, match="'Block' object has no attribute 'nope'"):
        b.nope


def test_reassignment_rules():
    b = Block()
    b.scale = None
    assert b._parameters["scale"] is None and "scale" not in [n for n, _ in b.named_parameters()]
    with pytest.raises(TypeError, match="cannot assign .* as parameter 'fc.weight'|cannot assign .* as parameter 'weight'"):
        b.fc.weight = ember.zeros(4, 3)
    with pytest.raises(TypeError, match="as child module 'fc'"):
        b.fc = 3
    with pytest.raises(TypeError, match="as buffer 'steps'"):
        b.steps = 3
    b.steps = ember.ones(1)
    assert b.steps.item() == 1.0
    b.fc = nn.Identity()
    assert isinstance(b.fc, nn.Identity)
    # an attribute moves between registries when re-assigned with another kind
    with pytest.raises(TypeError, match="cannot assign 'Linear' as parameter 'scale'"):
        b.scale = nn.Linear(1, 1)
    b.steps = None
    b.steps = nn.Parameter(ember.zeros(1))          # a buffer name re-assigned a Parameter becomes a parameter
    assert "steps" not in b._buffers and "steps" in b._parameters
    del b.steps
    assert "steps" not in b._parameters


def test_register_errors():
    m = nn.Module()
    with pytest.raises(KeyError, match='contain "."'):
        m.register_buffer("a.b", ember.zeros(1))
    with pytest.raises(KeyError, match='be empty string'):
        m.register_parameter("", None)
    with pytest.raises(TypeError, match="ember.nn.Parameter or None required"):
        m.register_parameter("w", ember.zeros(1))
    m.x = 1
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.register_buffer("x", ember.zeros(1))
    with pytest.raises(TypeError, match="is not a Module subclass"):
        m.add_module("c", "not a module")

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(ember.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_forward_missing():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward"'):
        nn.Module()(ember.zeros(1))


def test_shared_parameter_listed_once():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, a)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_modules())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4


def test_train_eval_recursive():
    net = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert net.training and net[1][0].training
    assert net.eval() is net
    assert not net.training and not net[1][0].training
    net.train()
    assert net[1][0].training
    with pytest.raises(ValueError, match="boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(ember.randn(5, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    seen = []
    net = Net()
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Block", "Linear", "Net"]


def test_to_dtype_keeps_parameter_identity_and_integer_buffers():
    bn = nn.BatchNorm1d(3)
    w = bn.weight
    bn(ember.randn(4, 3)).sum().backward()
    assert bn.to(ember.float64) is bn
    assert bn.weight is w and w.dtype == np.float64 and w.grad.dtype == np.float64
    assert bn.running_mean.dtype == np.float64
    assert bn.num_batches_tracked.dtype == np.int64     # integer buffers keep their dtype
    bn.float()
    assert bn.weight.dtype == np.float32
    bn.half()
    assert bn.weight.dtype == np.float16
    bn.double()
    assert bn.bias.dtype == np.float64
    bn.to("cpu", dtype="float32")
    assert bn.weight.dtype == np.float32
    bn.to(ember.zeros(1, dtype=ember.float64))
    assert bn.weight.dtype == np.float64
    assert bn.cpu() is bn
    with pytest.raises(TypeError, match="floating point"):
        bn.to(ember.int64)


def test_state_dict_contents_and_detach():
    net = Net()
    sd = net.state_dict()
    assert list(sd) == ["block.scale", "block.steps", "block.fc.weight", "block.fc.bias", "head.weight"]
    assert "block.cache" not in sd                       # non-persistent buffer
    assert not sd["block.fc.weight"].requires_grad
    assert np.shares_memory(sd["block.fc.weight"].numpy(), net.block.fc.weight.detach().numpy())
    assert net.state_dict(keep_vars=True)["head.weight"] is net.head.weight
    assert list(net.block.state_dict(prefix="x.")) [0] == "x.scale"


def test_load_state_dict_round_trip():
    a, b = Net(), Net()
    with ember.no_grad():
        a.block.steps.fill_(7)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.block.steps.item() == 7
    # loading copies: later changes to the source do not leak into b
    with ember.no_grad():
        a.head.weight.fill_(0.0)
    assert b.head.weight.detach().numpy().any()


def test_load_state_dict_missing_and_unexpected():
    net = Net()
    sd = net.state_dict()
    del sd["head.weight"]
    sd["block.extra"] = ember.zeros(1)
    sd["nothere.weight"] = ember.zeros(1)
    with pytest.raises(RuntimeError) as info:
        Net().load_state_dict(sd)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "head.weight"' in msg
    assert 'Unexpected key(s) in state_dict: "block.extra", "nothere.weight"' in msg
    result = Net().load_state_dict(sd, strict=False)
    assert result.missing_keys == ["head.weight"]
    assert result.unexpected_keys == ["block.extra", "nothere.weight"]


def test_load_state_dict_shape_mismatch_names_key_and_shapes():
    sd = nn.Linear(3, 5).state_dict()
    with pytest.raises(RuntimeError, match=r"size mismatch for weight: copying a param with shape "
                                           r"ember.Size\(\[5, 3\]\) from checkpoint, the shape in current model "
                                           r"is ember.Size\(\[4, 3\]\)"):
        nn.Linear(3, 4).load_state_dict(sd)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        nn.Linear(3, 4).load_state_dict(sd, strict=False)   # shape errors are never silent


def test_load_state_dict_accepts_numpy_and_assign():
    lin = nn.Linear(2, 2)
    sd = {"weight": np.eye(2, dtype=np.float32), "bias": np.zeros(2, dtype=np.float32)}
    lin.load_state_dict(sd)
    np.testing.assert_array_equal(lin.weight.detach().numpy(), np.eye(2))
    new_w = ember.full((2, 2), 3.0)
    lin.load_state_dict({"weight": new_w, "bias": ember.zeros(2)}, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad
    assert lin.weight.detach().numpy()[0, 0] == 3.0


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1.0)
    out = lin(ember.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(lin.bias.detach().numpy() + 1, (3, 2)), rtol=1e-6)
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    out = lin(ember.ones(3, 2))
    np.testing.assert_allclose(out.detach().numpy(), (ember.ones(3, 2) @ lin.weight.T + lin.bias).detach().numpy())
    assert calls == [(3, 2)]


def test_hooks_with_kwargs_and_prepend():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("second"))
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("first", kwargs["factor"])),
                            with_kwargs=True, prepend=True)
    assert m(ember.ones(1)).item() == 3.0
    assert order == [("first", 3.0), "second"]


def test_repr_tree_like_pytorch():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.2), nn.LayerNorm(3)))
    assert repr(net) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=3, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Sequential(\n"
        "    (0): Dropout(p=0.2, inplace=False)\n"
        "    (1): LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=True)\n"
        "  )\n"
        ")")

    class WithExtra(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Identity()

        def extra_repr(self):
            return "k=1"

    assert repr(WithExtra()) == "WithExtra(\n  k=1\n  (inner): Identity()\n)"


def test_error_inside_module_names_the_path():
    net = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(5, 2)))
    with pytest.raises(RuntimeError, match="linear") as info:
        net(ember.randn(2, 3))
    assert info.value.__notes__ == ["(raised in module '1.1' (Linear) of Sequential)"]


def test_parameter_basics():
    t = ember.ones(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, ember.Tensor) and p.requires_grad and p.is_leaf
    assert np.shares_memory(p.detach().numpy(), t.numpy())
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert repr(p).startswith("Parameter containing:\ntensor(")
    q = pickle.loads(pickle.dumps(p))
    assert isinstance(q, nn.Parameter) and q.requires_grad
    np.testing.assert_array_equal(q.detach().numpy(), t.numpy())
    r = copy.deepcopy(p)
    assert isinstance(r, nn.Parameter) and r.requires_grad and not np.shares_memory(r.detach().numpy(), t.numpy())


def test_deepcopy_and_pickle_module():
    net = Net()
    twin = copy.deepcopy(net)
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(net(x).detach().numpy(), twin(x).detach().numpy())
    assert twin.head.weight is not net.head.weight
    again = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(net(x).detach().numpy(), again(x).detach().numpy())


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("block.fc") is net.block.fc
    assert net.get_parameter("block.fc.bias") is net.block.fc.bias
    assert net.get_buffer("block.steps") is net.block.steps
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        net.get_submodule("block.nope")


def test_dir_lists_registered_names():
    names = dir(Block())
    assert {"fc", "scale", "steps", "forward"} <= set(names)


def test_registries_stay_in_step_with_attributes():
    """Editing ``_modules`` / ``_parameters`` directly (common in PyTorch model surgery) updates the
    attribute too; copies get registries of their own."""
    net = Net()
    net._modules["head"] = nn.Identity()
    assert isinstance(net.head, nn.Identity)
    net.block._parameters.pop("scale")
    with pytest.raises(AttributeError):
        net.block.scale
    net.block._buffers.update(extra=ember.ones(1))
    assert net.block.extra.item() == 1.0 and "block.extra" in net.state_dict()
    shallow = copy.copy(net)
    shallow._modules["head"] = nn.Tanh()
    assert isinstance(net.head, nn.Identity) and isinstance(shallow.head, nn.Tanh)
    deep = copy.deepcopy(net)
    deep.block._modules["fc"] = nn.Identity()
    assert isinstance(net.block.fc, nn.Linear) and isinstance(deep.block.fc, nn.Identity)
    loaded = pickle.loads(pickle.dumps(net))
    loaded._modules.clear()
    assert not hasattr(loaded, "block") and isinstance(net.block, Block)


def test_full_backward_hooks_see_and_replace_gradients():
    lin = nn.Linear(3, 2)
    seen = []

    def pre(module, grad_output):
        seen.append(("pre", tuple(grad_output[0].shape)))
        return (grad_output[0] * 3.0,)

    def full(module, grad_input, grad_output):
        seen.append(("full", tuple(grad_input[0].shape), tuple(grad_output[0].shape)))
        return (grad_input[0] * 2.0,)

    h1 = lin.register_full_backward_pre_hook(pre)
    h2 = lin.register_full_backward_hook(full)
    x = ember.randn(4, 3, requires_grad=True)
    lin(x).sum().backward()
    assert seen == [("pre", (4, 2)), ("full", (4, 3), (4, 2))]
    w = lin.weight.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), 6.0 * np.ones((4, 2)) @ w, rtol=1e-6)
    np.testing.assert_allclose(lin.bias.grad.numpy(), [12.0, 12.0], rtol=1e-6)   # pre-hook scaled grad_output
    h1.remove(), h2.remove()
    x.grad = None
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((4, 2)) @ w, rtol=1e-6)


def test_full_backward_hook_without_input_grads_gets_none():
    lin = nn.Linear(3, 2)
    got = []
    lin.register_full_backward_hook(lambda m, gi, go: got.append((gi, tuple(go[0].shape))))
    lin(ember.randn(2, 3)).sum().backward()
    assert got == [((None,), (2, 2))] and lin.weight.grad is not None
