"""Reverse-mode automatic differentiation: ``backward``, ``grad``, grad modes, custom ``Function``,
``gradcheck`` and ``functional`` (jacobian, hessian, vjp, jvp)."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, set_multithreading_enabled,
                        enforce_grad_layout_policy)
from .function import Function, NestedIOFunction
from . import engine
from .engine import run_backward as _run_backward
from .gradcheck import gradcheck, gradgradcheck
from . import graph   # (functional, jacobian and the like, loads on first access: __getattr__ below)
from .variable import Variable
from .anomaly_mode import detect_anomaly, set_detect_anomaly


def variable(*args, **kwargs):
    """The long-removed ``torch.autograd.variable(...)``: PyTorch raises, pointing to ``torch.tensor``."""
    given = ', '.join([f'{len(args)} positional'] + [f'{k}=' for k in kwargs])
    raise RuntimeError(f'torch.autograd.variable(...) is deprecated, use torch.tensor(...) instead (called with {given})')


__all__ = ['backward', 'grad', 'Variable', 'Function', 'no_grad', 'enable_grad', 'set_grad_enabled',
           'inference_mode', 'gradcheck', 'gradgradcheck', 'functional', 'detect_anomaly', 'set_detect_anomaly']


def _as_list(x):
    if x is None:
        return None
    if isinstance(x, (engine.Tensor, graph.GradientEdge)):
        return [x]
    return list(x)


_TRANSFORMS = [0, 0]   # torch.func transforms running user code now (ember.func counts them): backward() refuses;
# [1]: those of them that differentiate in reverse mode (grad, vjp, jacrev), where module backward hooks refuse


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate into leaves' ``.grad`` the gradients of ``tensors`` (seeded by ``grad_tensors``)."""
    if _TRANSFORMS[0]:
        raise RuntimeError('backward() called inside a functorch transform. This is not supported, please use '
                           'functorch.grad or functorch.vjp instead or call backward() outside of functorch '
                           'transforms.')
    tensors = _as_list(tensors)
    if grad_tensors is None:
        grad_tensors = grad_variables
    grads = _as_list(grad_tensors) if grad_tensors is not None else [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f'grad can be implicitly created only for scalar outputs; got {len(grads)} gradients for '
                           f'{len(tensors)} tensors')
    inputs = _as_list(inputs)
    if inputs is not None and len(inputs) == 0:
        raise RuntimeError("'inputs' argument to backward() cannot be empty.")
    if create_graph:
        from .._warn import warn_user
        warn_user(_CYCLE_WARNING, once=True, internally='torch/csrc/autograd/engine.cpp:1307')
    _run_backward(tensors, grads, retain_graph, create_graph, inputs=inputs, accumulate=True)


# PyTorch's engine warns once per process when backward() accumulates gradients that carry a graph (timm's
# AdaHessian steps after loss.backward(create_graph=True))
_CYCLE_WARNING = ('Using backward() with create_graph=True will create a reference cycle between the parameter and '
                  'its gradient which can cause a memory leak. We recommend using autograd.grad when creating the '
                  'graph to avoid this. If you have to use this function, make sure to reset the .grad fields of '
                  'your parameters to None after use to break the cycle and avoid the leak.')


def _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads):
    """autograd.grad(is_grads_batched=True) as a loop over the batch (PyTorch vectorises it with vmap)."""
    from ..ops.shape import stack
    if grad_outputs is None:
        raise RuntimeError('grad(): is_grads_batched=True needs grad_outputs with a leading batch dim')
    gos = _as_list(grad_outputs)
    n = gos[0].shape[0]
    rows = [grad(outputs, inputs, [g[i] for g in gos], retain_graph=True if i < n - 1 else retain_graph,
                 create_graph=create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
            for i in range(n)]
    return tuple(None if col[0] is None else stack(col) for col in zip(*rows))


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` w.r.t. ``inputs``, returned (leaves' ``.grad`` are left alone).
    ``is_grads_batched``: the first dim of each grad_output is a batch, one backward pass per entry;
    ``only_inputs`` is ignored, as in PyTorch (with its FutureWarning when False)."""
    if not only_inputs:
        import warnings
        warnings.warn('only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate '
                      'gradient for other parts of the graph, please use torch.autograd.backward.', FutureWarning,
                      stacklevel=2)
    if materialize_grads and allow_unused is False:
        raise ValueError('Expected allow_unused to be True or not passed when materialize_grads=True, but got: '
                         'allow_unused=False.')
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                             materialize_grads)
    outputs = _as_list(outputs)
    single = not isinstance(inputs, (list, tuple))
    inputs = _as_list(inputs)
    grads = _as_list(grad_outputs) if grad_outputs is not None else [None] * len(outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    res = _run_backward(outputs, grads, retain_graph, create_graph, inputs=inputs, accumulate=False,
                       allow_unused=allow_unused)
    if materialize_grads:
        from ..ops.creation import zeros_like
        res = tuple(zeros_like(i) if r is None else r for r, i in zip(res, inputs))
    return res


def _profiler_enabled():
    """Whether a profiler records now (``torch.profiler.profile`` or ``torch.autograd.profiler.profile``, entered
    and enabled): Lightning's PyTorchProfiler asks before it stops one."""
    from ..profiler import _record
    return _record.active()


def __getattr__(name):
    """``torch.autograd.profiler`` and other submodules on first access, as PyTorch imports them."""
    from .. import aliasing
    return aliasing.module_getattr(__name__, name)


def __dir__():
    """The module's names and its submodules that ``dir(torch.autograd)`` lists, found without importing them."""
    from .. import aliasing
    return aliasing.module_dir(__name__)
