"""``torch.nn.utils._per_sample_grad.call_for_per_sample_grads``: a forward whose backward fills each trainable
parameter's ``grad_sample`` with one gradient per batch entry (Opacus's ``grad_sample_mode="ew"`` calls it).

PyTorch swaps each parameter for an ExpandedWeight tensor subclass whose linear/conv/norm/embedding ops compute
per-sample gradients. ember runs the module once per batch entry instead, each on its own detached copy of the
parameters, and stacks the copies' gradients at the end of the backward pass: the same per-sample gradients for
any module whose batch entries do not interact (the modules DP-SGD trains), at the cost of one forward per entry.
Like PyTorch's, ``.grad`` is left alone and ``grad_sample`` accumulates over backward passes.
"""
import functools

from ...autograd.engine import queue_callback
from ...func import functional_call
from ...tensor import Tensor
from ...utils import _pytree

__all__ = ["call_for_per_sample_grads"]


def call_for_per_sample_grads(module, *, batch_size=None, loss_reduction="sum", batch_first=True):
    """Return ``module``'s forward, populating ``grad_sample`` of each parameter that requires grad on backward;
    with ``loss_reduction="mean"`` the per-sample gradients are scaled by the batch size, as PyTorch's are."""
    from ..modules.module import Module
    if loss_reduction not in ["sum", "mean"]:
        raise RuntimeError(f"Expected loss_reduction argument to be sum or mean, got {loss_reduction}")
    if not isinstance(module, Module):
        raise RuntimeError(f"Module passed must be nn.Module, got {type(module).__name__}")
    if not (batch_size is None or isinstance(batch_size, int)):
        raise RuntimeError(f"Batch size passed must be None or an integer, got {type(batch_size).__name__}")
    if batch_size is not None and batch_size < 1:
        raise RuntimeError(f"Batch size must be positive, got {batch_size}")
    for weight in module.parameters():
        if getattr(weight, "grad_sample", None) is not None:
            raise RuntimeError(
                "Current Expanded Weights accumulates the gradients, which will be incorrect for multiple "
                f"calls without clearing gradients. Please clear out the grad_sample parameter of {weight} or "
                "post an issue to pytorch/pytorch to prioritize correct behavior")
    dim = 0 if batch_first else 1

    @functools.wraps(module.forward)
    def wrapper(*args, **kwargs):
        n = batch_size if batch_size is not None else _batch_size(dim, args, kwargs)
        _refuse_batch_statistics(module)
        trainable = [(name, p) for name, p in module.named_parameters() if p.requires_grad]
        grads = {name: [None] * n for name, _ in trainable}
        outs = []
        for i in range(n):
            copies = {name: _copy(p, grads[name], i) for name, p in trainable}
            a, k = _pytree.tree_map(lambda x: _entry(x, dim, i, n), (args, kwargs))
            outs.append(functional_call(module, copies, a, k))
        pending = [False]

        def on_grad():
            if not pending[0]:
                pending[0] = True
                queue_callback(lambda: _store(trainable, grads, n, loss_reduction, pending))
        for name, _ in trainable:
            grads[name].append(on_grad)
        leaves, spec = zip(*[_pytree.tree_flatten(o) for o in outs])
        return _pytree.tree_unflatten([_join(parts, dim) for parts in zip(*leaves)], spec[0])
    return wrapper


def _batch_size(dim, args, kwargs):
    """The batch size that every tensor argument agrees on, as PyTorch's ``compute_batch_size`` finds it."""
    size = None
    for arg in _pytree.tree_leaves((args, kwargs)):
        if not isinstance(arg, Tensor):
            continue
        here = arg.shape[dim]
        if size is not None and size != here:
            raise RuntimeError(
                "When computing batch size, found at least one input with batch size "
                f"{size} and one with batch size {here}. Please specify it "
                "explicitly using the batch size kwarg in call_for_per_sample_grads")
        size = here
    if size is None:
        raise RuntimeError(
            "Unable to find a tensor in the passed args and kwargs. They may not be pytree-able "
            "and so ExpandedWeights cannot compute the batch size from the inputs. Please specify "
            "it explicitly")
    return size


def _refuse_batch_statistics(module):
    """Batch norm in training mixes the batch entries, which per-sample gradients cannot (PyTorch's refusal)."""
    from ..modules.batchnorm import _BatchNorm
    for m in module.modules():
        if isinstance(m, _BatchNorm) and m.training and any(p.requires_grad for p in m.parameters(recurse=False)):
            raise RuntimeError("Expanded Weights encountered but cannot handle function batch_norm")


def _copy(p, slots, i):
    """Batch entry ``i``'s own copy of parameter ``p`` (sharing its memory); its gradient lands in ``slots[i]``."""
    c = p.detach().requires_grad_(True)

    def keep(g):
        slots[i] = g if slots[i] is None else slots[i] + g
        slots[-1]()
    c.register_hook(keep)
    return c


def _entry(x, dim, i, n):
    """Batch entry ``i`` of an argument: a tensor with the batch size along ``dim`` is narrowed, the rest pass."""
    if isinstance(x, Tensor) and x.dim() > dim and x.shape[dim] == n:
        return x.narrow(dim, i, 1)
    return x


def _join(parts, dim):
    """One output from the entries' outputs: tensors concatenated along the batch dim, anything else the first's."""
    if isinstance(parts[0], Tensor):
        if parts[0].dim() <= dim:
            raise RuntimeError("call_for_per_sample_grads: ember runs the module once per batch entry and needs "
                               f"each output to keep the batch dim ({dim}); got an output of shape "
                               f"{tuple(parts[0].shape)}")
        from ...ops.shape import cat
        return cat(parts, dim)
    return parts[0]


def _store(trainable, grads, n, loss_reduction, pending):
    """At the end of the backward pass: stack each parameter's per-entry gradients into ``grad_sample``."""
    from ...ops.creation import zeros_like
    from ...ops.shape import stack
    pending[0] = False
    for name, p in trainable:
        slots = grads[name]
        if all(g is None for g in slots[:n]):   # not used in this backward: no grad_sample, as in PyTorch
            continue
        sample = stack([zeros_like(p) if g is None else g for g in slots[:n]])
        slots[:n] = [None] * n
        if loss_reduction == "mean":
            sample = sample * n
        old = getattr(p, "grad_sample", None)
        p.grad_sample = sample if old is None else old + sample
