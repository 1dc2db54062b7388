"""``torch.ao.quantization``: eager-mode quantization: stubs, module fusion, the abstract bases of observers and
fake-quantize modules (fvcore's checkpointer tests against them); the names of PyTorch's that ember does not build
yet (observers, qconfigs, prepare/convert) refuse by name when used."""
from abc import ABC, abstractmethod

from ...nn.modules.module import Module
from . import fuser_method_mappings  # noqa: F401
from .fuse_modules import fuse_known_modules, fuse_modules, fuse_modules_qat
from .fuser_method_mappings import fuse_conv_bn, fuse_conv_bn_relu, fuse_linear_bn, get_fuser_method
from .stubs import DeQuantStub, QuantStub, QuantWrapper
from ._unbuilt import UNBUILT

__all__ = ['ObserverBase', 'FakeQuantizeBase', 'DeQuantStub', 'QuantStub', 'QuantWrapper', 'fuse_conv_bn',
           'fuse_conv_bn_relu', 'fuse_linear_bn', 'fuse_modules', 'fuse_modules_qat', 'fuse_known_modules',
           'get_fuser_method'] + sorted(UNBUILT)
globals().update(UNBUILT)


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
