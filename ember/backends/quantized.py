"""``torch.backends.quantized``: the quantized engine (``engine``, default 'x86'; ``supported_engines``) as a
CPU PyTorch build on x86 answers. ember's dynamic quantized Linear gives fbgemm's / x86's values under 'x86' and
'fbgemm' and refuses under the others."""
import sys
import types

ENGINES = ['qnnpack', 'onednn', 'x86', 'fbgemm']
_STATE = {'engine': 'x86'}


class QuantizedEngine(types.ModuleType):
    """The module, with ``engine`` a property (PyTorch's replaces its module by such an object)."""

    def __init__(self, m, name):
        super().__init__(name)
        self.m = m

    def __getattr__(self, attr):
        return self.m.__getattribute__(attr)

    @property
    def engine(self):
        return _STATE['engine']

    @engine.setter
    def engine(self, qengine):
        if qengine == 'none':
            raise RuntimeError('quantized engine NoQEngine is not supported')
        if qengine not in ENGINES:
            raise RuntimeError(f'{qengine} is not a valid value for quantized engine')
        _STATE['engine'] = qengine

    @property
    def supported_engines(self):
        return list(ENGINES)


sys.modules[__name__] = QuantizedEngine(sys.modules[__name__], __name__)
