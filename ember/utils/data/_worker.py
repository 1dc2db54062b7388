"""What runs inside a DataLoader worker process: per-worker seeding, ``get_worker_info``, the task
loop, and the wire format (pickle protocol 5, so arrays travel as raw buffers)."""
import dataclasses
import os
import pickle
import queue
import random
import sys
import threading
import traceback

import numpy as np

from ._fetch import create_fetcher

MP_STATUS_CHECK_INTERVAL = 1.0
"""Seconds between liveness checks while a worker waits for tasks or the main process for data."""

_worker_info = None


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: its id, the worker count, its seed and its
    own copy of the dataset."""
    id: int
    num_workers: int
    seed: int
    dataset: object
    rng: object = None
    worker_method: str = 'multiprocessing'


def get_worker_info():
    """This worker's ``WorkerInfo``; ``None`` in the main process."""
    return _worker_info


@dataclasses.dataclass(frozen=True)
class _IterableDatasetStopIteration:
    """Sent by a worker whose copy of an iterable dataset is exhausted."""
    worker_id: int


@dataclasses.dataclass(frozen=True)
class _ResumeIteration:
    """Tells a persistent worker that a new epoch starts (it acknowledges and rebuilds its fetcher)."""


class _KeyErrorMessage(str):
    """A str whose repr is itself, so a re-raised KeyError shows the traceback text readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and traceback text."""

    def __init__(self, exc_info=None, where='in background'):
        exc_info = exc_info or sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_msg = ''.join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        """Raise an exception of the original type whose message holds the original traceback."""
        msg = f'Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}'
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        elif getattr(self.exc_type, 'message', None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            del exception  # no frame -> exception -> traceback cycle keeps the loader's iterator alive


def _pack(obj):
    """Serialize a worker's reply with protocol 5, so NumPy buffers are written without conversion."""
    return pickle.dumps(obj, protocol=5)


def _unpack(payload):
    return pickle.loads(payload)


class _Sender:
    """Writes replies to the result pipe from a background thread, so the worker goes on fetching while
    the main process is busy (the pipe holds only 64 KiB)."""

    def __init__(self, conn):
        self.conn = conn
        self.pending = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name='ember_data_sender', daemon=True)
        self.thread.start()

    def put(self, payload):
        self.pending.put(payload)

    def _run(self):
        while (payload := self.pending.get()) is not None:
            try:
                self.conn.send_bytes(payload)
            except OSError:
                return

    def close(self, flush):
        """Stop the thread; with ``flush`` wait until queued replies are written."""
        self.pending.put(None)
        if flush:
            self.thread.join(timeout=MP_STATUS_CHECK_INTERVAL)


def numpy_seed(base_seed, worker_id):
    """Four 32-bit words for ``np.random.seed``, mixed from the base seed and the worker id with NumPy's
    SeedSequence hash (so NumPy's stream differs from ``random``'s, which gets ``base_seed + id``)."""
    mask = 0xFFFFFFFF
    seq = np.random.SeedSequence([worker_id, base_seed & mask, (base_seed >> 32) & mask, 0])
    return seq.generate_state(4, np.uint32)


def _seed_worker(base_seed, worker_id):
    """Seed Python's ``random``, ember's default generator and NumPy's global RNG; return the seed."""
    import ember
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    return seed


class _ParentWatch:
    """Notices when the process that started this worker has died (the worker is then re-parented)."""

    def __init__(self):
        self.parent = os.getppid()

    def alive(self):
        return os.getppid() == self.parent


def _worker_loop(iterable, dataset, index_queue, result_conn, done_event, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers):
    """Serve ``(idx, indices)`` tasks from ``index_queue`` until ``None`` arrives; reply ``(idx, batch)``."""
    global _worker_info
    sender = _Sender(result_conn)
    try:
        seed = _seed_worker(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f'in DataLoader worker process {worker_id}'
        fetcher, pending_error = None, None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            pending_error = ExceptionWrapper(where=where)
        _serve(index_queue, sender, done_event, fetcher, pending_error,
               lambda: create_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last),
               iterable, worker_id, where)
    except KeyboardInterrupt:
        pass
    sender.close(flush=not done_event.is_set())


def _serve(index_queue, sender, done_event, fetcher, pending_error, new_fetcher, iterable, worker_id, where):
    """The task loop: fetch each batch, wrap failures, and send replies until told to stop."""
    watch = _ParentWatch()
    iteration_end = False
    while watch.alive():
        try:
            task = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
        except queue.Empty:
            continue
        if isinstance(task, _ResumeIteration):
            sender.put(_pack((task, None)))
            iteration_end = False
            fetcher = new_fetcher()
            continue
        if task is None:
            break
        if done_event.is_set() or iteration_end:
            continue
        idx, index = task
        if pending_error is not None:
            data, pending_error = pending_error, None
        else:
            data = _fetch(fetcher, index, iterable, worker_id, where)
            iteration_end = isinstance(data, _IterableDatasetStopIteration)
        sender.put(_reply(idx, data, where))
        del data, idx, index, task


def _fetch(fetcher, index, iterable, worker_id, where):
    """One batch, or the marker for an exhausted iterable dataset, or the wrapped exception."""
    try:
        return fetcher.fetch(index)
    except StopIteration:
        if iterable:
            return _IterableDatasetStopIteration(worker_id)
        return ExceptionWrapper(where=where)
    except Exception:
        return ExceptionWrapper(where=where)


def _reply(idx, data, where):
    """The serialized reply; a batch that cannot be pickled turns into the pickling error."""
    try:
        return _pack((idx, data))
    except Exception:
        return _pack((idx, ExceptionWrapper(where=where)))
