"""``torch.nn.grad`` (also ``torch.nn.functional.grad``): the gradients of a convolution w.r.t. its input and its
weight, for a given gradient of its output, as a custom autograd Function's backward needs them.

PyTorch calls its convolution_backward kernel; ember differentiates its own convolution once (linear in the input
and in the weight, so the gradient does not depend on the stand-in values it is taken at). The result is
differentiable in ``weight`` / ``input`` and ``grad_output`` when they require grad (graph recorded with
``create_graph``), as PyTorch's is."""
from ..autograd import grad as _autograd_grad
from ..autograd.grad_mode import GRAD, enable_grad

__all__ = ['conv1d_input', 'conv1d_weight', 'conv2d_input', 'conv2d_weight', 'conv3d_input', 'conv3d_weight']


def _conv(n):
    from . import functional as F
    return (F.conv1d, F.conv2d, F.conv3d)[n - 1]


def _differentiate(n, input, weight, grad_output, wrt, stride, padding, dilation, groups):
    """d<conv(input, weight), grad_output>/d(wrt) where ``wrt`` (0: input, 1: weight) is a fresh zero tensor."""
    keep = GRAD.enabled and any(t.requires_grad for t in (input, weight, grad_output))
    with enable_grad():
        args = [input, weight]
        other = args[1 - wrt]
        args[1 - wrt] = other if keep else other.detach()
        args[wrt] = args[wrt].detach().requires_grad_()
        out = _conv(n)(args[0], args[1], None, stride, padding, dilation, groups)
        if tuple(out.shape) != tuple(grad_output.shape):
            raise RuntimeError(f'Expected grad_output of shape {list(out.shape)}, but got {list(grad_output.shape)}')
        g, = _autograd_grad(out, args[wrt], grad_output if keep else grad_output.detach(), create_graph=keep)
    return g


def _input_grad(n):
    def conv_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
        from ..ops.creation import zeros
        stand_in = zeros(tuple(input_size), dtype=grad_output.dtype)
        return _differentiate(n, stand_in, weight, grad_output, 0, stride, padding, dilation, groups)
    conv_input.__name__ = conv_input.__qualname__ = f'conv{n}d_input'
    conv_input.__doc__ = (f'The gradient of conv{n}d w.r.t. its input (of shape ``input_size``) for ``grad_output``, '
                          'the gradient w.r.t. its output.')
    return conv_input


def _weight_grad(n):
    def conv_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
        from ..ops.creation import zeros
        stand_in = zeros(tuple(weight_size), dtype=grad_output.dtype)
        return _differentiate(n, input, stand_in, grad_output, 1, stride, padding, dilation, groups)
    conv_weight.__name__ = conv_weight.__qualname__ = f'conv{n}d_weight'
    conv_weight.__doc__ = (f'The gradient of conv{n}d w.r.t. its weight (of shape ``weight_size``) for '
                           '``grad_output``, the gradient w.r.t. its output.')
    return conv_weight


conv1d_input, conv2d_input, conv3d_input = (_input_grad(n) for n in (1, 2, 3))
conv1d_weight, conv2d_weight, conv3d_weight = (_weight_grad(n) for n in (1, 2, 3))
