"""The backward nodes of ``torch.fft``'s transforms, under PyTorch's grad_fn names: FftC2CBackward0 (fft, ifft and
their N-D forms), FftR2CBackward0 (rfft*), FftC2RBackward0 (irfft*, hfft) and ConjBackward0 (ihfft, which PyTorch
computes as the conjugate of an r2c transform). Each runs its ``Plan``'s adjoint."""
from .. import _complex
from ..autograd.graph import Node
from ..tensor import Tensor


class _FftNode(Node):
    __slots__ = ('plan',)

    def backward(self, g):
        if isinstance(g, Tensor):   # create_graph=True: through the differentiable transforms
            return self.plan.adjoint_tensor(g)
        return self.plan.adjoint(g)


_NAMES = {'c2c': 'FftC2CBackward0', 'c2c_inv': 'FftC2CBackward0', 'r2c': 'FftR2CBackward0',
          'c2r': 'FftC2RBackward0', 'hfft': 'FftC2RBackward0', 'ihfft': 'ConjBackward0'}
_CLASSES = {name: type(name, (_FftNode,), {'__slots__': (), '__doc__': f'Backward of an FFT ({name}).'})
            for name in set(_NAMES.values())}
_complex.GRAD_OK.update(_CLASSES)


def record(plan, input, r):
    """The result tensor of ``plan`` run on ``input`` (which requires grad), with its backward node."""
    name = _NAMES[plan.kind]
    if len(plan.axes) == 1 and plan.name in ('fft_fft', 'fft_ifft') and not input.is_complex():
        # PyTorch's 1-D fft/ifft of a real signal: a two-sided r2c transform (conjugated for ifft)
        name = 'FftR2CBackward0' if plan.name == 'fft_fft' else 'ConjBackward0'
    elif plan.kind == 'ihfft' and len(plan.axes) > 1:
        name = 'FftC2CBackward0'  # PyTorch's ihfftn ends in an inverse c2c over all but the last dim
    node = _CLASSES[name]((input,))
    node.plan = plan
    if not input.is_complex() and all(n <= plan.in_shape[a] for a, n in zip(plan.axes, plan.s)):
        node.guard(input)   # (PyTorch's r2c node saves its real input, a padded copy when s pads it; the adjoint
                            # reads only the plan)
    return Tensor._make(r, node)
