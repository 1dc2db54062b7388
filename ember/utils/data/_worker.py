"""What runs inside a DataLoader worker process: per-worker seeding, ``get_worker_info``, the task
loop, and the wire format (pickle protocol 5; large arrays travel through POSIX shared memory)."""
import contextlib
import dataclasses
import math
import os
import pickle
import queue
import random
import sys
import threading
import traceback
import weakref
from multiprocessing import shared_memory

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


_SHM_MIN = 1 << 20
"""Buffers of at least this many bytes travel through shared memory; smaller ones inside the pickle (a
segment costs a few system calls, a copy through the pipe costs two copies of the bytes)."""
_ALIGN = 64
_INLINE, _SHARED = b'\x00', b'\x01'


def _pack(obj):
    """A worker's reply as bytes for the result pipe. Pickle protocol 5 hands out NumPy buffers; the large
    ones travel through POSIX shared memory that the main process maps instead of receiving (a 768 MB
    batch no longer costs the pipe's copy plus the unpickled copy). A batch collated straight into a
    segment (``shared_stack``) is sent without any copy; other large buffers are copied into a new one."""
    spans, loose = [], []

    def out_of_band(buf):
        raw = buf.raw()
        if raw.nbytes < _SHM_MIN:
            return True
        home = _home_segment(raw)
        if home is None and not _shm_room(raw.nbytes):
            return True
        spans.append(home)
        if home is None:
            loose.append((len(spans) - 1, raw))
        return False

    payload = pickle.dumps(obj, protocol=5, buffer_callback=out_of_band)
    if not spans:
        return _INLINE + payload
    if loose:
        _copy_to_new_segment(loose, spans)
    header = pickle.dumps(spans, protocol=5)
    return _SHARED + len(header).to_bytes(4, 'little') + header + payload


def _home_segment(raw):
    """``(name, offset, nbytes)`` when ``raw`` lies in a segment this worker made; it then counts as sent."""
    start = np.frombuffer(raw, np.uint8).__array_interface__['data'][0] if raw.nbytes else 0
    for seg in list(_MADE.values()):
        if seg.address <= start and start + raw.nbytes <= seg.address + seg.nbytes:
            seg.sent = True
            return seg.name, start - seg.address, raw.nbytes
    return None


def _copy_to_new_segment(loose, spans):
    offsets, total = [], 0
    for _, raw in loose:
        offsets.append(total)
        total += -(-raw.nbytes // _ALIGN) * _ALIGN
    shm = shared_memory.SharedMemory(create=True, size=total)
    try:
        for (i, raw), offset in zip(loose, offsets):
            shm.buf[offset:offset + raw.nbytes] = raw
            spans[i] = (shm.name, offset, raw.nbytes)
    except BaseException:
        shm.close()
        shm.unlink()
        raise
    shm.close()


def shared_stack(arrays):
    """``np.stack(arrays)``; inside a worker a large result is written straight into shared memory, so it
    reaches the main process without a copy (PyTorch's collate does the same)."""
    if _worker_info is None or not arrays:
        return np.stack(arrays)
    first = np.asarray(arrays[0])
    shape = (len(arrays),) + first.shape
    nbytes = math.prod(shape) * first.dtype.itemsize
    if nbytes < _SHM_MIN or any(np.asarray(a).dtype != first.dtype for a in arrays) or not _shm_room(nbytes):
        return np.stack(arrays)
    out = _WorkerSegment(nbytes).array().view(first.dtype).reshape(shape)
    return np.stack(arrays, out=out)


def _shm_room(nbytes):
    """Whether /dev/shm can hold ``nbytes`` more (Docker gives it 64 MB by default, and writing past a full
    tmpfs kills the process with SIGBUS); without that room the bytes go through the pipe instead."""
    try:
        st = os.statvfs('/dev/shm')
    except (OSError, AttributeError):
        return True
    return st.f_bavail * st.f_frsize >= 2 * nbytes


def _unpack(message):
    """The reply ``_pack`` made; shared buffers become arrays over the mapped segments, which are unlinked at
    once and unmapped when the last array viewing them is freed."""
    view = memoryview(message)
    if view[:1] == _INLINE:
        return pickle.loads(view[1:])
    size = int.from_bytes(view[1:5], 'little')
    spans = pickle.loads(view[5:5 + size])
    segments = {name: _Segment(name) for name in {name for name, _, _ in spans}}
    buffers = [segments[name].array(offset, n) for name, offset, n in spans]
    return pickle.loads(view[5 + size:], buffers=buffers)


def _discard(message):
    """Free the shared memory of a reply that will never be unpacked (read while shutting down)."""
    view = memoryview(message)
    if view[:1] == _SHARED:
        size = int.from_bytes(view[1:5], 'little')
        for name in {name for name, _, _ in pickle.loads(view[5:5 + size])}:
            with contextlib.suppress(OSError, ValueError):
                _Segment(name)


class _Segment:
    """A shared-memory segment mapped here. Arrays over it reach this object through their bases, so the
    mapping is closed exactly when the last of them is freed."""

    def __init__(self, name=None, nbytes=0):
        if name is None:
            self.shm = shared_memory.SharedMemory(create=True, size=max(nbytes, 1))
        else:
            self.shm = shared_memory.SharedMemory(name=name)
            self.shm.unlink()   # the name goes now; the memory stays while mapped
        self.name, self.nbytes = self.shm.name, nbytes
        probe = np.frombuffer(self.shm.buf, np.uint8)
        self.address = probe.__array_interface__['data'][0]
        del probe               # no export of shm.buf may outlive this, or close() would fail

    def array(self, offset=0, nbytes=None):
        """A writable uint8 array over ``nbytes`` bytes at ``offset``, keeping this segment mapped."""
        return np.asarray(_SegmentView(self, self.address + offset, self.nbytes if nbytes is None else nbytes))

    def __del__(self):
        self.shm.close()


class _WorkerSegment(_Segment):
    """A segment a worker collates into; unlinked here unless a reply carried it to the main process."""

    def __init__(self, nbytes):
        super().__init__(nbytes=nbytes)
        self.sent = False
        _MADE[id(self)] = self

    def array(self, offset=0, nbytes=None):
        arr = super().array(offset, nbytes)
        _MADE.pop(id(self), None)
        _MADE[id(self)] = self
        return arr

    def __del__(self):
        if not self.sent:
            with contextlib.suppress(OSError):
                self.shm.unlink()
        super().__del__()


_MADE = weakref.WeakValueDictionary()


class _SegmentView:
    """Exposes part of a segment through ``__array_interface__`` and holds the segment alive."""

    def __init__(self, segment, address, nbytes):
        self.segment = segment
        self.__array_interface__ = {'data': (address, False), 'shape': (nbytes,), 'typestr': '|u1',
                                    'version': 3}


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
        """Stop the thread; with ``flush`` wait until queued replies are written. Replies left unwritten
        (the loader is shutting down) have their shared memory freed here: this process exits with
        ``os._exit``, which would leave the segments to the resource tracker's shutdown warning."""
        self.pending.put(None)
        if flush:
            self.thread.join(timeout=MP_STATUS_CHECK_INTERVAL)
        while True:
            try:
                payload = self.pending.get_nowait()
            except queue.Empty:
                break
            if payload is not None:
                _discard(payload)
        for seg in list(_MADE.values()):
            if not seg.sent:
                seg.sent = True
                with contextlib.suppress(OSError):
                    seg.shm.unlink()


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
