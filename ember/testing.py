"""``torch.testing``: ``assert_close`` (and the deprecated ``assert_allclose``) with PyTorch's default
tolerances per dtype and PyTorch's failure messages, for tests that compare tensors, numbers and nested
containers of them."""
import collections.abc
import math
import warnings

import numpy as np

from . import _dtype
from .tensor import Tensor

# (rtol, atol) by dtype name; integers and bool compare exactly
_TOLERANCES = {'float16': (1e-3, 1e-5), 'bfloat16': (1.6e-2, 1e-5), 'float32': (1.3e-6, 1e-5),
               'float64': (1e-7, 1e-7), 'complex32': (1e-3, 1e-5), 'complex64': (1.3e-6, 1e-5),
               'complex128': (1e-7, 1e-7)}
# assert_allclose's older table
_ALLCLOSE_TOLERANCES = {'float16': (1e-3, 1e-3), 'float32': (1e-4, 1e-5), 'float64': (1e-5, 1e-8)}


class _Mismatch(Exception):
    """A failed comparison: the exception type to raise and its message (the item path is added later)."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Raise an AssertionError (with PyTorch's message) unless ``actual`` and ``expected`` are close:
    tensors, NumPy arrays, numbers, bools and None, in sequences and mappings compared item by item."""
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    opts = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, check_stride=check_stride,
                allow_subclasses=allow_subclasses)
    try:
        _compare(actual, expected, (), opts)
    except _Mismatch as failure:
        message = failure.message
        if failure.kind is AssertionError and msg is not None:
            message = msg(message) if callable(msg) else msg
        raise failure.kind(message) from None


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=''):
    """Deprecated in PyTorch since 1.12 (use ``assert_close``): dtypes need not match, NaNs are equal."""
    warnings.warn('`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a future '
                  'release. Please use `torch.testing.assert_close()` instead. You can find detailed upgrade '
                  'instructions in https://github.com/pytorch/pytorch/issues/61844.', FutureWarning, stacklevel=2)
    from .ops.creation import as_tensor
    actual = actual if isinstance(actual, Tensor) else as_tensor(actual)
    expected = expected if isinstance(expected, Tensor) else as_tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        names = [actual._data.dtype.name, expected._data.dtype.name]
        rtol = max(_ALLCLOSE_TOLERANCES.get(n, (0.0, 0.0))[0] for n in names)
        atol = max(_ALLCLOSE_TOLERANCES.get(n, (0.0, 0.0))[1] for n in names)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


def _compare(actual, expected, path, opts):
    try:
        _compare_leaf_or_container(actual, expected, path, opts)
    except _Mismatch as failure:
        if path and not getattr(failure, 'located', False):
            where = ''.join(f'[{p!r}]' for p in path)
            failure.message += f'\n\nThe failure occurred for item {where}'
            failure.located = True
        raise


def _compare_leaf_or_container(actual, expected, path, opts):
    tensors = (Tensor, np.ndarray)
    if isinstance(actual, tensors) or isinstance(expected, tensors):
        both = isinstance(actual, Tensor) and isinstance(expected, Tensor) and opts.get('allow_subclasses', True)
        if type(actual) is not type(expected) and not both:
            _no_pair(actual, expected)
        return _compare_tensors(actual, expected, opts)
    if actual is None or expected is None:
        if not (actual is None and expected is None):
            raise _Mismatch(AssertionError, f'None mismatch: {actual} is not {expected}')
        return
    if _is_bool(actual) or _is_bool(expected):
        if not (_is_bool(actual) and _is_bool(expected)):
            _no_pair(actual, expected)
        if bool(actual) is not bool(expected):
            raise _Mismatch(AssertionError, f'Booleans mismatch: {actual} is not {expected}')
        return
    if _is_number(actual) or _is_number(expected):
        if not (_is_number(actual) and _is_number(expected)):
            _no_pair(actual, expected)
        return _compare_numbers(actual, expected, opts)
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        if set(actual) != set(expected):
            raise _Mismatch(AssertionError, 'The keys of the mappings do not match:\n'
                            f'Missing keys in the actual mapping: {sorted(set(expected) - set(actual))}\n'
                            f'Additional keys in the actual mapping: {sorted(set(actual) - set(expected))}')
        for key in sorted(actual, key=str):
            _compare(actual[key], expected[key], path + (key,), opts)
        return
    if _is_sequence(actual) and _is_sequence(expected):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f'The length of the sequences mismatch: {len(actual)} != {len(expected)}')
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, path + (i,), opts)
        return
    _no_pair(actual, expected)


def _no_pair(actual, expected):
    raise _Mismatch(TypeError, f'No comparison pair was able to handle inputs of type {_type(actual)} and '
                               f'{_type(expected)}.')


def _type(x):
    return "<class 'torch.Tensor'>" if type(x) is Tensor else type(x)


def _is_bool(x):
    return isinstance(x, (bool, np.bool_))


def _is_number(x):
    return isinstance(x, (int, float, complex, np.number)) and not _is_bool(x)


def _is_sequence(x):
    return isinstance(x, collections.abc.Sequence) and not isinstance(x, str)


def _compare_numbers(actual, expected, opts):
    if opts['check_dtype'] and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f'The (d)types do not match: {type(actual)} != {type(expected)}.')
    rtol, atol = opts['rtol'], opts['atol']
    if rtol is None:
        kinds = [_number_dtype(actual), _number_dtype(expected)]
        rtol = max(_TOLERANCES.get(k, (0.0, 0.0))[0] for k in kinds)
        atol = max(_TOLERANCES.get(k, (0.0, 0.0))[1] for k in kinds)
    if actual == expected:
        return
    if opts['equal_nan'] and _isnan(actual) and _isnan(expected):
        return
    diff = abs(actual - expected)
    if math.isfinite(diff) and diff <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_message(actual, expected, rtol, atol))


def _number_dtype(x):
    if isinstance(x, np.number):
        return x.dtype.name
    return 'float64' if isinstance(x, float) else 'complex128' if isinstance(x, complex) else 'int64'


def _isnan(x):
    return isinstance(x, (float, np.floating)) and math.isnan(x)


def _scalar_message(actual, expected, rtol, atol):
    diff = abs(actual - expected)
    rel = float('inf') if expected == 0 else diff / abs(expected)
    return _message('Scalars', f'Expected {expected} but got {actual}.', (diff, None), (rel, None), rtol, atol)


def _message(what, extra, absolute, relative, rtol, atol):
    """PyTorch's mismatch message: header, extra line, greatest absolute and relative differences."""
    equal = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if equal else 'close'}!", '', extra]
    for kind, (diff, index), tol in (('absolute', absolute, atol), ('relative', relative, rtol)):
        line = f'{kind.title()} difference: {diff}' if index is None else \
            f'Greatest {kind} difference: {diff} at index {index}'
        lines.append(line if equal else f'{line} (up to {tol} allowed)')
    return '\n'.join(lines)


def _compare_tensors(actual, expected, opts):
    a, e = _array(actual), _array(expected)
    _attribute('shape', _size(actual), _size(expected), a.shape != e.shape)
    if opts['check_dtype']:
        _attribute('dtype', _dtype_repr(actual), _dtype_repr(expected), a.dtype != e.dtype)
    if opts['check_stride'] and isinstance(actual, Tensor):
        _attribute('stride()', actual.stride(), expected.stride(), actual.stride() != expected.stride())
    rtol, atol = opts['rtol'], opts['atol']
    if rtol is None:
        names = [a.dtype.name, e.dtype.name]
        rtol = max(_TOLERANCES.get(n, (0.0, 0.0))[0] for n in names)
        atol = max(_TOLERANCES.get(n, (0.0, 0.0))[1] for n in names)
    common = _dtype.to_np(_dtype.promote_types(_dtype.from_np(a.dtype), _dtype.from_np(e.dtype)))
    a, e = a.astype(common, copy=False), e.astype(common, copy=False)
    matches = _isclose(a, e, rtol, atol, opts['equal_nan'])
    if matches.all():
        return
    if a.ndim == 0:
        raise _Mismatch(AssertionError, _scalar_message(a.item(), e.item(), rtol, atol))
    raise _Mismatch(AssertionError, _tensor_message(a, e, matches, rtol, atol))


def _array(x):
    return x._data if isinstance(x, Tensor) else x


def _size(x):
    return x.shape if isinstance(x, Tensor) else f'torch.Size({list(x.shape)})'


def _dtype_repr(x):
    if isinstance(x, Tensor):
        return x.dtype
    return _dtype.from_np(x.dtype)


def _attribute(name, a, e, differ):
    if differ:
        raise _Mismatch(AssertionError, f"The values for attribute '{name}' do not match: {a} != {e}.")


def _isclose(a, e, rtol, atol, equal_nan):
    """``torch.isclose``: equal (infinities included), or finite and within ``atol + rtol * |e|``."""
    if a.dtype.kind in 'biu':
        return a == e
    with np.errstate(invalid='ignore', over='ignore'):
        close = (a == e) | (np.abs(a - e) <= atol + rtol * np.abs(e))
    if equal_nan:
        close |= np.isnan(a) & np.isnan(e)
    return close


def _tensor_message(a, e, matches, rtol, atol):
    """The mismatch statistics as PyTorch computes them: differences in the tensors' dtype (integers as
    int64, their relative difference as float32), matches excluded, the first greatest one's index."""
    total, bad = matches.size, int(matches.size - matches.sum())
    extra = f'Mismatched elements: {bad} / {total} ({bad / total:.1%})'
    af, ef, mf = a.reshape(-1), e.reshape(-1), matches.reshape(-1)
    if af.dtype.kind in 'biu':
        af, ef = af.astype(np.int64), ef.astype(np.int64)
    with np.errstate(all='ignore'):
        absolute = np.abs(af - ef)
        absolute[mf] = 0
        denominator = np.abs(ef)
        if absolute.dtype.kind == 'i':
            relative = absolute.astype(np.float32) / denominator.astype(np.float32)
        else:
            relative = absolute / denominator
    relative[mf] = 0
    return _message('Tensor-likes', extra, _greatest(absolute, a.shape), _greatest(relative, a.shape), rtol, atol)


def _greatest(diff, shape):
    """``(value, index)`` of the greatest entry as ``torch.max`` finds it (a NaN wins, first one first)."""
    nans = np.isnan(diff) if diff.dtype.kind == 'f' else np.zeros(diff.shape, bool)
    flat = int(np.argmax(nans)) if nans.any() else int(np.argmax(diff))
    return diff[flat].item(), tuple(int(i) for i in np.unravel_index(flat, shape))
