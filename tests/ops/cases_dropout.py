"""Op-table rows for dropout. Each call reseeds the CPU generator (restoring its state afterwards),
so the mask is fixed across gradcheck's evaluations and the NumPy reference can redraw it."""

import numpy as np

from ember.backend.random import default_generator
from ember.backend.device import get_device
from ember.ops import dropout as D

from .opcase import OpCase

SEED = 1234


def seeded(fn):
    def run(*args):
        gen = default_generator(get_device("cpu"))
        state = gen.get_state()
        gen.manual_seed(SEED)
        try:
            return fn(*args)
        finally:
            gen.set_state(state)
    return run


def ref_mask(shape, dtype, p):
    u = np.random.Generator(np.random.PCG64(SEED)).random(shape, dtype=dtype)
    return (u >= p).astype(dtype) / (1 - p)


def _ref(p, channel=False):
    def ref(x):
        shape = x.shape[:2] + (1,) * (x.ndim - 2) if channel else x.shape
        return x * ref_mask(shape, x.dtype, p)
    return ref


def _alpha_ref(p):
    def ref(x):
        keep = ref_mask(x.shape, x.dtype, p) * (1 - p)
        alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
        a = (1.0 / np.sqrt((alpha_p ** 2 * p + 1) * (1 - p)))
        return (x * keep + (1 - keep) * alpha_p) * a - a * alpha_p * p
    return ref


CASES = [
    OpCase("dropout", seeded(lambda x: D.dropout(x, 0.3)), _ref(0.3), [(4, 5)], covers=("dropout",)),
    OpCase("dropout_p09", seeded(lambda x: D.dropout(x, 0.9)), _ref(0.9), [(3, 4)], covers=("dropout",)),
    OpCase("dropout2d", seeded(lambda x: D.dropout2d(x, 0.5)), _ref(0.5, True), [(3, 4, 2, 2)],
           covers=("dropout",)),
    OpCase("dropout1d", seeded(lambda x: D.dropout1d(x, 0.4)), _ref(0.4, True), [(3, 4, 2)], covers=("dropout",)),
    OpCase("dropout_eval_identity", lambda x: D.dropout(x, 0.5, training=False), lambda x: x, [(2, 3)],
           covers=()),
    OpCase("alpha_dropout", seeded(lambda x: D.alpha_dropout(x, 0.2, training=True)), _alpha_ref(0.2), [(4, 5)],
           covers=("dropout",)),
]
