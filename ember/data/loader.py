"""``DataLoader``: batches from a dataset, in the main process or in parallel worker processes.

With ``num_workers > 0``, each worker is a separate process (``fork`` where available) holding its
own copy of the dataset; the main process sends it batch indices and receives collated batches
(Tensors travel as NumPy arrays). Up to ``prefetch_factor * num_workers`` batches are in flight, and
batches come back in sampler order. A worker's exception is re-raised in the caller with the worker's
traceback; a worker that dies raises ``RuntimeError`` naming its pid and exit status instead of
hanging; with ``timeout > 0`` a batch that takes longer raises ``RuntimeError``.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import queue
import signal
import time

from ..backend.device import get_device
from ..backend.random import default_generator
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from .worker import (ExceptionWrapper, _IterableDatasetStopIteration, _ResumeIteration, make_fetcher,
                     worker_loop)

# How often (seconds) the main process checks its workers while waiting for a batch.
_POLL_INTERVAL = 0.1


class _InfiniteConstantSampler(Sampler):
    """For IterableDataset: no indices, just "one more sample" forever."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Iterate over ``dataset`` in batches (PyTorch's ``torch.utils.data.DataLoader``).

    ``batch_size`` samples per batch (``None``: no batching, samples pass through ``default_convert``);
    ``shuffle`` a new random order each epoch; ``sampler`` / ``batch_sampler`` custom orders;
    ``num_workers`` worker processes (0: load in the main process); ``collate_fn`` merges samples;
    ``pin_memory`` is accepted and has no effect (batches are host NumPy memory; move them with
    ``.to(device)``); ``drop_last`` drops a final short batch; ``timeout`` seconds to wait for a batch
    from workers (0: forever, while still detecting dead workers); ``worker_init_fn(worker_id)`` runs in
    each worker after seeding; ``generator`` (an ``ember.Generator``) drives shuffling and worker seeds;
    ``prefetch_factor`` batches in flight per worker (default 2); ``persistent_workers`` keeps workers
    alive across epochs; ``multiprocessing_context`` a start method name or context.
    """

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator=None, *, prefetch_factor: int | None = None, persistent_workers: bool = False):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing. Let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor <= 0:
            raise ValueError("prefetch_factor option should be positive")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset = dataset
        self.num_workers, self.prefetch_factor = num_workers, prefetch_factor
        self.pin_memory, self.timeout, self.worker_init_fn = pin_memory, timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (None, False):
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but got "
                                 f"batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._iterator = None

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _base_seed(self) -> int:
        gen = self.generator if self.generator is not None else default_generator(get_device("cpu"))
        return int(gen.rng.integers(0, 2**62))

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None or self._iterator._shutdown:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _MultiProcessIter(self)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _SingleProcessIter:
    def __init__(self, loader: DataLoader):
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = make_fetcher(loader._iterable, loader.dataset, loader._auto_collation, loader.collate_fn,
                                     loader.drop_last)

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


def _context(spec):
    """The multiprocessing context: ``fork`` (fast, no pickling of the dataset) unless CUDA is already in
    use in this process (a forked child cannot use the parent's CUDA context), then ``spawn``."""
    if spec is None:
        from ..backend import device as _device
        fork = "fork" in mp.get_all_start_methods() and not _device.cuda_used
        return mp.get_context("fork" if fork else "spawn")
    if isinstance(spec, str):
        return mp.get_context(spec)
    return spec


class _MultiProcessIter:
    def __init__(self, loader: DataLoader):
        self._loader = loader
        self._num_workers = n = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._shutdown = False
        ctx = _context(loader.multiprocessing_context)
        self._result_queue = ctx.Queue()
        self._done_event = ctx.Event()
        self._index_queues, self._workers = [], []
        base_seed = loader._base_seed()
        for i in range(n):
            iq = ctx.Queue()
            iq.cancel_join_thread()
            w = ctx.Process(target=worker_loop, daemon=True,
                            args=(loader._iterable, loader.dataset, iq, self._result_queue, self._done_event,
                                  loader._auto_collation, loader.collate_fn, loader.drop_last, base_seed + i,
                                  loader.worker_init_fn, i, n))
            w.start()
            self._index_queues.append(iq)
            self._workers.append(w)
        self._reset(loader, first_iter=True)

    def _reset(self, loader, first_iter: bool = False) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._send_idx = self._rcvd_idx = 0
        self._task_info: dict = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            for iq in self._index_queues:
                iq.put(_ResumeIteration())
            remaining = self._num_workers
            while remaining > 0:  # drain results of the previous epoch until every worker acknowledged
                idx, _ = self._get_data()
                if isinstance(idx, _ResumeIteration):
                    remaining -= 1
        for _ in range(self._prefetch * self._num_workers):
            self._try_put_index()

    def _try_put_index(self) -> None:
        if self._tasks_outstanding >= self._prefetch * self._num_workers:
            return
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            wid = next(self._cycle)
            if self._workers_status[wid]:
                break
        else:
            return
        self._index_queues[wid].put((self._send_idx, index))
        self._task_info[self._send_idx] = (wid,)
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _get_data(self):
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = _POLL_INTERVAL
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._shutdown_workers(wait=0.2)  # the late worker is busy: don't wait for it long
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
                wait = min(wait, left)
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                self._check_workers()

    def _check_workers(self) -> None:
        dead = [(i, w) for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
        if not dead:
            return
        details = ", ".join(f"worker {i} (pid {w.pid}) {_describe_exit(w.exitcode)}" for i, w in dead)
        self._shutdown_workers(wait=0.5)
        raise RuntimeError(f"DataLoader worker exited unexpectedly: {details}. If a worker was killed for using too "
                           "much memory, try fewer workers or a smaller batch/prefetch_factor.")

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._workers_status[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown_workers()
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1])
            idx, data = self._get_data()
            if isinstance(idx, _ResumeIteration):
                continue
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._workers_status[data.worker_id] = False
                if not self._persistent:
                    self._index_queues[data.worker_id].put(None)
                self._try_put_index()
                continue
            if idx != self._rcvd_idx:
                self._task_info[idx] += (data,)
                continue
            del self._task_info[idx]
            self._rcvd_idx += 1
            return self._process(data)

    def _process(self, data):
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown_workers(self, wait: float = 2.0) -> None:
        """Stop the workers: ask them to exit, give each ``wait`` seconds, then terminate it."""
        if self._shutdown:
            return
        self._shutdown = True
        self._done_event.set()
        for iq, w in zip(self._index_queues, self._workers):
            if w.is_alive():
                try:
                    iq.put(None)
                except (OSError, ValueError):
                    pass
        for w in self._workers:
            w.join(timeout=wait)
            if w.is_alive():
                w.terminate()
                w.join(timeout=1.0)
        for iq in self._index_queues:
            iq.cancel_join_thread()
            iq.close()
        self._result_queue.cancel_join_thread()
        self._result_queue.close()

    def __del__(self):
        # may run inside the garbage collector at any point of the program: never block it for long
        try:
            self._shutdown_workers(wait=0.1)
        except Exception:
            pass


def _describe_exit(code) -> str:
    if code is None:
        return "is still starting"
    if code < 0:
        try:
            return f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
