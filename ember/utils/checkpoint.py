"""Activation checkpointing (``torch.utils.checkpoint``): a region of the model whose activations are not
kept for backward but recomputed from its inputs when its gradient is needed, trading compute for memory.

``use_reentrant=True`` is PyTorch's reentrant variant: the region runs under no_grad, its output's grad_fn is
CheckpointFunctionBackward, and backward reruns it (with the forward's random state) and differentiates the
rerun. ``use_reentrant=False`` records the region's own graph, as PyTorch's non-reentrant variant does (the
same grad_fn names, gradients and random numbers), but ember keeps its saved activations instead of
recomputing them: it saves no memory (PyTorch frees them through saved-tensor hooks, which ember lacks)."""
import contextlib
import warnings

from .. import random as _random
from ..autograd.engine import is_checkpoint_valid
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, no_grad
from ..tensor import Tensor

__all__ = ['checkpoint', 'checkpoint_sequential', 'CheckpointError', 'CheckpointFunction', 'check_backward_validity',
           'detach_variable', 'noop_context_fn', 'set_checkpoint_early_stop', 'set_checkpoint_debug_enabled']

_DETERMINISM_CHECKS = ('default', 'none')
_UNSET = ('torch.utils.checkpoint{}: the use_reentrant parameter should be passed explicitly. {}'
          'use_reentrant=False is recommended, but if you need to preserve the current default behavior, you can '
          'pass use_reentrant=True. Refer to docs for more details on the differences between the two variants.')


class CheckpointError(RuntimeError):
    """Raised when a checkpointed region's recomputation differs from its forward (PyTorch's class)."""


def noop_context_fn():
    """The default ``context_fn``: no context around the forward or its recomputation."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def check_backward_validity(inputs):
    """Warn, as PyTorch does, when no tensor input requires grad: the region then gets no gradient."""
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn('None of the inputs have requires_grad=True. Gradients will be None', stacklevel=2)


def detach_variable(inputs):
    """The tuple ``inputs`` with each tensor detached, keeping its requires_grad (non-tensors unchanged)."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f'Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}')
    out = []
    for inp in inputs:
        if isinstance(inp, Tensor):
            x = inp.detach()
            x.requires_grad = inp.requires_grad
            inp = x
        out.append(inp)
    return tuple(out)


class CheckpointFunction(Function):
    """The reentrant variant: forward runs ``run_function`` under no_grad and keeps only its inputs; backward
    reruns it with grad enabled (and the forward's random state, so dropout draws the same masks) and
    backpropagates through the rerun."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = _random.get_rng_state()
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not is_checkpoint_valid():
            raise RuntimeError('When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or '
                               'passing an `inputs` parameter to .backward(). To resolve this error, you can either '
                               'set use_reentrant=False, or call .backward() without passing the `inputs` argument.')
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _random.fork_rng(enabled=ctx.preserve_rng_state):
            if ctx.preserve_rng_state:
                _random.set_rng_state(ctx.fwd_cpu_state)
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, grads) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError('none of output has requires_grad=True, this checkpoint() is not necessary')
        from ..autograd import backward
        backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in detached)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check='default',
               debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)`` as a checkpointed region (see the module's docstring for what each
    variant keeps); ``preserve_rng_state`` (default True) may be passed among the keyword arguments."""
    if use_reentrant is None:
        warnings.warn(_UNSET.format('', 'Starting in PyTorch 2.9, calling checkpoint without use_reentrant will '
                                        'raise an exception. '), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop('preserve_rng_state', True)
    if use_reentrant:
        if kwargs:
            raise ValueError('Unexpected keyword arguments: ' + ','.join(kwargs))
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError('Passing `context_fn` or `debug` is only supported when use_reentrant=False.')
        return CheckpointFunction.apply(function, preserve, *args)
    if debug and context_fn is not noop_context_fn:
        raise ValueError('debug=True is incompatible with non-default context_fn')
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f'determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got '
                         f'{determinism_check}')
    forward_context, _ = context_fn()
    with forward_context:
        return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list or nn.Sequential) in order on ``input``, each of the first ``segments - 1``
    equal segments checkpointed and the rest run plainly, as PyTorch splits them."""
    if use_reentrant is None:
        warnings.warn(_UNSET.format('.checkpoint_sequential', 'In version 2.9 we will raise an exception if '
                                                             'use_reentrant is not passed. '), stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop('preserve_rng_state', True)
    if kwargs:
        raise ValueError('Unexpected keyword arguments: ' + ','.join(kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input
        return forward

    from ..nn import Sequential
    if isinstance(functions, Sequential):
        functions = list(functions.children())
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """PyTorch's switch for stopping non-reentrant recomputation early; ember's non-reentrant variant does not
    recompute, so there is nothing to stop."""
    yield


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """PyTorch's switch for checkpoint's debug traces on recomputation mismatches, which ember's non-reentrant
    variant cannot have (it does not recompute)."""
    yield
