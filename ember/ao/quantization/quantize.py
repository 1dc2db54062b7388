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

__all__ = ['quantize_dynamic', 'propagate_qconfig_', 'get_default_dynamic_quant_module_mappings', 'prepare', 'convert',
           'quantize', 'get_default_static_quant_module_mappings', 'get_default_qconfig_propagation_list']

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

    def __init__(self, path, kind='dynamic'):
        self.path, self.kind = path, kind

    def from_float(self, mod, use_precomputed_fake_quant=False):
        if self.kind == 'static':
            raise NotImplementedError(f'{self.path} is not supported by ember yet (convert builds Quantize, '
                                      f'DeQuantize and Linear); give {type(mod).__name__} qconfig = None or keep it '
                                      'out of the QuantStub/DeQuantStub region')
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


# -- static quantization: prepare (observers), convert (quantized modules) --------------------------------------
_STATIC = {'QuantStub': 'Quantize', 'DeQuantStub': 'DeQuantize', 'Linear': 'Linear',
           'NonDynamicallyQuantizableLinear': 'Linear'}
_STATIC_UNBUILT = ('BatchNorm2d', 'BatchNorm3d', 'Conv1d', 'Conv2d', 'Conv3d', 'ConvTranspose1d', 'ConvTranspose2d',
                   'ConvTranspose3d', 'ELU', 'Embedding', 'EmbeddingBag', 'GroupNorm', 'Hardswish', 'InstanceNorm1d',
                   'InstanceNorm2d', 'InstanceNorm3d', 'LayerNorm', 'LeakyReLU', 'ReLU6', 'PReLU')
_FUSED_UNBUILT = ('BNReLU2d', 'BNReLU3d', 'ConvReLU1d', 'ConvReLU2d', 'ConvReLU3d', 'ConvAdd2d', 'ConvAddReLU2d',
                  'LinearReLU', 'LinearLeakyReLU', 'LinearTanh')


def get_default_static_quant_module_mappings():
    """Float module type -> its quantized module (PyTorch's eager static mapping); kinds ember does not build map
    to a stand-in that refuses by name at convert."""
    from ..nn import intrinsic, quantized
    from . import stubs
    mapping = {}
    for name, target in _STATIC.items():
        owner = stubs if name.endswith('Stub') else (nn.modules.linear if name.startswith('Non') else nn)
        mapping[getattr(owner, name)] = getattr(quantized, target)
    for name in _STATIC_UNBUILT:
        mapping[getattr(nn, name)] = _Refused(f'torch.ao.nn.quantized.{name}', 'static')
    for name in _FUSED_UNBUILT:
        mapping[getattr(intrinsic, name)] = _Refused(f'torch.ao.nn.intrinsic.quantized.{name}', 'static')
    return mapping


def get_default_qconfig_propagation_list():
    """The module types prepare attaches observers to (as leaves): the static and dynamic mappings' keys and
    Sequential."""
    from ..nn import intrinsic
    types = set(get_default_static_quant_module_mappings()) | set(get_default_dynamic_quant_module_mappings())
    types |= {nn.Sequential, nn.Dropout} | {getattr(intrinsic, n) for n in ('ConvBn1d', 'ConvBn2d', 'ConvBn3d',
                                                                             'ConvBnReLU1d', 'ConvBnReLU2d',
                                                                             'ConvBnReLU3d', 'LinearBn1d')}
    return types


def _observer_forward_hook(self, input, output):
    return self.activation_post_process(output)


def _observer_forward_pre_hook(self, input):
    return self.activation_post_process(input[0])


def _is_memoryless(qconfig):
    act = qconfig.activation()
    return getattr(act, 'averaging_constant', None) == 1


def _insert_observer(m):
    from .stubs import DeQuantStub
    if getattr(m, 'qconfig', None) is None or isinstance(m, DeQuantStub):
        return
    m.add_module('activation_post_process', m.qconfig.activation())
    if _is_memoryless(m.qconfig):
        m.register_forward_pre_hook(_observer_forward_pre_hook)
    else:
        m.register_forward_hook(_observer_forward_hook)


def _add_observer_(module, allowed, non_leaf):
    from ..nn.intrinsic import _FusedModule
    for child in module.children():
        if type(child) is nn.Dropout:
            continue
        if isinstance(child, _FusedModule) or (non_leaf and type(child) in non_leaf):
            _insert_observer(child)
        else:
            _add_observer_(child, allowed, non_leaf)
    if not list(module.children()) and not isinstance(module, nn.Sequential) and type(module) in allowed:
        _insert_observer(module)


def prepare(model, inplace=False, allow_list=None, observer_non_leaf_module_list=None,
            prepare_custom_config_dict=None):
    """``model`` (a copy unless ``inplace``) with qconfigs propagated and an ``activation_post_process`` observer
    (from its qconfig's activation) on each quantizable leaf, run on its output by a forward hook: calibration."""
    if prepare_custom_config_dict:
        raise NotImplementedError('prepare with prepare_custom_config_dict (custom module classes) is not supported '
                                  'by ember yet')
    if not inplace:
        model = copy.deepcopy(model)
    propagate_qconfig_(model)
    if not any(getattr(m, 'qconfig', None) for m in model.modules()):
        warn_user('None of the submodule got qconfig applied. Make sure you passed correct configuration through '
                  '`qconfig_dict` or by assigning the `.qconfig` attribute directly on submodules', UserWarning)
    allowed = get_default_qconfig_propagation_list() if allow_list is None else allow_list
    _add_observer_(model, allowed, observer_non_leaf_module_list)
    return model


def _remove_observers(module):
    """Drop ``activation_post_process`` and the hooks that ran it (what PyTorch's convert leaves behind)."""
    for child in module.children():
        _remove_observers(child)
    if 'activation_post_process' in module._modules:
        del module._modules['activation_post_process']
        for hooks, fn in ((module._forward_hooks, _observer_forward_hook),
                          (module._forward_pre_hooks, _observer_forward_pre_hook)):
            for key in [k for k, h in hooks.items() if h is fn]:
                del hooks[key]


def _swap_static(mod, mapping):
    target = mapping.get(type(mod)) if getattr(mod, 'qconfig', None) is not None else None
    if target is None:
        return mod
    new = target.from_float(mod)
    for hook in mod._forward_pre_hooks.values():
        if hook is not _observer_forward_pre_hook:
            new.register_forward_pre_hook(hook)
    for hook in mod._forward_hooks.values():
        if hook is not _observer_forward_hook:
            new.register_forward_hook(hook)
    return new


def _convert_static(module, mapping):
    from ..nn.intrinsic import _FusedModule
    swapped = {}
    for name, mod in module.named_children():
        if not isinstance(mod, _FusedModule) and type(mod) not in mapping:
            _convert_static(mod, mapping)
        swapped[name] = _swap_static(mod, mapping)
    module._modules.update(swapped)


def convert(module, mapping=None, inplace=False, remove_qconfig=True, is_reference=False,
            convert_custom_config_dict=None, use_precomputed_fake_quant=False):
    """``module`` (a copy unless ``inplace``) after calibration, each mapped submodule swapped for its quantized
    form (scale / zero point from its observer), the remaining observers removed."""
    if is_reference:
        raise NotImplementedError('convert(is_reference=True) (reference quantized modules) is not supported by '
                                  'ember yet')
    if convert_custom_config_dict:
        raise NotImplementedError('convert with convert_custom_config_dict is not supported by ember yet')
    warn_user(_DEPRECATED, DeprecationWarning)
    if not inplace:
        module = copy.deepcopy(module)
    _convert_static(module, get_default_static_quant_module_mappings() if mapping is None else mapping)
    _remove_observers(module)
    if remove_qconfig:
        _remove_qconfig(module)
    return module


def quantize(model, run_fn, run_args, mapping=None, inplace=False):
    """Post-training static quantization: prepare, ``run_fn(model, *run_args)`` (calibration), convert."""
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    prepare(model, inplace=True)
    run_fn(model, *run_args)
    convert(model, mapping, inplace=True)
    return model
