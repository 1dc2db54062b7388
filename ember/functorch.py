"""``functorch``: the package that predates ``torch.func`` and still ships with PyTorch (``ember run`` maps
``import functorch`` here). Its transforms are ``torch.func``'s behind the FutureWarning PyTorch gives, plus
the module APIs ``torch.func`` dropped: make_functional, make_functional_with_buffers and
combine_state_for_ensemble (a deep copy of the module called with the given tensors through
``functional_call``)."""
import copy
import warnings

from . import func as _func
from .nn import Module as _Module
from .ops.shape import stack as _stack

__all__ = ['vmap', 'grad', 'grad_and_value', 'vjp', 'jvp', 'jacrev', 'jacfwd', 'hessian',
           'make_functional', 'make_functional_with_buffers', 'combine_state_for_ensemble', 'FunctionalModule',
           'FunctionalModuleWithBuffers']


def _warn(api, new_api=None):
    """PyTorch's deprecation warning for ``functorch.api``, pointing at the caller of the functorch API."""
    new_api = new_api or f"torch.func.{api}"
    warnings.warn(f"We've integrated functorch into PyTorch. As the final step of the integration, "
                  f"`functorch.{api}` is deprecated as of PyTorch 2.0 and will be deleted in a future version of "
                  f"PyTorch >= 2.3. Please use `{new_api}` instead; see the PyTorch 2.0 release notes and/or the "
                  f"`torch.func` migration guide for more details https://pytorch.org/docs/main/func.migrating.html",
                  FutureWarning, stacklevel=3)


def vmap(func, in_dims=0, out_dims=0, randomness='error', *, chunk_size=None):
    """torch.vmap, with functorch's deprecation warning."""
    _warn('vmap', 'torch.vmap')
    return _func.vmap(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


def grad(func, argnums=0, has_aux=False):
    """torch.func.grad, with functorch's deprecation warning."""
    _warn('grad')
    return _func.grad(func, argnums, has_aux)


def grad_and_value(func, argnums=0, has_aux=False):
    """torch.func.grad_and_value, with functorch's deprecation warning."""
    _warn('grad_and_value')
    return _func.grad_and_value(func, argnums, has_aux)


def vjp(func, *primals, has_aux=False):
    """torch.func.vjp, with functorch's deprecation warning."""
    _warn('vjp')
    return _func.vjp(func, *primals, has_aux=has_aux)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """torch.func.jvp, with functorch's deprecation warning."""
    _warn('jvp')
    return _func.jvp(func, primals, tangents, strict=strict, has_aux=has_aux)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """torch.func.jacrev, with functorch's deprecation warning."""
    _warn('jacrev')
    return _func.jacrev(func, argnums, has_aux=has_aux, chunk_size=chunk_size)


def jacfwd(func, argnums=0, has_aux=False, *, randomness='error'):
    """torch.func.jacfwd, with functorch's deprecation warning."""
    _warn('jacfwd')
    return _func.jacfwd(func, argnums, has_aux, randomness=randomness)


def hessian(func, argnums=0):
    """torch.func.hessian, with functorch's deprecation warning."""
    _warn('hessian')
    return _func.hessian(func, argnums=argnums)


def _unique(named):
    """(names, tensors) of ``named`` (name, tensor) pairs, each tensor once (tied weights under the first name)."""
    seen, names, tensors = set(), [], []
    for name, t in named:
        if id(t) not in seen:
            seen.add(id(t))
            names.append(name)
            tensors.append(t)
    return tuple(names), tuple(tensors)


class FunctionalModule(_Module):
    """What make_functional returns: ``fmodel(params, *args, **kwargs)`` runs the module with ``params``."""

    def __init__(self, stateless_model, param_names):
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names

    def forward(self, params, *args, **kwargs):
        """The module's forward with its parameters replaced by ``params`` (in ``param_names`` order)."""
        given = dict(zip(self.param_names, params))
        return _func.functional_call(self.stateless_model, given, args, kwargs)


class FunctionalModuleWithBuffers(_Module):
    """What make_functional_with_buffers returns: ``fmodel(params, buffers, *args, **kwargs)``."""

    def __init__(self, stateless_model, param_names, buffer_names):
        super().__init__()
        self.stateless_model = stateless_model
        self.param_names = param_names
        self.buffer_names = buffer_names

    def forward(self, params, buffers, *args, **kwargs):
        """The module's forward with its parameters and buffers replaced by ``params`` and ``buffers``."""
        given = dict(zip(self.param_names, params))
        given.update(zip(self.buffer_names, buffers))
        return _func.functional_call(self.stateless_model, given, args, kwargs)


def _copy_state(model, disable_autograd_tracking):
    """A deep copy of ``model`` with its unique (names, parameters) and (names, buffers)."""
    model_copy = copy.deepcopy(model)
    pnames, params = _unique(model_copy.named_parameters(remove_duplicate=False))
    bnames, buffers = _unique(model_copy.named_buffers(remove_duplicate=False))
    if disable_autograd_tracking:
        for p in params:
            p.requires_grad_(False)
    return model_copy, pnames, params, bnames, buffers


def make_functional(model, disable_autograd_tracking=False):
    """(fmodel, params): a functional version of ``model`` and a copy of its parameters; ``model`` must have no
    buffers (use make_functional_with_buffers)."""
    _warn('make_functional', 'torch.func.functional_call')
    if len(tuple(model.buffers())) > 0:
        raise RuntimeError('make_functional(model): `model` has buffers. Please use '
                           'make_functional_with_buffers(model) instead.')
    model_copy, pnames, params, _, _ = _copy_state(model, disable_autograd_tracking)
    return FunctionalModule(model_copy, pnames), params


def _make_functional_with_buffers(model, disable_autograd_tracking=False):
    """make_functional_with_buffers without the warning (combine_state_for_ensemble warns once)."""
    model_copy, pnames, params, bnames, buffers = _copy_state(model, disable_autograd_tracking)
    return FunctionalModuleWithBuffers(model_copy, pnames, bnames), params, buffers


def make_functional_with_buffers(model, disable_autograd_tracking=False):
    """(fmodel, params, buffers): a functional version of ``model`` and copies of its parameters and buffers."""
    _warn('make_functional_with_buffers', 'torch.func.functional_call')
    return _make_functional_with_buffers(model, disable_autograd_tracking)


def combine_state_for_ensemble(models):
    """(fmodel, params, buffers) for vmap-ing over ``models`` (same class, same mode): each parameter and buffer
    stacked over the models on a new first dimension (detached)."""
    _warn('combine_state_for_ensemble', 'torch.func.stack_module_state')
    if len(models) == 0:
        raise RuntimeError('combine_state_for_ensemble: Expected at least one model, got 0.')
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError('combine_state_for_ensemble: Expected all models to have the same training/eval mode.')
    if not all(type(m) is type(models[0]) for m in models):
        raise RuntimeError('combine_state_for_ensemble: Expected all models to be of the same class.')
    funcs, params, buffers = zip(*[_make_functional_with_buffers(m) for m in models])
    params = tuple(_stack(shards).detach() for shards in zip(*params))
    buffers = tuple(_stack(shards).detach() for shards in zip(*buffers))
    return funcs[0], params, buffers
