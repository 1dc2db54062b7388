"""``torch.ao.quantization.quantize_dynamic`` and ``propagate_qconfig_``: eager-mode dynamic quantization as
PyTorch's: a copy of the model (unless in place) in eval mode, qconfigs given to the module types or names asked
for and inherited by their children, each mapped module swapped for its dynamic quantized form (its hooks kept),
then the qconfigs removed. ember builds the int8 forms of Linear, LSTM, GRU, LSTMCell, GRUCell and RNNCell; the
other mapped kinds (Embedding(Bag), LinearReLU, float16 weights) refuse by name rather than stay float."""
import copy

from ... import _dtype
from ... import nn
from ..._warn import warn_user
from .qconfig import default_dynamic_qconfig, float16_dynamic_qconfig, float_qparams_weight_only_qconfig

__all__ = ['quantize_dynamic', 'propagate_qconfig_', 'get_default_dynamic_quant_module_mappings']

_DEPRECATED = ('torch.ao.quantization is deprecated and will be removed in 2.10. \nFor migrations of users: \n1. '
               'Eager mode quantization (torch.ao.quantization.quantize, torch.ao.quantization.quantize_dynamic), '
               'please migrate to use torchao eager mode quantize_ API instead \n2. FX graph mode quantization '
               '(torch.ao.quantization.quantize_fx.prepare_fx,torch.ao.quantization.quantize_fx.convert_fx, please '
               'migrate to use torchao pt2e quantization API instead (prepare_pt2e, convert_pt2e) \n3. pt2e '
               'quantization has been migrated to torchao (https://github.com/pytorch/ao/tree/main/torchao/'
               'quantization/pt2e) \nsee https://github.com/pytorch/ao/issues/2259 for more details')
_RECURRENT = ('LSTM', 'GRU', 'LSTMCell', 'RNNCell', 'GRUCell')


class _Refused:
    """Stands for a dynamic quantized module ember does not build: swapping one in refuses by name."""

    def __init__(self, path):
        self.path = path

    def from_float(self, mod, use_precomputed_fake_quant=False):
        raise NotImplementedError(f'{self.path} is not supported by ember yet (quantize_dynamic builds nn.Linear '
                                  f'only); leave {type(mod).__name__} out of qconfig_spec')


def get_default_dynamic_quant_module_mappings():
    """Float module type -> its dynamic quantized module (PyTorch's default dynamic mapping)."""
    from ..nn.quantized import dynamic
    from ..nn import intrinsic
    mapping = {nn.Linear: dynamic.Linear, nn.modules.linear.NonDynamicallyQuantizableLinear: dynamic.Linear}
    mapping.update((getattr(nn, name), getattr(dynamic, name)) for name in _RECURRENT)
    for name in ('Embedding', 'EmbeddingBag'):
        mapping[getattr(nn, name)] = _Refused(f'torch.ao.nn.quantized.{name}')
    mapping[intrinsic.LinearReLU] = _Refused('torch.ao.nn.intrinsic.quantized.dynamic.LinearReLU')
    return mapping


def _default_spec(dtype):
    if dtype is _dtype.qint8:
        return {getattr(nn, n): default_dynamic_qconfig for n in ('Linear',) + _RECURRENT}
    if dtype is _dtype.float16:
        return {getattr(nn, n): float16_dynamic_qconfig for n in ('Linear',) + _RECURRENT}
    if dtype is _dtype.quint8:
        return {nn.EmbeddingBag: float_qparams_weight_only_qconfig, nn.Embedding: float_qparams_weight_only_qconfig}
    if dtype is _dtype.quint4x2:
        return {nn.EmbeddingBag: _Refused('torch.ao.quantization.float_qparams_weight_only_qconfig_4bit')}
    raise ValueError(f"Don't know how to quantize with default settings for {dtype}. Provide full qconfig please")


def _set_spec(types, dtype):
    by_dtype = {_dtype.qint8: default_dynamic_qconfig, _dtype.float16: float16_dynamic_qconfig,
                _dtype.quint8: float_qparams_weight_only_qconfig}
    if dtype is _dtype.quint4x2:
        raise NotImplementedError('quantize_dynamic with torch.quint4x2 (float_qparams_weight_only_qconfig_4bit) is '
                                  'not supported by ember yet')
    if dtype not in by_dtype:
        raise RuntimeError('Unknown dtype specified for quantize_dynamic: ', str(dtype))
    return dict.fromkeys(types, by_dtype[dtype])


def _propagate(module, spec, parent=None, prefix=''):
    qconfig = spec.get(type(module), parent)
    qconfig = spec.get(prefix, qconfig)
    qconfig = getattr(module, 'qconfig', qconfig)
    module.qconfig = qconfig
    for name, child in module.named_children():
        _propagate(child, spec, qconfig, f'{prefix}.{name}' if prefix else name)


def propagate_qconfig_(module, qconfig_dict=None, prepare_custom_config_dict=None):
    """Give each submodule the qconfig of its type or name in ``qconfig_dict``, else its parent's (in place)."""
    if prepare_custom_config_dict:
        raise NotImplementedError('propagate_qconfig_ with prepare_custom_config_dict is not supported by ember yet')
    _propagate(module, qconfig_dict or {})


def _swap(mod, mapping):
    target = mapping.get(type(mod)) if getattr(mod, 'qconfig', None) is not None else None
    if target is None:
        return mod
    new = target.from_float(mod)
    for hook in mod._forward_pre_hooks.values():
        new.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        new.register_forward_hook(hook)
    return new


def _convert(module, mapping):
    from ..nn.intrinsic import _FusedModule
    swapped = {}
    for name, mod in module.named_children():
        if not isinstance(mod, _FusedModule):
            _convert(mod, mapping)
        swapped[name] = _swap(mod, mapping)
    module._modules.update(swapped)


def _remove_qconfig(module):
    for child in module.children():
        _remove_qconfig(child)
    if hasattr(module, 'qconfig'):
        del module.qconfig


def quantize_dynamic(model, qconfig_spec=None, dtype=_dtype.qint8, mapping=None, inplace=False):
    """``model`` (a copy unless ``inplace``) with its Linear submodules (those ``qconfig_spec`` names: a set of
    types, or a dict of types / module names to qconfigs) replaced by dynamically quantized ones."""
    warn_user(_DEPRECATED, DeprecationWarning)
    if qconfig_spec is None:
        qconfig_spec = _default_spec(dtype)
    elif isinstance(qconfig_spec, set):
        qconfig_spec = _set_spec(qconfig_spec, dtype)
    if mapping is None:
        mapping = get_default_dynamic_quant_module_mappings()
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    propagate_qconfig_(model, qconfig_spec)
    _convert(model, mapping)
    _remove_qconfig(model)
    return model
