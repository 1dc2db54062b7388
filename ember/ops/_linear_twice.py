"""PyTorch's one ``*BackwardBackward0`` node for a backward op ``fn(grad_output, self, *ctx)`` recorded under
create_graph=True (threshold_backward, gelu_backward, elu_backward, softplus_backward, _softmax_backward_data...).
Its gradient for grad_output is the same op of the new incoming gradient (``again`` where PyTorch's formula is
another one); for self, PyTorch's ``*_double_backward`` formula (``second``, written with dual's helpers so that
it runs on arrays and, under a further create_graph, records PyTorch's nodes), or zeros where the op is linear in
grad_output with a locally constant coefficient (relu's family). ember recorded the composition of its forward
reference there, several nodes (with an ``_AliasBackward`` of its own) where PyTorch has one."""
from ..autograd import dual, graph
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor


class LinearTwice(Node):
    """``fn(g, x, *ctx)`` on arrays (g the incoming gradient, x the saved input or result), recorded."""
    __slots__ = ('fn', 'ctx', 'need')
    second = None     # second(self, h, g, x): x's gradient (PyTorch's *_double_backward); None: zeros
    again = None      # again(self, h, x): g's gradient where PyTorch's formula is not the op itself

    def backward(self, h):
        saved = self.saved()
        x = saved[-1]
        gg = gx = None
        if self.need[0]:
            gg = self.redo(h, x) if self.again is None else self.again(h, x)
        if self.need[1]:
            gx = dual.zeros(x.shape, h) if self.second is None else self.second(h, saved[0], x)
        return gg, gx

    def redo(self, g, x):
        """This op of (g, x) again: on arrays, or recorded as another such node for tensors."""
        return self.fn(g, x, *self.ctx) if dual.is_array(g) else record(type(self), self.fn, g, x, self.ctx)


def node_class(name, second=None, again=None):
    """A LinearTwice subclass named as PyTorch's node (``ThresholdBackwardBackward0``), with its formulas."""
    ns = {'__slots__': (), '__doc__': f'{name}: the recorded backward op, differentiable again.'}
    if second is not None:
        ns['second'] = second
    if again is not None:
        ns['again'] = again
    return type(name, (LinearTwice,), ns)


def expose(cls, x_name, **scalars):
    """PyTorch's saved attributes of ``cls``: ``_saved_grad_output`` (where its formula for x reads it) and x's
    (``_saved_self``, ``_saved_output``...), with their ``_raw_saved_*``, and ``scalars``: name -> getter(node)
    (of ``node.ctx``)."""
    names = ('grad_output', x_name) if cls.second is not None else (x_name,)
    for name, prop in graph.saved_properties(*names).items():
        setattr(cls, name, prop)
    graph.saved_attributes(cls, **scalars)


def ctx_entry(i):
    """A getter of ``node.ctx[i]``."""
    return lambda node: node.ctx[i]


def record(cls, fn, g, x, ctx=()):
    """``fn(g, x, *ctx)`` for the tensors g and x, one ``cls`` node over (g, x) when either requires grad (g is
    saved too where ``cls.second`` reads it)."""
    out = fn(g._data, x._data, *ctx)
    need = (g._requires_grad, x._requires_grad)
    if not (GRAD.enabled and any(need)):
        return Tensor._make(out)
    node = cls((g, x))
    node.fn, node.ctx, node.need = fn, ctx, need
    if cls.second is not None:      # (g also where x needs no gradient: PyTorch's node keeps it, _saved_grad_output)
        node.save(g, x)
    else:
        node.save(x)
    return Tensor._make(out, node)
