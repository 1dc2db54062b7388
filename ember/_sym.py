"""``torch.sym_*`` and the ``SymInt``/``SymFloat``/``SymBool`` classes as eager code meets them. Under PyTorch's
symbolic tracing a size can be a SymInt wrapping a node; ember traces nothing symbolically, so no value is ever one
of these classes: libraries' ``isinstance(n, torch.SymInt)`` checks are False, as in PyTorch's eager mode, and
the ``sym_*`` helpers act on Python and NumPy numbers as PyTorch's do on them."""
import builtins
import math

import numpy as np

__all__ = ['SymInt', 'SymFloat', 'SymBool', 'sym_not', 'sym_float', 'sym_int', 'sym_max', 'sym_min', 'sym_sum',
           'sym_sqrt', 'sym_ite', 'sym_constrain_range', 'sym_constrain_range_for_size', 'sym_fresh_size']


class _SymNumber:
    """A symbolic number: ``node`` is what it stands for (PyTorch's SymNode; ember never makes one)."""

    def __init__(self, node):
        self.node = node

    def __repr__(self):
        return f'{type(self).__name__}({self.node!r})'


class SymInt(_SymNumber):
    """A symbolic int (``isinstance`` target only: eager sizes are ints)."""


class SymFloat(_SymNumber):
    """A symbolic float (``isinstance`` target only)."""


class SymBool(_SymNumber):
    """A symbolic bool (``isinstance`` target only)."""



_ALL_TYPES = (np.integer, np.floating, builtins.int, builtins.float)
_FLOAT_TYPES = (np.floating, builtins.float)


def sym_not(a):
    """``not a`` (a SymBool-aware negation)."""
    if hasattr(a, '__sym_not__'):
        return a.__sym_not__()
    return not a


def sym_float(a):
    """``float(a)``."""
    if isinstance(a, SymFloat):
        return a
    if hasattr(a, '__sym_float__'):
        return a.__sym_float__()
    return builtins.float(a)


def sym_int(a):
    """``int(a)`` (a float truncates toward zero)."""
    if isinstance(a, SymInt):
        return a
    return builtins.int(a)


def _pick(fn, a, b):
    """max/min of two numbers, a float whenever either is a float (not Python's keep-the-winner's-type)."""
    for v in (a, b):
        if not isinstance(v, _ALL_TYPES):
            raise AssertionError(f'expected {_ALL_TYPES}, got {type(v)}')
    if isinstance(a, _FLOAT_TYPES) or isinstance(b, _FLOAT_TYPES):
        return builtins.float(fn(a, b))
    return fn(a, b)


def sym_max(a, b):
    """``max(a, b)`` without branching on a < b; a float if either is."""
    return _pick(builtins.max, a, b)


def sym_min(a, b):
    """``min(a, b)``; a float if either is."""
    return _pick(builtins.min, a, b)


def sym_sum(*args):
    """The sum of the numbers, given as arguments or as one list/tuple."""
    if len(args) == 1 and isinstance(args[0], (list, tuple)):
        args = args[0]
    return builtins.sum(args)


def sym_sqrt(a):
    """``math.sqrt(a)`` (a SymInt would first become a SymFloat)."""
    if hasattr(a, '__sym_sqrt__'):
        return a.__sym_sqrt__()
    return math.sqrt(a)


def sym_ite(b, t, f):
    """``t if b else f``: ``b`` must be a bool, ``t`` and ``f`` of one type."""
    if not isinstance(b, (SymBool, builtins.bool)):
        raise AssertionError(f'expected SymBool or bool, got {type(b)}')
    if type(t) is not type(f):
        raise AssertionError(f'type mismatch: {type(t)} vs {type(f)}')
    return t if b else f


_INT64 = (-2 ** 63, 2 ** 63 - 1)


def _number(name, size):
    """PyTorch's argument error where ``size`` is not a number (a one-element tensor passes)."""
    from .ops._util import arg_error
    from .tensor import Tensor
    if not isinstance(size, (int, float, np.number, Tensor)):
        raise arg_error(name, 'size', 1, size, 'Number')


def sym_constrain_range(size, *, min=None, max=None):
    """Check that a plain size lies in [min, max] (PyTorch's eager answer; symbolic sizes would be constrained)."""
    _number('sym_constrain_range', size)
    _check_range(size, _INT64[0] if min is None else min, _INT64[1] if max is None else max)


def sym_constrain_range_for_size(size, *, min=None, max=None):
    """sym_constrain_range for a size: min defaults to 0, and max must exceed 2."""
    _number('sym_constrain_range_for_size', size)
    if max is not None and max <= 2:
        raise RuntimeError(f'Max value to constrain_range_for_size must be greater than 2. got: {max}')
    _check_range(size, 0 if min is None else min, _INT64[1] if max is None else max)


def _check_range(size, lo, hi):
    if isinstance(size, int) and not lo <= size <= hi:
        raise RuntimeError(f'Invalid value range for {size} between [{lo}, {hi}].')


def sym_fresh_size(expr):
    """``expr`` as a plain number (through a tensor's item(), as PyTorch's)."""
    from .ops.creation import tensor
    return tensor(expr).item()
