"""QuantStub, DeQuantStub and QuantWrapper: the markers of where a model's tensors enter and leave the quantized
region; before convert they are identities, as PyTorch's."""
from ...nn.modules.module import Module

__all__ = ['QuantStub', 'DeQuantStub', 'QuantWrapper']


class _Stub(Module):
    """An identity marker that keeps ``qconfig`` when one is given."""

    def __init__(self, qconfig=None):
        super().__init__()
        if qconfig:
            self.qconfig = qconfig

    def forward(self, x):
        return x


class QuantStub(_Stub):
    """Identity until convert swaps it for a Quantize module."""


class DeQuantStub(_Stub):
    """Identity until convert swaps it for a DeQuantize module."""


class QuantWrapper(Module):
    """``module`` between a QuantStub and a DeQuantStub, in the wrapped module's training mode."""

    def __init__(self, module):
        super().__init__()
        qconfig = getattr(module, 'qconfig', None)
        self.add_module('quant', QuantStub(qconfig))
        self.add_module('dequant', DeQuantStub(qconfig))
        self.add_module('module', module)
        self.train(module.training)

    def forward(self, X):
        return self.dequant(self.module(self.quant(X)))
