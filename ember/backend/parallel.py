"""How Ember uses the cores on the CPU: batch chunks on a few Python threads, and BLAS threading.

NumPy releases the GIL inside copies, ufunc loops and BLAS calls, so chunks of a convolution (im2col
copy, GEMM, col2im) run on all cores from plain threads (``map_chunks``). Each chunk's GEMM runs on
one BLAS thread: measured on the convnet benchmark's layers (2 cores), two single-threaded GEMMs on
two chunks of the batch beat one two-threaded GEMM on the whole batch, and chunks whose im2col
columns stay in the cache (a few MB) beat one batch-wide copy: 25-35% less time per convolution.
Large elementwise work (``elementwise``, ``kernels.blockwise``) is split the same way.

Plain GEMMs keep OpenBLAS's own threads unless they are small (``matmul``): below ~50 MFLOP they run
on one BLAS thread, because OpenBLAS's idle threads spin for ~0.1 s after a threaded call and would
take a core from the workers here.

``workers(xp)`` follows NumPy's BLAS thread count (what ``OPENBLAS_NUM_THREADS`` or threadpoolctl set,
capped by the cores this process may use), so limiting BLAS to one thread makes Ember single-threaded.
Without threadpoolctl the BLAS thread count can't be read or limited; chunks then run one after
another on the calling thread (still cache-sized).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading

import numpy as np

_controller = None    # threadpoolctl's ThreadpoolController; False when unavailable
_pool = None          # (pid, ThreadPoolExecutor): recreated in a forked child, whose threads are gone
_state = threading.local()


def blas_controller():
    """threadpoolctl's controller for NumPy's BLAS (created on first use), or None without it."""
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
            _controller = ThreadpoolController().select(user_api="blas") or False
        except Exception:  # not installed, or no BLAS it can control
            _controller = False
    return _controller or None


class _SerialBlas:
    """Context manager: NumPy's BLAS on one thread inside, restored when the outermost one exits.

    Calls OpenBLAS's setter directly (~1 us; threadpoolctl's ``limit`` costs ~13 us) and counts
    entries across threads, so overlapping regions in several threads restore the original count once.
    """

    __slots__ = ()
    _lock = threading.Lock()
    _depth = 0
    _saved: list = []

    def __enter__(self):
        cls = _SerialBlas
        with cls._lock:
            if cls._depth == 0:
                libs = blas_controller().lib_controllers
                cls._saved = [lib.get_num_threads() for lib in libs]
                for lib, n in zip(libs, cls._saved):
                    if n != 1:
                        lib.set_num_threads(1)
            cls._depth += 1

    def __exit__(self, *exc):
        cls = _SerialBlas
        with cls._lock:
            cls._depth -= 1
            if cls._depth == 0:
                for lib, n in zip(blas_controller().lib_controllers, cls._saved):
                    if n != 1:
                        lib.set_num_threads(n)


_SERIAL = _SerialBlas()


def _after_fork_in_child():
    """A forked child (DataLoader workers) has only the forking thread: no region is open there, and
    the lock may have been copied held by a thread that no longer exists."""
    _SerialBlas._lock = threading.Lock()
    _SerialBlas._depth = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

_NULL = contextlib.nullcontext()


def serial_blas(xp):
    """Context manager: NumPy's BLAS runs single-threaded inside. A no-op without threadpoolctl and for
    CuPy.

    Why single-threaded: for small GEMMs (a recurrent scan's per-step products, LeNet's layers)
    waking BLAS threads costs more than they save, and OpenBLAS's threads then spin for ~0.1 s after
    each threaded call, taking a core away from ``map_chunks``'s workers (measured: a chunk on the
    main thread 3-4x slower while they spin).
    """
    return _SERIAL if xp is np and blas_controller() is not None else _NULL


# Below this many FLOPs a GEMM runs on one BLAS thread (see ``serial_blas``): LeNet step, 2 cores:
# 15.8 ms with threaded GEMMs, 9.7 ms single-threaded.
SERIAL_GEMM_FLOPS = 5e7


# OpenBLAS itself runs a GEMM on one thread below m * n * k = 65536 * 4 (its SMP threshold):
# no need to pay for switching the thread count (~5 us) there.
BLAS_SERIAL_MNK = 65536 * 4


def matmul(xp, a, b, out=None):
    """``xp.matmul(a, b, out=out)`` (operands with ndim >= 2), on one BLAS thread when small."""
    if xp is np:
        m, k = a.shape[-2:]
        mnk = m * k * b.shape[-1]
        if mnk >= BLAS_SERIAL_MNK and blas_controller() is not None:
            batch = max(a.size // max(m * k, 1), b.size // max(b.shape[-2] * b.shape[-1], 1))
            if 2.0 * batch * mnk < SERIAL_GEMM_FLOPS:
                with _SERIAL:
                    return np.matmul(a, b, out=out)
    return xp.matmul(a, b, out=out)


_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers(xp) -> int:
    """How many threads a batch-parallel kernel uses now: 1 for CuPy, inside a worker, or without
    threadpoolctl; else NumPy's BLAS thread count, at most the usable cores."""
    if xp is not np or getattr(_state, "in_worker", False):
        return 1
    ctl = blas_controller()
    if ctl is None:
        return 1
    if _SerialBlas._depth:
        blas = max(_SerialBlas._saved)
    else:
        blas = max(lib.get_num_threads() or 1 for lib in ctl.lib_controllers)
    return max(1, min(blas, _CORES))


def _executor(n: int):
    """The worker pool (a ``ThreadPoolExecutor`` with at least ``n`` threads), created on first use."""
    global _pool
    if _pool is None or _pool[0] != os.getpid() or _pool[1]._max_workers < n:
        from concurrent.futures import ThreadPoolExecutor
        _pool = (os.getpid(), ThreadPoolExecutor(n, thread_name_prefix="ember-batch"))
    return _pool[1]


# Bytes of per-chunk scratch (im2col columns): small enough to stay in the cache between the copy
# that writes them and the GEMM that reads them (convnet step, interleaved A/B: 8 MB -> 3 MB chunks
# -7.5%, 3 MB -> 1.5 MB another -3.5%, 1 MB no better). On a GPU chunks only bound memory.
CHUNK_BYTES = 2 << 20
DEVICE_CHUNK_BYTES = 256 << 20

# Work below this many FLOPs runs on the calling thread, with one BLAS thread: handing a chunk to a
# worker thread costs ~50-100 us.
PARALLEL_FLOPS = 5e6

# What one element of a memory-bound NumPy pass counts as against ``PARALLEL_FLOPS``: arrays of over
# ~1M elements (a few ms of elementwise work) are split across the workers.
ELEMENTWISE_FLOPS = 5


def chunk_size(xp, n: int, sample_bytes: int) -> int:
    """Samples per chunk: at most ``CHUNK_BYTES`` of scratch per chunk, and at least one chunk per worker."""
    budget = CHUNK_BYTES if xp is np else DEVICE_CHUNK_BYTES
    step = max(1, budget // max(sample_bytes, 1))
    return max(1, min(step, -(-n // workers(xp))))


# Scratch buffers larger than this are allocated per call instead of kept, so that each thread keeps
# at most a few of these (chunks are sized to ``CHUNK_BYTES``; only one sample of a large image can
# need more, and such a convolution costs far more than the allocation).
WORKSPACE_MAX_BYTES = 16 << 20
_workspaces = threading.local()


def workspace(xp, key, shape, dtype):
    """An uninitialized ``shape`` array of ``dtype`` kept for reuse by the calling thread under ``key``.

    Per-chunk scratch (im2col columns, padded inputs) is needed again on every call: a kept buffer
    costs no allocation and is page-faulted in once, also where ``malloc.tune`` does not apply
    (before it, fresh buffers cost 1400-2400 page faults and 3-7 ms of system time per LeNet step).
    Each calling thread has its own buffers, and a buffer is valid until the same thread asks for
    the same key again. CuPy: a fresh array (CuPy's memory pool already reuses device memory).
    """
    if xp is not np:
        return xp.empty(shape, dtype)
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > WORKSPACE_MAX_BYTES:
        return np.empty(shape, dtype)
    store = getattr(_workspaces, "buffers", None)
    if store is None:
        store = _workspaces.buffers = {}
    buf = store.get(key)
    if buf is None or buf.size < nbytes:
        buf = store[key] = np.empty(max(nbytes, 64), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def map_chunks(xp, n: int, chunk: int, fn, flops: float = float("inf"), scratch=None) -> list:
    """``[fn(start, stop, buffers) for each chunk]`` over ``range(n)`` in chunks of ``chunk``, in order.

    With more than one chunk and ``flops`` (the whole job's) of at least ``PARALLEL_FLOPS``, chunks are
    shared out to ``workers(xp)`` threads (the calling thread is one of them) and BLAS is
    single-threaded meanwhile; a single chunk keeps all BLAS threads unless the job is small. ``fn``
    must only write to memory its own chunk owns. An exception raised by ``fn`` is re-raised here.

    ``scratch(i)`` (default: None) is called for each thread ``i`` (0 for the calling thread), on the
    calling thread, and its result is passed as ``buffers`` to every chunk that thread runs (large
    scratch should come from ``workspace(xp, (name, i), ...)``).
    """
    bounds = [(s, min(s + chunk, n)) for s in range(0, n, max(1, chunk))]
    small = flops < PARALLEL_FLOPS
    threads = 1 if small else min(workers(xp), len(bounds))
    make = scratch or (lambda i: None)
    if threads <= 1:
        buffers = make(0) if bounds else None
        with serial_blas(xp) if small else contextlib.nullcontext():
            return [fn(a, b, buffers) for a, b in bounds]
    results = [None] * len(bounds)
    todo = iter(range(len(bounds)))        # a list iterator: next() is atomic under the GIL

    def drain(buffers):
        _state.in_worker = True
        try:
            for i in todo:
                results[i] = fn(*bounds[i], buffers)
        finally:
            _state.in_worker = False

    with serial_blas(xp):
        helpers = [_executor(threads - 1).submit(drain, make(i)) for i in range(1, threads)]
        try:
            drain(make(0))
        finally:
            errors = [h.exception() for h in helpers]   # waits for every helper before BLAS threads return
        for e in errors:
            if e is not None:
                raise e
    return results


def elementwise(xp, fn, *arrays, dtype=None):
    """``fn(*arrays, out=out)`` for same-shaped arrays; ``out`` is new, laid out like ``arrays[0]``.

    Large arrays are split along dim 0 and the pieces run on the workers (ufunc loops release the GIL).
    ``fn`` must write all of ``out`` and read only the matching elements of the inputs.
    """
    first = arrays[0]
    out = xp.empty_like(first, dtype=dtype)
    n = first.shape[0] if first.ndim else 1
    if first.ndim == 0 or n < 2 or xp is not np or first.size * ELEMENTWISE_FLOPS < PARALLEL_FLOPS:
        fn(*arrays, out=out)
        return out
    map_chunks(xp, n, chunk_size(xp, n, 0),
               lambda a, b, _: fn(*(x[a:b] for x in arrays), out=out[a:b]), first.size * ELEMENTWISE_FLOPS)
    return out

