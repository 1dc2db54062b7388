"""Object collectives: any picklable Python objects travel as pickled bytes, in two steps (the sizes,
then the bytes), over the same non-blocking MPI operations, so they obey the group's timeout too."""
import io
import pickle

import numpy as np

from . import _mpi
from ._collectives import _group, _root
from ._work import Work

_OBJECT_TAG = 32767  # MPI's smallest allowed upper bound on tags, apart from tensor send/recv's default 0


def _dumps(obj):
    buffer = io.BytesIO()
    pickle.Pickler(buffer).dump(obj)
    return np.frombuffer(buffer.getvalue(), np.uint8)


def _loads(data):
    return pickle.loads(data.tobytes())


def _wait(pg, op, request):
    Work(pg, op, [request]).wait()


def _sizes(pg, op, size):
    """Every rank's byte count, gathered on every rank."""
    mine = np.array([size], np.int64)
    sizes = np.empty(pg.size(), np.int64)
    _wait(pg, op, pg.comm.Iallgather([mine, _mpi.require().INT64_T], [sizes, _mpi.require().INT64_T]))
    return sizes


def _gatherv(pg, op, data, root):
    """The byte arrays of every rank, on every rank (``root`` None) or on ``root`` only."""
    MPI = _mpi.require()
    sizes = _sizes(pg, op, data.size)
    out = np.empty(int(sizes.sum()), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    spec = [out, (sizes.tolist(), offsets.tolist()), MPI.BYTE]
    if root is None:
        _wait(pg, op, pg.comm.Iallgatherv([data, MPI.BYTE], spec))
    else:
        _wait(pg, op, pg.comm.Igatherv([data, MPI.BYTE], spec if pg.rank() == root else None, root))
    return [out[o:o + s] for o, s in zip(offsets, sizes)]


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replace the entries of ``object_list`` on every rank by those of rank ``src``."""
    pg = _group(group, 'broadcast_object_list')
    if pg is None:
        return
    root = _root(pg, src, group_src, 'broadcast_object_list')
    MPI = _mpi.require()
    mine = pg.rank() == root
    data = _dumps(list(object_list)) if mine else None
    size = np.array([data.size if mine else 0], np.int64)
    _wait(pg, 'broadcast_object_list', pg.comm.Ibcast([size, MPI.INT64_T], root))
    if not mine:
        data = np.empty(int(size[0]), np.uint8)
    _wait(pg, 'broadcast_object_list', pg.comm.Ibcast([data, MPI.BYTE], root))
    if not mine:
        received = _loads(data)
        if len(received) != len(object_list):
            raise ValueError(f'broadcast_object_list: object_list has {len(object_list)} entries here and '
                             f'{len(received)} on the source rank')
        object_list[:] = received


def all_gather_object(object_list, obj, group=None):
    """Fill ``object_list`` (one entry per rank) with every rank's ``obj``."""
    pg = _group(group, 'all_gather_object')
    if pg is None:
        return
    if len(object_list) != pg.size():
        raise ValueError(f'all_gather_object: object_list must have one entry per rank ({pg.size()}), '
                         f'got {len(object_list)}')
    for i, data in enumerate(_gatherv(pg, 'all_gather_object', _dumps(obj), None)):
        object_list[i] = _loads(data)


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """Gather every rank's ``obj`` into ``object_gather_list`` on rank ``dst``."""
    pg = _group(group, 'gather_object')
    if pg is None:
        return
    root = _root(pg, dst, group_dst, 'gather_object')
    mine = pg.rank() == root
    if mine and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError('Argument ``object_gather_list`` must be specified on destination rank with one entry '
                         f'per rank ({pg.size()}).')
    if not mine and object_gather_list is not None:
        raise ValueError('Argument ``object_gather_list`` must NOT be specified on non-destination ranks.')
    pieces = _gatherv(pg, 'gather_object', _dumps(obj), root)
    if mine:
        for i, data in enumerate(pieces):
            object_gather_list[i] = _loads(data)


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None, group=None,
                        group_src=None):
    """Rank ``src`` sends ``scatter_object_input_list[i]`` to rank i, which stores it in
    ``scatter_object_output_list[0]``."""
    pg = _group(group, 'scatter_object_list')
    if pg is None:
        return
    root = _root(pg, src, group_src, 'scatter_object_list')
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError('Expected argument scatter_object_output_list to be a list of size at least 1.')
    MPI = _mpi.require()
    mine = pg.rank() == root
    if mine:
        if scatter_object_input_list is None or len(scatter_object_input_list) != pg.size():
            raise ValueError('scatter_object_list: scatter_object_input_list must have one entry per rank '
                             f'({pg.size()}) on the source rank')
        pieces = [_dumps(o) for o in scatter_object_input_list]
        sizes = np.array([p.size for p in pieces], np.int64)
        data = np.concatenate(pieces) if pieces else np.empty(0, np.uint8)
    else:
        sizes, data = np.empty(pg.size(), np.int64), None
    _wait(pg, 'scatter_object_list', pg.comm.Ibcast([sizes, MPI.INT64_T], root))
    out = np.empty(int(sizes[pg.rank()]), np.uint8)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int).tolist()
    send = [data, (sizes.tolist(), offsets), MPI.BYTE] if mine else None
    _wait(pg, 'scatter_object_list', pg.comm.Iscatterv(send, [out, MPI.BYTE], root))
    scatter_object_output_list[0] = _loads(out)


def send_object_list(object_list, dst=None, group=None, device=None, group_dst=None, use_batch=False):
    """Send the picklable objects of ``object_list`` to rank ``dst`` (which calls recv_object_list)."""
    pg = _group(group, 'send_object_list')
    if pg is None:
        return
    peer = _root(pg, dst, group_dst, 'send_object_list')
    MPI = _mpi.require()
    data = _dumps(list(object_list))
    size = np.array([data.size], np.int64)
    Work(pg, 'send_object_list', [pg.comm.Isend([size, MPI.INT64_T], peer, _OBJECT_TAG),
                                  pg.comm.Isend([data, MPI.BYTE], peer, _OBJECT_TAG)]).wait()


def recv_object_list(object_list, src=None, group=None, device=None, group_src=None, use_batch=False):
    """Fill ``object_list`` with the objects rank ``src`` (any rank when None) sent; returns the sender."""
    pg = _group(group, 'recv_object_list')
    if pg is None:
        return -1
    MPI = _mpi.require()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _root(pg, src, group_src, 'recv_object_list')
    size = np.empty(1, np.int64)
    work = Work(pg, 'recv_object_list', [pg.comm.Irecv([size, MPI.INT64_T], peer, _OBJECT_TAG)])
    work.wait()
    sender = work._source
    data = np.empty(int(size[0]), np.uint8)
    Work(pg, 'recv_object_list', [pg.comm.Irecv([data, MPI.BYTE], sender, _OBJECT_TAG)]).wait()
    received = _loads(data)
    object_list[:len(received)] = received[:len(object_list)]
    return pg.ranks[sender]
