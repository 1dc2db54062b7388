"""``torch.ao.quantization``: the abstract bases of observers and fake-quantize modules, which checkpoint code
tests modules against (fvcore/common/checkpoint.py); ember provides no observer or fake-quantize module."""
from abc import ABC, abstractmethod

from ...nn.modules.module import Module

__all__ = ['ObserverBase', 'FakeQuantizeBase']


class ObserverBase(ABC, Module):
    """The base of modules that record statistics of the tensors they see (``forward``) and compute quantization
    parameters from them (``calculate_qparams``)."""

    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype, self.is_dynamic = dtype, is_dynamic

    @abstractmethod
    def forward(self, x):
        pass

    @abstractmethod
    def calculate_qparams(self, **kwargs):
        pass


class FakeQuantizeBase(ABC, Module):
    """The base of modules that observe and fake-quantize their input; ``fake_quant_enabled`` and
    ``observer_enabled`` are uint8 buffers (1: on)."""

    def __init__(self):
        super().__init__()
        from ... import tensor as _tensor_fn, uint8
        self.register_buffer('fake_quant_enabled', _tensor_fn([1], dtype=uint8))
        self.register_buffer('observer_enabled', _tensor_fn([1], dtype=uint8))

    @abstractmethod
    def forward(self, x):
        pass

    @abstractmethod
    def calculate_qparams(self, **kwargs):
        pass

    def enable_fake_quant(self, enabled=True):
        self.fake_quant_enabled[0] = 1 if enabled else 0

    def disable_fake_quant(self):
        self.enable_fake_quant(False)

    def enable_observer(self, enabled=True):
        self.observer_enabled[0] = 1 if enabled else 0

    def disable_observer(self):
        self.enable_observer(False)
