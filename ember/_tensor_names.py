"""Tensor methods and attributes PyTorch has for old or device-specific code, as PyTorch's CPU build answers them: the
deprecated non-inplace ``resize``/``resize_as``, ``volatile``, ``name``, ``grad_dtype``, ``const_data_ptr``,
``is_set_to``, ``is_distributed``, ``map2_``, ``module_load``, ``dense_dim``/``sparse_dim``, ``record_stream``, and
the refusals of ``chalf``, ``to_mkldnn``, ``xpu``, ``ipu``, ``mtia``, ``reinforce``, and Python 2's ``__div__``,
``__rdiv__``, ``__idiv__``, ``__nonzero__``, ``__long__``."""
import math
import warnings

import numpy as np

from .autograd.function import Function
from .tensor import Tensor


class Resize(Function):
    """The deprecated non-inplace resize (grad_fn ResizeBackward, as PyTorch's autograd Function of that name):
    a reshape that keeps the element count."""

    @staticmethod
    def forward(ctx, tensor, sizes):
        sizes = tuple(sizes)
        if math.prod(sizes) != tensor.numel():
            raise RuntimeError(f"requested resize to {'x'.join(map(str, sizes))} ({math.prod(sizes)} elements in "
                               f"total), but the given tensor has a size of {'x'.join(map(str, tensor.shape))} "
                               f"({tensor.numel()} elements). autograd's resize can only change the shape of a given "
                               f"tensor, while preserving the number of elements. ")
        ctx.input_sizes = tensor.size()
        return tensor.contiguous().view(sizes)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.contiguous().view(ctx.input_sizes), None


def resize(self, *sizes):
    """Deprecated: ``self`` reshaped to ``sizes`` (same element count), warning as PyTorch."""
    warnings.warn('non-inplace resize is deprecated', stacklevel=2)
    return Resize.apply(self, sizes)


def resize_as(self, tensor):
    """Deprecated: ``self`` reshaped to ``tensor``'s size."""
    warnings.warn('non-inplace resize_as is deprecated', stacklevel=2)
    return Resize.apply(self, tensor.size())


def _volatile(self):
    warnings.warn('volatile was removed (Variable.volatile is always False)', stacklevel=2)
    return False


def _grad_dtype(self):
    """The dtype gradients of ``self`` arrive in: its own (ember casts no incoming gradient)."""
    return self.dtype


def _set_grad_dtype(self, value):
    if value is not self.dtype:
        raise NotImplementedError(f'setting Tensor.grad_dtype to {value} is not supported by ember yet (its '
                                  f'gradients always arrive in the tensor\'s dtype, {self.dtype})')


def const_data_ptr(self):
    """The address of the first element (``data_ptr``; ember has no separate read-only pointer)."""
    return self.data_ptr()


def is_set_to(self, tensor):
    """Whether both tensors view the same memory with the same offset, sizes and strides."""
    if not isinstance(tensor, Tensor):
        from .ops._util import arg_error
        raise arg_error('is_set_to', 'tensor', 1, tensor)
    a, b = self._data, tensor._data
    return (np.shares_memory(a, b) or a.size == 0 == b.size) and self.data_ptr() == tensor.data_ptr() and \
        a.shape == b.shape and self.stride() == tensor.stride() and self.dtype == tensor.dtype


def map2_(self, x, y, callable):
    """Replace each element by ``callable(element, x's element, y's element)``, x and y broadcast to self's shape."""
    from .ops.frontdoor import _map_into
    if self.requires_grad:
        raise RuntimeError("Can't call map2_() on Variable that requires grad. Use var.detach().map2_() instead.")
    for name, other in (('x', x), ('y', y)):
        if other.dtype != self.dtype:
            raise TypeError(f"map2_: expected {self.type()} for '{name}' (got {other.type()})")
    return _map_into(self, callable, self._data, *(np.broadcast_to(t.expand_as(self)._data, self._data.shape)
                                                   for t in (x, y)))


def module_load(self, other, assign=False):
    """What ``Module.load_state_dict`` swaps in for ``self`` given the state dict's ``other``: a new object,
    ``other`` detached when assigning, else ``self`` with other's values copied in, detached."""
    return other.detach() if assign else self.copy_(other).detach()


def dense_dim(self):
    """The number of dense dimensions: all of a strided tensor's."""
    return self.dim()


def sparse_dim(self):
    """The number of sparse dimensions: none for a strided tensor."""
    return 0


def record_stream(self, stream):
    """Refused as PyTorch's CPU build refuses it: ember has no device streams."""
    raise RuntimeError('unknown parameter type' if stream is None else
                       'record_stream is not supported by ember (CPU only: there are no device streams to record)')


def chalf(self, memory_format=None):
    """``self`` as complex32: refused, NumPy has no complex32 to hold it."""
    from ._dtype import complex32
    return self.to(complex32)


def to_mkldnn(self, dtype=None):
    """Refused: ember has no oneDNN layout (its CPU kernels run on NumPy arrays; keep the strided tensor)."""
    raise NotImplementedError('Tensor.to_mkldnn is not supported by ember yet (it has no oneDNN/mkldnn layout: '
                              'ember runs on NumPy arrays, keep the strided tensor)')


def xpu(self, device=None, non_blocking=False, memory_format=None):
    """PyTorch's CPU build's refusal."""
    raise AssertionError('Torch not compiled with XPU enabled')


def ipu(self, device=None, non_blocking=False, memory_format=None):
    """PyTorch's CPU build's refusal."""
    raise RuntimeError('PyTorch is not linked with support for ipu devices')


def mtia(self, device=None, non_blocking=False, memory_format=None):
    """PyTorch's CPU build's refusal."""
    raise AssertionError('Torch not compiled with MTIA enabled. Ensure you have `import '
                         'mtia.host_runtime.torch_mtia.dynamic_library` in your python src file and include '
                         '`//mtia/host_runtime/torch_mtia:torch_mtia` as your target dependency!')


_REINFORCE = '\n'.join((
    'reinforce() was removed.', 'Use torch.distributions instead.',
    'See https://pytorch.org/docs/main/distributions.html', '', 'Instead of:', '',
    'probs = policy_network(state)', 'action = probs.multinomial()', 'next_state, reward = env.step(action)',
    'action.reinforce(reward)', 'action.backward()', '', 'Use:', '', 'probs = policy_network(state)',
    '# NOTE: categorical is equivalent to what used to be called multinomial',
    'm = torch.distributions.Categorical(probs)', 'action = m.sample()', 'next_state, reward = env.step(action)',
    'loss = -m.log_prob(action) * reward', 'loss.backward()', ''))


def reinforce(self, reward):
    """Removed from PyTorch long ago: its error, saying what to use instead (torch.distributions)."""
    raise RuntimeError(_REINFORCE)


def is_distributed(self):
    """False: ember's tensors are never distributed (PyTorch's answer for every CPU tensor)."""
    return False


def install(cls):
    """Add the methods and attributes above that ``cls`` (Tensor) lacks."""
    methods = dict(resize=resize, resize_as=resize_as, const_data_ptr=const_data_ptr, is_set_to=is_set_to,
                   map2_=map2_, module_load=module_load, dense_dim=dense_dim, sparse_dim=sparse_dim,
                   record_stream=record_stream, chalf=chalf, to_mkldnn=to_mkldnn, xpu=xpu, ipu=ipu, mtia=mtia,
                   is_distributed=is_distributed, reinforce=reinforce, volatile=property(_volatile),
                   name=property(lambda self: None), grad_dtype=property(_grad_dtype, _set_grad_dtype))
    # Python 2's operator names, which PyTorch's Tensor still has
    methods.update(__div__=cls.__truediv__, __rdiv__=cls.__rtruediv__, __idiv__=cls.__itruediv__,
                   __nonzero__=cls.__bool__, __long__=cls.__int__)
    for name, value in methods.items():
        if name not in vars(cls):
            setattr(cls, name, value)
