"""``torch.sparse``: products and sums of sparse COO tensors (see ``ember._sparse``), the invariant-check
switch, and the legacy ``torch.sparse.FloatTensor(indices, values, size)`` constructors older graph code
(pygcn) calls."""
import numpy as np

from .. import _sparse
from .._sparse import sparse_mm as mm, sparse_sum as sum  # noqa: F401 (torch.sparse.mm / torch.sparse.sum)
from .._torch_names import TorchNamedType
from .._warn import warn_user


class check_sparse_tensor_invariants:
    """Whether sparse constructors check their indices (``torch.sparse.check_sparse_tensor_invariants``): a
    context manager or decorator turning the checks on (``enable=True``) or off in its scope, and the global
    switch. ember always checks that indices fit the size; choosing either way silences the warning that
    ``sparse_coo_tensor`` gives while no choice is made."""

    def __init__(self, enable=True):
        self.state = bool(enable)
        self.saved = None

    @staticmethod
    def is_enabled():
        return _sparse._INVARIANTS[0]

    @staticmethod
    def enable():
        _sparse._INVARIANTS[:] = [True, True]

    @staticmethod
    def disable():
        _sparse._INVARIANTS[:] = [False, True]

    def __enter__(self):
        self.saved = list(_sparse._INVARIANTS)
        _sparse._INVARIANTS[:] = [self.state, True]
        return self

    def __exit__(self, *exc):
        _sparse._INVARIANTS[:] = self.saved
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with check_sparse_tensor_invariants(self.state):
                return fn(*args, **kwargs)
        return wrapped


class _LegacySparseType(TorchNamedType):
    """Metaclass of torch.sparse.FloatTensor and its kin: ``isinstance`` is a sparse tensor of the dtype."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, _sparse.SparseTensor) and obj._vals.dtype == cls._np


def _legacy(name, np_dtype):
    """A legacy constructor class; each deprecation warning once a process, as PyTorch's TORCH_WARN_ONCE."""
    def __new__(cls, *args, device=None):
        from ..tensor import Tensor
        if len(args) == 3 or (len(args) == 2 and isinstance(args[1], Tensor)):
            shape = ', shape' if len(args) == 3 else ''
            warn_user(f'torch.sparse.SparseTensor(indices, values{shape}, *, device=) is deprecated.  Please use '
                      f'torch.sparse_coo_tensor(indices, values{shape}, dtype=, device=).', once=True)
            size = tuple(args[2]) if len(args) == 3 else None
            values = args[1]      # kept in its own dtype, as PyTorch keeps it
            with check_sparse_tensor_invariants(False):
                return _sparse.sparse_coo_tensor(args[0], values, size, device=device)
        warn_user('torch.sparse.SparseTensor(shape, *, device=) is deprecated.  Please use '
                  'torch.sparse_coo_tensor(shape, dtype=, device=).', once=True)
        size = tuple(args[0]) if len(args) == 1 and isinstance(args[0], (tuple, list)) else tuple(args)
        with check_sparse_tensor_invariants(False):
            return _sparse.sparse_coo_tensor(np.zeros((len(size), 0), np.int64),
                                             np.zeros((0,), cls._np), size, device=device)
    return _LegacySparseType(name, (), {'__new__': __new__, '_np': np.dtype(np_dtype), '__module__': __name__,
                                        '__doc__': f'Legacy constructor of a sparse {name[:-6].lower()} tensor.'})


FloatTensor = _legacy('FloatTensor', np.float32)
DoubleTensor = _legacy('DoubleTensor', np.float64)
HalfTensor = _legacy('HalfTensor', np.float16)
LongTensor = _legacy('LongTensor', np.int64)
IntTensor = _legacy('IntTensor', np.int32)
ShortTensor = _legacy('ShortTensor', np.int16)
CharTensor = _legacy('CharTensor', np.int8)
ByteTensor = _legacy('ByteTensor', np.uint8)
BoolTensor = _legacy('BoolTensor', np.bool_)
