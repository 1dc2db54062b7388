"""``torch.ao.quantization``: eager-mode quantization: stubs, module fusion, observers and qconfigs, quantize_dynamic
(nn.Linear), the abstract bases of observers and fake-quantize modules (fvcore's checkpointer tests against them);
the names of PyTorch's that ember does not build yet (fake-quantize modules, prepare_qat) refuse by name."""
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


from . import observer, qconfig, quantize  # noqa: E402 (observer subclasses ObserverBase above)
from .quantize import convert, prepare, propagate_qconfig_, quantize, quantize_dynamic  # noqa: E402
from .observer import (HistogramObserver, MinMaxObserver, MovingAverageMinMaxObserver,  # noqa: E402
                       MovingAveragePerChannelMinMaxObserver, PerChannelMinMaxObserver, PlaceholderObserver,
                       default_dynamic_quant_observer, default_float_qparams_observer, default_histogram_observer,
                       default_observer,
                       default_per_channel_weight_observer, default_placeholder_observer, default_weight_observer)
from .qconfig import (QConfig, QConfigDynamic, default_dynamic_qconfig, default_per_channel_qconfig,  # noqa: E402
                      default_qconfig, float16_dynamic_qconfig, float16_static_qconfig,
                      float_qparams_weight_only_qconfig, get_default_qconfig, per_channel_dynamic_qconfig)

__all__ += ['HistogramObserver', 'MinMaxObserver', 'MovingAverageMinMaxObserver',
            'MovingAveragePerChannelMinMaxObserver', 'PerChannelMinMaxObserver', 'PlaceholderObserver', 'QConfig',
            'QConfigDynamic', 'default_dynamic_qconfig', 'default_dynamic_quant_observer',
            'default_float_qparams_observer', 'default_histogram_observer', 'default_observer',
            'default_per_channel_qconfig',
            'default_per_channel_weight_observer', 'default_placeholder_observer', 'default_qconfig',
            'default_weight_observer', 'float16_dynamic_qconfig', 'float16_static_qconfig',
            'float_qparams_weight_only_qconfig', 'get_default_qconfig', 'per_channel_dynamic_qconfig',
            'propagate_qconfig_', 'quantize_dynamic', 'prepare', 'convert', 'quantize']
