"""The tensor collectives and point-to-point operations of ``torch.distributed`` on MPI. Each starts a
non-blocking MPI operation on the tensors' NumPy buffers (no copy where contiguous; a non-contiguous
tensor goes through a contiguous copy that is written back) and returns a ``Work``, or waits on it."""
import numpy as np

from . import _mpi
from ._reduce_op import ReduceOp, red_op_type
from ._work import Work, run, settle
from .distributed_c10d import GroupMember, _resolve
from ..tensor import Tensor

_MPI_OPS = {ReduceOp.SUM: 'SUM', ReduceOp.AVG: 'SUM', ReduceOp.PRODUCT: 'PROD', ReduceOp.MIN: 'MIN',
            ReduceOp.MAX: 'MAX', ReduceOp.BAND: 'BAND', ReduceOp.BOR: 'BOR', ReduceOp.BXOR: 'BXOR'}
_BOOL_OPS = {ReduceOp.SUM: 'LOR', ReduceOp.MAX: 'LOR', ReduceOp.BOR: 'LOR', ReduceOp.PRODUCT: 'LAND',
             ReduceOp.MIN: 'LAND', ReduceOp.BAND: 'LAND', ReduceOp.BXOR: 'LXOR'}
_MPI_TYPES = {'float32': 'FLOAT', 'float64': 'DOUBLE', 'int8': 'INT8_T', 'int16': 'INT16_T',
              'int32': 'INT32_T', 'int64': 'INT64_T', 'uint8': 'UINT8_T', 'bool': 'C_BOOL'}


# ----------------------------------------------------------------------------- argument checks

def _check_tensor(param, name):
    if not isinstance(param, Tensor):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type torch.Tensor\n'
                        f'             but got {type(param)} instead.')


def _check_tensor_list(param, name):
    if not isinstance(param, list):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n'
                        f'             but got {type(param)} instead.')
    if not all(isinstance(p, Tensor) for p in param):
        raise TypeError(f'Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor]\n'
                        f'             but got {type(param)} with elements of type {[type(p) for p in param]}.')


def _group(group, op):
    """The live group ``op`` runs on, or None (with PyTorch's warning) when this rank is outside it."""
    pg = _resolve(group)
    if pg is None:
        import warnings
        world = GroupMember.WORLD
        warnings.warn(f'Running {op} on global rank {world.rank() if world else -1} which does not belong '
                      f'to the given group.', stacklevel=3)
        return None
    if pg.broken is not None:
        raise RuntimeError(f'ember.distributed: {op} on a process group that cannot be used any more '
                           f'({pg.broken})')
    return pg


def _root(pg, rank, group_rank, what):
    """The group rank of the root given as a global ``rank`` or as ``group_rank``."""
    if group_rank is not None:
        if rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f'Group rank {group_rank} is not part of group {pg}')
        return group_rank
    if rank is None:
        raise ValueError('Must specify global_rank or group_rank')
    if pg is GroupMember.WORLD:
        if not 0 <= rank < pg.size():
            raise RuntimeError(f'{what}: invalid root rank: {rank} (the world has {pg.size()} ranks)')
        return rank
    return pg.group_rank(rank)


def _same(tensors, like, op, name):
    """Check that ``tensors`` all have ``like``'s dtype and shape, with PyTorch's error types."""
    for t in tensors:
        if t.dtype != like.dtype:
            raise ValueError(f'Invalid usage of tensors with different dtypesFound {t.dtype} and  {like.dtype}')
    for i, t in enumerate(tensors):
        if t.shape != like.shape:
            raise RuntimeError(f'{op}: invalid tensor size at index {i} of {name} (expected '
                               f'{_dims(like)}, got {_dims(t)})')


def _dims(t):
    return '(' + ', '.join(str(d) for d in t.shape) + ')'


_SCALAR_NAMES = {'int64': 'Long', 'int32': 'Int', 'int16': 'Short', 'int8': 'Char', 'uint8': 'Byte',
                 'bool': 'Bool'}


# ----------------------------------------------------------------------------- buffers

def _buffer(tensor):
    """``(array, write_back)``: ``tensor``'s memory as a C-contiguous array (itself when it is one) and
    the function that copies a temporary back into the tensor (None when not needed)."""
    arr = tensor._data
    if arr.flags.c_contiguous:
        return arr, None
    tmp = np.ascontiguousarray(arr)
    return tmp, lambda: np.copyto(arr, tmp)


def _bytes(arr):
    """A contiguous array's memory as an MPI byte message."""
    return [arr.reshape(-1).view(np.uint8), _mpi.require().BYTE]


def _typed(arr, op):
    """A contiguous array as an MPI message of its element type; float16 has none (the caller widens)."""
    name = _MPI_TYPES.get(arr.dtype.name)
    if name is None:
        raise TypeError(f'{op}: ember.distributed cannot reduce {arr.dtype} tensors')
    return [arr, getattr(_mpi.require(), name)]


def _reduction(op, tensor, name, pg):
    """``(mpi_op, widen, after)`` for reduction ``op`` on ``tensor``: the MPI operation, whether the data
    is reduced in float32 (float16), and the post-step (AVG's division)."""
    kind = red_op_type(op, name)
    dtype = tensor.dtype
    if kind in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and dtype.is_floating_point:
        raise RuntimeError(f'Cannot use ReduceOp.{kind.name} with non-integral dtype')
    if kind == ReduceOp.PREMUL_SUM:
        raise RuntimeError(f'{name}: ReduceOp.PREMUL_SUM is not supported by ember (it is NCCL-only in PyTorch)')
    if kind == ReduceOp.AVG and not dtype.is_floating_point:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{_SCALAR_NAMES[dtype.name]}")
    names = _BOOL_OPS if dtype.name == 'bool' else _MPI_OPS
    mpi_op = getattr(_mpi.require(), names[kind])
    size = pg.size()
    after = (lambda arr: np.divide(arr, size, out=arr)) if kind == ReduceOp.AVG else None
    return mpi_op, dtype.name == 'float16', after


def _begin(pg, *tensors):
    """The memory of the operation's tensors (lists flattened), once the operations in flight on the same
    memory have completed; the new Work keeps it to order the operations that come after it."""
    datas = []
    for t in tensors:
        datas += [x._data for x in t] if isinstance(t, list) else [] if t is None else [t._data]
    settle(pg, datas)
    return tuple(datas)


def _finisher(*steps):
    """One function running the non-None ``steps`` in order."""
    steps = [s for s in steps if s is not None]
    return lambda: [s() for s in steps] and None


def _bump(*tensors):
    """Count an in-place change on each output tensor (autograd's version check)."""
    return lambda: [t._bump() for t in tensors] and None


# ----------------------------------------------------------------------------- collectives

def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` across the group with ``op``, in place on every rank."""
    _check_tensor(tensor, 'tensor')
    pg = _group(group, 'all_reduce')
    if pg is None:
        return None
    touched = _begin(pg, tensor)
    MPI = _mpi.require()
    mpi_op, widen, after = _reduction(op, tensor, 'all_reduce', pg)
    arr, back = _buffer(tensor)
    work_arr = arr.astype(np.float32) if widen else arr
    request = pg.comm.Iallreduce(MPI.IN_PLACE, _typed(work_arr, 'all_reduce'), mpi_op)

    def finish():
        if widen:
            np.copyto(arr, work_arr, casting='unsafe')
        if after is not None:
            after(arr)
        if back is not None:
            back()
        tensor._bump()
    return run(Work(pg, 'all_reduce', [request], finish, [tensor], keep=(arr, work_arr, *touched)), async_op)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduce ``tensor`` across the group with ``op`` into ``tensor`` on rank ``dst`` only."""
    _check_tensor(tensor, 'tensor')
    pg = _group(group, 'reduce')
    if pg is None:
        return None
    touched = _begin(pg, tensor)
    root = _root(pg, dst, group_dst, 'reduce')
    MPI = _mpi.require()
    mpi_op, widen, after = _reduction(op, tensor, 'reduce', pg)
    arr, back = _buffer(tensor)
    work_arr = arr.astype(np.float32) if widen else arr
    mine = pg.rank() == root
    message = _typed(work_arr, 'reduce')
    request = pg.comm.Ireduce(MPI.IN_PLACE if mine else message, message if mine else None, mpi_op, root)

    def finish():
        if not mine:
            return
        if widen:
            np.copyto(arr, work_arr, casting='unsafe')
        if after is not None:
            after(arr)
        if back is not None:
            back()
        tensor._bump()
    return run(Work(pg, 'reduce', [request], finish, [tensor], keep=(arr, work_arr, *touched)), async_op)


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copy ``tensor`` of rank ``src`` into ``tensor`` on every rank of the group."""
    _check_tensor(tensor, 'tensor')
    pg = _group(group, 'broadcast')
    if pg is None:
        return None
    touched = _begin(pg, tensor)
    root = _root(pg, src, group_src, 'broadcast')
    arr, back = _buffer(tensor)
    request = pg.comm.Ibcast(_bytes(arr), root)
    finish = None if pg.rank() == root else _finisher(back, _bump(tensor))
    return run(Work(pg, 'broadcast', [request], finish, [tensor], keep=(arr, *touched)), async_op)


def barrier(group=GroupMember.WORLD, async_op=False, device_ids=None, timeout=None):
    """Wait until every rank of the group has reached the barrier."""
    pg = _group(group, 'barrier')
    if pg is None:
        return None
    work = Work(pg, 'barrier', [pg.comm.Ibarrier()])
    if async_op:
        return work
    work.wait(timeout)
    return None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Gather every rank's ``tensor`` into ``tensor_list`` (one tensor per rank) on every rank."""
    _check_tensor_list(tensor_list, 'tensor_list')
    _check_tensor(tensor, 'tensor')
    pg = _group(group, 'all_gather')
    if pg is None:
        return None
    touched = _begin(pg, tensor_list, tensor)
    if len(tensor_list) != pg.size():
        raise RuntimeError(f'all_gather: invalid output tensor list at index 0 (expected length {pg.size()}, '
                           f'got {len(tensor_list)})')
    _same(tensor_list, tensor, 'all_gather', 'tensor_list')
    src = np.ascontiguousarray(tensor._data)
    out = np.empty((pg.size(),) + src.shape, src.dtype)
    request = pg.comm.Iallgather(_bytes(src), _bytes(out))
    return run(Work(pg, 'all_gather', [request], _scatter_rows(out, tensor_list), tensor_list,
                    keep=(src, out, *touched)), async_op)


def _scatter_rows(out, tensors):
    """The finish step that copies row ``i`` of ``out`` into ``tensors[i]``."""
    def finish():
        for row, t in zip(out, tensors):
            np.copyto(t._data, row.reshape(t._data.shape))
            t._bump()
    return finish


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """Gather every rank's ``input_tensor`` into ``output_tensor`` (concatenated or stacked along dim 0)."""
    _check_tensor(output_tensor, 'output_tensor')
    _check_tensor(input_tensor, 'input_tensor')
    pg = _group(group, 'all_gather_into_tensor')
    if pg is None:
        return None
    touched = _begin(pg, output_tensor, input_tensor)
    if output_tensor.dtype != input_tensor.dtype:
        raise RuntimeError(f'all_gather_into_tensor: output tensor must have the same type as input tensor '
                        f'({output_tensor.dtype} vs {input_tensor.dtype})')
    if output_tensor.numel() != input_tensor.numel() * pg.size():
        raise RuntimeError(f'all_gather_into_tensor: output tensor size must be equal to world_size times input '
                         f'tensor size (output {tuple(output_tensor.shape)}, input {tuple(input_tensor.shape)}, '
                         f'world_size {pg.size()})')
    src = np.ascontiguousarray(input_tensor._data)
    arr, back = _buffer(output_tensor)
    request = pg.comm.Iallgather(_bytes(src), _bytes(arr))
    return run(Work(pg, 'all_gather_into_tensor', [request], _finisher(back, _bump(output_tensor)),
                    [output_tensor], keep=(src, arr, *touched)), async_op)


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input_list[i]`` across the group with ``op`` into ``output`` of rank ``i``."""
    _check_tensor(output, 'output')
    _check_tensor_list(input_list, 'input_list')
    pg = _group(group, 'reduce_scatter')
    if pg is None:
        return None
    touched = _begin(pg, output, input_list)
    if len(input_list) != pg.size():
        raise RuntimeError(f'reduce_scatter: input_list must have one tensor per rank ({pg.size()}), '
                         f'got {len(input_list)}')
    _same(input_list, output, 'reduce_scatter', 'input_list')
    stacked = np.stack([np.ascontiguousarray(t._data).reshape(output._data.shape) for t in input_list])
    return _reduce_scatter(pg, 'reduce_scatter', output, stacked, op, async_op, touched)


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``input`` (world_size chunks along dim 0) across the group; rank i keeps chunk i in ``output``."""
    _check_tensor(output, 'output')
    _check_tensor(input, 'input')
    pg = _group(group, 'reduce_scatter_tensor')
    if pg is None:
        return None
    touched = _begin(pg, output, input)
    if output.dtype != input.dtype:
        raise RuntimeError(f'reduce_scatter_tensor: input tensor must be the same type as the output tensor '
                        f'({input.dtype} vs {output.dtype})')
    if input.numel() != output.numel() * pg.size():
        raise RuntimeError(f'reduce_scatter_tensor: input tensor must be the same size as output size times '
                         f'world size (input {tuple(input.shape)}, output {tuple(output.shape)}, world_size '
                         f'{pg.size()})')
    return _reduce_scatter(pg, 'reduce_scatter_tensor', output, np.ascontiguousarray(input._data), op,
                           async_op, touched)


def _reduce_scatter(pg, name, output, data, op, async_op, touched):
    """Reduce-scatter the contiguous ``data`` (world_size equal blocks) into ``output``."""
    mpi_op, widen, after = _reduction(op, output, name, pg)
    arr, back = _buffer(output)
    send = data.astype(np.float32) if widen else data
    recv = np.empty(arr.shape, np.float32) if widen else arr
    request = pg.comm.Ireduce_scatter_block(_typed(send, name), _typed(recv, name), mpi_op)

    def finish():
        if widen:
            np.copyto(arr, recv, casting='unsafe')
        if after is not None:
            after(arr)
        if back is not None:
            back()
        output._bump()
    return run(Work(pg, name, [request], finish, [output], keep=(send, recv, arr, *touched)), async_op)


def _check_root_list(pg, root, tensors, tensor, op, arg, role):
    """Whether this rank is the root; the root's list must hold one tensor like ``tensor`` per rank, the other
    ranks must pass none (PyTorch's errors for gather and scatter)."""
    mine = pg.rank() == root
    if mine:
        if not tensors:
            raise ValueError(f'Argument ``{arg}`` must be specified on {role} rank.')
        if len(tensors) != pg.size():
            raise RuntimeError(f'{op}: {arg} needs one tensor per rank ({pg.size()}), got {len(tensors)}')
        _same(tensors, tensor, op, arg)
    elif tensors:
        raise ValueError(f'Argument ``{arg}`` must NOT be specified on non-{role} ranks.')
    return mine


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """Gather every rank's ``tensor`` into ``gather_list`` on rank ``dst``."""
    _check_tensor(tensor, 'tensor')
    gather_list = [] if gather_list is None else gather_list
    _check_tensor_list(gather_list, 'gather_list')
    pg = _group(group, 'gather')
    if pg is None:
        return None
    touched = _begin(pg, tensor, gather_list)
    root = _root(pg, dst, group_dst, 'gather')
    mine = _check_root_list(pg, root, gather_list, tensor, 'gather', 'gather_list', 'destination')
    src = np.ascontiguousarray(tensor._data)
    out = np.empty((pg.size(),) + src.shape, src.dtype) if mine else None
    request = pg.comm.Igather(_bytes(src), _bytes(out) if mine else None, root)
    finish = _scatter_rows(out, gather_list) if mine else None
    return run(Work(pg, 'gather', [request], finish, gather_list, keep=(src, out, *touched)), async_op)


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """Send ``scatter_list[i]`` of rank ``src`` into ``tensor`` of rank ``i``."""
    _check_tensor(tensor, 'tensor')
    scatter_list = [] if scatter_list is None else scatter_list
    _check_tensor_list(scatter_list, 'scatter_list')
    pg = _group(group, 'scatter')
    if pg is None:
        return None
    touched = _begin(pg, tensor, scatter_list)
    root = _root(pg, src, group_src, 'scatter')
    mine = _check_root_list(pg, root, scatter_list, tensor, 'scatter', 'scatter_list', 'source')
    data = (np.stack([np.ascontiguousarray(t._data).reshape(tensor._data.shape) for t in scatter_list])
            if mine else None)
    arr, back = _buffer(tensor)
    request = pg.comm.Iscatter(_bytes(data) if mine else None, _bytes(arr), root)
    return run(Work(pg, 'scatter', [request], _finisher(back, _bump(tensor)), [tensor],
                    keep=(data, arr, *touched)), async_op)


def all_to_all(output_tensor_list, input_tensor_list, group=None, async_op=False):
    """Send ``input_tensor_list[i]`` to rank ``i``, which receives it as ``output_tensor_list[me]``."""
    _check_tensor_list(output_tensor_list, 'output_tensor_list')
    _check_tensor_list(input_tensor_list, 'input_tensor_list')
    pg = _group(group, 'all_to_all')
    if pg is None:
        return None
    touched = _begin(pg, output_tensor_list, input_tensor_list)
    n = pg.size()
    if len(output_tensor_list) != n or len(input_tensor_list) != n:
        raise ValueError(f'all_to_all: both lists need one tensor per rank ({n}), got '
                         f'{len(output_tensor_list)} outputs and {len(input_tensor_list)} inputs')
    dtypes = {t.dtype for t in output_tensor_list + input_tensor_list}
    if len(dtypes) != 1:
        raise TypeError(f'all_to_all: tensors must all have the same type, got {sorted(map(str, dtypes))}')
    send = np.concatenate([np.ascontiguousarray(t._data).reshape(-1) for t in input_tensor_list])
    recv = np.empty(sum(t.numel() for t in output_tensor_list), send.dtype)
    item = send.dtype.itemsize
    counts_in = [t.numel() * item for t in input_tensor_list]
    counts_out = [t.numel() * item for t in output_tensor_list]
    request = pg.comm.Ialltoallv(_counted(send, counts_in), _counted(recv, counts_out))

    def finish():
        offset = 0
        for t in output_tensor_list:
            np.copyto(t._data, recv[offset:offset + t.numel()].reshape(t._data.shape))
            offset += t.numel()
            t._bump()
    return run(Work(pg, 'all_to_all', [request], finish, output_tensor_list, keep=(send, recv, *touched)),
               async_op)


def all_to_all_single(output, input, output_split_sizes=None, input_split_sizes=None, group=None,
                      async_op=False):
    """Split ``input`` along dim 0 (evenly, or by ``input_split_sizes``) and send piece i to rank i; the
    pieces received fill ``output`` in rank order (``output_split_sizes`` rows each)."""
    _check_tensor(output, 'output')
    _check_tensor(input, 'input')
    pg = _group(group, 'all_to_all_single')
    if pg is None:
        return None
    touched = _begin(pg, output, input)
    if output.dtype != input.dtype:
        raise TypeError(f'all_to_all_single: output and input must have the same type '
                        f'({output.dtype} vs {input.dtype})')
    n = pg.size()
    counts_in = _split_bytes(input, input_split_sizes, n, 'input')
    counts_out = _split_bytes(output, output_split_sizes, n, 'output')
    send = np.ascontiguousarray(input._data)
    arr, back = _buffer(output)
    request = pg.comm.Ialltoallv(_counted(send, counts_in), _counted(arr, counts_out))
    return run(Work(pg, 'all_to_all_single', [request], _finisher(back, _bump(output)), [output],
                    keep=(send, arr, *touched)), async_op)


def _split_bytes(tensor, sizes, n, name):
    """The byte counts of the dim-0 pieces of ``tensor`` sent to or received from each rank."""
    rows = tensor.shape[0] if tensor.dim() else 1
    row_bytes = tensor.numel() // max(rows, 1) * tensor.element_size() if rows else 0
    if not sizes:
        if rows % n:
            raise ValueError(f'all_to_all_single: {name} dim 0 ({rows}) must divide evenly by the world size '
                             f'({n}) when {name}_split_sizes is not given')
        return [rows // n * row_bytes] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or sum(sizes) != rows:
        raise ValueError(f'all_to_all_single: {name}_split_sizes {sizes} must have {n} entries summing to '
                         f'{name} dim 0 ({rows})')
    return [s * row_bytes for s in sizes]


def _counted(arr, counts):
    """An MPI vector message: byte ``counts`` per rank at consecutive displacements."""
    displacements = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int).tolist()
    return [arr.reshape(-1).view(np.uint8), (counts, displacements), _mpi.require().BYTE]


# ----------------------------------------------------------------------------- point to point

def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Start sending ``tensor`` to rank ``dst``; returns the Work."""
    _check_tensor(tensor, 'tensor')
    pg = _group(group, 'isend')
    if pg is None:
        return None
    touched = _begin(pg, tensor)
    peer = _root(pg, dst, group_dst, 'isend')
    _not_self(pg, peer, 'send')
    data = np.ascontiguousarray(tensor._data)
    return Work(pg, 'send', [pg.comm.Isend(_bytes(data), peer, tag)], keep=(data, *touched))


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Start receiving into ``tensor`` from rank ``src`` (any rank when None); returns the Work."""
    _check_tensor(tensor, 'tensor')
    pg = _group(group, 'irecv')
    if pg is None:
        return None
    touched = _begin(pg, tensor)
    MPI = _mpi.require()
    if src is None and group_src is None:
        peer = MPI.ANY_SOURCE
    else:
        peer = _root(pg, src, group_src, 'irecv')
        _not_self(pg, peer, 'recv')
    arr, back = _buffer(tensor)
    request = pg.comm.Irecv(_bytes(arr), peer, tag)
    return Work(pg, 'recv', [request], _finisher(back, _bump(tensor)), [tensor], keep=(arr, *touched))


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send ``tensor`` to rank ``dst`` and wait until it has left."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receive into ``tensor`` from rank ``src`` (any rank when None); returns the sender's global rank."""
    work = irecv(tensor, src, group, tag, group_src)
    if work is None:
        return -1
    work.wait()
    pg = _resolve(group)
    return pg.ranks[work._source]


def _not_self(pg, peer, op):
    if peer == pg.rank():
        raise ValueError(f'Invalid destination rank: destination rank should not be the same as the rank '
                         f'of the current process.' if op == 'send' else
                         'Invalid source rank: source rank should not be the same as the rank of the '
                         'current process.')


class P2POp:
    """One point-to-point operation for ``batch_isend_irecv``: ``op`` is ``isend`` or ``irecv``."""

    def __init__(self, op, tensor, peer=None, group=None, tag=0, group_peer=None):
        if op not in (isend, irecv):
            raise ValueError('Invalid ``op``. Expected ``op`` to be of type ``torch.distributed.isend`` or '
                             '``torch.distributed.irecv``.')
        _check_tensor(tensor, 'tensor')
        self.op, self.tensor, self.group, self.tag = op, tensor, group, tag
        pg = _resolve(group)
        self.group_peer = _root(pg, peer, group_peer, 'P2POp')
        self.peer = pg.ranks[self.group_peer]

    def __repr__(self):
        return f'P2POp({self.op.__name__} peer={self.peer} tag={self.tag} tensor shape={tuple(self.tensor.shape)})'


def batch_isend_irecv(p2p_op_list):
    """Start every operation of ``p2p_op_list`` (P2POp) and return their Works."""
    if not isinstance(p2p_op_list, list) or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError('Invalid ``p2p_op_list``. Each op is expected to to be of type '
                         '``torch.distributed.P2POp``.')
    return [p.op(p.tensor, group=p.group, tag=p.tag, **{('group_dst' if p.op is isend else 'group_src'):
                                                         p.group_peer})
            for p in p2p_op_list]


def monitored_barrier(group=GroupMember.WORLD, timeout=None, wait_all_ranks=False):
    """A barrier that raises RuntimeError when the other ranks do not reach it within ``timeout``."""
    pg = _group(group, 'monitored_barrier')
    if pg is None:
        return None
    Work(pg, 'monitored_barrier', [pg.comm.Ibarrier()]).wait(timeout)
    return None
