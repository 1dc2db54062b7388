"""Process groups (``torch.distributed.distributed_c10d``): ``init_process_group`` and its
rendezvous, ``new_group``, ranks and sizes, ``destroy_process_group``. A group is an MPI
communicator; the backends ``"gloo"`` and ``"mpi"`` are both served by MPI on the CPU."""
import datetime
import os
import time
import urllib.parse

from . import _mpi, _pmi
from .constants import default_pg_timeout
_NOT_INITIALIZED = ('Default process group has not been initialized, please make sure to call '
                    'init_process_group.')


class Backend(str):
    """A backend's name (``Backend('GLOO') == 'gloo'``); ``gloo`` and ``mpi`` run on MPI here."""
    UNDEFINED = 'undefined'
    GLOO = 'gloo'
    NCCL = 'nccl'
    UCC = 'ucc'
    MPI = 'mpi'
    XCCL = 'xccl'
    default_device_backend_map = {'cpu': GLOO, 'cuda': NCCL, 'xpu': XCCL, 'mps': GLOO}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError(f'Backend constructor parameter must be string-ish, but got: {type(name)}')
        value = name.lower()
        if value.startswith('cpu:'):
            value = value[4:]
        return super().__new__(cls, value)


class ProcessGroup:
    """The ranks of one MPI communicator. ``rank()``/``size()`` are this process's place in it."""

    def __init__(self, comm, ranks, backend, timeout):
        self.comm, self.ranks, self.backend, self.timeout = comm, list(ranks), backend, timeout
        self._group_rank = {r: i for i, r in enumerate(self.ranks)}
        self.broken = None
        self.pending = []  # the Works started on this group and not yet seen complete

    def rank(self):
        return self.comm.Get_rank()

    def size(self):
        return len(self.ranks)

    def name(self):
        return self.backend

    def group_rank(self, global_rank):
        """The rank in this group of global rank ``global_rank``; ValueError when it is not a member."""
        if global_rank not in self._group_rank:
            raise ValueError(f'Global rank {global_rank} is not part of group {self}')
        return self._group_rank[global_rank]

    def __repr__(self):
        return f'<ember.distributed.ProcessGroup backend={self.backend!r} ranks={self.ranks}>'


class GroupMember:
    """``GroupMember.WORLD`` is the default group once ``init_process_group`` has run (None before);
    ``NON_GROUP_MEMBER`` is what ``new_group`` returns to ranks outside the new group."""
    WORLD = None
    NON_GROUP_MEMBER = -100


class _WorldProperty:
    """``group.WORLD``: the default group, read at access time."""

    def __get__(self, obj, cls):
        return GroupMember.WORLD


class group:
    WORLD = _WorldProperty()


_GROUPS = []  # every live group, the default one first


def is_initialized():
    """Whether the default process group exists."""
    return GroupMember.WORLD is not None


def _rank_not_in_group(group):
    """Whether this process is outside ``group`` (``new_group`` gave it ``GroupMember.NON_GROUP_MEMBER``);
    pytorch-ignite's collectives return their input unchanged then."""
    return group is not None and group == GroupMember.NON_GROUP_MEMBER


def _default_group():
    if GroupMember.WORLD is None:
        raise ValueError(_NOT_INITIALIZED)
    return GroupMember.WORLD


def _resolve(group):
    """The group an operation runs on: ``group``, or the default one when None; None when this rank is
    not a member (the operation then does nothing, as PyTorch)."""
    if group is None or group is GroupMember.WORLD:
        return _default_group()
    if group == GroupMember.NON_GROUP_MEMBER:
        _default_group()
        return None
    if not isinstance(group, ProcessGroup):
        raise ValueError(f'Invalid process group specified: {group!r}')
    return group


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name='', pg_options=None, device_id=None):
    """Join the world of ``world_size`` processes as ``rank`` and make it the default group. The world
    is the MPI job when ``mpiexec``/``mpirun`` started this process; else rank 0 serves a rendezvous at
    MASTER_ADDR:MASTER_PORT (``env://``) or at ``tcp://host:port`` from which MPI starts."""
    if GroupMember.WORLD is not None:
        raise ValueError('trying to initialize the default process group twice!')
    backend = _check_backend(backend)
    if store is not None:
        raise ValueError('torch.distributed.init_process_group(store=...) is not supported by ember: '
                         'use init_method="env://" or "tcp://host:port"')
    if pg_options is not None:
        raise ValueError('torch.distributed.init_process_group(pg_options=...) is not supported by ember '
                         '(MPI takes no backend options)')
    if device_id is not None and str(device_id) != 'cpu':
        raise ValueError(f'init_process_group(device_id={device_id!r}): ember has only the CPU')
    timeout = default_pg_timeout if timeout is None else timeout
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f'Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}')
    MPI = _start_mpi(init_method, rank, world_size, timeout)
    world = MPI.COMM_WORLD
    pg = ProcessGroup(world.Dup(), range(world.Get_size()), backend, timeout)
    GroupMember.WORLD = pg
    _GROUPS.append(pg)


def _check_backend(backend):
    """The backend's name: gloo (the default) or mpi; nccl and others raise as PyTorch on a CPU machine."""
    if backend is None:
        return Backend(Backend.GLOO)
    name = Backend(backend)
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in")
    if name not in (Backend.GLOO, Backend.MPI):
        raise ValueError(f'ember.distributed serves the backends "gloo" and "mpi" (both on MPI); '
                         f'got backend={backend!r}')
    return name


def _start_mpi(init_method, rank, world_size, timeout):
    """Start MPI for this process's world and return the MPI module (already started: check it is the
    same world)."""
    if _mpi.initialized() or _mpi.launched_by_mpiexec():
        MPI = _mpi.require()
        _check_same_world(MPI.COMM_WORLD, rank, world_size, init_method)
        return MPI
    rank, world_size, host, port = _rendezvous(init_method, rank, world_size)
    if world_size > 1:
        deadline = time.monotonic() + timeout.total_seconds()
        if rank == 0:
            per_node = int(os.environ.get('LOCAL_WORLD_SIZE', world_size))
            if per_node < 1 or world_size % per_node:
                per_node = 1
            _pmi.start_server(host, port, world_size, per_node, timeout.total_seconds())
        _pmi.connect(host, port, rank, world_size, deadline)
    MPI = _mpi.require()
    _pmi.forget()
    _check_same_world(MPI.COMM_WORLD, rank, world_size, init_method)
    return MPI


def _check_same_world(comm, rank, world_size, init_method):
    """Raise when the rank or world size asked for is not this process's place in the MPI world."""
    if world_size == -1 and rank == -1 and init_method is None:
        return
    want_size = world_size if world_size != -1 else _env_int('WORLD_SIZE', comm.Get_size())
    want_rank = rank if rank != -1 else _env_int('RANK', comm.Get_rank())
    if (want_rank, want_size) != (comm.Get_rank(), comm.Get_size()):
        why = ('mpiexec fixes the world' if _mpi.launched_by_mpiexec() else
               'was mpi4py imported before init_process_group? It starts MPI alone on import')
        raise RuntimeError(f'init_process_group(rank={want_rank}, world_size={want_size}): this process is '
                           f'rank {comm.Get_rank()} of an MPI world of {comm.Get_size()} processes (MPI starts '
                           f'once per process; {why})')


def _env_int(name, default):
    value = os.environ.get(name)
    return default if value is None else int(value)


def _rendezvous(init_method, rank, world_size):
    """``(rank, world_size, master_host, master_port)`` from ``init_method`` and the environment."""
    url = urllib.parse.urlparse(init_method or 'env://')
    query = dict(urllib.parse.parse_qsl(url.query))
    rank = int(query.get('rank', rank))
    world_size = int(query.get('world_size', world_size))
    if url.scheme == 'env':
        rank = rank if rank != -1 else _required_env('RANK')
        world_size = world_size if world_size != -1 else _required_env('WORLD_SIZE')
        host, port = os.environ.get('MASTER_ADDR'), os.environ.get('MASTER_PORT')
        if host is None:
            _required_env('MASTER_ADDR')
        if port is None:
            _required_env('MASTER_PORT')
    elif url.scheme == 'tcp':
        if rank == -1:
            raise ValueError('rank parameter missing')
        if world_size == -1:
            raise ValueError('world size parameter missing')
        host, port = url.hostname, url.port
        if not host or port is None:
            raise ValueError(f'tcp:// init_method needs a host and a port, got {init_method!r}')
    else:
        raise ValueError(f'init_method {init_method!r} is not supported by ember: use "env://" (the default) '
                         f'or "tcp://host:port"')
    rank, world_size, port = int(rank), int(world_size), int(port)
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f'init_process_group: rank {rank} is not in [0, world_size={world_size})')
    return rank, world_size, host, port


def _required_env(name):
    value = os.environ.get(name)
    if value is None:
        raise ValueError(f'Error initializing torch.distributed using env:// rendezvous: environment '
                         f'variable {name} expected, but not set')
    return int(value) if name != 'MASTER_ADDR' else value


def destroy_process_group(group=None):
    """Free ``group`` (default: every group, leaving the process uninitialized). MPI itself stays up:
    a later ``init_process_group`` in this process joins the same MPI world again."""
    if group is None or group is GroupMember.WORLD:
        if GroupMember.WORLD is None:
            raise AssertionError('Process group cannot be None')
        for pg in _GROUPS:
            _free(pg)
        _GROUPS.clear()
        GroupMember.WORLD = None
        return
    if group == GroupMember.NON_GROUP_MEMBER:
        return
    if group not in _GROUPS:
        raise ValueError('Invalid process group specified')
    _free(group)
    _GROUPS.remove(group)


def _free(pg):
    """Release ``pg``'s communicator (not collective when the group is broken: a peer may be gone)."""
    if pg.broken is None:
        pg.comm.Free()
    pg.broken = pg.broken or 'the process group was destroyed'


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A group of the global ``ranks`` (all by default), ordered by rank; every process of the default
    group must call it. Ranks outside it get ``GroupMember.NON_GROUP_MEMBER``."""
    world = _default_group()
    ranks = list(range(world.size())) if ranks is None else [int(r) for r in ranks]
    if sort_ranks:
        ranks = sorted(ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f'new_group: ranks must be distinct, got {ranks}')
    for r in ranks:
        if not 0 <= r < world.size():
            raise ValueError(f'The new group\'s rank should be within the world_size set by '
                             f'init_process_group, got rank {r} with world_size {world.size()}')
    if pg_options is not None:
        raise ValueError('new_group(pg_options=...) is not supported by ember (MPI takes no backend options)')
    backend = world.backend if backend is None else _check_backend(backend)
    me = world.rank()
    MPI = _mpi.require()
    color = 0 if me in ranks else MPI.UNDEFINED
    comm = world.comm.Split(color, ranks.index(me) if me in ranks else 0)
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, backend, timeout or world.timeout)
    _GROUPS.append(pg)
    return pg


def get_rank(group=None):
    """This process's rank in ``group`` (global when None); -1 when it is not a member."""
    pg = _resolve(group)
    if pg is None:
        return -1
    return pg.rank() if pg is not GroupMember.WORLD else pg.comm.Get_rank()


def get_world_size(group=None):
    """The number of processes in ``group``; -1 when this process is not a member."""
    pg = _resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group=None):
    """The backend name of ``group``: ``'gloo'`` or ``'mpi'``."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError('Invalid process group specified')
    return Backend(pg.backend)


def get_group_rank(group, global_rank):
    """The rank in ``group`` of global rank ``global_rank``."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError('Group is not part of the process')
    return pg.group_rank(global_rank)


def get_global_rank(group, group_rank):
    """The global rank of rank ``group_rank`` of ``group``."""
    pg = _resolve(group)
    if pg is None:
        raise ValueError('Group is not part of the process')
    if not 0 <= group_rank < pg.size():
        raise ValueError(f'Group rank {group_rank} is not part of group {pg}')
    return pg.ranks[group_rank]


def get_process_group_ranks(group):
    """The global ranks of ``group``, in group order."""
    pg = _resolve(group)
    return list(pg.ranks) if pg is not None else []


def is_mpi_available():
    """Whether the ``mpi`` backend can run (mpi4py and MPICH are installed)."""
    return _mpi.available()


def is_gloo_available():
    """Whether the ``gloo`` backend can run: ember serves it with MPI too."""
    return _mpi.available()


def is_nccl_available():
    return False


def is_ucc_available():
    return False


def is_xccl_available():
    return False


def is_backend_available(backend):
    """Whether ``backend`` can be used here."""
    return Backend(backend) in (Backend.GLOO, Backend.MPI) and _mpi.available()


def is_torchelastic_launched():
    """Whether ``ember run --nproc-per-node`` (torchrun's counterpart) started this process."""
    return os.environ.get('TORCHELASTIC_RUN_ID') is not None


def get_node_local_rank(fallback_rank=None):
    """This process's rank on its machine: LOCAL_RANK as the launcher set it, else ``fallback_rank``."""
    if 'LOCAL_RANK' in os.environ:
        return int(os.environ['LOCAL_RANK'])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError('LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow '
                       '`get_node_local_rank` to work, assuming you are not running in a multi-device context '
                       'and want the code to run locally instead.')


def get_default_backend_for_device(device):
    """The backend PyTorch picks for ``device`` (``'gloo'`` for the CPU): pytorch/examples' distributed scripts
    pass it to ``init_process_group``."""
    from ..tensor import device as _device
    device_type = device.type if isinstance(device, _device) else str(device).partition(':')[0]
    backend = Backend.default_device_backend_map.get(device_type)
    if backend is None:
        _device(device)     # an unknown device string: its error
        raise ValueError(f'Default backend not registered for device : {device}')
    return backend
