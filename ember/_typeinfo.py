"""``torch.finfo`` and ``torch.iinfo``: the numerical limits of floating and integer dtypes, bfloat16 included
(NumPy has no bfloat16, so its limits are spelled here: 8 exponent bits as float32's, 7 mantissa bits)."""
import math

import numpy as np

from . import _dtype
from ._torch_names import TorchNamedType

_BFLOAT16 = {'bits': 16, 'eps': 2.0 ** -7, 'max': (2 - 2.0 ** -7) * 2.0 ** 127, 'tiny': 2.0 ** -126,
             'resolution': 0.01}
# The float8 formats' limits (no NumPy type either), as (eps, max, tiny) from exponent bias and mantissa width:
# e4m3fn (bias 7, no inf: the top code's 1.75 * 2**8), e5m2 (IEEE-like, bias 15), the fnuz forms (bias one
# higher, no negative zero; PyTorch gives e5m2fnuz eps 2**-3) and e8m0fnu (exponent only, unsigned: min is tiny).
_FLOAT8 = {'float8_e4m3fn': (2.0 ** -3, 1.75 * 2.0 ** 8, 2.0 ** -6),
           'float8_e5m2': (2.0 ** -2, 1.75 * 2.0 ** 15, 2.0 ** -14),
           'float8_e4m3fnuz': (2.0 ** -3, 1.875 * 2.0 ** 7, 2.0 ** -7),
           'float8_e5m2fnuz': (2.0 ** -3, 1.75 * 2.0 ** 15, 2.0 ** -15),
           'float8_e8m0fnu': (1.0, 2.0 ** 127, 2.0 ** -127)}


def _check_type(fn, type_):
    if not isinstance(type_, _dtype.dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not {type(type_).__name__}")


class _Info(metaclass=TorchNamedType):
    """Read-only attributes, equal when they describe the same dtype, printed as PyTorch prints them (the classes
    too: ``<class 'torch.finfo'>``)."""
    __slots__ = ('_values',)
    _fields = ()

    def __getattr__(self, name):
        try:
            return object.__getattribute__(self, '_values')[name]
        except KeyError:
            raise AttributeError(f"'torch.{type(self).__name__}' object has no attribute '{name}'") from None

    def __setattr__(self, name, value):
        raise AttributeError(f"attribute '{name}' of 'torch.{type(self).__name__}' objects is not writable")

    def __eq__(self, other):
        return type(other) is type(self) and other._values == self._values

    __hash__ = None

    def __repr__(self):
        shown = ', '.join(f'{k}={self._values[k]:g}' for k in self._fields)
        return f'{type(self).__name__}({shown}, dtype={self._values["dtype"]})'

    __str__ = __repr__


class finfo(_Info):
    """``torch.finfo(dtype=default dtype)``: bits, eps, max, min, tiny (= smallest_normal), resolution; of a
    complex dtype, its real part's."""
    __slots__ = ()
    _fields = ('resolution', 'min', 'max', 'eps', 'smallest_normal', 'tiny')

    def __init__(self, type=None):
        type_ = _dtype.get_default_dtype() if type is None else type
        _check_type('finfo', type_)
        type_ = type_.to_real()   # a complex dtype's limits are its parts' (PyTorch's finfo(complex64) is float32's)
        if not type_.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        if type_ is _dtype.bfloat16:
            v = dict(_BFLOAT16)
        elif type_.name in _FLOAT8:
            eps, top, tiny = _FLOAT8[type_.name]
            v = {'bits': 8, 'eps': eps, 'max': top, 'tiny': tiny, 'resolution': 1.0}
        else:
            info = np.finfo(type_.np)
            v = {'bits': info.bits, 'eps': float(info.eps), 'max': float(info.max), 'tiny': float(info.tiny),
                 'resolution': 10.0 ** -math.floor(-math.log10(float(info.eps)))}
        v.update(min=v['tiny'] if not type_.is_signed else -v['max'], smallest_normal=v['tiny'], dtype=type_.name)
        object.__setattr__(self, '_values', v)


class iinfo(_Info):
    """``torch.iinfo(dtype)``: bits, min, max of an integer dtype."""
    __slots__ = ()
    _fields = ('min', 'max')

    def __init__(self, type):
        _check_type('iinfo', type)
        if type is _dtype.bool_:
            raise TypeError('torch.bool is not supported by torch.iinfo')
        if type._cat != 1:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(type.np)
        object.__setattr__(self, '_values', {'bits': info.bits, 'min': int(info.min), 'max': int(info.max),
                                             'dtype': type.name})
