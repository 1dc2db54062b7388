"""Fused nn ops: one graph node per op with a NumPy forward and backward (the fast path), plus a
composed differentiable reference used under ``create_graph=True`` so higher-order gradients stay exact."""
from ...autograd.grad_mode import GRAD
from ...autograd.graph import Node, MODE
from ...tensor import Tensor

__all__ = []


class _AliasBackward(Node):
    """Identity: gives a saved input its own node, so re-derivation stops there."""
    __slots__ = ()

    def backward(self, g):
        return g


def _alias(t):
    out = Tensor._make(t._data, _AliasBackward((t,)))
    return out


class FusedNode(Node):
    """Base of nn's fused nodes. Subclasses set ``np_backward(self, *grads)`` (arrays in, arrays out) and
    ``reference(ctx, *saved)`` (the op composed of differentiable ember ops); ``checks``: the saved inputs
    PyTorch's node saves too, whose in-place change since the forward the backward refuses."""
    __slots__ = ('ctx', 'need')
    checks = ()

    def backward(self, *grads):
        if MODE.graph:
            return self.graph_backward(grads)
        if self.checks:
            self.saved_checked(self.checks)
        return self.np_backward(*grads)

    def graph_backward(self, grads):
        """Re-derive through the composed reference so the gradient itself is differentiable."""
        from ...autograd import grad as _grad
        saved = self.saved()
        need = self.need
        inputs = [_alias(t) if (t is not None and n) else t for t, n in zip(saved, need)]
        out = self.reference(self.ctx, *inputs)
        outs = out if isinstance(out, tuple) else (out,)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
        targets = [t for t, n in zip(inputs, need) if n]
        if not pairs:
            return tuple(None for _ in need)
        res = iter(_grad([o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=True,
                         allow_unused=True))
        return tuple(next(res) if n else None for n in need)


def record(cls, inputs, out_arr, ctx=None, save=None, reference=None):
    """Wrap ``out_arr`` as the output of a new ``cls`` node over ``inputs`` when any input needs grad.
    ``save`` (default: inputs) are kept for the create_graph path; ``ctx`` holds NumPy state."""
    need = tuple(isinstance(t, Tensor) and t._requires_grad for t in inputs)
    if not (GRAD.enabled and any(need)):
        return Tensor._make(out_arr)
    node = cls(inputs)
    node.ctx = ctx
    node.need = need
    node.save(*(inputs if save is None else save))
    return Tensor._make(out_arr, node)


def fused(name, np_backward, reference, doc=None, checks=()):
    """A FusedNode subclass named like PyTorch's grad_fn (``checks``: see FusedNode)."""
    return type(name, (FusedNode,), {'__slots__': (), 'np_backward': np_backward, 'checks': checks,
                                     'reference': staticmethod(reference),
                                     '__doc__': doc or f'Fused nn op recorded as {name}.'})
