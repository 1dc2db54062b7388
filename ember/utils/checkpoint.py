"""Activation checkpointing (``torch.utils.checkpoint``): a region of the model whose activations are not
kept for backward but recomputed from its inputs when its gradient is needed, trading compute for memory.

``use_reentrant=True`` is PyTorch's reentrant variant: the region runs under no_grad, its output's grad_fn is
CheckpointFunctionBackward, and backward reruns it (with the forward's random state) and differentiates the
rerun. ``use_reentrant=False`` is PyTorch's non-reentrant variant, built as PyTorch builds it on saved-tensor
hooks: the region records its own graph (the same grad_fn names), but each tensor it saves for backward is
replaced by an empty holder; the first unpack in a backward pass reruns the region (with the forward's random
state and autocast settings) to refill the holders, stopping once the last one is filled (``early_stop``), and
each holder gives its tensor up once unpacked. The rerun must save tensors of the same shapes and dtypes
(``determinism_check='default'``), else CheckpointError."""
import contextlib
import warnings
import weakref

from .. import random as _random
from ..amp.autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from ..autograd.engine import is_checkpoint_valid
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..autograd.graph import _raise_modified, saved_tensors_hooks
from ..tensor import Tensor

__all__ = ['checkpoint', 'checkpoint_sequential', 'CheckpointError', 'CheckpointFunction', 'check_backward_validity',
           'detach_variable', 'noop_context_fn', 'set_checkpoint_early_stop', 'set_checkpoint_debug_enabled',
           'DefaultDeviceType', 'get_device_states', 'set_device_states']

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
        # from this frame: PyTorch's checkpoint runs inside torch._disable_dynamo's wrapper, so its warning points
        # into torch (one line), and the default filter shows it once a process, not once per calling line
        warnings.warn(_UNSET.format('', 'Starting in PyTorch 2.9, calling checkpoint without use_reentrant will '
                                        'raise an exception. '), stacklevel=1)
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
    forward_context, recompute_context = context_fn()
    if not is_grad_enabled():
        with forward_context:
            return function(*args, **kwargs)
    frame = _Frame(function, args, kwargs, preserve, recompute_context,
                   early_stop if _EARLY_STOP[0] is None else _EARLY_STOP[0], determinism_check == 'default')
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        out = function(*args, **kwargs)
    frame.forward_completed = True
    return out


_TIP = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint‑debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""     # PyTorch's _debug_tip_msg, ending its recomputation errors


class _Holder:
    """What the forward saved in place of one tensor: filled by a recomputation, emptied by its unpack."""
    __slots__ = ('value', '__weakref__')

    def __init__(self):
        self.value = None


class _StopRecomputation(Exception):
    """Raised by the recomputation's pack hook once every holder is filled (early stop)."""


def _meta(t):
    return {'shape': t.shape, 'dtype': t.dtype, 'device': t.device}


class _Frame:
    """One non-reentrant checkpointed call: its inputs (with their versions), the forward's random and autocast
    state, and weak references to the holders its saved tensors became, in saving order."""

    def __init__(self, function, args, kwargs, preserve, recompute_context, early_stop, check):
        self.function, self.args, self.kwargs = function, args, kwargs
        self.versions = [a._version if isinstance(a, Tensor) else None for a in args]
        self.rng = _random.get_rng_state() if preserve else None
        self.autocast = (is_autocast_enabled('cpu'), get_autocast_dtype('cpu'))
        self.recompute_context, self.early_stop, self.check = recompute_context, early_stop, check
        self.holders, self.metas = [], []
        self.forward_completed = False

    def pack(self, t):
        holder = _Holder()
        self.holders.append(weakref.ref(holder))
        if self.check:
            self.metas.append(_meta(t))
        return holder

    def unpack(self, holder):
        if holder.value is None:
            self.recompute()
        value, holder.value = holder.value, None
        return value

    def recompute(self):
        """Rerun the region under the forward's random and autocast state, filling the holders in order."""
        for i, (a, v) in enumerate(zip(self.args, self.versions)):
            if v is not None and a._version != v:
                _raise_modified(None, a, a._version, v, False)
        counter = [0]
        with _random.fork_rng(enabled=self.rng is not None):
            if self.rng is not None:
                _random.set_rng_state(self.rng)
            try:
                with saved_tensors_hooks(lambda x: self._refill(x, counter), lambda x: x), enable_grad(), \
                        autocast('cpu', enabled=self.autocast[0], dtype=self.autocast[1]), self.recompute_context:
                    self.function(*self.args, **self.kwargs)
            except _StopRecomputation:
                pass
        if counter[0] != len(self.holders):
            raise CheckpointError('torch.utils.checkpoint: A different number of tensors was saved during the '
                                  'original forward and recomputation.\n'
                                  f'Number of tensors saved during forward: {len(self.holders)}\n'
                                  f'Number of tensors saved during recomputation: {counter[0]}.\n{_TIP}')
        if self.check:
            bad = ''.join(f'tensor at position {i}:\nsaved metadata: {m}\nrecomputed metadata: {_meta(h.value)}\n'
                          for i, (m, h) in enumerate(zip(self.metas, (r() for r in self.holders)))
                          if h is not None and h.value is not None and _meta(h.value) != m)
            if bad:
                raise CheckpointError('torch.utils.checkpoint: Recomputed values for the following tensors have '
                                      f'different metadata than during the forward pass.\n{bad}.\n{_TIP}')

    def _refill(self, x, counter):
        """The recomputation's pack hook: the i-th tensor saved fills the i-th holder."""
        x = x.detach() if x.requires_grad else x
        i = counter[0]
        counter[0] += 1
        if i >= len(self.holders):
            if not self.forward_completed:
                return x
            raise CheckpointError('torch.utils.checkpoint: trying to save more tensors during recomputation than '
                                  f'during the original forward pass.\n{_TIP}')
        holder = self.holders[i]()
        if holder is not None:
            holder.value = x
        if self.early_stop and counter[0] == len(self.holders):
            raise _StopRecomputation
        return x


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


_EARLY_STOP = [None]     # set_checkpoint_early_stop's setting, overriding checkpoint's early_stop while set


@contextlib.contextmanager
def set_checkpoint_early_stop(enable):
    """Whether non-reentrant recomputation stops once it has refilled every saved tensor (overrides
    checkpoint's ``early_stop`` inside the context)."""
    prev = _EARLY_STOP[0]
    _EARLY_STOP[0] = enable
    try:
        yield
    finally:
        _EARLY_STOP[0] = prev


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled):
    """PyTorch's switch for checkpoint's debug traces on recomputation mismatches: ember's errors carry no
    operator traces, so the switch changes nothing."""
    yield


class DefaultDeviceType:
    """The device type whose random states checkpointing saves when no tensor argument names one: the current
    accelerator's, else 'cpu' (ember has no accelerator, so 'cpu' until ``set_device_type``)."""

    _default_device_type = None

    @staticmethod
    def set_device_type(device='cuda'):
        """Make ``device`` the default device type for checkpointing."""
        DefaultDeviceType._default_device_type = device

    @staticmethod
    def get_device_type():
        """The default device type for checkpointing (set on first use when unset)."""
        if not DefaultDeviceType._default_device_type:
            DefaultDeviceType._default_device_type = 'cpu'
        return DefaultDeviceType._default_device_type


def _device_module(device_type):
    """The module holding ``device_type``'s random state functions (``torch.cuda`` for 'cuda')."""
    import ember
    return getattr(ember, device_type)


def get_device_states(*args):
    """The ids of the accelerator devices the tensors in ``args`` (nested containers included) live on and
    each device's random state, as reversible layers save them; CPU and meta tensors add nothing."""
    from ._pytree import tree_flatten
    leaves = [a for a in tree_flatten(args)[0] if isinstance(a, Tensor)]
    accelerated = [t for t in leaves if t.device.type not in ('cpu', 'meta')]
    ids = [t.get_device() for t in accelerated]
    states = []
    if ids:
        module = _device_module(accelerated[0].device.type)
        for i in ids:
            with module.device(i):
                states.append(module.get_rng_state())
    return ids, states


def set_device_states(devices, states, *, device_type=None):
    """Restore the random ``states`` of ``devices`` (ids of ``device_type``, by default
    ``DefaultDeviceType.get_device_type()``), as saved by ``get_device_states``."""
    if device_type is None:
        device_type = DefaultDeviceType.get_device_type()
    if device_type == 'meta':
        return
    module = _device_module(device_type)
    for device, state in zip(devices, states):
        with module.device(device):
            module.set_rng_state(state)
