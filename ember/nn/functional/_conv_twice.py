"""PyTorch's ConvolutionBackwardBackward0: a convolution's gradients computed under create_graph=True, recorded as
one node over (grad_output, input, weight) with three outputs (grad_input, grad_weight, grad_bias), as PyTorch's
convolution_backward. The gradients are bilinear (grad_output with the weight, with the input), so the node's own
backward is convolutions again (PyTorch's _convolution_double_backward): for incoming ggI, ggW, ggb,
grad_output's gradient is conv(ggI, w) + conv(x, ggW) + ggb, the input's the input gradient of conv(., ggW) at
grad_output, the weight's the weight gradient of conv(ggI, .) at grad_output. ember recorded the composition of
convolutions and pads there (ConstantPadNdBackward0 over a ConvolutionBackward0)."""
from ...autograd import dual, graph
from ...autograd.grad_mode import no_grad
from ...autograd.graph import Node, edge
from ...tensor import Tensor


class Conv:
    """One convolution's differentiable forward ``fwd(x, w, b)`` and gradients ``bw(g, x, w, need)`` (x may be
    None where only its shape would be read), with the arguments PyTorch's node saves."""
    __slots__ = ('fwd', 'bw', 'attrs')

    def __init__(self, fwd, bw, **attrs):
        self.fwd, self.bw, self.attrs = fwd, bw, attrs


class ConvolutionBackwardBackward0(Node):
    """The recorded gradients of a convolution, differentiable again (see the module's docstring)."""
    __slots__ = ('conv', 'need', 'outs')
    _need_order = True

    def backward(self, ggx, ggw, ggb):
        g, x, w = self.saved()
        ggx, ggw, ggb = (gg if out else None for gg, out in zip((ggx, ggw, ggb), self.outs))
        if not dual.is_array(g):
            return self._grads(g, x, w, ggx, ggw, ggb)
        wrap = [None if a is None else Tensor._make(a) for a in (g, x, w, ggx, ggw, ggb)]
        with no_grad():
            return tuple(None if t is None else t._data for t in self._grads(*wrap))

    def _grads(self, g, x, w, ggx, ggw, ggb):
        """(grad_output's, input's, weight's) gradients, for tensors."""
        fwd, bw = self.conv.fwd, self.conv.bw
        need_g, need_x, need_w = self.need
        gg = gx = gw = None
        if need_g:
            if ggx is not None:
                gg = fwd(ggx, w, None)
            if ggw is not None:
                gg = fwd(x, ggw, None) if gg is None else gg + fwd(x, ggw, None)
            if ggb is not None:
                b = ggb.reshape((1, -1) + (1,) * (g.ndim - 2))
                gg = b.expand(g.shape) if gg is None else gg + b
        if need_x and ggw is not None:
            gx = bw(g, x, ggw, (True, False, False))[0]
        if need_w and ggx is not None:
            gw = bw(g, ggx, w, (False, True, False))[1]
        return gg, gx, gw


def _attr(name):
    return property(lambda node: node.conv.attrs[name])


for _name in ('stride', 'padding', 'dilation', 'groups', 'output_padding', 'transposed'):
    setattr(ConvolutionBackwardBackward0, f'_saved_{_name}', _attr(_name))
for _name, _prop in graph.saved_properties('grad_output', 'input', 'weight').items():
    setattr(ConvolutionBackwardBackward0, _name, _prop)


def record(first, g, grads, conv, x, w):
    """The first-order node ``first``'s gradients ``grads`` (arrays: input, weight, bias; None where not asked
    for) for the tensor ``g``, as tensors from one ConvolutionBackwardBackward0 over (g, first's input and weight
    edges), or plain tensors when none of those requires grad. ``x``, ``w``: the saved input (None where first
    did not keep it) and weight."""
    edges = (edge(g),) + tuple(first.next_functions[:2])
    need = tuple(e[0] is not None for e in edges)
    if not any(need):
        return tuple(None if a is None else Tensor._make(a) for a in grads)
    node = ConvolutionBackwardBackward0(())
    node.next_functions = edges
    node.conv, node.need, node.outs = conv, need, tuple(a is not None for a in grads)
    node.save(g, x, w)
    node._out_meta = [((0,), g._data.dtype) if a is None else (a.shape, a.dtype) for a in grads]
    out = []
    for nr, a in enumerate(grads):
        t = None
        if a is not None:
            t = Tensor._make(a, node)
            t._output_nr = nr
        out.append(t)
    return tuple(out)
