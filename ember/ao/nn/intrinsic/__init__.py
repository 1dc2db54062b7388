"""``torch.ao.nn.intrinsic``: Sequential containers of modules that fuse_modules joined (conv + relu, linear + bn,
...); each checks its parts' types as PyTorch's and runs them in turn."""
from ....nn.modules.container import Sequential
from ....nn.utils.parametrize import type_before_parametrizations

__all__ = ['ConvBn1d', 'ConvBn2d', 'ConvBn3d', 'ConvBnReLU1d', 'ConvBnReLU2d', 'ConvBnReLU3d', 'ConvReLU1d',
           'ConvReLU2d', 'ConvReLU3d', 'LinearReLU', 'BNReLU2d', 'BNReLU3d', 'LinearBn1d', 'LinearLeakyReLU',
           'LinearTanh', 'ConvAdd2d', 'ConvAddReLU2d']


class _FusedModule(Sequential):
    """The base of the fused containers: a Sequential whose parts are checked against ``_PARTS``."""
    _PARTS = ()

    def __init__(self, *modules):
        from .... import nn
        want = tuple(getattr(nn, n) for n in self._PARTS)
        got = tuple(type_before_parametrizations(m) for m in modules)
        if got != want:
            raise AssertionError('Incorrect types for input modules: ' + ' and '.join(t.__name__ for t in got))
        super().__init__(*modules)


def _fused(name, parts):
    return type(name, (_FusedModule,), {'_PARTS': parts, '__module__': __name__,
                                        '__doc__': f"A sequential container calling {' then '.join(parts)}."})


ConvReLU1d, ConvReLU2d, ConvReLU3d = (_fused(f'ConvReLU{d}d', (f'Conv{d}d', 'ReLU')) for d in (1, 2, 3))
ConvBn1d, ConvBn2d, ConvBn3d = (_fused(f'ConvBn{d}d', (f'Conv{d}d', f'BatchNorm{d}d')) for d in (1, 2, 3))
ConvBnReLU1d, ConvBnReLU2d, ConvBnReLU3d = (_fused(f'ConvBnReLU{d}d', (f'Conv{d}d', f'BatchNorm{d}d', 'ReLU'))
                                            for d in (1, 2, 3))
BNReLU2d, BNReLU3d = (_fused(f'BNReLU{d}d', (f'BatchNorm{d}d', 'ReLU')) for d in (2, 3))
LinearReLU = _fused('LinearReLU', ('Linear', 'ReLU'))
LinearBn1d = _fused('LinearBn1d', ('Linear', 'BatchNorm1d'))
LinearLeakyReLU = _fused('LinearLeakyReLU', ('Linear', 'LeakyReLU'))
LinearTanh = _fused('LinearTanh', ('Linear', 'Tanh'))


class ConvAdd2d(_FusedModule):
    """Conv2d followed by an add of a second input (``add`` is a callable of two tensors)."""

    def __init__(self, conv, add):
        Sequential.__init__(self, conv)
        self.add = add

    def forward(self, x1, x2):
        return self.add(self[0](x1), x2)


class ConvAddReLU2d(_FusedModule):
    """Conv2d, an add of a second input, then ReLU."""

    def __init__(self, conv, add, relu):
        Sequential.__init__(self, conv, relu)
        self.add = add

    def forward(self, x1, x2):
        return self[1](self.add(self[0](x1), x2))
