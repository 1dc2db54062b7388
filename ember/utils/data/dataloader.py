"""``DataLoader``: iterate a dataset in (optionally shuffled) batches, in this process or in worker
processes that each fetch whole batches and send them back in order."""
import itertools
import math
import multiprocessing
import os
import sys
import warnings
import typing
import weakref
from collections.abc import Callable
from multiprocessing import connection

from . import _worker
from ..._torch_names import object_repr
from ._collate import default_collate, default_convert
from ._fetch import create_fetcher
from ._worker import ExceptionWrapper, get_worker_info, _IterableDatasetStopIteration, _ResumeIteration
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, _draw_seed

__all__ = ['DataLoader', 'get_worker_info', 'default_collate', 'default_convert']

# PyTorch's type aliases for annotations, which libraries (Opacus) import from here
_T = typing.TypeVar('_T')
_T_co = typing.TypeVar('_T_co', covariant=True)
_collate_fn_t = Callable[[list[_T]], typing.Any]
_worker_init_fn_t = Callable[[int], None]


class _DatasetKind:
    """PyTorch's tag of a loader's dataset style (``loader._dataset_kind``), read by the iterators: fastai builds
    ``_SingleProcessDataLoaderIter`` over its own loader object, which says ``_DatasetKind.Iterable``."""
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        return create_fetcher(kind == _DatasetKind.Iterable, dataset, auto_collation, collate_fn, drop_last)


class _InfiniteConstantSampler(Sampler):
    """The sampler of an iterable dataset: yields ``None`` forever (the dataset decides when to stop)."""

    def __iter__(self):
        while True:
            yield None


def _default_context():
    """'fork' on Linux unless the user chose a start method; the platform default elsewhere."""
    if (sys.platform.startswith('linux') and multiprocessing.get_start_method(allow_none=True) is None
            and 'fork' in multiprocessing.get_all_start_methods()):
        return multiprocessing.get_context('fork')
    return multiprocessing.get_context()


def _widen_pipe(conn, size=1 << 20):
    """Grow a result pipe's kernel buffer (64 KiB by default on Linux) so a batch crosses in fewer
    reads and context switches; silently keeps the default where that is not possible."""
    try:
        import fcntl
        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):
        pass


def _cpu_count():
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


_FROZEN_ATTRS = ('batch_size', 'batch_sampler', 'sampler', 'drop_last', 'dataset', 'persistent_workers')


class DataLoader:
    """Combines a dataset and a sampler into an iterable over (collated) batches; ``num_workers > 0``
    loads batches in worker processes."""

    _initialized = False
    __repr__ = object_repr      # <torch.utils.data.dataloader.DataLoader object at ...>, as PyTorch prints

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device='', in_order=True):
        prefetch_factor = _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers)
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        iterable = isinstance(dataset, IterableDataset)
        self._dataset_kind = _DatasetKind.Iterable if iterable else _DatasetKind.Map
        shuffle = _check_sampling_options(iterable, shuffle, sampler, batch_sampler)
        if sampler is not None and shuffle:
            raise ValueError('sampler option is mutually exclusive with shuffle')
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError('batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, '
                                 'and drop_last')
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError('batch_size=None option disables auto-batching and is mutually exclusive with '
                             'drop_last')
        if sampler is None:
            sampler = _default_sampler(dataset, iterable, shuffle, generator)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called = None
        self._iterator = None
        self._initialized = True
        self.check_worker_number_rationality()

    def __class_getitem__(cls, item):
        return cls

    @property
    def multiprocessing_context(self):
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            context = _resolve_context(context, self.num_workers)
        self._multiprocessing_context = context

    def __setattr__(self, attr, val):
        if self._initialized and attr in _FROZEN_ATTRS:
            raise ValueError(f'{attr} attribute should not be set after {type(self).__name__} is initialized')
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _get_iterator(self):
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self):
        """A new iterator per epoch; with ``persistent_workers`` the same one (and its workers) is reused."""
        if not (self.persistent_workers and self.num_workers > 0):
            return self._get_iterator()
        if self._iterator is None:
            self._iterator = self._get_iterator()
        else:
            self._iterator._reset(self)
        return self._iterator

    def __len__(self):
        if self._dataset_kind == _DatasetKind.Map:
            return len(self._index_sampler)
        length = self._IterableDataset_len_called = len(self.dataset)
        if self.batch_size is not None:
            length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
        return length

    def check_worker_number_rationality(self):
        """Warn when more workers are asked for than this machine has CPUs."""
        if not self.num_workers:
            return
        suggest = _cpu_count()
        if suggest is not None and self.num_workers <= suggest:
            return
        checked = '' if hasattr(os, 'sched_getaffinity') else ' (`cpuset` is not taken into account)'
        hint = (f'Our suggested max number of worker in current system is {suggest}{checked}, which is smaller '
                'than what this DataLoader is going to create.') if suggest is not None else \
            'DataLoader is not able to compute a suggested max number of worker in current system.'
        warnings.warn(f'This DataLoader will create {self.num_workers} worker processes in total. {hint} Please '
                      'be aware that excessive worker creation might get DataLoader running slow or even freeze, '
                      'lower the worker number to avoid potential slowness/freeze if necessary.', stacklevel=2)


def _check_worker_options(num_workers, timeout, prefetch_factor, persistent_workers):
    """Validate the worker options; return the effective ``prefetch_factor`` (2 with workers)."""
    if num_workers < 0:
        raise ValueError('num_workers option should be non-negative; use num_workers=0 to disable '
                         'multiprocessing.')
    if timeout < 0:
        raise ValueError('timeout option should be non-negative')
    if num_workers == 0 and prefetch_factor is not None:
        raise ValueError('prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 '
                         'to enable multiprocessing, otherwise set prefetch_factor to None.')
    if num_workers > 0 and prefetch_factor is None:
        prefetch_factor = 2
    elif prefetch_factor is not None and prefetch_factor < 0:
        raise ValueError('prefetch_factor option should be non-negative')
    if persistent_workers and num_workers == 0:
        raise ValueError('persistent_workers option needs num_workers > 0')
    return prefetch_factor


def _check_sampling_options(iterable, shuffle, sampler, batch_sampler):
    """Iterable datasets take no shuffle/sampler/batch_sampler; returns ``shuffle`` as the loader uses it."""
    if not iterable:
        return bool(shuffle)
    if shuffle not in {False, None}:
        raise ValueError(f'DataLoader with IterableDataset: expected unspecified shuffle option, but got '
                         f'shuffle={shuffle}')
    if sampler is not None:
        raise ValueError(f'DataLoader with IterableDataset: expected unspecified sampler option, but got '
                         f'sampler={sampler}')
    if batch_sampler is not None:
        raise ValueError(f'DataLoader with IterableDataset: expected unspecified batch_sampler option, but got '
                         f'batch_sampler={batch_sampler}')
    return shuffle


def _default_sampler(dataset, iterable, shuffle, generator):
    if iterable:
        return _InfiniteConstantSampler()
    return RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)


def _resolve_context(context, num_workers):
    """A multiprocessing context from a start-method name or context object (only with workers)."""
    if num_workers <= 0:
        raise ValueError(f'multiprocessing_context can only be used with multi-process loading (num_workers > '
                         f'0), but got num_workers={num_workers}')
    if isinstance(context, str):
        methods = multiprocessing.get_all_start_methods()
        if context not in methods:
            raise ValueError(f'multiprocessing_context option should specify a valid start method in '
                             f'{methods!r}, but got multiprocessing_context={context!r}')
        context = multiprocessing.get_context(context)
    if not isinstance(context, multiprocessing.context.BaseContext):
        raise TypeError(f'multiprocessing_context option should be a valid context object or a string '
                        f'specifying the start method, but got multiprocessing_context={context}')
    return context


class _BaseDataLoaderIter:
    """State shared by both iterators: the index stream, the base seed for workers, the counters."""
    __repr__ = object_repr      # <torch.utils.data.dataloader._SingleProcessDataLoaderIter object at ...>

    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._iterable = self._dataset_kind == _DatasetKind.Iterable
        self._IterableDataset_len_called = loader._IterableDataset_len_called
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        if loader.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", stacklevel=3)
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _draw_seed(loader.generator)
        self._persistent_workers = loader.persistent_workers
        self._num_yielded = 0

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._IterableDataset_len_called = loader._IterableDataset_len_called

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if self._iterable and self._IterableDataset_len_called is not None and \
                self._num_yielded > self._IterableDataset_len_called:
            self._warn_length()
        return data

    def next(self):
        """Old alias of ``__next__`` (``dataiter.next()``)."""
        return self.__next__()

    def _warn_length(self):
        msg = (f'Length of IterableDataset {self._dataset} was reported to be {self._IterableDataset_len_called}'
               f'(when accessing len(dataloader)), but {self._num_yielded} samples have been fetched. ')
        if self._num_workers > 0:
            msg += ('For multiprocessing data-loading, this could be caused by not properly configuring the '
                    'IterableDataset replica at each worker. Please see '
                    'https://pytorch.org/docs/stable/data.html#torch.utils.data.IterableDataset for examples.')
        warnings.warn(msg, stacklevel=3)

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f'{type(self).__name__} cannot be pickled')


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Fetch and collate each batch in this process."""

    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError('_SingleProcessDataLoaderIter requires timeout == 0')
        self._fetcher = create_fetcher(self._iterable, self._dataset, self._auto_collation, self._collate_fn,
                                       self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(self._next_index())


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Worker processes fetch whole batches: task ``i`` goes to worker ``i % num_workers``, at most
    ``prefetch_factor * num_workers`` tasks are in flight, and early replies wait for their turn."""

    _finalizer = None
    _workers = ()

    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or _default_context()
        _share_resource_tracker()
        self._workers_done_event = ctx.Event()
        self._index_queues, self._workers, self._readers = [], [], []
        self._workers_status = [True] * self._num_workers
        self._finalizer = weakref.finalize(self, _stop_workers, self._workers_done_event, self._workers,
                                           self._index_queues, self._readers)
        for i in range(self._num_workers):
            self._start_worker(ctx, i, loader.worker_init_fn)
        self._reader_worker = {r: i for i, r in enumerate(self._readers)}
        self._reset(loader, first_iter=True)

    def _start_worker(self, ctx, worker_id, init_fn):
        """Start worker ``worker_id`` with its own index queue and result pipe (whose write end the worker
        alone keeps, so a dead worker shows as end-of-file)."""
        index_queue = ctx.Queue()
        index_queue.cancel_join_thread()
        reader, writer = ctx.Pipe(duplex=False)
        _widen_pipe(reader)
        args = (self._iterable, self._dataset, index_queue, writer, self._workers_done_event,
                self._auto_collation, self._collate_fn, self._drop_last, self._base_seed, init_fn, worker_id,
                self._num_workers)
        w = ctx.Process(target=_worker._worker_loop, args=args, daemon=True)
        self._index_queues.append(index_queue)
        self._readers.append(reader)
        try:
            w.start()
        finally:
            writer.close()
        self._workers.append(w)

    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_worker = {}
        self._results = {}
        self._tasks_outstanding = 0
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:
            self._resume_workers()
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _resume_workers(self):
        """Start a new epoch on persistent workers; replies still in flight from the last one are dropped."""
        for q in self._index_queues:
            q.put(_ResumeIteration())
        remaining = self._num_workers
        while remaining > 0:
            idx, _ = self._get_data()
            remaining -= isinstance(idx, _ResumeIteration)

    def _try_get_data(self, timeout=_worker.MP_STATUS_CHECK_INTERVAL):
        """``(True, reply)`` from whichever worker has one, or ``(False, None)`` on timeout; raises if a
        worker died. Waiting on the pipes and the process sentinels wakes up at once on either."""
        readers = [r for r in self._readers if not r.closed]
        sentinels = [w.sentinel for i, w in enumerate(self._workers) if self._workers_status[i]]
        ready = connection.wait(readers + sentinels, timeout)
        for r in ready:
            if r in self._reader_worker:
                try:
                    return True, _worker._unpack(r.recv_bytes())
                except EOFError:
                    r.close()
        failed = [i for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
        if failed:
            for i in failed:
                self._mark_worker_as_unavailable(i)
            pids = ', '.join(str(self._workers[i].pid) for i in failed)
            raise RuntimeError(f'DataLoader worker (pid(s) {pids}) exited unexpectedly')
        return False, None

    def _get_data(self):
        if self._timeout > 0:
            ok, data = self._try_get_data(self._timeout)
            if not ok:
                raise RuntimeError(f'DataLoader timed out after {self._timeout} seconds')
            return data
        while True:
            ok, data = self._try_get_data()
            if ok:
                return data

    def _next_pending(self):
        """Advance past tasks that will never be answered (their worker stopped); False when none remain."""
        while self._rcvd_idx < self._send_idx:
            idx = self._rcvd_idx
            if idx in self._results:
                return True
            worker = self._task_worker.get(idx)
            if worker is not None and self._workers_status[worker]:
                return True
            self._task_worker.pop(idx, None)
            self._rcvd_idx += 1
        return False

    def _next_data(self):
        while True:
            if not self._next_pending():
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._results:
                return self._take(self._rcvd_idx, self._results.pop(self._rcvd_idx))
            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if self._iterable and isinstance(data, _IterableDatasetStopIteration):
                self._worker_exhausted(data.worker_id)
                continue
            if idx == self._rcvd_idx or not self._in_order:
                return self._take(idx, data)
            self._results[idx] = data

    def _take(self, idx, data):
        """Hand out the reply for task ``idx`` (re-raising a worker's exception) and queue a new task."""
        worker = self._task_worker.pop(idx)
        if idx == self._rcvd_idx:
            self._rcvd_idx += 1
        self._workers_num_tasks[worker] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _worker_exhausted(self, worker_id):
        """A worker's iterable copy ran dry: give it no more tasks (and let it exit unless persistent)."""
        if self._persistent_workers:
            self._workers_status[worker_id] = False
        else:
            self._mark_worker_as_unavailable(worker_id)
        self._try_put_index()

    def _pick_worker(self):
        """The next active worker: round-robin in order mode, the least busy one otherwise."""
        active = [i for i, ok in enumerate(self._workers_status) if ok]
        if not active:
            return None
        if not self._in_order:
            return min(active, key=lambda i: self._workers_num_tasks[i])
        while True:
            i = next(self._worker_queue_idx_cycle)
            if self._workers_status[i]:
                return i

    def _try_put_index(self):
        if self._tasks_outstanding >= self._prefetch_factor * self._num_workers:
            return
        worker = self._pick_worker()
        if worker is None:
            return
        try:
            index = self._next_index()
        except StopIteration:
            return
        self._index_queues[worker].put((self._send_idx, index))
        self._task_worker[self._send_idx] = worker
        self._workers_num_tasks[worker] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    def _mark_worker_as_unavailable(self, worker_id):
        """Tell the worker to exit (``None`` on its queue) and stop sending it tasks."""
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self):
        """Stop the workers now (also done when this iterator is collected, or at interpreter exit)."""
        if self._finalizer is not None:
            self._finalizer()


def _stop_workers(done_event, workers, index_queues, readers):
    """Ask every worker to exit, wait briefly, terminate the rest, close queues and pipes. A finalizer that
    holds these (not the iterator) keeps them intact even when the iterator dies in a reference cycle."""
    try:
        done_event.set()
        for q in index_queues:
            q.put(None)
        for w in workers:
            w.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
    finally:
        for w in workers:
            if w.is_alive():
                w.terminate()
                w.join(timeout=_worker.MP_STATUS_CHECK_INTERVAL)
        for q in index_queues:
            q.cancel_join_thread()
            q.close()
        for r in readers:
            _drain(r)
            r.close()


def _drain(reader):
    """Free the shared memory of replies left unread in a result pipe at shutdown."""
    try:
        while not reader.closed and reader.poll(0):
            _worker._discard(reader.recv_bytes())
    except (OSError, EOFError):
        pass


def _share_resource_tracker():
    """Start multiprocessing's resource tracker before the workers, so that workers (which register the
    shared-memory segments they create) and this process (which unlinks them) talk to the same one: it
    frees segments left over if the main process dies, and balances register/unregister otherwise."""
    if os.name == 'posix':
        from multiprocessing import resource_tracker
        resource_tracker.ensure_running()
