"""Padding layers (constant/zero, reflection, replication, circular) over 1, 2 or 3 trailing dims;
``padding`` is stored as PyTorch stores it: a tuple of 2, 4 or 6 ints (left, right, top, bottom, ...)."""
from collections.abc import Iterable

from ..functional._pad import pad
from .module import Module

__all__ = ['CircularPad1d', 'CircularPad2d', 'CircularPad3d', 'ConstantPad1d', 'ConstantPad2d', 'ConstantPad3d',
           'ReflectionPad1d', 'ReflectionPad2d', 'ReflectionPad3d', 'ReplicationPad1d', 'ReplicationPad2d',
           'ReplicationPad3d', 'ZeroPad1d', 'ZeroPad2d', 'ZeroPad3d']


def _ntuple(x, n):
    return tuple(x) if isinstance(x, Iterable) else (x,) * n


class _PadNd(Module):
    """Pads with F.pad(input, self.padding, mode); subclasses fix the mode and the number of dims."""
    mode = 'constant'
    n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, 2 * self.n)

    def forward(self, input):
        return pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f'{self.padding}'


class _CircularPadNd(_PadNd):
    mode = 'circular'

    def forward(self, input):
        if input.dim() not in (self.n + 1, self.n + 2):
            raise ValueError(f'expected {self.n + 1}D or {self.n + 2}D input (got {input.dim()}D input)')
        return pad(input, self.padding, 'circular')


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, 'constant', self.value)

    def extra_repr(self):
        return f'padding={self.padding}, value={self.value}'


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f'{self.padding}'


class _ReflectionPadNd(_PadNd):
    mode = 'reflect'


class _ReplicationPadNd(_PadNd):
    mode = 'replicate'


def _layer(name, base, n, doc):
    return type(name, (base,), {'n': n, '__doc__': doc, '__module__': __name__})


CircularPad1d = _layer('CircularPad1d', _CircularPadNd, 1, 'Pads the last dim by wrapping around.')
CircularPad2d = _layer('CircularPad2d', _CircularPadNd, 2, 'Pads the last 2 dims by wrapping around.')
CircularPad3d = _layer('CircularPad3d', _CircularPadNd, 3, 'Pads the last 3 dims by wrapping around.')
ConstantPad1d = _layer('ConstantPad1d', _ConstantPadNd, 1, 'Pads the last dim with a constant value.')
ConstantPad2d = _layer('ConstantPad2d', _ConstantPadNd, 2, 'Pads the last 2 dims with a constant value.')
ConstantPad3d = _layer('ConstantPad3d', _ConstantPadNd, 3, 'Pads the last 3 dims with a constant value.')
ZeroPad1d = _layer('ZeroPad1d', _ZeroPadNd, 1, 'Pads the last dim with zeros.')
ZeroPad2d = _layer('ZeroPad2d', _ZeroPadNd, 2, 'Pads the last 2 dims with zeros.')
ZeroPad3d = _layer('ZeroPad3d', _ZeroPadNd, 3, 'Pads the last 3 dims with zeros.')
ReflectionPad1d = _layer('ReflectionPad1d', _ReflectionPadNd, 1, 'Pads the last dim with its mirror image.')
ReflectionPad2d = _layer('ReflectionPad2d', _ReflectionPadNd, 2, 'Pads the last 2 dims with their mirror image.')
ReflectionPad3d = _layer('ReflectionPad3d', _ReflectionPadNd, 3, 'Pads the last 3 dims with their mirror image.')
ReplicationPad1d = _layer('ReplicationPad1d', _ReplicationPadNd, 1, 'Pads the last dim by repeating its edge.')
ReplicationPad2d = _layer('ReplicationPad2d', _ReplicationPadNd, 2, 'Pads the last 2 dims by repeating the edges.')
ReplicationPad3d = _layer('ReplicationPad3d', _ReplicationPadNd, 3, 'Pads the last 3 dims by repeating the edges.')
