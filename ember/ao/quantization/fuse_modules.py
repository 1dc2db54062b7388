"""fuse_modules / fuse_modules_qat: replace named runs of submodules (conv, bn, relu) by one fused module and
Identity modules, moving the first part's pre-hooks and the last part's hooks onto the fused module."""
import copy

from ...nn.utils.parametrize import type_before_parametrizations
from .fuser_method_mappings import fuse_conv_bn, fuse_conv_bn_relu, get_fuser_method  # noqa: F401

__all__ = ['fuse_known_modules', 'fuse_modules', 'fuse_modules_qat']


def _get_module(model, key):
    for name in key.split('.'):
        model = getattr(model, name)
    return model


def _set_module(model, key, module):
    *path, last = key.split('.')
    setattr(_get_module(model, '.'.join(path)) if path else model, last, module)


def fuse_known_modules(mod_list, is_qat, additional_fuser_method_mapping=None):
    """The modules replacing ``mod_list``: the fused module first, then Identity modules in its training mode."""
    from ... import nn
    types = tuple(type_before_parametrizations(m) for m in mod_list)
    fused = get_fuser_method(types, additional_fuser_method_mapping)(is_qat, *mod_list)
    for hook in mod_list[0]._forward_pre_hooks.values():
        fused.register_forward_pre_hook(hook)
    mod_list[0]._forward_pre_hooks.clear()
    for hook in mod_list[-1]._forward_hooks.values():
        fused.register_forward_hook(hook)
    mod_list[-1]._forward_hooks.clear()
    rest = []
    for _ in mod_list[1:]:
        identity = nn.Identity()
        identity.training = mod_list[0].training
        rest.append(identity)
    return [fused] + rest


def _fuse_group(model, names, is_qat, fuser_func, config):
    extra = (config or {}).get('additional_fuser_method_mapping', {})
    new = fuser_func([_get_module(model, n) for n in names], is_qat, extra)
    for name, module in zip(names, new):
        _set_module(model, name, module)


def _fuse(model, modules_to_fuse, is_qat, inplace, fuser_func, config):
    if not inplace:
        model = copy.deepcopy(model)
    groups = [modules_to_fuse] if all(isinstance(m, str) for m in modules_to_fuse) else modules_to_fuse
    for names in groups:
        _fuse_group(model, names, is_qat, fuser_func, config)
    return model


def fuse_modules(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules, fuse_custom_config_dict=None):
    """Eval-mode fusion of each list of submodule names (or one list of names); a copy unless ``inplace``."""
    return _fuse(model, modules_to_fuse, False, inplace, fuser_func, fuse_custom_config_dict)


def fuse_modules_qat(model, modules_to_fuse, inplace=False, fuser_func=fuse_known_modules,
                     fuse_custom_config_dict=None):
    """QAT fusion: the parts kept in intrinsic containers (ConvBn2d, ...), for training-mode models."""
    return _fuse(model, modules_to_fuse, True, inplace, fuser_func, fuse_custom_config_dict)
