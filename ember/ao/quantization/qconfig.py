"""``torch.ao.quantization.qconfig``: QConfig (the activation and weight observer factories a module is quantized
with) and PyTorch's default qconfigs, printed as PyTorch prints them."""
import collections
import warnings

from ... import _dtype
from ...nn.modules.module import Module
from ..._torch_names import torch_path
from .observer import (HistogramObserver, PlaceholderObserver, default_dynamic_quant_observer,
                       default_float_qparams_observer, default_observer, default_per_channel_weight_observer,
                       default_placeholder_observer, default_weight_observer)

__all__ = ['QConfig', 'QConfigDynamic', 'default_qconfig', 'default_dynamic_qconfig', 'per_channel_dynamic_qconfig',
           'default_per_channel_qconfig', 'float16_dynamic_qconfig', 'float16_static_qconfig',
           'float_qparams_weight_only_qconfig', 'get_default_qconfig']


def _factory_repr(f):
    return f"<class '{torch_path(f)}'>" if isinstance(f, type) else repr(f)


class QConfig(collections.namedtuple('QConfig', ['activation', 'weight'])):
    """How to observe a module's activations and weights: two observer factories (classes or ``with_args``)."""
    __slots__ = ()

    def __new__(cls, activation, weight):
        if isinstance(activation, Module) or isinstance(weight, Module):
            raise ValueError('QConfig received observer instance, please pass observer class instead. Use '
                             'MyObserver.with_args(x=1) to override arguments to constructor if needed')
        return super().__new__(cls, activation, weight)

    def __repr__(self):
        return f'QConfig(activation={_factory_repr(self.activation)}, weight={_factory_repr(self.weight)})'


class QConfigDynamic(collections.namedtuple('QConfigDynamic', ['activation', 'weight'])):
    """The old name of a dynamic QConfig (deprecated in PyTorch)."""
    __slots__ = ()

    def __new__(cls, activation=None, weight=None):
        warnings.warn('`QConfigDynamic` is going to be deprecated in PyTorch 1.12, please use `QConfig` instead',
                      FutureWarning, stacklevel=2)
        if isinstance(weight, Module):
            raise ValueError('QConfigDynamic received observer instance, please pass observer class instead. Use '
                             'MyObserver.with_args(x=1) to override arguments to constructor if needed')
        return super().__new__(cls, activation, weight)


default_qconfig = QConfig(activation=default_observer, weight=default_weight_observer)
default_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer, weight=default_weight_observer)
per_channel_dynamic_qconfig = QConfig(activation=default_dynamic_quant_observer,
                                      weight=default_per_channel_weight_observer)
default_per_channel_qconfig = QConfig(activation=default_observer, weight=default_per_channel_weight_observer)
float16_dynamic_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=_dtype.float16, is_dynamic=True),
                                  weight=PlaceholderObserver.with_args(dtype=_dtype.float16))
float16_static_qconfig = QConfig(activation=PlaceholderObserver.with_args(dtype=_dtype.float16),
                                 weight=PlaceholderObserver.with_args(dtype=_dtype.float16))
float_qparams_weight_only_qconfig = QConfig(activation=default_placeholder_observer,
                                            weight=default_float_qparams_observer)


def get_default_qconfig(backend='x86', version=0):
    """PyTorch's post-training qconfig for ``backend`` (fbgemm and x86: histogram activations with reduce_range,
    per-channel weights; qnnpack: full range, per-tensor weights; onednn: full range, per-channel)."""
    supported = ['fbgemm', 'x86', 'qnnpack', 'onednn']
    if backend not in supported:
        raise AssertionError(f'backend: {backend} not supported. backend must be one of {supported}')
    if version != 0:
        raise AssertionError(f'Version number: {version} in get_default_qconfig is not supported. Version number '
                             'must be 0')
    if backend == 'qnnpack':
        return QConfig(activation=HistogramObserver.with_args(reduce_range=False), weight=default_weight_observer)
    return QConfig(activation=HistogramObserver.with_args(reduce_range=backend != 'onednn'),
                   weight=default_per_channel_weight_observer)
