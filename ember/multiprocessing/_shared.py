"""Shared-memory tensor values that cross process boundaries by handle, as PyTorch's file_descriptor
strategy does: ``share_memory_`` puts a tensor's values in an anonymous memory file (memfd), and
multiprocessing's pickler (spawn/forkserver Process arguments, Queues, Pipes) sends that file's descriptor
instead of the values, so a 'spawn' child's in-place updates (Hogwild training) reach the parent.
Plain pickle (torch.save, copy) still stores the values."""
import mmap
import os
import weakref

import numpy as np


class SharedMap(mmap.mmap):
    """A shared mapping of an anonymous memory file; ``fd`` stays open so the mapping can be sent on."""


def _map(fd, nbytes):
    """Map ``nbytes`` of the memory file ``fd`` (shared, writable); the map owns ``fd`` from now on."""
    m = SharedMap(fd, nbytes)
    m.fd = fd
    weakref.finalize(m, os.close, fd)
    return m


def shared_copy(a):
    """A C-contiguous copy of ndarray ``a`` whose values live in a new memory file (an anonymous
    shared mapping where memfd_create is missing: then it reaches forked children only)."""
    nbytes = max(a.nbytes, 1)
    if hasattr(os, 'memfd_create'):
        fd = os.memfd_create('ember_shared', os.MFD_CLOEXEC)
        os.ftruncate(fd, nbytes)
        m = _map(fd, nbytes)
    else:
        m = mmap.mmap(-1, nbytes)
    out = np.frombuffer(m, a.dtype, count=a.size).reshape(a.shape)
    out[...] = a
    return out


def shared_map_of(a):
    """The mmap an ndarray's values live in, or None."""
    b = a
    while isinstance(b, np.ndarray):
        b = b.base
    if isinstance(b, memoryview):
        b = b.obj
    return b if isinstance(b, mmap.mmap) else None


class _SharedArray:
    """Pickles an ndarray that lives in a SharedMap as the map's descriptor plus its layout."""

    def __init__(self, a, m):
        self.a, self.m = a, m

    def __reduce__(self):
        from multiprocessing.reduction import DupFd
        a, m = self.a, self.m
        base = np.frombuffer(m, np.uint8)
        offset = a.__array_interface__['data'][0] - base.__array_interface__['data'][0]
        return (_attach, (DupFd(m.fd), len(m), a.dtype.str, a.shape, a.strides, offset))


def _attach(dupfd, nbytes, dtype, shape, strides, offset):
    """The receiving side: map the sender's memory file and view it as the sent array."""
    register_reducers()
    m = _map(dupfd.detach(), nbytes)
    return np.ndarray(shape, np.dtype(dtype), buffer=m, offset=offset, strides=strides)


def _reduce_tensor(t):
    """multiprocessing's reduction of a tensor: its own, with the array swapped for a handle when its
    values live in a memory file."""
    rebuild, args = t.__reduce_ex__(2)
    m = shared_map_of(args[0]) if args and isinstance(args[0], np.ndarray) else None
    if isinstance(m, SharedMap):
        args = (_SharedArray(args[0], m),) + tuple(args[1:])
    return rebuild, args


_REGISTERED = []


def register_reducers():
    """Install the tensor reduction in multiprocessing's pickler (once; on first share_memory_)."""
    if _REGISTERED:
        return
    from multiprocessing.reduction import ForkingPickler

    from ..nn.parameter import Parameter
    from ..tensor import Tensor
    for cls in (Tensor, Parameter):
        ForkingPickler.register(cls, _reduce_tensor)
    _REGISTERED.append(True)
