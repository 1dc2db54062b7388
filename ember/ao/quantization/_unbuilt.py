"""The names of PyTorch's torch.ao.quantization that ember does not build yet: each is a callable that refuses
by name when used, so programs that only import them still load (never a silent no-op)."""

_NAMES = ('FakeQuantize', 'FixedQParamsFakeQuantize', 'FusedMovingAvgObsFakeQuantize', 'NoopObserver',
          'RecordingObserver', 'add_quant_dequant', 'default_activation_only_qconfig',
          'default_debug_observer', 'default_debug_qconfig', 'default_fake_quant',
          'default_qat_qconfig', 'default_qat_qconfig_v2', 'default_weight_fake_quant',
          'default_weight_only_qconfig', 'disable_fake_quant', 'disable_observer', 'enable_fake_quant',
          'enable_observer', 'get_default_qat_qconfig', 'prepare_qat',
          'quantize_qat', 'swap_module', 'quantize_jit', 'quantize_dynamic_jit', 'prepare_jit',
          'convert_jit')


class Unbuilt:
    """Stands for PyTorch's ``torch.ao.quantization.<name>``: calling it raises NotImplementedError naming it."""

    def __init__(self, name, where='torch.ao.quantization'):
        self.__name__ = self.__qualname__ = name
        self.where = where

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f'{self.where}.{self.__name__} is not supported by ember yet (ember builds QuantStub/DeQuantStub, '
            'fuse_modules, fake_quantize_per_tensor/channel_affine, quantized tensors, the MinMax observers, '
            'qconfigs, quantize_dynamic and prepare/convert of QuantStub/DeQuantStub/Linear; no fake-quantize '
            'modules, quantization-aware training or other statically quantized modules)')

    def __repr__(self):
        return f'<{self.where}.{self.__name__}: not supported by ember yet>'


UNBUILT = {n: Unbuilt(n) for n in _NAMES}
