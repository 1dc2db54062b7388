"""The MPI library under ``ember.distributed``: mpi4py over MPICH, loaded on first use so that
``import ember.distributed`` needs neither (the ``distributed`` extra installs them)."""
import atexit
import importlib.util
import os
import sys

INSTALL = "pip install 'ember[distributed]'"
_MPI = []
_STATE = {'healthy': True}


def available():
    """Whether mpi4py can be imported (it brings MPICH's library with the ``mpich`` wheel)."""
    try:
        return importlib.util.find_spec('mpi4py') is not None
    except (ImportError, ValueError):  # ValueError: a ``sys.modules['mpi4py'] = None`` block
        return False


def require():
    """mpi4py's ``MPI`` module, started once for the process (MPI starts only once per process, so a
    destroyed process group leaves it up for the next one); it is finalized at exit unless failed."""
    if _MPI:
        return _MPI[0]
    if not available():
        raise RuntimeError(f'torch.distributed needs MPI, which ember reaches through mpi4py and MPICH; '
                           f'install them with: {INSTALL}')
    import mpi4py
    mpi4py.rc.initialize = False
    mpi4py.rc.finalize = False
    from mpi4py import MPI
    if not MPI.Is_initialized():
        MPI.Init_thread(MPI.THREAD_MULTIPLE)
    _MPI.append(MPI)
    atexit.register(_finalize)
    _watch_uncaught_exceptions()
    return MPI


def note_failure():
    """Record that this process is failing: it then exits without ``MPI_Finalize``, whose barrier would
    wait for ranks that may never come (mpiexec then stops the other ranks at once)."""
    _STATE['healthy'] = False


def _finalize():
    """At exit: ``MPI_Finalize`` when all went well (mpiexec takes an exit without it for a failure and
    kills the other ranks)."""
    MPI = _MPI[0]
    if _STATE['healthy'] and not MPI.Is_finalized():
        MPI.Finalize()


def _watch_uncaught_exceptions():
    """Wrap ``sys.excepthook`` so that an uncaught exception counts as a failure."""
    previous = sys.excepthook

    def excepthook(*info):
        note_failure()
        previous(*info)
    sys.excepthook = excepthook


def initialized():
    """Whether this process has started MPI already."""
    return bool(_MPI)


def launched_by_mpiexec():
    """Whether a process manager (``mpiexec``/``mpirun``) started this process as an MPI rank."""
    return any(v in os.environ for v in ('PMI_FD', 'PMI_PORT', 'PMIX_RANK', 'OMPI_COMM_WORLD_RANK'))


def launcher_ranks():
    """``(rank, world_size, local_rank, local_world_size)`` as the MPI process manager gave them, or None."""
    env = os.environ
    for rank, size, local, nlocal in (('PMI_RANK', 'PMI_SIZE', 'MPI_LOCALRANKID', 'MPI_LOCALNRANKS'),
                                      ('OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE',
                                       'OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_LOCAL_SIZE')):
        if rank in env and size in env:
            return (int(env[rank]), int(env[size]), int(env.get(local, env[rank])),
                    int(env.get(nlocal, env[size])))
    return None
