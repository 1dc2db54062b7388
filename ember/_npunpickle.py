"""NumPy values in pickles, rebuilt without NumPy's own unpickling: ``numpy.dtype`` only for plain numeric
dtypes (a structured dtype's field offsets outside the item would make NumPy read process memory), arrays
only from the bytes the pickle holds (``_reconstruct`` of a huge shape allocates nothing). Shared by the
dataset unpickler (CIFAR batches) and ``load`` (NumPy values in PyTorch files)."""
import math
import re

import numpy as np

from .serialization import UnpicklingError

_PLAIN_DTYPE = re.compile(r'[<>|=]?(b1|[iu][1248]|f[248]|c8|c16)')


class _DtypeStub:
    """``numpy.dtype`` as a pickle builds it: a plain numeric dtype only, whose BUILD state may only restate
    it (a structured dtype's field offsets outside the item would make NumPy read process memory)."""
    __slots__ = ('dtype',)

    def __init__(self, spec, align=False, copy=False):
        if not (isinstance(spec, str) and _PLAIN_DTYPE.fullmatch(spec)):
            raise UnpicklingError(f'refusing numpy.dtype({spec!r}): only plain numeric dtypes are loaded')
        self.dtype = np.dtype(spec)

    def __setstate__(self, state):
        plain = (type(state) is tuple and len(state) == 8 and state[0] == 3 and state[1] in ('<', '>', '|', '=')
                 and state[2:5] == (None, None, None) and state[5] in (-1, self.dtype.itemsize)
                 and all(type(x) is int for x in state[5:]))
        if not plain:
            raise UnpicklingError(f'refusing a numpy.dtype state {state!r}: only plain numeric dtypes are loaded')
        if state[1] in '<>':
            self.dtype = self.dtype.newbyteorder(state[1])


class _ArrayStub:
    """``numpy.ndarray`` as ``_reconstruct`` + BUILD make it. Nothing is allocated before BUILD hands over
    the raw bytes, whose length must be the shape's size times the item size."""
    __slots__ = ('array',)

    def __init__(self):
        self.array = None

    def __setstate__(self, state):
        if not (type(state) is tuple and len(state) == 5 and isinstance(state[2], _DtypeStub)
                and type(state[1]) is tuple and all(type(n) is int and n >= 0 for n in state[1])
                and type(state[3]) is bool and isinstance(state[4], (bytes, str))):
            raise UnpicklingError('refusing a numpy array state that is not (version, shape, dtype, fortran, '
                                  'raw bytes)')
        _, shape, dt, fortran, raw = state
        raw = raw.encode('latin1') if isinstance(raw, str) else raw
        if len(raw) != math.prod(shape) * dt.dtype.itemsize:
            raise UnpicklingError(f'a numpy array of shape {shape} and dtype {dt.dtype} comes with {len(raw)} '
                                  'bytes of data')
        arr = np.frombuffer(raw, dt.dtype).reshape(shape, order='F' if fortran else 'C')
        self.array = arr.astype(dt.dtype.newbyteorder('='))


_NDARRAY = object()


def _reconstruct(cls, shape, typecode):
    if cls is not _NDARRAY:
        raise UnpicklingError('refusing numpy _reconstruct of anything but numpy.ndarray')
    return _ArrayStub()


def _scalar(dt, raw):
    raw = raw.encode('latin1') if isinstance(raw, str) else raw
    if not (isinstance(dt, _DtypeStub) and isinstance(raw, bytes) and len(raw) == dt.dtype.itemsize):
        raise UnpicklingError('refusing a malformed numpy scalar')
    return np.frombuffer(raw, dt.dtype)[0].astype(dt.dtype.newbyteorder('='))


NUMPY_GLOBALS = {('numpy', 'ndarray'): _NDARRAY, ('numpy', 'dtype'): _DtypeStub}
for _mod in ('numpy.core.multiarray', 'numpy._core.multiarray'):
    NUMPY_GLOBALS.update({(_mod, '_reconstruct'): _reconstruct, (_mod, 'scalar'): _scalar})
