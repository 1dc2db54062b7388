"""Tensor creation: from data (``tensor``, ``as_tensor``, ``from_numpy``) and by shape (``zeros``,
``arange``, ...), with PyTorch's dtype inference (Python floats give the default dtype)."""
import warnings

import numpy as np

from .. import _dtype
from .._dtype import DEFAULT, to_np
from ..tensor import Tensor, _check_device, _to_nested
from ._util import shape_arg


def _finish(t, requires_grad):
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer(data):
    """NumPy array for nested Python data, with torch's dtype inference."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, bool):
        return np.array(data, np.bool_)
    if isinstance(data, int):
        if not -2**63 <= data < 2**63:
            raise RuntimeError(f'Overflow when unpacking long')
        return np.array(data, np.int64)
    if isinstance(data, float):
        return np.array(data, DEFAULT.np)
    if isinstance(data, (list, tuple)):
        kinds = set()
        arr_dtypes = []
        _scan(data, kinds, arr_dtypes)
        nested = _to_nested(data)
        try:
            arr = np.array(nested)
        except ValueError as e:
            raise ValueError(f'expected sequence of equal-length lists to build a tensor ({e})') from None
        if arr.dtype == object:
            raise TypeError('tensor(): could not build a tensor from this data (ragged nesting or objects)')
        if arr.size == 0 and not arr_dtypes:
            return arr.astype(DEFAULT.np)
        dt = _list_dtype(kinds, arr_dtypes)
        return arr.astype(dt.np, copy=False)
    if hasattr(data, '__array__'):
        return np.asarray(data)
    if isinstance(data, complex):
        raise TypeError('ember has no complex dtypes')
    raise TypeError(f"Could not infer dtype of {type(data).__name__}")


def _scan(x, kinds, arr_dtypes):
    for v in x:
        if isinstance(v, (list, tuple)):
            _scan(v, kinds, arr_dtypes)
        elif isinstance(v, Tensor):
            arr_dtypes.append(v.dtype)
        elif isinstance(v, np.ndarray):
            arr_dtypes.append(_dtype.from_np(v.dtype))
        elif isinstance(v, bool) or isinstance(v, np.bool_):
            kinds.add(0)
        elif isinstance(v, (int, np.integer)):
            kinds.add(1)
        elif isinstance(v, (float, np.floating)):
            kinds.add(2)
        else:
            raise TypeError(f"Could not infer dtype of {type(v).__name__}")


def _list_dtype(kinds, arr_dtypes):
    scalar = {0: _dtype.bool_, 1: _dtype.int64, 2: DEFAULT.dtype}[max(kinds)] if kinds else None
    if not arr_dtypes:
        return scalar
    d = arr_dtypes[0]
    for o in arr_dtypes[1:]:
        d = _dtype.promote_types(d, o)
    if scalar is not None and scalar._cat > d._cat:
        d = _dtype.promote_types(d, scalar)
    return d


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor (always a copy) from nested lists, numbers, NumPy arrays or tensors."""
    _check_device(device)
    if isinstance(data, Tensor):
        warnings.warn('To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() '
                      'or sourceTensor.clone().detach().requires_grad_(True), rather than torch.tensor('
                      'sourceTensor).', UserWarning, stacklevel=2)
    arr = _infer(data)
    nd = to_np(dtype)
    arr = np.array(arr, dtype=nd if nd is not None else arr.dtype, copy=True)
    if arr.dtype not in _dtype.FROM_NP:
        arr = arr.astype(_dtype.from_np(arr.dtype).np)
    return _finish(Tensor._make(arr), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when the dtype allows."""
    _check_device(device)
    nd = to_np(dtype)
    if isinstance(data, Tensor):
        return data if nd is None or nd == data._data.dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        _dtype.from_np(data.dtype)
        return Tensor._make(data if nd is None else data.astype(nd, copy=False))
    arr = _infer(data)
    return Tensor._make(arr if nd is None else arr.astype(nd))


asarray = as_tensor


def from_numpy(ndarray):
    """A tensor sharing memory with ``ndarray`` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f'expected np.ndarray (got {type(ndarray).__name__})')
    _dtype.from_np(ndarray.dtype)
    return Tensor._make(ndarray)


def _by_shape(fill):
    def make(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False,
             memory_format=None, generator=None, **kw):
        _check_device(device)
        shape = shape_arg(size or (kw.pop('size'),))
        nd = to_np(dtype) or DEFAULT.np
        return _finish(Tensor._make(fill(shape, nd)), requires_grad)
    return make


zeros = _by_shape(np.zeros)
ones = _by_shape(np.ones)
empty = _by_shape(np.zeros)
zeros.__name__, ones.__name__, empty.__name__ = 'zeros', 'ones', 'empty'
zeros.__doc__ = 'A tensor of zeros of the given size (default dtype float32).'
ones.__doc__ = 'A tensor of ones of the given size (default dtype float32).'
empty.__doc__ = 'An uninitialised tensor (ember fills it with zeros).'


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None,
         pin_memory=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    _check_device(device)
    nd = to_np(dtype)
    if nd is None:
        nd = _infer(fill_value).dtype
    return _finish(Tensor._make(np.full(shape_arg((size,)), fill_value, dtype=nd)), requires_grad)


def _like(fill):
    def make(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None,
             pin_memory=False):
        _check_device(device)
        nd = to_np(dtype) or input._data.dtype
        return _finish(Tensor._make(fill(input._data.shape, nd)), requires_grad)
    return make


zeros_like = _like(np.zeros)
ones_like = _like(np.ones)
empty_like = _like(np.zeros)
zeros_like.__name__, ones_like.__name__, empty_like.__name__ = 'zeros_like', 'ones_like', 'empty_like'


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, **kw):
    nd = to_np(dtype) or input._data.dtype
    return _finish(Tensor._make(np.full(input._data.shape, fill_value, dtype=nd)), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """The identity matrix (n x m)."""
    _check_device(device)
    return _finish(Tensor._make(np.eye(n, m, dtype=to_np(dtype) or DEFAULT.np)), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """Values in [start, end) spaced by step: int64 for integer arguments, else the default float."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError('step must be nonzero')
    if (end - start) / step < 0:
        raise RuntimeError('upper bound and larger bound inconsistent with step sign')
    nd = to_np(dtype)
    if nd is None:
        nd = np.dtype(np.int64) if all(isinstance(v, int) for v in vals) else DEFAULT.np
    n = int(np.ceil((end - start) / step))
    arr = (start + np.arange(n, dtype=np.float64 if nd.kind == 'f' else np.int64) * step).astype(nd)
    return _finish(Tensor._make(arr), requires_grad)


def range_(start, end, step=1, *, dtype=None, device=None, requires_grad=False):
    """Deprecated torch.range: includes ``end``; default float dtype."""
    n = int(np.floor((end - start) / step)) + 1
    arr = (start + np.arange(n) * step).astype(to_np(dtype) or DEFAULT.np)
    return _finish(Tensor._make(arr), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    """``steps`` evenly spaced values from start to end inclusive."""
    _check_device(device)
    nd = to_np(dtype) or DEFAULT.np
    arr = np.linspace(float(start), float(end), int(steps))
    return _finish(Tensor._make(arr.astype(nd)), requires_grad)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    nd = to_np(dtype) or DEFAULT.np
    return _finish(Tensor._make(np.logspace(start, end, int(steps), base=base).astype(nd)), requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    return _finish(Tensor._make(np.array(s, dtype=to_np(dtype) or DEFAULT.np)), requires_grad)
