"""``torch.finfo`` and ``torch.iinfo``: the numerical limits of a floating or integer dtype, with
PyTorch's fields and reprs."""
import numpy as np

from . import _dtype

__all__ = ['finfo', 'iinfo']

# bfloat16 has no NumPy type: its limits, as PyTorch reports them
_BFLOAT16 = dict(bits=16, eps=0.0078125, max=3.3895313892515355e+38, tiny=1.1754943508222875e-38, resolution=0.01)


class finfo:
    """Limits of a floating point dtype (the default dtype when none is given)."""

    def __init__(self, type=None):
        dt = _dtype.get_default_dtype() if type is None else type
        if not isinstance(dt, _dtype.dtype) or not dt.is_floating_point:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        name = repr(dt).split('.')[-1]
        if name == 'bfloat16':
            f = _BFLOAT16
            self.bits, self.eps, self.max, self.tiny, self.resolution = (f['bits'], f['eps'], f['max'], f['tiny'],
                                                                         f['resolution'])
        else:
            info = np.finfo(np.dtype(name))
            self.bits, self.eps, self.max = int(info.bits), float(info.eps), float(info.max)
            self.tiny, self.resolution = float(info.smallest_normal), 10.0 ** -int(info.precision)
        self.min, self.smallest_normal, self.dtype = -self.max, self.tiny, name

    def __eq__(self, other):
        return isinstance(other, finfo) and self.dtype == other.dtype

    __hash__ = None

    def __repr__(self):
        return (f'finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, '
                f'smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})')


class iinfo:
    """Limits of an integer dtype."""

    def __init__(self, type):
        if not isinstance(type, _dtype.dtype) or type.is_floating_point:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        name = repr(type).split('.')[-1]
        if name == 'bool':
            raise TypeError('torch.bool is not supported by torch.iinfo')
        info = np.iinfo(np.dtype(name))
        self.bits, self.min, self.max, self.dtype = int(info.bits), int(info.min), int(info.max), name

    def __eq__(self, other):
        return isinstance(other, iinfo) and self.dtype == other.dtype

    __hash__ = None

    def __repr__(self):
        return f'iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})'
