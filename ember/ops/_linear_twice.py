"""Backward ops that are linear in the incoming gradient with a coefficient locally constant in the input (relu's
threshold_backward, leaky_relu_backward, hardtanh_backward): under create_graph=True PyTorch records each as one
``*BackwardBackward0`` node over (grad_output, self), whose gradient is the same op of the new incoming gradient
for grad_output and zeros for self (the coefficient's derivative is zero almost everywhere). ember recorded a
product with a constant mask there, which left a ReLU net's input gradient outside the graph."""
from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor


class LinearTwice(Node):
    """``fn(g, x, *ctx)`` on arrays (g the incoming gradient, x the saved input or result), recorded."""
    __slots__ = ('fn', 'ctx', 'need')

    def backward(self, h):
        (x,) = self.saved()
        gg = None
        if self.need[0]:
            gg = self.fn(h, x, *self.ctx) if dual.is_array(h) else record(type(self), self.fn, h, x, self.ctx)
        return gg, (dual.zeros(x.shape, h) if self.need[1] else None)


def node_class(name):
    """A LinearTwice subclass named as PyTorch's node (``ThresholdBackwardBackward0``)."""
    return type(name, (LinearTwice,), {'__slots__': (), '__doc__': f'{name}: a backward linear in its gradient.'})


def record(cls, fn, g, x, ctx=()):
    """``fn(g, x, *ctx)`` for the tensors g and x, one ``cls`` node over (g, x) when either requires grad."""
    out = fn(g._data, x._data, *ctx)
    need = (g._requires_grad, x._requires_grad)
    if not (GRAD.enabled and any(need)):
        return Tensor._make(out)
    node = cls((g, x))
    node.fn, node.ctx, node.need = fn, ctx, need
    node.save(x)
    return Tensor._make(out, node)
