"""Runs every case of every ``cases_*.py`` table: forward vs NumPy, gradcheck, gradgradcheck."""

import importlib
import pathlib

import numpy as np
import pytest

import ember
from ember.autograd import gradcheck, gradgradcheck

from .opcase import as_tuple, make_inputs


def all_cases():
    cases = []
    here = pathlib.Path(__file__).parent
    for path in sorted(here.glob("cases_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        cases.extend(module.CASES)
    return cases


CASES = all_cases()


@pytest.mark.parametrize("case", [c for c in CASES if c.ref is not None], ids=str)
def test_forward_matches_numpy(case):
    tensors, arrays = make_inputs(case, np.float32)
    got = as_tuple(case.fn(*tensors))
    want = as_tuple(case.ref(*arrays))
    assert len(got) == len(want), f"{case.name}: {len(got)} outputs, reference has {len(want)}"
    for g, w in zip(got, want):
        w = np.asarray(w)
        assert tuple(g.shape) == w.shape, f"{case.name}: shape {tuple(g.shape)} != {w.shape}"
        if w.dtype.kind == "f":
            assert g.dtype == np.float32 or w.dtype != np.float32, f"{case.name}: dtype {g.dtype}"
            np.testing.assert_allclose(g.numpy(force=True), w, atol=case.atol, rtol=case.rtol)
        else:
            np.testing.assert_array_equal(g.numpy(force=True), w)


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=str)
def test_gradcheck(case):
    tensors, _ = make_inputs(case, np.float64, requires_grad=True)
    assert gradcheck(lambda *xs: case.fn(*xs), tensors, atol=case.grad_atol, rtol=case.grad_rtol)


@pytest.mark.parametrize("case", [c for c in CASES if c.grad and c.gradgrad], ids=str)
def test_gradgradcheck(case):
    tensors, _ = make_inputs(case, np.float64, requires_grad=True)
    assert gradgradcheck(lambda *xs: case.fn(*xs), tensors, atol=case.grad_atol, rtol=case.grad_rtol)
