"""``Work``: the handle of a collective or point-to-point operation in flight (``async_op=True``).
Waiting polls the MPI requests against the group's timeout, so a rank that died or never came makes
the others raise instead of hanging."""
import datetime
import os
import time

import numpy as np

from . import _mpi

# Waiting polls MPI (which also drives MPI's progress: a rank that sleeps between polls holds up its
# peers). It yields the CPU between polls for the first _SPIN_S seconds, then sleeps, doubling the
# pause up to _MAX_SLEEP. Measured with 2 ranks on 2 cores, all_reduce of 10**6 float32: 1.0 ms with
# MPI's blocking Wait, 7.8 ms with sleeps from the 64th poll (up to 2 ms), 0.8 ms with this.
_SPIN_S = 0.005
_MAX_SLEEP = 1e-3


class Work:
    """The pending operation ``op`` on group ``pg``: MPI ``requests`` plus ``finish``, run once when
    they complete (copies back, the average's division); ``outputs`` is what ``result()`` returns."""

    def __init__(self, pg, op, requests, finish=None, outputs=(), keep=()):
        self._pg, self._op, self._requests = pg, op, list(requests)
        self._finish, self._outputs, self._keep = finish, list(outputs), keep
        self._done, self._error, self._source = False, None, -1
        pg.pending.append(self)

    def is_completed(self):
        """Whether the operation has finished (tests the requests without blocking)."""
        if not self._done and self._error is None:
            self._test()
        return self._done

    def is_success(self):
        return self._done and self._error is None

    def exception(self):
        return self._error

    def wait(self, timeout=None):
        """Block until the operation completes; RuntimeError after ``timeout`` (the group's by default)."""
        if self._error is not None:
            raise self._error
        limit = self._pg.timeout if timeout is None else timeout
        if isinstance(limit, datetime.timedelta):
            limit = limit.total_seconds()
        start = time.monotonic()
        deadline, pause = start + limit, 2.5e-5
        while not self._test():
            now = time.monotonic()
            if now - start < _SPIN_S:
                os.sched_yield()
                continue
            if now > deadline:
                self._fail(limit)
            time.sleep(pause)
            pause = min(pause * 2, _MAX_SLEEP)
        return True

    def result(self):
        """The operation's output tensors."""
        return list(self._outputs)

    def _source_rank(self):
        return self._source

    source_rank = _source_rank

    def synchronize(self):
        self.wait()

    def get_future(self):
        """A ``torch.futures.Future`` of ``result()`` (DDP comm hooks chain ``then`` on it). ember's futures
        cannot drive MPI while waited on, so the operation is completed first and the future is born complete (or
        holding the operation's error): a hook's all-reduce overlaps nothing of the backward pass."""
        from ..futures import Future
        future = Future()
        try:
            self.wait()
        except RuntimeError as exc:
            future.set_exception(exc)
        else:
            future.set_result(self.result())
        return future

    def _test(self):
        """Test the requests; on completion run ``finish`` once. Returns whether done."""
        if self._done:
            return True
        MPI = _mpi.require()
        try:
            status = MPI.Status()
            if len(self._requests) == 1:
                done = self._requests[0].Test(status)
            else:
                done = MPI.Request.Testall(self._requests)
        except MPI.Exception as exc:
            self._error = _broken(self._pg, f'{self._op} failed in MPI: {exc.Get_error_string()}')
            raise self._error from None
        if done:
            self._done = True
            self._source = status.Get_source()
            if self._finish is not None:
                self._finish()
            self._keep = None
            if self in self._pg.pending:
                self._pg.pending.remove(self)
        return done

    def _fail(self, limit):
        """Give up after the timeout: the group is unusable from here on."""
        self._error = _broken(
            self._pg, f'{self._op} on rank {self._pg.comm.Get_rank()} timed out after {limit:g} s waiting for '
                      f'the other ranks of the group (one may have failed, exited or not called the same '
                      f'collective)')
        raise self._error


def _broken(pg, message):
    """Mark ``pg`` broken and return the RuntimeError to raise."""
    pg.broken = message
    _mpi.note_failure()
    return RuntimeError(f'ember.distributed: {message}; the process group cannot be used any more')


def run(work, async_op):
    """Return ``work`` for ``async_op=True``; else wait for it and return None, as PyTorch."""
    if async_op:
        return work
    work.wait()
    return None


def settle(pg, arrays):
    """Before a new operation on ``arrays`` starts on ``pg``: wait for the operations in flight that
    use the same memory, so that operations on one tensor happen in the order they were called (as
    PyTorch runs a group's operations in order), and let the others progress."""
    for work in list(pg.pending):
        if work._test():
            continue
        if any(np.may_share_memory(a, k) for a in arrays if a is not None
               for k in work._keep if isinstance(k, np.ndarray)):
            work.wait()
