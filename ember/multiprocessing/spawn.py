"""``torch.multiprocessing.spawn``: start ``nprocs`` processes running ``fn(i, *args)``; when one fails,
stop the others and raise in the parent with the child's traceback (ProcessRaisedException) or its
exit code or signal (ProcessExitedException), as PyTorch does."""
import ctypes
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import tempfile
import traceback
import warnings

_PMI_VARS = ('PMI_FD', 'PMI_RANK', 'PMI_SIZE', 'PMI_PORT', 'PMI_ID')
_PR_SET_PDEATHSIG = 1


class ProcessException(Exception):
    """A spawned process failed: ``error_index`` is its index, ``error_pid`` its pid."""
    __slots__ = ['error_index', 'error_pid']

    def __init__(self, msg, error_index, error_pid):
        super().__init__(msg)
        self.msg, self.error_index, self.error_pid = msg, error_index, error_pid

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised an exception; the message holds its traceback."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero code or was killed by a signal."""
    __slots__ = ['exit_code']

    def __init__(self, msg, error_index, error_pid, exit_code, signal_name=None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self):
        return type(self), (self.msg, self.error_index, self.error_pid, self.exit_code, self.signal_name)


def _die_with_parent():
    """Ask Linux to send SIGINT to this process when its parent dies, so no rank outlives the job."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)
    except (OSError, AttributeError):
        pass


def _wrap(fn, i, args, error_file):
    """The spawned process's target: run ``fn(i, *args)``; on an exception, leave its traceback in
    ``error_file`` for the parent and exit with status 1."""
    _die_with_parent()
    for name in _PMI_VARS:  # a child of an mpiexec rank is not a rank of that MPI job
        os.environ.pop(name, None)
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:
        with open(error_file, 'wb') as f:
            pickle.dump(traceback.format_exc(), f)
        _note_distributed_failure()
        sys.exit(1)


def _note_distributed_failure():
    mpi = sys.modules.get('ember.distributed._mpi')
    if mpi is not None:
        mpi.note_failure()


class ProcessContext:
    """The spawned processes; ``join()`` waits for them and raises for the first that fails."""

    def __init__(self, processes, error_files):
        self.error_files, self.processes = error_files, processes
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self):
        return [int(p.pid) for p in self.processes]

    def join(self, timeout=None, grace_period=None):
        """Wait up to ``timeout`` for a process to end; True when all have ended well. When one fails,
        terminate the others (SIGTERM, SIGKILL after the grace period) and raise its exception."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels.keys(), timeout=timeout)
        failed = None
        for sentinel in ready:
            index = self.sentinels.pop(sentinel)
            self.processes[index].join()
            if self.processes[index].exitcode != 0:
                failed = index
                break
        if failed is None:
            return not self.sentinels
        self._stop_all(grace_period)
        raise self._error(failed)

    def _stop_all(self, grace_period):
        """Terminate the processes still running, then kill those that ignore it."""
        if grace_period is not None:
            self._join_all(grace_period)
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        self._join_all(30 if grace_period is None else grace_period)
        for p in self.processes:
            if p.is_alive():
                p.kill()
            p.join()
        self.sentinels.clear()

    def _join_all(self, timeout):
        import time
        end = time.monotonic() + timeout
        for p in self.processes:
            p.join(max(0.0, end - time.monotonic()))

    def _error(self, index):
        """The exception for failed process ``index``: its traceback, else its exit code or signal."""
        process, path = self.processes[index], self.error_files[index]
        if not os.access(path, os.R_OK):
            code = process.exitcode
            if code < 0:
                try:
                    name = signal.Signals(-code).name
                except ValueError:
                    name = f'<Unknown signal {-code}>'
                return ProcessExitedException(f'process {index:d} terminated with signal {name}', error_index=index,
                                              error_pid=process.pid, exit_code=code, signal_name=name)
            return ProcessExitedException(f'process {index:d} terminated with exit code {code:d}',
                                          error_index=index, error_pid=process.pid, exit_code=code)
        with open(path, 'rb') as f:
            trace = pickle.load(f)
        os.unlink(path)
        return ProcessRaisedException(f'\n\n-- Process {index:d} terminated with the following error:\n{trace}',
                                      index, process.pid)


class SpawnContext(ProcessContext):
    def __init__(self, processes, error_files):
        warnings.warn('SpawnContext is renamed to ProcessContext since 1.4 release.', stacklevel=2)
        super().__init__(processes, error_files)


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method='spawn'):
    """Start ``nprocs`` processes of ``fn(i, *args)`` with ``start_method``; join them when ``join``
    (returning None), else return the ProcessContext."""
    context = multiprocessing.get_context(start_method)
    processes, error_files = [], []
    for i in range(nprocs):
        with tempfile.NamedTemporaryFile(prefix='ember-errorfile-', suffix='.pickle', delete=False) as f:
            path = f.name
        os.unlink(path)
        process = context.Process(target=_wrap, args=(fn, i, args, path), daemon=daemon)
        process.start()
        processes.append(process)
        error_files.append(path)
    result = ProcessContext(processes, error_files)
    if not join:
        return result
    while not result.join():
        pass
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method='spawn'):
    """Spawn ``nprocs`` processes running ``fn(i, *args)`` (start method 'spawn'); see start_processes."""
    if start_method != 'spawn':
        warnings.warn(f'This method only supports start_method=spawn (got: {start_method}).\n'
                      'To use a different start_method use:\n\t\t torch.multiprocessing.start_processes(...)',
                      FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method='spawn')
