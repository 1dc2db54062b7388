"""The names of PyTorch's torch.ao.quantization that ember does not build yet: each is a callable that refuses
by name when used, so programs that only import them still load (never a silent no-op)."""

_NAMES = ('FakeQuantize', 'FixedQParamsFakeQuantize', 'FusedMovingAvgObsFakeQuantize', 'HistogramObserver',
          'MinMaxObserver', 'MovingAverageMinMaxObserver', 'MovingAveragePerChannelMinMaxObserver', 'NoopObserver',
          'PerChannelMinMaxObserver', 'PlaceholderObserver', 'QConfig', 'QConfigDynamic', 'RecordingObserver',
          'add_quant_dequant', 'convert', 'default_activation_only_qconfig', 'default_debug_observer',
          'default_debug_qconfig', 'default_dynamic_qconfig', 'default_dynamic_quant_observer',
          'default_fake_quant', 'default_float_qparams_observer', 'default_histogram_observer', 'default_observer',
          'default_per_channel_qconfig', 'default_per_channel_weight_observer', 'default_placeholder_observer',
          'default_qat_qconfig', 'default_qat_qconfig_v2', 'default_qconfig', 'default_weight_fake_quant',
          'default_weight_observer', 'default_weight_only_qconfig', 'disable_fake_quant', 'disable_observer',
          'enable_fake_quant', 'enable_observer', 'float16_dynamic_qconfig', 'float16_static_qconfig',
          'float_qparams_weight_only_qconfig', 'get_default_qat_qconfig', 'get_default_qconfig',
          'per_channel_dynamic_qconfig', 'prepare', 'prepare_qat', 'propagate_qconfig_', 'quantize',
          'quantize_qat', 'quantize_dynamic', 'swap_module', 'quantize_jit', 'quantize_dynamic_jit', 'prepare_jit', 'convert_jit')


class Unbuilt:
    """Stands for PyTorch's ``torch.ao.quantization.<name>``: calling it raises NotImplementedError naming it."""

    def __init__(self, name, where='torch.ao.quantization'):
        self.__name__ = self.__qualname__ = name
        self.where = where

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f'{self.where}.{self.__name__} is not supported by ember yet (ember builds QuantStub/DeQuantStub, '
            'fuse_modules and fake_quantize_per_tensor/channel_affine; no quantized tensors, observers, qconfigs, '
            'quantized modules, dynamic or static quantization)')

    def __repr__(self):
        return f'<{self.where}.{self.__name__}: not supported by ember yet>'


UNBUILT = {n: Unbuilt(n) for n in _NAMES}
