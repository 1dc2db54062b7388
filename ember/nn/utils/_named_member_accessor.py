"""``torch.nn.utils._named_member_accessor``: swap a module's own parameter, buffer, plain tensor attribute or
submodule for another and get the old one back (tensordict's ``to_module`` swaps parameters in and out with it)."""
from ...tensor import Tensor

_MISSING = object()   # as ``tensor``: remove the entry; as a result: there was none (with ``allow_missing``)


def _check_name(name, what='tensor'):
    if '.' in name:
        raise KeyError(f'{what} name can\'t contain "."')
    if name == '':
        raise KeyError(f'{what} name can\'t be empty string ""')


def _check_module(module):
    from ..modules.module import Module
    if not isinstance(module, Module):
        raise TypeError(f'{module} is not an instance of torch.nn.Module')


def _check_tensor(tensor, prefix=''):
    if tensor is not _MISSING and tensor is not None and not isinstance(tensor, Tensor):
        raise TypeError(f'{prefix}{tensor} is not an instance of torch.Tensor')


def _swap_entry(table, name, tensor):
    old = table[name]
    if tensor is _MISSING:
        del table[name]
    else:
        table[name] = tensor
    return old


def swap_tensor(module, name, tensor, allow_missing=False):
    """Put ``tensor`` (``_MISSING``: nothing) at ``module``'s own entry ``name`` and return what was there."""
    _check_module(module)
    _check_tensor(tensor)
    _check_name(name)
    for table in (module._parameters, module._buffers):
        if name in table:
            return _swap_entry(table, name, tensor)
    if hasattr(module, name):
        old = getattr(module, name)
    elif allow_missing:
        old = _MISSING
    else:
        raise AttributeError(f'{module._get_name()} has no attribute `{name}`')
    _check_tensor(old, f'attribute `{name}`: ')
    if tensor is not _MISSING:
        setattr(module, name, tensor)
    elif hasattr(module, name):
        delattr(module, name)
    return old


def set_tensor(module, name, tensor):
    """Put ``tensor`` at ``module``'s own entry ``name`` (a parameter, buffer or plain attribute)."""
    _check_module(module)
    if tensor is _MISSING:
        raise TypeError(f'{tensor} is not an instance of torch.Tensor')
    _check_tensor(tensor)
    _check_name(name)
    for table in (module._parameters, module._buffers):
        if name in table:
            table[name] = tensor
            return
    setattr(module, name, tensor)


def swap_submodule(module, name, submodule):
    """Put ``submodule`` at ``module``'s child ``name`` and return the child that was there."""
    from ..modules.module import Module
    _check_module(module)
    if not isinstance(submodule, Module):
        raise TypeError(f'{submodule} is not an instance of torch.nn.Module')
    _check_name(name, 'submodule')
    if name not in module._modules:
        raise KeyError(f'submodule {name} does not exist')
    if not isinstance(module._modules[name], Module):
        raise TypeError(f'{name} attribute is not an instance of torch.nn.Module')
    return _swap_entry(module._modules, name, submodule)


def __getattr__(name):
    from ...aliasing import missing_attribute
    missing_attribute(__name__, name)
