"""``Module``: the base class of every layer and model, with PyTorch's contract for registering
parameters, buffers and submodules, state dicts, hooks, train/eval and dtype conversion."""
import functools
import itertools
import weakref
import warnings
from collections import OrderedDict, namedtuple

import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.function import SETUP_CONTEXT_REQUIRED
from ...autograd.graph import Node, MODE
from ...tensor import Tensor, _check_device
from ..._torch_forms import typename as _typename
from ...utils.hooks import RemovableHandle
from ..parameter import Parameter, Buffer

__all__ = ['Module', 'register_module_forward_pre_hook', 'register_module_forward_hook',
           'register_module_full_backward_hook', 'register_module_parameter_registration_hook',
           'register_module_buffer_registration_hook', 'register_module_module_registration_hook']

_MIXED_BACKWARD_HOOKS = ('Cannot use both regular backward hooks and full backward hooks on a single Module. Please use '
                         'only one of them.')
_EXTRA_STATE_KEY_SUFFIX = '_extra_state'
# what a TorchScript module has and the module torch.jit.script/trace hands back in ember lacks (ember.jit answers)
TORCHSCRIPT_ONLY = frozenset(('graph', 'inlined_graph', 'code', 'code_with_constants', 'save', 'original_name'))
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()
_global_forward_hooks_with_kwargs = OrderedDict()
_global_backward_hooks = OrderedDict()
# hook(module, name, value) -> None or a replacement, run as a parameter, buffer or child module is registered
_global_parameter_registration_hooks = OrderedDict()
_global_buffer_registration_hooks = OrderedDict()
_global_module_registration_hooks = OrderedDict()


def _registered(hooks, module, name, value):
    """``value`` after each global registration hook in ``hooks`` (a hook's non-None result replaces it)."""
    for hook in hooks.values():
        output = hook(module, name, value)
        if output is not None:
            value = output
    return value


def _registration_hook(hooks, hook):
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_module_parameter_registration_hook(hook):
    """``hook(module, name, param)`` run whenever any module registers a parameter; a non-None result replaces it."""
    return _registration_hook(_global_parameter_registration_hooks, hook)


def register_module_buffer_registration_hook(hook):
    """``hook(module, name, buffer)`` run whenever any module registers a buffer; a non-None result replaces it."""
    return _registration_hook(_global_buffer_registration_hooks, hook)


def register_module_module_registration_hook(hook):
    """``hook(module, name, child)`` run whenever any module registers a child; a non-None result replaces it."""
    return _registration_hook(_global_module_registration_hooks, hook)


class _Globals:
    """Whether any global module hook is registered (checked on every call, so kept as one flag)."""
    __slots__ = ('any',)

    def __init__(self):
        self.any = False

    def refresh(self):
        self.any = bool(_global_forward_pre_hooks or _global_forward_hooks or _global_backward_hooks)


_GLOBAL = _Globals()


class _GlobalHandle(RemovableHandle):
    def remove(self):
        super().remove()
        _GLOBAL.refresh()


def register_module_forward_pre_hook(hook):
    """A forward pre-hook run before every module's forward (before the module's own pre-hooks)."""
    handle = _GlobalHandle(_global_forward_pre_hooks)
    _global_forward_pre_hooks[handle.id] = hook
    _GLOBAL.refresh()
    return handle


def register_module_forward_hook(hook, *, with_kwargs=False, always_call=False):
    """A forward hook run after every module's forward (before the module's own hooks)."""
    handle = _GlobalHandle(_global_forward_hooks, extra_dict=_global_forward_hooks_with_kwargs)
    _global_forward_hooks[handle.id] = hook
    if with_kwargs:
        _global_forward_hooks_with_kwargs[handle.id] = True
    _GLOBAL.refresh()
    return handle


def register_module_full_backward_hook(hook):
    """A full backward hook run for every module (before the module's own backward hooks)."""
    handle = _GlobalHandle(_global_backward_hooks)
    _global_backward_hooks[handle.id] = hook
    _GLOBAL.refresh()
    return handle


class _IncompatibleKeys(namedtuple('IncompatibleKeys', ['missing_keys', 'unexpected_keys'])):
    """What ``load_state_dict`` returns: the keys that were missing and those that were unexpected."""
    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return '<All keys matched successfully>'
        return super().__repr__()

    __str__ = __repr__


def _addindent(s, n):
    """Indent every line but the first by ``n`` spaces (blank lines stay empty)."""
    lines = s.split('\n')
    if len(lines) == 1:
        return s
    pad = ' ' * n
    return lines[0] + '\n' + '\n'.join(pad + ln if ln.strip() else '' for ln in lines[1:])


def _forward_unimplemented(self, *input):
    """Subclasses define the computation here."""
    raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')



def _parse_to(*args, **kwargs):
    """(device, dtype, non_blocking, memory_format) from ``Module.to``'s arguments (a device, a dtype or a
    tensor, then non_blocking), as PyTorch's ``torch._C._nn._parse_to`` returns them; Lightning calls it."""
    from ..._dtype import dtype as _dtype_cls
    from ...tensor import device as _device_cls
    dtype, device = kwargs.pop('dtype', None), kwargs.pop('device', None)
    non_blocking, fmt = bool(kwargs.pop('non_blocking', False)), kwargs.pop('memory_format', None)
    if 'copy' in kwargs:
        raise RuntimeError('.to() does not accept copy argument')
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments - got {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, _dtype_cls):
            dtype = a
        elif isinstance(a, bool):
            non_blocking = a
        elif a is not None:
            device = a
    return (None if device is None else _device_cls(device)), dtype, non_blocking, fmt

class Module:
    """Base class for all neural network modules; subclasses set layers as attributes in ``__init__``
    and define ``forward``."""

    dump_patches = False
    _version = 1
    training: bool
    call_super_init = False
    forward = _forward_unimplemented

    def __init__(self, *args, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got an unexpected keyword argument "
                            f"'{next(iter(kwargs))}'")
        if args:
            raise TypeError(f'{type(self).__name__}.__init__() takes 1 positional argument but {len(args) + 1} '
                            'were given')
        d = self.__dict__
        d['training'] = True
        d['_parameters'] = {}
        d['_buffers'] = {}
        d['_non_persistent_buffers_set'] = set()
        d['_backward_pre_hooks'] = OrderedDict()
        d['_backward_hooks'] = OrderedDict()
        d['_is_full_backward_hook'] = None
        d['_forward_hooks'] = OrderedDict()
        d['_forward_hooks_with_kwargs'] = OrderedDict()
        d['_forward_hooks_always_called'] = OrderedDict()
        d['_forward_pre_hooks'] = OrderedDict()
        d['_forward_pre_hooks_with_kwargs'] = OrderedDict()
        d['_state_dict_hooks'] = OrderedDict()
        d['_state_dict_pre_hooks'] = OrderedDict()
        d['_load_state_dict_pre_hooks'] = OrderedDict()
        d['_load_state_dict_post_hooks'] = OrderedDict()
        d['_modules'] = {}

    # -- registration ---------------------------------------------------------------------------------
    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer (state that is not a parameter, e.g. BatchNorm's running mean)."""
        if '_buffers' not in self.__dict__:
            raise AttributeError('cannot assign buffer before Module.__init__() call')
        if not isinstance(name, str):
            raise TypeError(f'buffer name should be a string. Got {_typename(name)}')
        if '.' in name:
            raise KeyError('buffer name can\'t contain "."')
        if name == '':
            raise KeyError('buffer name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            '(torch Tensor or None required)')
        self._buffers[name] = _registered(_global_buffer_registration_hooks, self, name, tensor)
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name, param):
        """Add a parameter (a ``Parameter`` or None) reachable as ``self.<name>``."""
        if '_parameters' not in self.__dict__:
            raise AttributeError('cannot assign parameter before Module.__init__() call')
        if not isinstance(name, str):
            raise TypeError(f'parameter name should be a string. Got {_typename(name)}')
        if '.' in name:
            raise KeyError('parameter name can\'t contain "."')
        if name == '':
            raise KeyError('parameter name can\'t be empty string ""')
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
        elif not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            '(torch.nn.Parameter or None required)')
        elif param.grad_fn:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             f"created explicitly. To express '{name}' as a function of another Tensor, compute "
                             'the value in the forward() method.')
        else:
            self._parameters[name] = _registered(_global_parameter_registration_hooks, self, name, param)

    def add_module(self, name, module):
        """Add a child module reachable as ``self.<name>``."""
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f'{_typename(module)} is not a Module subclass')
        if not isinstance(name, str):
            raise TypeError(f'module name should be a string. Got {_typename(name)}')
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if '.' in name:
            raise KeyError(f'module name can\'t contain ".", got: {name}')
        if name == '':
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = _registered(_global_module_registration_hooks, self, name, module)

    def register_module(self, name, module):
        """Alias for ``add_module``."""
        self.add_module(name, module)

    def get_submodule(self, target):
        """The submodule at dotted path ``target`` ('' is self)."""
        if target == '':
            return self
        mod = self
        for item in target.split('.'):
            if not hasattr(mod, item):
                raise AttributeError(mod._get_name() + ' has no attribute `' + item + '`')
            mod = getattr(mod, item)
            if not isinstance(mod, Module):
                raise AttributeError('`' + item + '` is not an nn.Module')
        return mod

    def set_submodule(self, target, module, strict=False):
        """Replace (or with strict=False, also add) the submodule at dotted path ``target``."""
        if target == '':
            raise ValueError('Cannot set the submodule without a target name!')
        path, _, name = target.rpartition('.')
        parent = self.get_submodule(path)
        if strict and not hasattr(parent, name):
            raise AttributeError(parent._get_name() + ' has no attribute `' + name + '`')
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError('`' + name + '` is not an nn.Module')
        setattr(parent, name, module)

    def get_parameter(self, target):
        """The parameter at dotted path ``target``."""
        path, _, name = target.rpartition('.')
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + ' has no attribute `' + name + '`')
        param = getattr(mod, name)
        if not isinstance(param, Parameter):
            raise AttributeError('`' + name + '` is not an nn.Parameter')
        return param

    def get_buffer(self, target):
        """The buffer at dotted path ``target``."""
        path, _, name = target.rpartition('.')
        mod = self.get_submodule(path)
        if not hasattr(mod, name):
            raise AttributeError(mod._get_name() + ' has no attribute `' + name + '`')
        buf = getattr(mod, name)
        if name not in mod._buffers:
            raise AttributeError('`' + name + '` is not a buffer')
        return buf

    def get_extra_state(self):
        """Override (with ``set_extra_state``) to keep extra picklable state in the state dict."""
        raise RuntimeError('Reached a code path in Module.get_extra_state() that should never be called.')

    def set_extra_state(self, state):
        """Override (with ``get_extra_state``) to restore extra state from the state dict."""
        raise RuntimeError('Reached a code path in Module.set_extra_state() that should never be called.')

    # -- attribute protocol ---------------------------------------------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        if '_parameters' in d:
            p = d['_parameters']
            if name in p:
                return p[name]
        if '_buffers' in d:
            b = d['_buffers']
            if name in b:
                return b[name]
        if '_modules' in d:
            m = d['_modules']
            if name in m:
                return m[name]
        if name in TORCHSCRIPT_ONLY:   # a scripted module's .graph/.code/.save: ember.jit answers
            from ...jit import torchscript_attribute
            found = torchscript_attribute(self, name)
            if found is not None:
                return found
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get('_parameters')
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError('cannot assign parameters before Module.__init__() call')
            _remove_from(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                '(torch.nn.Parameter or None expected)')
            self.register_parameter(name, value)
        else:
            modules = d.get('_modules')
            if isinstance(value, Module):
                if modules is None:
                    raise AttributeError('cannot assign module before Module.__init__() call')
                _remove_from(name, d, self._parameters, self._buffers, self._non_persistent_buffers_set)
                modules[name] = _registered(_global_module_registration_hooks, self, name, value)
            elif modules is not None and name in modules:
                if value is not None:
                    raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                    '(torch.nn.Module or None expected)')
                modules[name] = _registered(_global_module_registration_hooks, self, name, value)
            else:
                buffers = d.get('_buffers')
                if isinstance(value, Buffer) or (buffers is not None and name in buffers):
                    if value is not None and not isinstance(value, Tensor):
                        raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                        '(torch.nn.Buffer, torch.Tensor or None expected)')
                    if isinstance(value, Buffer):
                        persistent = value.persistent
                    else:
                        persistent = name not in self._non_persistent_buffers_set
                    self.register_buffer(name, value, persistent)
                else:
                    object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters) + list(self._modules)
                + list(self._buffers))
        return sorted(k for k in keys if not k[0].isdigit())

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop('_compiled_call_impl', None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ('_forward_pre_hooks', '_forward_pre_hooks_with_kwargs', '_forward_hooks_with_kwargs',
                     '_forward_hooks_always_called', '_state_dict_hooks', '_state_dict_pre_hooks',
                     '_load_state_dict_pre_hooks', '_load_state_dict_post_hooks', '_backward_pre_hooks'):
            if name not in self.__dict__:
                self.__dict__[name] = OrderedDict()
        self.__dict__.setdefault('_non_persistent_buffers_set', set())
        self.__dict__.setdefault('_is_full_backward_hook', None)

    # -- calling ----------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks
                or _GLOBAL.any):
            return self._call_impl(*args, **kwargs)
        return self.forward(*args, **kwargs)

    def _call_impl(self, *args, **kwargs):
        """The call with hooks: pre-hooks, backward-hook wrapping, forward, forward hooks."""
        for hid, hook in itertools.chain(_global_forward_pre_hooks.items(), self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    if isinstance(res, tuple) and len(res) == 2:
                        args, kwargs = res
                    else:
                        raise RuntimeError('forward pre-hook must return None or a tuple of (new_args, '
                                           f'new_kwargs), but got {res}.')
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        legacy = self._is_full_backward_hook is False
        bw_hooks = list(_global_backward_hooks.values()) + ([] if legacy else list(self._backward_hooks.values()))
        pre_hooks = list(self._backward_pre_hooks.values())
        state = None
        if bw_hooks or pre_hooks:
            state = _BackwardHookState(self, bw_hooks, pre_hooks, len(args))
            args = state.wrap_inputs(args)
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            self._run_always_called(args, kwargs)
            raise
        for hid, hook in itertools.chain(_global_forward_hooks.items(), self._forward_hooks.items()):
            if hid in self._forward_hooks_with_kwargs or hid in _global_forward_hooks_with_kwargs:
                res = hook(self, args, kwargs, result)
            else:
                res = hook(self, args, result)
            if res is not None:
                result = res
        if state is not None:
            result = state.wrap_outputs(result)
        if legacy and self._backward_hooks:
            _legacy_backward_hooks(self, args, result)
        return result

    def _run_always_called(self, args, kwargs):
        """After forward raised: run the forward hooks registered with always_call=True (errors become warnings)."""
        import warnings
        for hid, hook in self._forward_hooks.items():
            if hid not in self._forward_hooks_always_called:
                continue
            try:
                if hid in self._forward_hooks_with_kwargs:
                    hook(self, args, kwargs, None)
                else:
                    hook(self, args, None)
            except Exception as e:
                warnings.warn('module forward hook with ``always_call=True`` raised an exception that was silenced '
                              f'as another error was raised in forward: {str(e)}', stacklevel=3)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (or ``(module, args, kwargs)``) runs before forward; may replace the input."""
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` (or ``(module, args, kwargs, output)``) runs after forward."""
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients w.r.t. the module's inputs are
        computed; it may return replacement ``grad_input``."""
        if self._is_full_backward_hook is False:
            raise RuntimeError(_MIXED_BACKWARD_HOOKS)
        self._is_full_backward_hook = True
        return self._add_backward_hook(hook, prepend)

    def _add_backward_hook(self, hook, prepend=False):
        """Keep ``hook`` among the backward hooks run on the module's input gradients."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients w.r.t. the module's outputs are computed;
        it may return replacement ``grad_output``."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_backward_hook(self, hook):
        """Deprecated in PyTorch: ``hook(module, grad_input, grad_output)`` runs as a hook of the node that made
        the output, with that node's gradients (``_legacy_backward_hooks``). A module that ever had a full
        backward hook refuses it, as PyTorch's does (asdl's hooks after backpack's)."""
        if self._is_full_backward_hook is True:
            raise RuntimeError(_MIXED_BACKWARD_HOOKS)
        self._is_full_backward_hook = False
        return self._add_backward_hook(hook)

    # -- traversal ----------------------------------------------------------------------------------------
    def _named_members(self, get_members_fn, prefix='', recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else \
            [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members_fn(module):
                if v is None or id(v) in memo:
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield module_prefix + ('.' if module_prefix else '') + k, v

    def parameters(self, recurse=True):
        """The parameters of this module (and of its submodules), each shared one once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix='', recurse=True, remove_duplicate=True):
        """(dotted name, parameter) pairs in registration order."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix=prefix, recurse=recurse,
                                       remove_duplicate=remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix='', recurse=True, remove_duplicate=True):
        """(dotted name, buffer) pairs in registration order."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix=prefix, recurse=recurse,
                                       remove_duplicate=remove_duplicate)

    def children(self):
        for _, m in self.named_children():
            yield m

    def named_children(self):
        """(name, child module) pairs of the direct children."""
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def modules(self, remove_duplicate=True):
        for _, m in self.named_modules(remove_duplicate=remove_duplicate):
            yield m

    def named_modules(self, memo=None, prefix='', remove_duplicate=True):
        """(dotted name, module) pairs of self and every descendant, depth first."""
        if memo is None:
            memo = set()
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ('.' if prefix else '') + name, remove_duplicate)

    # -- modes and gradients --------------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (affects Dropout, BatchNorm, ...) on self and all descendants."""
        if not isinstance(mode, bool):
            raise ValueError('training mode is expected to be boolean')
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Set evaluation mode (``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters (to None by default, else to zeros)."""
        for p in self.parameters():
            g = p._grad
            if g is None:
                continue
            if set_to_none:
                p._grad = None
            elif g.is_sparse:   # nn.Embedding(sparse=True)'s: no entries left, as PyTorch's zero_()
                g.zero_()
            else:
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g._data[...] = 0

    def share_memory(self):
        """Move parameters, gradients and buffers into shared memory (see Tensor.share_memory_)."""
        return self._apply(lambda t: t.share_memory_())

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and then on self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- conversion ----------------------------------------------------------------------------------------
    def _apply(self, fn, recurse=True):
        """Convert every parameter (in place, keeping the Parameter objects), gradient and buffer with fn.
        Under ``torch.__future__.set_overwrite_module_params_on_conversion(True)`` the module gets new Parameter
        objects instead (with the converted gradients), as in PyTorch."""
        from ... import __future__ as future
        if recurse:
            for module in self.children():
                module._apply(fn)
        overwrite = future.get_overwrite_module_params_on_conversion()
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                applied = fn(param)
                grad = None if param._grad is None else Tensor._make(fn(param._grad)._data)
            if overwrite:
                param = self._parameters[key] = Parameter(applied, param.requires_grad)
                param._grad = grad
                continue
            param._data = applied._data
            if grad is not None:
                param._grad = grad
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def cuda(self, device=None):
        """Each parameter and buffer's ``.cuda(device)``, which refuses on the CPU; a module without any is
        returned as it is, as PyTorch's is."""
        for t in itertools.chain(self.parameters(), self.buffers()):
            t.cuda(device)
        return self

    def cpu(self):
        return self._apply(lambda t: t.cpu()) if self._on_meta(True) else self

    def _on_meta(self, meta):
        """Whether a parameter or buffer is (``meta``) or is not on the meta device: one a move would change."""
        return any(t.is_meta == meta for t in itertools.chain(self.parameters(), self.buffers()))

    def type(self, dst_type):
        """Cast all parameters and buffers to ``dst_type``."""
        return self._apply(lambda t: t.type(dst_type))

    def float(self):
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def bfloat16(self):
        return self._apply(lambda t: t.bfloat16() if t.is_floating_point() else t)

    def to_empty(self, *, device=None, recurse=True):
        """Every parameter and buffer replaced by an uninitialised tensor of its shape on ``device`` (the default
        device when None): a model built on the meta device gets memory (ember's 'uninitialised' is zeros)."""
        from ...ops.creation import empty_like
        _check_device(device)
        if device is None:
            from ..._meta import default_device
            device = default_device() or 'cpu'
        return self._apply(lambda t: empty_like(t, device=device), recurse=recurse)

    def to(self, *args, **kwargs):
        """Move to a device (the CPU or the meta device) and/or cast floating point parameters and buffers."""
        device, dtype, _, fmt = _parse_to(*args, **kwargs)
        meta = None if device is None else _check_device(device)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f'nn.Module.to only accepts floating point or complex dtypes, but got desired '
                            f'dtype={dtype}')
        if fmt is not None:     # PyTorch lays out only the 4-d and 5-d parameters and buffers in memory_format
            return self._apply(lambda t: t.to(dtype if dtype is not None and t.is_floating_point() else t.dtype,
                                              memory_format=fmt) if t.dim() in (4, 5) else
                               t.to(dtype) if dtype is not None and t.is_floating_point() else t)
        if meta is False and self._on_meta(True):
            raise NotImplementedError('Cannot copy out of meta tensor; no data! Please use torch.nn.Module.to_empty() '
                                      'instead of torch.nn.Module.to() when moving module from meta to a different '
                                      'device.')
        if meta and self._on_meta(False):
            return self._apply(lambda t: t.to('meta', dtype if dtype is not None and t.is_floating_point() else None))
        if dtype is None:
            return self
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    # -- state dict ----------------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        if type(self).get_extra_state is not Module.get_extra_state:
            destination[prefix + _EXTRA_STATE_KEY_SUFFIX] = self.get_extra_state()

    def state_dict(self, *args, destination=None, prefix='', keep_vars=False):
        """An OrderedDict of every parameter and persistent buffer, keyed by dotted name (detached)."""
        if args:
            import warnings
            warnings.warn('Positional args are being deprecated, use kwargs instead. Refer to '
                          'https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict'
                          ' for details.', FutureWarning, stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == '' else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = dict(version=self._version)
        if hasattr(destination, '_metadata'):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + '.', keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            res = hook(self, destination, prefix, local_metadata)
            if res is not None:
                destination = res
        return destination

    def register_state_dict_pre_hook(self, hook):
        handle = RemovableHandle(self._state_dict_pre_hooks)
        self._state_dict_pre_hooks[handle.id] = hook
        return handle

    def register_state_dict_post_hook(self, hook):
        handle = RemovableHandle(self._state_dict_hooks)
        self._state_dict_hooks[handle.id] = hook
        return handle

    _register_state_dict_hook = register_state_dict_post_hook

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors)``."""
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = functools.partial(hook, self)
        return handle

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        handle = RemovableHandle(self._load_state_dict_pre_hooks)
        self._load_state_dict_pre_hooks[handle.id] = functools.partial(hook, self) if with_module else hook
        return handle

    def register_load_state_dict_post_hook(self, hook):
        """``hook(module, incompatible_keys)`` runs after ``load_state_dict``; may edit the key lists."""
        handle = RemovableHandle(self._load_state_dict_post_hooks)
        self._load_state_dict_post_hooks[handle.id] = hook
        return handle

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Copy this module's own entries of ``state_dict`` into its parameters and buffers."""
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        local_state = {k: v for k, v in itertools.chain(
            self._parameters.items(),
            ((k, v) for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set))
            if v is not None}
        assign = local_metadata.get('assign_to_params_buffers', False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            src = state_dict[key]
            if not isinstance(src, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or '
                                  f'Tensor-like object from checkpoint but received {type(src)}')
                continue
            if param.dim() == 0 and src.dim() == 1 and src.shape[0] == 1:
                src = src[0]
            if src.shape != param.shape:
                error_msgs.append(f'size mismatch for {key}: copying a param with shape {src.shape} from '
                                  f'checkpoint, the shape in current model is {param.shape}.')
                continue
            if param.is_meta and not src.is_meta and not assign:
                warnings.warn(f'for {key}: copying from a non-meta parameter in the checkpoint to a meta parameter in '
                              'the current model, which is a no-op. (Did you mean to pass `assign=True` to assign '
                              'items in the state dictionary to their corresponding key in the module instead of '
                              'copying them in place?)', stacklevel=2)
            try:
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            if not isinstance(src, Parameter):
                                src = Parameter(src, requires_grad=param.requires_grad)
                            else:
                                src.requires_grad_(param.requires_grad)
                        setattr(self, name, src)
                    else:
                        param.copy_(src)
            except Exception as ex:
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model are '
                                  f'{param.size()} and whose dimensions in the checkpoint are {src.size()}, an '
                                  f'exception occurred : {ex.args}.')
        extra_key = prefix + _EXTRA_STATE_KEY_SUFFIX
        if type(self).set_extra_state is not Module.set_extra_state:
            if extra_key in state_dict:
                self.set_extra_state(state_dict[extra_key])
            elif strict:
                missing_keys.append(extra_key)
        elif strict and extra_key in state_dict:
            unexpected_keys.append(extra_key)
        if strict:
            for key in state_dict:
                if key.startswith(prefix) and key != extra_key:
                    parts = key[len(prefix):].split('.', 1)
                    if len(parts) > 1:
                        if parts[0] not in self._modules:
                            unexpected_keys.append(key)
                    elif parts[0] not in local_state:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict``; returns ``_IncompatibleKeys(missing, unexpected)``
        and, with ``strict``, raises if any key is missing or unexpected."""
        from collections.abc import Mapping
        if not isinstance(state_dict, Mapping):
            raise TypeError(f'Expected state_dict to be dict-like, got {type(state_dict)}.')
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, '_metadata', None)
        state_dict = OrderedDict(state_dict)
        if metadata is not None:
            state_dict._metadata = metadata

        def load(module, local_state, prefix=''):
            local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
            if assign:
                local_metadata['assign_to_params_buffers'] = assign
            module._load_from_state_dict(local_state, prefix, local_metadata, True, missing, unexpected, errors)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + '.'
                    load(child, {k: v for k, v in local_state.items() if k.startswith(child_prefix)}, child_prefix)
            keys = _IncompatibleKeys(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, keys) is not None:
                    raise AssertionError('Hooks registered with ``register_load_state_dict_post_hook`` are not '
                                         'expected to return new values, if incompatible_keys need to be '
                                         'modified, it should be done inplace.')

        load(self, state_dict)
        if strict:
            if unexpected:
                errors.insert(0, 'Unexpected key(s) in state_dict: {}. '.format(
                    ', '.join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, 'Missing key(s) in state_dict: {}. '.format(', '.join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError('Error(s) in loading state_dict for {}:\n\t{}'.format(
                self.__class__.__name__, '\n\t'.join(errors)))
        return _IncompatibleKeys(missing, unexpected)

    # -- printing --------------------------------------------------------------------------------------------
    def _get_name(self):
        return self.__class__.__name__

    def extra_repr(self):
        """The module-specific part of ``repr`` (one line or several); empty by default."""
        return ''

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split('\n') if extra else []
        child_lines = ['(' + key + '): ' + _addindent(repr(module), 2) for key, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + '('
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += '\n  ' + '\n  '.join(lines) + '\n'
        return main + ')'

    def compile(self, *args, **kwargs):
        """No compiler in ember: the module keeps running eagerly (the arguments are torch.compile's)."""
        from ... import compile as _compile
        _compile(self, *args, **kwargs)

    def _replicate_for_data_parallel(self):
        replica = self.__new__(type(self))
        replica.__dict__ = self.__dict__.copy()
        replica._parameters = {}
        replica._buffers = replica._buffers.copy()
        replica._modules = replica._modules.copy()
        replica._is_replica = True
        return replica


def _remove_from(name, *containers):
    for c in containers:
        if name in c:
            if isinstance(c, dict):
                del c[name]
            else:
                c.discard(name)


# -- full backward hooks ------------------------------------------------------------------------------------
def _legacy_backward_hooks(module, args, result):
    """PyTorch's regular (non-full) module backward hooks: each runs as a hook of the node that made the first
    output tensor, given that node's input and output gradients, with PyTorch's FutureWarnings where these are
    not the module's."""
    var = result
    while not isinstance(var, Tensor):
        var = next(v for v in var.values() if isinstance(v, Tensor)) if isinstance(var, dict) else var[0]
    grad_fn = var.grad_fn
    if grad_fn is None:
        return
    ref = weakref.ref(module)
    for hook in module._backward_hooks.values():
        grad_fn.register_hook(functools.partial(_call_legacy_hook, hook, ref))
    _warn_legacy_backward_hook(args, result, grad_fn)


def _call_legacy_hook(hook, ref, grad_input, grad_output):
    module = ref()
    if module is None:
        raise RuntimeError('You are trying to call the hook of a dead Module!')
    return hook(module, grad_input, grad_output)


def _warn_legacy_backward_hook(inputs, result, grad_fn):
    """PyTorch's FutureWarning when a regular backward hook will miss gradients: the module's output or input is
    not tensors, its outputs come from several nodes, or its forward ran more than one node."""
    tail = ('is deprecated and will be removed in future versions. This hook will be missing some ')
    full = 'Please use register_full_backward_hook to get the documented behavior.'
    result = (result,) if isinstance(result, Tensor) else result
    inputs = (inputs,) if isinstance(inputs, Tensor) else inputs
    if not (isinstance(result, tuple) and all(isinstance(r, Tensor) for r in result)):
        msg = ('Using non-full backward hooks on a Module that does not return a single Tensor or a tuple of '
               f'Tensors {tail}of the grad_output. {full}')
    elif not (isinstance(inputs, tuple) and all(isinstance(i, Tensor) for i in inputs)):
        msg = ('Using non-full backward hooks on a Module that does not take as input a single Tensor or a tuple '
               f'of Tensors {tail}of the grad_input. {full}')
    else:
        out_fns = {id(r.grad_fn) for r in result if r.grad_fn is not None}
        if not out_fns or (len(out_fns) == 1 and id(grad_fn) not in out_fns):
            msg = f'Using a non-full backward hook when outputs are nested in python data structure {tail}grad_output.'
        elif len(out_fns) > 1:
            msg = f'Using a non-full backward hook when outputs are generated by different autograd Nodes {tail}' \
                  f'grad_output. {full}'
        elif {id(i.grad_fn) for i in inputs if i.grad_fn is not None} != \
                {id(n[0]) for n in grad_fn.next_functions}:
            msg = f'Using a non-full backward hook when the forward contains multiple autograd Nodes {tail}' \
                  f'grad_input. {full}'
        else:
            return
    warnings.warn(msg, FutureWarning, stacklevel=3)


class BackwardHookFunctionBackward(Node):
    """An identity over several tensors whose backward hands the gradients to the module's hooks."""
    __slots__ = ('_state', '_is_input')

    def backward(self, *grads):
        if self._is_input:
            return self._state.on_grad_input(grads)
        return self._state.on_grad_output(grads)


def _identity(tensors, state, is_input):
    """Route ``tensors`` through one BackwardHookFunctionBackward node (views of the same arrays)."""
    node = BackwardHookFunctionBackward(tensors)
    node._state, node._is_input = state, is_input
    node._out_meta = [(t._data.shape, t._data.dtype) for t in tensors]
    outs = []
    for i, t in enumerate(tensors):
        o = Tensor._make(t._data, node)
        o._output_nr = i
        outs.append(o)
    return outs


def _refuse_in_reverse_transform():
    """PyTorch routes a hooked module's tensors through an autograd.Function without setup_context, which
    torch.func's grad, vjp and jacrev refuse (curvlinops' Hessian of a model backpack had extended)."""
    from ...autograd import _TRANSFORMS
    if _TRANSFORMS[1]:
        raise RuntimeError(SETUP_CONTEXT_REQUIRED)


class _BackwardHookState:
    """One forward call's link between the gradients of its outputs and of its inputs. It holds the module, as
    PyTorch's BackwardHook does: a module called once and dropped (``extend(MSELoss())(out, y)``) still gets its
    hooks' calls while the graph lives."""

    def __init__(self, module, hooks, pre_hooks, n_args):
        self.module = module
        self.hooks = hooks
        self.pre_hooks = pre_hooks
        self.n_args = n_args
        self.grad_outputs = None
        self.input_pos = []
        self.fired_on_output = False

    def wrap_inputs(self, args):
        from ...autograd.grad_mode import GRAD
        pos = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a._requires_grad]
        if not pos or not GRAD.enabled:
            return args
        _refuse_in_reverse_transform()
        self.input_pos = pos
        outs = _identity([args[i] for i in pos], self, True)
        args = list(args)
        for i, o in zip(pos, outs):
            args[i] = o
        return tuple(args)

    def wrap_outputs(self, result):
        from ...autograd.grad_mode import GRAD
        single = isinstance(result, Tensor)
        items = (result,) if single else result
        if not isinstance(items, tuple) or not GRAD.enabled:
            return result
        pos = [i for i, r in enumerate(items) if isinstance(r, Tensor) and r._requires_grad]
        if not pos:
            return result
        _refuse_in_reverse_transform()
        outs = _identity([items[i] for i in pos], self, False)
        items = list(items)
        for i, o in zip(pos, outs):
            items[i] = o
        return items[0] if single else tuple(items)

    def on_grad_output(self, grads):
        self.grad_outputs = tuple(_as_tensor(g) for g in grads)
        for hook in self.pre_hooks:
            res = hook(self.module, self.grad_outputs)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grads):
                    raise RuntimeError(f'Backward pre hook returned an invalid number of grad_output, got '
                                       f'{len(res)}, but expected {len(grads)}')
                self.grad_outputs = tuple(_as_tensor(g) for g in res)
                grads = tuple(_as_grad(g) for g in res)
        if not self.hooks:
            return grads
        if not self.input_pos:
            import warnings
            warnings.warn('Full backward hook is firing when gradients are computed with respect to module outputs '
                          'since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/'
                          'torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.',
                          stacklevel=_user_stacklevel())
            self._run((None,) * self.n_args)
        return grads

    def on_grad_input(self, grads):
        full = [None] * self.n_args
        for i, g in zip(self.input_pos, grads):
            full[i] = _as_tensor(g)
        new = self._run(tuple(full))
        if new is None:
            return grads
        return tuple(_as_grad(new[i]) for i in self.input_pos)

    def _run(self, grad_input):
        module = self.module
        grad_output = self.grad_outputs if self.grad_outputs is not None else ()
        result = None
        for hook in self.hooks:
            res = hook(module, grad_input if result is None else result, grad_output)
            if res is not None:
                res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
                if len(res) != len(grad_input):
                    raise RuntimeError(f'Backward hook returned an invalid number of grad_input, got '
                                       f'{len(res)}, but expected {len(grad_input)}')
                result = res
        return result


def _user_stacklevel():
    """The warnings stacklevel that points where PyTorch's hook warning does (its ``stacklevel=5`` from the hook):
    at the caller of ``Tensor.backward()``, but one frame further out, the caller's caller, under
    ``autograd.grad``/``autograd.backward`` (curvlinops' check_deterministic calls grad inside a generator)."""
    import sys
    frame, level, entry = sys._getframe(1), 1, None
    while frame is not None and frame.f_globals.get('__name__', '').startswith('ember.'):
        entry = frame
        frame, level = frame.f_back, level + 1
    if (entry is not None and entry.f_code.co_name in ('grad', 'backward') and frame is not None
            and entry.f_globals.get('__name__') == 'ember.autograd'):
        caller = frame.f_back
        if caller is None or caller.f_globals.get('__name__', '').startswith('ember.'):
            while frame is not None:   # called at a script's top level: past the stack, where Python says 'sys:1'
                frame, level = frame.f_back, level + 1
        return level + 1
    return level


def _as_tensor(g):
    if g is None or isinstance(g, Tensor):
        return g
    return Tensor._make(np.asarray(g))


def _as_grad(g):
    if g is None or MODE.graph:
        return g
    return g._data if isinstance(g, Tensor) else np.asarray(g)
