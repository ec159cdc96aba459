"""Op-table rows for activation functions and softmax / log_softmax."""

import numpy as np
from scipy import special

import ember
from ember.ops import activation as A

from .opcase import Const, Int, OpCase

S = (2, 3)


def case(name, fn, ref, inputs, covers, **kw):
    return OpCase(name, fn, ref, inputs, covers=tuple(covers.split()), **kw)


def away_from_zero(x):
    return np.sign(x) * (np.abs(x) + 0.1)


def _softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.logaddexp(0, beta * x) / beta)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(x))


_SELU_A, _SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

CASES = [
    case("relu", ember.relu, lambda x: np.maximum(x, 0), [S], "relu threshold_backward", domain=away_from_zero),
    case("relu6", lambda x: A.relu6(x), lambda x: np.clip(x, 0, 6), [S], "hardtanh",
         domain=lambda x: away_from_zero(x) * 5),
    case("leaky_relu", lambda x: A.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), [S], "leaky_relu",
         domain=away_from_zero),
    case("elu", lambda x: A.elu(x, 0.7), lambda x: _elu(x, 0.7), [S], "elu", domain=away_from_zero),
    case("selu", A.selu, lambda x: _SELU_S * _elu(x, _SELU_A), [S], "elu", domain=away_from_zero),
    case("celu", lambda x: A.celu(x, 1.5), lambda x: np.maximum(x, 0) + np.minimum(0, 1.5 * np.expm1(x / 1.5)),
         [S], "elu div mul", domain=away_from_zero),
    case("gelu", A.gelu, lambda x: 0.5 * x * (1 + special.erf(x / np.sqrt(2))), [S], "gelu gelu_backward"),
    case("gelu_tanh", lambda x: A.gelu(x, approximate="tanh"),
         lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), [S], "gelu gelu_backward"),
    case("silu", A.silu, lambda x: x * _sigmoid(x), [S], "silu sigmoid"),
    case("mish", A.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), [S], "softplus tanh mul"),
    case("softplus", A.softplus, _softplus, [S], "softplus sigmoid"),
    case("softplus_beta_threshold", lambda x: A.softplus(x, beta=2.0, threshold=1.0),
         lambda x: _softplus(x, 2.0, 1.0), [S], "softplus", domain=lambda x: np.where(np.abs(2 * x - 1) < 0.1, x + 0.2, x)),
    case("softsign", A.softsign, lambda x: x / (1 + np.abs(x)), [S], "abs div", domain=away_from_zero),
    case("hardtanh", lambda x: A.hardtanh(x, -0.5, 0.8), lambda x: np.clip(x, -0.5, 0.8), [S], "hardtanh"),
    case("hardtanh_at_bounds", lambda x: A.relu6(x), lambda x: np.clip(x, 0, 6),
         [Const([[0.0, 6.0, 3.0], [-1.0, 7.0, 0.5]])], "hardtanh", grad=False),
    case("hardsigmoid", A.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), [S], "hardtanh",
         domain=lambda x: x * 3),
    case("hardswish", A.hardswish, lambda x: x * np.clip(x / 6 + 0.5, 0, 1), [S], "hardtanh mul",
         domain=lambda x: x * 3),
    case("sigmoid", ember.sigmoid, _sigmoid, [S], "sigmoid"),
    case("sigmoid_extreme", ember.sigmoid, _sigmoid, [S], "sigmoid", domain=lambda x: x * 60, grad=False),
    case("logit", ember.logit, lambda p: np.log(p / (1 - p)), [S], "log log1p neg sub", domain=lambda x: 0.1 + 0.8 * _sigmoid(x)),
    case("logit_eps", lambda p: ember.logit(p, eps=0.2), lambda p: np.log(np.clip(p, 0.2, 0.8) / (1 - np.clip(p, 0.2, 0.8))),
         [S], "clamp log", domain=_sigmoid),
    case("softmax_dim1", lambda x: ember.softmax(x, dim=1), lambda x: _softmax(x, 1), [S], "softmax"),
    case("softmax_dim0_3d", lambda x: ember.softmax(x, 0), lambda x: _softmax(x, 0), [(2, 2, 2)], "softmax"),
    case("softmax_large_values", lambda x: ember.softmax(x, -1), lambda x: _softmax(x.astype(np.float64), -1),
         [S], "softmax", domain=lambda x: x * 1000, grad=False),
    case("log_softmax", lambda x: ember.log_softmax(x, dim=-1), lambda x: np.log(_softmax(x, -1)), [S], "log_softmax"),
    case("log_softmax_large_values", lambda x: ember.log_softmax(x, dim=0),
         lambda x: x - x.max(0) - np.log(np.exp(x - x.max(0)).sum(0)), [(3, 2)], "log_softmax",
         domain=lambda x: x * 1000, grad=False, rtol=1e-3, atol=1e-3),
    case("softmax_of_int", lambda n: ember.softmax(n, -1), lambda n: _softmax(n.astype(np.float32), -1),
         [Int(S)], "softmax cast", grad=False),
]
