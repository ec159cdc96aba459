"""Batch-parallel chunks (backend.parallel): order, coverage, errors, nesting, and convolutions on threads."""

import threading
import time

import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.backend import parallel as P


@pytest.fixture
def three_workers(monkeypatch):
    """Pretend three BLAS threads are allowed (the test run limits BLAS to one), outside workers only."""
    monkeypatch.setattr(P, "workers", lambda xp: 1 if getattr(P._state, "in_worker", False) else 3)
    monkeypatch.setattr(P, "PARALLEL_FLOPS", 0)


def test_chunks_cover_the_range_in_order_on_several_threads(three_workers):
    seen = []

    def fn(a, b, buffers):
        time.sleep(0.02)         # releases the GIL, as NumPy kernels do: the other threads take chunks
        seen.append(threading.get_ident())
        return a, b

    assert P.map_chunks(np, 10, 3, fn) == [(0, 3), (3, 6), (6, 9), (9, 10)]
    assert len(seen) == 4 and len(set(seen)) > 1


def test_small_jobs_run_on_the_calling_thread(three_workers, monkeypatch):
    monkeypatch.setattr(P, "PARALLEL_FLOPS", 1e9)
    me = threading.get_ident()
    assert P.map_chunks(np, 4, 1, lambda a, b, _: threading.get_ident(), flops=10) == [me] * 4


def test_an_error_in_a_chunk_is_raised_after_all_chunks_finish(three_workers):
    done = []

    def fn(a, b, buffers):
        if a == 2:
            raise ValueError("chunk 2 failed")
        done.append(a)
        return a

    with pytest.raises(ValueError, match="chunk 2 failed"):
        P.map_chunks(np, 6, 1, fn)
    assert sorted(done) == [0, 1, 3, 4, 5]


def test_nested_calls_run_serially_inside_a_worker(three_workers):
    inner = P.map_chunks(np, 4, 1, lambda a, b, _: P.workers(np))
    assert inner == [1, 1, 1, 1]
    nested = P.map_chunks(np, 3, 1, lambda a, b, _: P.map_chunks(np, 2, 1, lambda c, d, _: c + d))
    assert nested == [[1, 3]] * 3


def test_each_thread_gets_its_own_scratch_made_on_the_calling_thread(three_workers):
    made_on, used = [], []

    def scratch(i):
        made_on.append(threading.get_ident())
        return object()

    def fn(a, b, buffers):
        time.sleep(0.01)
        used.append((threading.get_ident(), buffers))
        return a

    assert P.map_chunks(np, 6, 1, fn, scratch=scratch) == [0, 1, 2, 3, 4, 5]
    assert made_on == [threading.get_ident()] * 3
    owners = {}
    for thread, buf in used:                # a buffer is only ever used by one thread
        assert owners.setdefault(id(buf), thread) == thread


def test_chunk_size_bounds_scratch_and_gives_every_worker_a_chunk(three_workers, monkeypatch):
    monkeypatch.setattr(P, "CHUNK_BYTES", 1000)
    assert P.chunk_size(np, 64, 100) == 10          # 1000 bytes of scratch per chunk
    assert P.chunk_size(np, 64, 10) == 22           # ceil(64 / 3): one chunk per worker
    assert P.chunk_size(np, 64, 10 ** 6) == 1


@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_on_worker_threads_equals_one_thread(three_workers, monkeypatch, groups):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 4, 9, 8))
    w = rng.standard_normal((6, 4 // groups, 3, 3))
    b = rng.standard_normal(6)

    def run():
        xt, wt, bt = (ember.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F.conv2d(xt, wt, bt, stride=(2, 1), padding=1, groups=groups)
        (y * y).sum().backward()
        return [a.numpy() for a in (y.detach(), xt.grad, wt.grad, bt.grad)]

    monkeypatch.setattr(P, "CHUNK_BYTES", 3000)     # about two samples per chunk: 4 chunks on 3 threads
    threaded = run()
    monkeypatch.setattr(P, "workers", lambda xp: 1)
    monkeypatch.setattr(P, "CHUNK_BYTES", 1 << 30)
    for a, b in zip(threaded, run()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_workspace_is_reused_per_thread_and_key():
    a = P.workspace(np, ("t", 0), (4, 5), np.float32)
    b = P.workspace(np, ("t", 0), (2, 3), np.float64)          # smaller: the same memory, viewed anew
    assert a.shape == (4, 5) and b.shape == (2, 3) and b.dtype == np.float64
    assert np.shares_memory(a, b)
    assert not np.shares_memory(a, P.workspace(np, ("t", 1), (4, 5), np.float32))
    c = P.workspace(np, ("t", 0), (100, 100), np.float32)      # larger: a new buffer replaces it
    assert c.shape == (100, 100) and not np.shares_memory(a, c)
    other = []
    t = threading.Thread(target=lambda: other.append(P.workspace(np, ("t", 0), (4, 5), np.float32)))
    t.start()
    t.join()
    assert not np.shares_memory(other[0], P.workspace(np, ("t", 0), (4, 5), np.float32))


def test_workspace_above_the_cap_is_not_kept(monkeypatch):
    monkeypatch.setattr(P, "WORKSPACE_MAX_BYTES", 100)
    a = P.workspace(np, ("big", 0), (50,), np.float32)
    assert not np.shares_memory(a, P.workspace(np, ("big", 0), (50,), np.float32))


def test_serial_blas_restores_the_thread_count_once_across_threads():
    ctl = P.blas_controller()
    if ctl is None:
        pytest.skip("needs threadpoolctl")
    lib = ctl.lib_controllers[0]
    before = lib.get_num_threads()
    lib.set_num_threads(2)
    try:
        first, second = P.serial_blas(np), P.serial_blas(np)
        first.__enter__()
        second.__enter__()                   # overlapping region (as from another thread)
        assert lib.get_num_threads() == 1
        first.__exit__(None, None, None)
        assert lib.get_num_threads() == 1    # still inside the other region
        second.__exit__(None, None, None)
        assert lib.get_num_threads() == 2
    finally:
        lib.set_num_threads(before)


def test_small_matmuls_run_on_one_blas_thread(monkeypatch):
    ctl = P.blas_controller()
    if ctl is None:
        pytest.skip("needs threadpoolctl")
    lib = ctl.lib_controllers[0]
    seen = []
    real = np.matmul
    monkeypatch.setattr(np, "matmul", lambda a, b, out=None: (seen.append(lib.get_num_threads()), real(a, b, out=out))[1])
    before = lib.get_num_threads()
    lib.set_num_threads(2)
    try:
        a, b = np.ones((64, 64)), np.ones((64, 128))          # 1 MFLOP: small, but threaded by OpenBLAS
        np.testing.assert_array_equal(P.matmul(np, a, b), np.full((64, 128), 64.0))
        P.matmul(np, a[:8, :8], b[:8, :8])                     # OpenBLAS keeps this on one thread anyway
        monkeypatch.setattr(P, "SERIAL_GEMM_FLOPS", 0)
        P.matmul(np, a, b)
    finally:
        lib.set_num_threads(before)
    assert seen == [1, 2, 2]


def test_relu_and_max_pool_on_worker_threads_equal_one_thread(three_workers, monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((7, 3, 8, 6)).astype(np.float32)
    x[2, 1, 3, 3] = np.nan                                        # one chunk takes the NaN path

    def run():
        xt = ember.tensor(x, requires_grad=True)
        conv_like = ember.tensor(np.ascontiguousarray(x.swapaxes(0, 1)), requires_grad=True)
        y = (F.max_pool2d(F.relu(xt), 2, stride=(2, 1), padding=1)                  # overlapping windows
             + F.max_pool2d(conv_like.transpose(0, 1), 3)[..., :1, :1]            # channel-major, disjoint
             + F.max_pool2d(xt * 2, 2)[..., :1, :1])                              # NCHW, disjoint
        (y * y).sum().backward()
        return [a.numpy() for a in (y.detach(), xt.grad, conv_like.grad)]

    threaded = run()
    monkeypatch.setattr(P, "workers", lambda xp: 1)
    for a, b in zip(threaded, run()):
        np.testing.assert_array_equal(a, b)


def test_elementwise_keeps_the_layout_and_splits_large_arrays(three_workers):
    x = np.arange(24.0).reshape(3, 2, 4).swapaxes(0, 1)           # (2, 3, 4) view of (3, 2, 4) memory
    pieces = []

    def fn(a, out):
        pieces.append(a.shape[0])
        np.negative(a, out=out)

    out = P.elementwise(np, fn, x)
    np.testing.assert_array_equal(out, -x)
    assert out.strides == x.strides and sorted(pieces) == [1, 1]


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_runs_batch_parallel_kernels(three_workers):
    import os
    P.map_chunks(np, 4, 1, lambda a, b, _: a)              # the parent's pool exists before the fork
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                           # child: a fresh pool, a fresh BLAS lock
        try:
            ok = P.map_chunks(np, 4, 1, lambda a, b, _: a) == [0, 1, 2, 3]
            with P.serial_blas(np):
                pass
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"


def test_without_threadpoolctl_everything_runs_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(P, "_controller", False)           # as if threadpoolctl were not installed
    assert P.blas_controller() is None and P.workers(np) == 1
    assert isinstance(P.serial_blas(np), type(P._NULL))
    me = threading.get_ident()
    assert P.map_chunks(np, 3, 1, lambda a, b, _: threading.get_ident()) == [me] * 3
    a = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(P.matmul(np, a, a.T), a @ a.T)
    x = ember.tensor(np.ones((2, 1, 4, 4)))
    np.testing.assert_allclose(F.conv2d(x, ember.tensor(np.ones((1, 1, 3, 3)))).numpy(), np.full((2, 1, 2, 2), 9.0))


@pytest.mark.parametrize("op", ["conv1d", "conv3d", "conv_transpose2d", "conv2d_dilated_strided"])
def test_other_convolutions_on_worker_threads_equal_one_thread(three_workers, monkeypatch, op):
    rng = np.random.default_rng(2)
    shapes = {"conv1d": ((5, 4, 11), (6, 2, 3)), "conv3d": ((5, 2, 5, 4, 6), (3, 2, 2, 3, 2)),
              "conv_transpose2d": ((5, 4, 5, 6), (4, 3, 3, 3)), "conv2d_dilated_strided": ((5, 3, 9, 10), (4, 3, 3, 2))}
    calls = {"conv1d": lambda x, w: F.conv1d(x, w, padding=2, groups=2),
             "conv3d": lambda x, w: F.conv3d(x, w, stride=(1, 2, 1), padding=1),
             "conv_transpose2d": lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
             "conv2d_dilated_strided": lambda x, w: F.conv2d(x, w, stride=(2, 3), padding=(2, 1), dilation=2)}
    xs, ws = shapes[op]
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)

    def run():
        xt, wt = ember.tensor(x, requires_grad=True), ember.tensor(w, requires_grad=True)
        y = calls[op](xt, wt)
        (y * y).sum().backward()
        return [a.numpy() for a in (y.detach(), xt.grad, wt.grad)]

    monkeypatch.setattr(P, "CHUNK_BYTES", 500)            # one or two samples per chunk
    threaded = run()
    monkeypatch.setattr(P, "workers", lambda xp: 1)
    monkeypatch.setattr(P, "CHUNK_BYTES", 1 << 30)
    for a, b in zip(threaded, run()):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
