"""Ops that ember composes of other ops where PyTorch records one node (DistBackward0, PdistBackward0,
MultiMarginLossBackward0...): the composition runs once, on detached aliases of the inputs, and its graph hangs
under one node named as PyTorch's. That node's backward differentiates the inner graph (an input the graph
does not reach gets None, or zeros where the node's ``zeros`` says PyTorch's formula gives them); under
``create_graph=True`` it re-derives the composition on the saved inputs, so the gradient is differentiable again."""
from ..autograd.grad_mode import GRAD
from ..autograd.graph import MODE, Node
from ..tensor import Tensor


class _AliasBackward(Node):
    """Identity: gives a saved input its own node, so that re-derivation stops there."""
    __slots__ = ()

    def backward(self, g):
        return g


class CompositeNode(Node):
    """Base of the composite nodes: ``compose(*inputs, **state)`` is the op in ember ops; ``inner`` is the graph
    of its forward run (output, aliases of the inputs that need grad)."""
    __slots__ = ('compose', 'state', 'need', 'inner')
    zeros = False
    result = False      # PyTorch's node saves its result: changing it in place makes backward raise

    def backward(self, *grads):
        from ..autograd import grad
        saved = self.saved()   # raises if an input was changed in place since the forward
        if MODE.graph:
            inputs = [Tensor._make(t._data, _AliasBackward((t,))) if n else t for t, n in zip(saved, self.need)]
            out = self.compose(*inputs, **self.state)
            leaves = [t for t, n in zip(inputs, self.need) if n]
            got = grad(out, leaves, grads[0], create_graph=True, allow_unused=True, materialize_grads=self.zeros)
        else:
            out, leaves = self.inner
            got = grad(out, leaves, Tensor._make(grads[0]), retain_graph=True, allow_unused=True,
                       materialize_grads=self.zeros)
            got = [None if r is None else r._data for r in got]
        it = iter(got)
        return tuple(next(it) if n else None for n in self.need)


def node_class(name, zeros=False, unchecked=(), result=False):
    """A CompositeNode subclass named ``name`` (PyTorch's grad_fn name); ``zeros``: its formula gives zeros, not
    None, for an input its composition does not reach (PdistBackward0 at p=0); ``unchecked``: positions of inputs
    PyTorch's node does not save (changing them in place is allowed); ``result``: PyTorch's node saves its result."""
    return type(name, (CompositeNode,), {'__slots__': (), 'zeros': zeros, '_unchecked': tuple(unchecked),
                                         'result': result, '__doc__': f'{name}: one node over a composed op.'})


def composite(cls, compose, inputs, **state):
    """``compose(*inputs, **state)``, recorded as one ``cls`` node over the tensors ``inputs`` (None allowed)."""
    need = tuple(isinstance(t, Tensor) and t._requires_grad for t in inputs)
    if not (GRAD.enabled and any(need)):
        return compose(*inputs, **state)
    aliases = [Tensor._make(t._data).requires_grad_() if n else t for t, n in zip(inputs, need)]
    out = compose(*aliases, **state)
    node = cls(inputs)
    node.compose, node.state, node.need = compose, state, need
    node.inner = (out, [a for a, n in zip(aliases, need) if n])
    node.save(*inputs)
    r = Tensor._make(out._data, node)
    if cls.result:
        node.guard(outputs=(r,))
    return r
