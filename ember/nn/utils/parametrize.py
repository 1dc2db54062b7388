"""``nn.utils.parametrize``: a parameter or buffer computed by modules from hidden originals on every access
(``module.parametrizations.<name>.original``, or ``original0``, ``original1``... when ``right_inverse``
returns several tensors), with ``cached()`` to compute each once inside a block."""
import collections.abc
from contextlib import contextmanager
from copy import deepcopy

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor
from ..modules.container import ModuleDict, ModuleList
from ..parameter import Parameter

__all__ = ['cached', 'ParametrizationList', 'register_parametrization', 'is_parametrized', 'remove_parametrizations',
           'type_before_parametrizations', 'transfer_parametrizations_and_params']

_cache_enabled = 0
_cache = {}


@contextmanager
def cached():
    """Inside the block, each parametrized tensor is computed once (on first access) and then reused."""
    global _cache, _cache_enabled
    _cache_enabled += 1
    try:
        yield
    finally:
        _cache_enabled -= 1
        if not _cache_enabled:
            _cache = {}


def _register_parameter_or_buffer(module, name, x):
    if isinstance(x, Parameter):
        module.register_parameter(name, x)
    else:
        module.register_buffer(name, x)


def _set(dest, src):
    """``dest`` takes ``src``'s values in place (PyTorch's ``set_``), so that optimizers holding it still see it."""
    if dest is not src:
        dest.data = src


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor and its originals; calling it computes the parametrized tensor."""

    def __init__(self, modules, original, unsafe=False):
        if len(modules) == 0:
            raise ValueError('ParametrizationList requires one or more modules.')
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype
        with no_grad():
            new = original
            for module in reversed(self):
                if hasattr(module, 'right_inverse'):
                    try:
                        new = module.right_inverse(new)
                    except NotImplementedError:
                        pass
        if not isinstance(new, (Tensor, collections.abc.Sequence)):
            raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                             f'Got {type(new).__name__}')
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            if original.dtype != new.dtype:
                raise ValueError('When `right_inverse` outputs one tensor, it may not change the dtype.\n'
                                 f'original.dtype: {original.dtype}\nright_inverse(original).dtype: {new.dtype}')
            with no_grad():
                _set(original, new)
            _register_parameter_or_buffer(self, 'original', original)
        else:
            for i, originali in enumerate(new):
                if not isinstance(originali, Tensor):
                    raise ValueError("'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                                     f'Got element {i} of the sequence with type {type(originali).__name__}.')
                if isinstance(original, Parameter):
                    originali = Parameter(originali, original.requires_grad)
                originali.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f'original{i}', originali)
        if not self.unsafe:
            z = self()
            if not isinstance(z, Tensor):
                raise ValueError(f'A parametrization must return a tensor. Got {type(z).__name__}.')
            if z.dtype != original_dtype:
                raise ValueError('Registering a parametrization may not change the dtype of the tensor, unless '
                                 f'`unsafe` flag is enabled.\nunparametrized dtype: {original_dtype}\n'
                                 f'parametrized dtype: {z.dtype}')
            if z.shape != original_shape:
                raise ValueError('Registering a parametrization may not change the shape of the tensor, unless '
                                 f'`unsafe` flag is enabled.\nunparametrized shape: {original_shape}\n'
                                 f'parametrized shape: {z.shape}')

    def right_inverse(self, value):
        """Set the originals so that the parametrized tensor becomes ``value`` (assignment to it)."""
        with no_grad():
            for module in reversed(self):
                if not hasattr(module, 'right_inverse'):
                    raise RuntimeError(f'parametrization {type(module).__name__} does not implement right_inverse.')
                value = module.right_inverse(value)
            if self.is_tensor:
                if not isinstance(value, Tensor):
                    raise ValueError(f'`right_inverse` should return a tensor. Got {type(value).__name__}')
                if value.dtype != self.original.dtype:
                    raise ValueError(f'The tensor returned by `right_inverse` has dtype {value.dtype} while '
                                     f'`original` has dtype {self.original.dtype}')
                _set(self.original, value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of length {self.ntensors}. "
                                 f'Got a sequence of length {len(value)}.')
            for i, tensor in enumerate(value):
                original_i = getattr(self, f'original{i}')
                if not isinstance(tensor, Tensor):
                    raise ValueError(f"'right_inverse' must return a sequence of tensors or reference-type opaques. "
                                     f'Got element {i} of type {type(tensor).__name__}.')
                if original_i.dtype != tensor.dtype:
                    raise ValueError(f'Tensor {i} returned by `right_inverse` has dtype {tensor.dtype} while '
                                     f'`original{i}` has dtype {original_i.dtype}')
                _set(original_i, tensor)

    def forward(self):
        if self.is_tensor:
            x = self[0](self.original)
        else:
            x = self[0](*(getattr(self, f'original{i}') for i in range(self.ntensors)))
        for i in range(1, len(self)):
            x = self[i](x)
        return x


def _default_deepcopy(self, memo):
    obj = memo.get(id(self))
    if obj is not None:
        return obj
    replica = self.__new__(self.__class__)
    memo[id(self)] = replica
    replica.__dict__ = deepcopy(self.__dict__, memo)
    return replica


def _getstate(self):
    raise RuntimeError('Serialization of parametrized modules is only supported through state_dict(). See:\n'
                       'https://pytorch.org/tutorials/beginner/saving_loading_models.html'
                       '#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training')


def _inject_new_class(module):
    """Give ``module`` its own subclass ``Parametrized<Class>``, on which the tensors' properties live."""
    cls = module.__class__
    dct = {'__getstate__': _getstate}
    if not hasattr(cls, '__deepcopy__'):
        dct['__deepcopy__'] = _default_deepcopy
    module.__class__ = type(f'Parametrized{cls.__name__}', (cls,), dct)


def _inject_property(module, tensor_name):
    if hasattr(module, tensor_name):
        raise AssertionError(f"Module already has an attribute named '{tensor_name}'")

    def get_parametrized(self):
        parametrization = self.parametrizations[tensor_name]
        if not _cache_enabled:
            return parametrization()
        key = (id(module), tensor_name)
        tensor = _cache.get(key)
        if tensor is None:
            tensor = _cache[key] = parametrization()
        return tensor

    def set_original(self, value):
        self.parametrizations[tensor_name].right_inverse(value)

    setattr(module.__class__, tensor_name, property(get_parametrized, set_original))



def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Make ``module.<tensor_name>`` be ``parametrization(original)``, computed on every access; a second
    registration on the same name chains after the first."""
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_chained(module, tensor_name, parametrization)
        module.parametrizations[tensor_name].append(parametrization)
        module.parametrizations[tensor_name].unsafe |= unsafe
    elif tensor_name in module._buffers or tensor_name in module._parameters:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_new_class(module)
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized element with "
                         f"name '{tensor_name}'")
    return module


def _check_chained(module, tensor_name, parametrization):
    """A parametrization appended to others may change neither the dtype nor the shape (unless unsafe)."""
    y = getattr(module, tensor_name)
    x = parametrization(y)
    if not isinstance(x, Tensor):
        raise ValueError(f'A parametrization must return a tensor. Got {type(x).__name__}.')
    for attr in ('dtype', 'shape'):
        if getattr(x, attr) != getattr(y, attr):
            raise ValueError(f'Registering a parametrization may not change the {attr} of the tensor, unless the '
                             f'`unsafe` flag is enabled.\nmodule.{tensor_name}.{attr}: {getattr(y, attr)}\n'
                             f'parametrization(module.{tensor_name}).{attr}: {getattr(x, attr)}')
    if hasattr(parametrization, 'right_inverse'):
        try:
            z = parametrization.right_inverse(x)
        except NotImplementedError:
            return
        if not isinstance(z, Tensor):
            raise ValueError(f'parametrization.right_inverse must return a tensor. Got: {type(z).__name__}')
        for attr in ('dtype', 'shape'):
            if getattr(z, attr) != getattr(y, attr):
                raise ValueError(f'The tensor returned by parametrization.right_inverse must have the same {attr} as '
                                 f'module.{tensor_name}, unless the `unsafe` flag is enabled.\n'
                                 f'module.{tensor_name}.{attr}: {getattr(y, attr)}\nreturned {attr}: '
                                 f'{getattr(z, attr)}')


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    parametrizations = getattr(module, 'parametrizations', None)
    if parametrizations is None or not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Make ``module.<tensor_name>`` a plain parameter or buffer again: its current parametrized value
    (``leave_parametrized=True``) or its original."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f'Module {module} does not have a parametrization on {tensor_name}')
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                t = getattr(module, tensor_name)
                _set(original, t)
    else:
        if not leave_parametrized:
            raise ValueError('Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized '
                             'in terms of a sequence of tensors.')
        t = getattr(module, tensor_name)
        original = Parameter(t) if t.requires_grad else t
    delattr(module.__class__, tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, 'parametrizations')
        module.__class__ = module.__class__.__bases__[0]
    return module


def type_before_parametrizations(module):
    """The module's class before ``register_parametrization`` subclassed it."""
    return module.__class__.__bases__[0] if is_parametrized(module) else type(module)


def transfer_parametrizations_and_params(from_module, to_module, tensor_name=None):
    """Copy the parametrizations (and their originals) of ``from_module`` onto ``to_module``."""
    if is_parametrized(from_module):
        names = from_module.parametrizations if tensor_name is None else [tensor_name]
        for name in names:
            if not hasattr(to_module, name):
                setattr(to_module, name, Parameter(getattr(from_module, name)))
            for param_func in from_module.parametrizations[name]:
                register_parametrization(to_module, name, param_func)
            source = from_module.parametrizations[name]
            if hasattr(source, 'original'):
                to_module.parametrizations[name].original = source.original
            else:
                num = 0
                while hasattr(source, f'original{num}'):
                    setattr(to_module.parametrizations[name], f'original{num}', getattr(source, f'original{num}'))
                    num += 1
    return to_module
