"""Complex numbers: ``torch.complex``/``polar``, ``view_as_real``/``view_as_complex``, ``real``/``imag``/``conj``/
``angle``, and the Tensor properties and methods that go with them (the dtypes themselves are in ``ember._dtype``,
their arrays in ``ember._complex``)."""
import numpy as np

from .. import _complex, _dtype, _layout
from ..amp import _state as _autocast
from ..autograd.grad_mode import GRAD
from ..tensor import Tensor
from ._util import broadcast_mismatch, arg_error, check_tensor_args


def _tensor_arg(name, x, arg='input', pos=1):
    if not isinstance(x, Tensor):
        raise arg_error(name, arg, pos, x)
    return x


def _no_grad_yet(name, *tensors):
    """Refuse recording a complex op that ember does not differentiate (see ``_complex.check_grad``)."""
    if GRAD.enabled and any(t._requires_grad for t in tensors):
        record = _GRAD_FORMS.get(name)
        if record is None:
            raise RuntimeError(f'{name}: ember does not differentiate this complex op yet. Run it under '
                               'torch.no_grad() or on detached inputs.')
        return record
    return None


_GRAD_FORMS = {}   # op name -> function(inputs..., result array) recording its node (filled by _complex_grad)


def _float_pair(name, a, b):
    """The arrays of two real tensors of one floating dtype (float32/float64), broadcast: complex()/polar()."""
    _tensor_arg(name, a, 'real' if name == 'complex' else 'abs')
    _tensor_arg(name, b, 'imag' if name == 'complex' else 'angle', 2)
    da, db = a.dtype, b.dtype
    if da not in (_dtype.float32, _dtype.float64) or db not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f'Expected both inputs to be Half, Float or Double tensors but got '
                           f'{_dtype.scalar_name(da)} and {_dtype.scalar_name(db)}')
    if da is not db:
        raise RuntimeError(f'Expected object of scalar type {_dtype.scalar_name(da)} but got scalar type '
                           f'{_dtype.scalar_name(db)} for second argument')
    try:
        x, y = np.broadcast_arrays(a._data, b._data)
    except ValueError:
        raise broadcast_mismatch([a._data.shape, b._data.shape]) from None
    return x, y, da.to_complex().np


def _result(name, arr, out, *inputs):
    """Wrap ``arr`` (recording the op's node when its inputs need grad), or write it into ``out``."""
    record = _no_grad_yet(name, *inputs)
    t = record(arr, *inputs) if record is not None else Tensor._make(arr)
    if out is not None:
        from .inplace import write_out
        return write_out(name, t, out, same_dtype=_OUT_DTYPE if name in ('complex', 'polar') else None)
    return t


# complex()/polar()'s out= takes only their result's dtype (checked after the autograd refusal, as PyTorch's)
_OUT_DTYPE = "Expected object of scalar type {res} but got scalar type {out} for argument 'out'"


def _empty_for(x, y, cd):
    """An empty ``cd`` array for the pointwise result of arrays ``x`` and ``y`` (one shape), laid out as PyTorch's
    TensorIterator lays it out (C order unless an operand is permuted: a transposed pair gives a transposed result)."""
    if x.flags.c_contiguous and y.flags.c_contiguous:
        return np.empty(x.shape, cd)
    order = _layout.iter_order([x, y], x.shape)
    return np.empty(tuple(x.shape[d] for d in order), cd).transpose(np.argsort(order))


def complex(real, imag, *, out=None):
    """A complex tensor ``real + i*imag`` from two real tensors of one floating dtype (broadcast)."""
    x, y, cd = _float_pair('complex', real, imag)
    r = _empty_for(x, y, cd)
    r.real, r.imag = x, y
    return _result('complex', r, out, real, imag)


@_autocast.fp32
def polar(abs, angle, *, out=None):
    """The complex tensor ``abs * (cos(angle) + i*sin(angle))``."""
    x, y, cd = _float_pair('polar', abs, angle)
    r = _empty_for(x, y, cd)
    r.real, r.imag = x * np.cos(y), x * np.sin(y)
    return _result('polar', r, out, abs, angle)


def view_as_real(input):
    """A complex tensor as a real view with a last dim of 2 (real, imaginary parts), sharing memory."""
    _tensor_arg('view_as_real', input)
    a = input._data
    if a.dtype.kind != 'c':
        raise RuntimeError('view_as_real is only supported for complex tensors')
    fd = a.real.dtype
    arr = np.lib.stride_tricks.as_strided(a.view(np.ndarray).real, a.shape + (2,),
                                          a.strides + (fd.itemsize,), writeable=a.flags.writeable)
    return _view(input, arr, 'view_as_real')


def view_as_complex(input):
    """A real tensor whose last dim is 2 (stride 1) as a complex view, sharing memory."""
    _tensor_arg('view_as_complex', input)
    a = input._data
    if input.dtype not in (_dtype.float32, _dtype.float64):
        raise RuntimeError(f'view_as_complex is only supported for half, float and double tensors, but got a tensor of '
                           f'scalar type: {_dtype.scalar_name(a.dtype)}')
    if not a.ndim or a.shape[-1] != 2:
        raise RuntimeError('Tensor must have a last dimension of size 2')
    if a.strides[-1] != a.itemsize:
        raise RuntimeError('Tensor must have a last dimension with stride 1')
    if any(s % (2 * a.itemsize) for n, s in zip(a.shape[:-1], a.strides[:-1]) if n != 1):
        raise RuntimeError('Tensor must have a stride divisible by 2 for all but last dimension')
    arr = a.view(np.ndarray).view(input.dtype.to_complex().np)[..., 0]
    return _view(input, arr, 'view_as_complex')


def _view(input, arr, name):
    """A view of ``input`` with array ``arr`` (memory shared; the version counter is the base's)."""
    record = _no_grad_yet(name, input)
    # differentiated: recorded as a new node, still a view (its version counter is the base's; an in-place change
    # through it under grad mode is refused, inplace.check_inplace, as ember does not rebase these views)
    t = record(arr, input) if record is not None else Tensor._make(arr)
    t._base = input._base if input._base is not None else input
    return t


def real(input):
    """The real parts of a complex tensor, as a view; a real tensor itself."""
    _tensor_arg('real', input)
    if input._data.dtype.kind != 'c':
        return input
    return _view(input, _complex.real_view(input._data), 'real')


def imag(input):
    """The imaginary parts of a complex tensor, as a view (a real tensor has none: PyTorch's error)."""
    _tensor_arg('imag', input)
    if input._data.dtype.kind != 'c':
        raise RuntimeError('imag is not implemented for tensors with non-complex dtypes.')
    return _view(input, _complex.imag_view(input._data), 'imag')


def conj(input):
    """The complex conjugate (ember computes it: PyTorch's lazy conjugate view has the same values); a real
    tensor itself."""
    _tensor_arg('conj', input)
    if getattr(input, 'is_sparse', False):
        return input.conj()
    if input._data.dtype.kind != 'c':
        return input
    return _result('conj', np.conjugate(input._data), None, input)


def conj_physical(input, *, out=None):
    """The complex conjugate, computed (a real tensor's values, copied)."""
    _tensor_arg('conj_physical', input)
    if out is None and getattr(input, 'is_sparse', False):
        return input.conj_physical()
    if input._data.dtype.kind != 'c':   # PyTorch returns a real input itself (its values into an out= of its dtype)
        if out is None:
            return input
        if out.dtype != input.dtype:
            raise RuntimeError(f'Found dtype {_dtype.scalar_name(out.dtype)} but expected '
                               f'{_dtype.scalar_name(input.dtype)}')
        return _result('conj_physical', input._data.copy(), out)
    return _result('conj_physical', np.conjugate(input._data), out, input)


def conj_physical_(self):
    """``conj_physical`` in place; a real tensor is returned as it is."""
    if self._data.dtype.kind != 'c':
        return self
    return self.copy_(conj_physical(self))


def resolve_conj(input):
    """``input``: ember never holds a lazy conjugate."""
    return input


def resolve_neg(input):
    """``input``: ember never holds a lazy negation."""
    return input


def angle(input, *, out=None):
    """The argument of each element in radians: of a complex tensor, atan2(imag, real); of a real one, 0 or pi
    (NaN for NaN), as a floating tensor."""
    _tensor_arg('angle', input)
    a = input._data
    if a.dtype.kind == 'c':
        r = np.angle(a.view(np.ndarray))
    else:
        if a.dtype.kind not in 'f':
            a = a.astype(_dtype.DEFAULT.np)
        r = np.where(np.isnan(a), a, np.where(a < 0, np.pi, 0.0).astype(a.dtype))
    return _result('angle', np.asarray(r), out, input)


def is_complex(input):
    """Whether ``input``'s dtype is complex64 or complex128."""
    try:
        return input.is_complex()
    except (AttributeError, TypeError):
        check_tensor_args('is_complex', 'input')
        raise


def _set_real(self, value):
    real(self).copy_(value if isinstance(value, Tensor) else Tensor._make(np.asarray(value)))


def _set_imag(self, value):
    imag(self).copy_(value if isinstance(value, Tensor) else Tensor._make(np.asarray(value)))


def bind():
    """Attach the Tensor properties and methods."""
    Tensor.real = property(real, _set_real)
    Tensor.imag = property(imag, _set_imag)
    Tensor.conj, Tensor.conj_physical, Tensor.resolve_conj, Tensor.resolve_neg = conj, conj_physical, \
        resolve_conj, resolve_neg
    Tensor.conj_physical_ = conj_physical_
    Tensor.angle = angle
    Tensor.cfloat = lambda self, memory_format=None: self.to(_dtype.complex64)
    Tensor.cdouble = lambda self, memory_format=None: self.to(_dtype.complex128)


# -- gradients (PyTorch's convention for complex numbers: a real loss's gradient w.r.t. z = x + iy is
#    dL/dx + i dL/dy; see "Autograd for Complex Numbers" in PyTorch's docs). Each node has a formula on arrays
#    (a plain backward) and one in ember's differentiable ops (create_graph=True: double backward) -------------
def _node(name, backward, graph):
    """A node class named as PyTorch's grad_fn: ``backward(self, g)`` on arrays, ``graph(self, g)`` on Tensors."""
    from ..autograd.graph import Node

    def bw(self, g):
        if isinstance(g, Tensor):
            return graph(self, g)
        return backward(self, np.asarray(g))
    cls = type(name, (Node,), {'__slots__': ('vals', 'dts'), 'backward': bw,
                               '__doc__': f'Backward of the complex op PyTorch records as {name}.'})
    _complex.GRAD_OK.add(name)
    return cls


def _to_complex(g, dt):
    return np.asarray(g).astype(dt, copy=False)


def _parts(g):
    """The real and imaginary parts of a gradient tensor (a real one's imaginary part is zeros)."""
    if g.is_complex():
        return real(g), imag(g)
    from .. import ops
    return g, ops.zeros_like(g)


def _as_complex(re, im):
    """``complex(re, im)``, either part None for zeros."""
    from .. import ops
    return complex(ops.zeros_like(im) if re is None else re, ops.zeros_like(re) if im is None else im)


# PyTorch takes .real and .imag as a select of view_as_real's last dim: SelectBackward0
RealBackward0 = _node('SelectBackward0', lambda self, g: _to_complex(g, self.dts[0]),
                      lambda self, g: _as_complex(g, None))
ImagBackward0 = _node('SelectBackward0', lambda self, g: _to_complex(g * 1j, self.dts[0]),
                      lambda self, g: _as_complex(None, g))
ViewAsRealBackward0 = _node('ViewAsRealBackward0', lambda self, g: _to_complex(g[..., 0] + 1j * g[..., 1],
                                                                                 self.dts[0]),
                            lambda self, g: complex(g.select(-1, 0), g.select(-1, 1)))
ViewAsComplexBackward0 = _node('ViewAsComplexBackward0',
                               lambda self, g: np.stack((g.real, g.imag), -1).astype(self.dts[0], copy=False),
                               lambda self, g: view_as_real(g) if g.is_complex() else _stack_parts(g))
ConjBackward0 = _node('ConjBackward0', lambda self, g: np.conjugate(g), lambda self, g: conj(g))
ConjPhysicalBackward0 = _node('ConjPhysicalBackward0', lambda self, g: np.conjugate(g), lambda self, g: conj(g))


def _stack_parts(g):
    from .. import ops
    return ops.stack(_parts(g), -1)


def _complex_backward(self, g):
    return _sum_to(g.real, self.vals[0], self.dts[0]), _sum_to(g.imag, self.vals[1], self.dts[1])


def _complex_graph(self, g):
    from ..autograd import dual
    return tuple(dual.sum_to(p, s) for p, s in zip(_parts(g), self.vals))


ComplexBackward0 = _node('ComplexBackward0', _complex_backward, _complex_graph)


def _polar_backward(self, g):
    """PyTorch's polar_backward: abs gets Re(conj(g) sgn(z)), angle Re(conj(g) i z), z the saved result (so a
    negative abs gets the gradient of |abs|, as there)."""
    z = np.asarray(self.saved()[0]).view(np.ndarray)
    sgn = np.where(z == 0, 0, z / np.where(z == 0, 1, np.abs(z)))
    gc = np.conjugate(g)
    return _sum_to((gc * sgn).real, self.vals[0], self.dts[0]), _sum_to((gc * 1j * z).real, self.vals[1], self.dts[1])


def _polar_graph(self, g):
    """The same formula in ember's differentiable ops."""
    from ..autograd import dual
    z, = self.saved()
    gc = conj(g) if g.is_complex() else g
    return dual.sum_to(real(gc * z.sgn()), self.vals[0]), dual.sum_to(real(gc * z * 1j), self.vals[1])


def _angle_backward(self, g):
    z, = self.saved()
    if z.dtype.kind != 'c':
        return np.zeros(z.shape, self.dts[0])
    z = z.view(np.ndarray)
    a = np.abs(z) ** 2
    with np.errstate(invalid='ignore', divide='ignore'):
        r = g * (-z.imag + 1j * z.real) / a
    return np.where(a == 0, 0, r).astype(self.dts[0], copy=False)


def _angle_graph(self, g):
    """g i z / |z|^2 (0 at z = 0); a real input's gradient is zeros."""
    from ..autograd import dual
    z, = self.saved()
    if not z.is_complex():
        return dual.zeros(z.shape, z)
    x, y = real(z), imag(z)
    a = x * x + y * y
    zero = np.asarray(a._data == 0)
    with np.errstate(divide='ignore', invalid='ignore'):   # chosen away below, as PyTorch's where (its second
        r = _as_complex(-y * g / a, x * g / a)                  # derivative is NaN at 0, as there)
    return dual.where(zero, dual.zeros(r.shape, r), r)


PolarBackward0 = _node('PolarBackward0', _polar_backward, _polar_graph)
AngleBackward0 = _node('AngleBackward0', _angle_backward, _angle_graph)


def _sum_to(g, shape, dt):
    from ..autograd import dual
    shape = shape if isinstance(shape, tuple) else np.shape(shape)
    return np.asarray(dual.sum_to(np.ascontiguousarray(g), shape)).astype(dt, copy=False)


def _recorder(cls, keep=None, save=None):
    """A _GRAD_FORMS entry: record ``cls`` for the result array ``r`` of tensors ``inputs`` (``save``: 'inputs'
    or 'result', what PyTorch's node saves, with its version checked in backward; 'guard': inputs PyTorch's node
    saves and this backward does not read)."""
    def record(r, *inputs):
        node = cls(inputs)
        node.dts = tuple(t._data.dtype for t in inputs)
        node.vals = keep(*inputs) if keep is not None else ()
        if save == 'inputs':
            node.save(*inputs)
        elif save == 'guard':
            node.guard(*inputs)
        t = Tensor._make(r, node)
        if save == 'result':
            node.save_output(t)
        return t
    return record


_GRAD_FORMS.update({
    'real': _recorder(RealBackward0), 'imag': _recorder(ImagBackward0),
    'view_as_real': _recorder(ViewAsRealBackward0), 'view_as_complex': _recorder(ViewAsComplexBackward0),
    'conj': _recorder(ConjBackward0), 'conj_physical': _recorder(ConjPhysicalBackward0),
    'complex': _recorder(ComplexBackward0, lambda a, b: (a._data.shape, b._data.shape), 'guard'),
    'polar': _recorder(PolarBackward0, lambda a, b: (a._data.shape, b._data.shape), 'result'),
    'angle': _recorder(AngleBackward0, save='inputs'),
})


# ops whose result on complex tensors is not PyTorch's (PyTorch refuses them there): refused by name
_REAL_ONLY = ('bernoulli', 'bernoulli_', 'xlogy', 'xlogy_', 'isposinf', 'isneginf',
              'unique_consecutive', 'abs_', 'absolute_', 'randint_like', 'isin')


def guard_real_only(namespace):
    """Make the ops of ``_REAL_ONLY`` refuse complex tensors, as torch-level functions (in ``namespace``, the
    ember module's globals) and as Tensor methods."""
    for name in _REAL_ONLY:
        if name in namespace:
            namespace[name] = _complex.real_only(namespace[name], name)
        method = Tensor.__dict__.get(name)
        if method is not None:
            setattr(Tensor, name, _complex.real_only(method, name))
