"""Names real PyTorch programs call that ember lacked: empty_strided, msort, trapezoid and its kin, vander, the
``*_copy`` forms of the view ops, and the aliases and in-place forms PyTorch keeps (arctan2, row_stack,
Tensor.greater_, swapaxes_...). Each is composed of ember's own ops the way PyTorch composes it, so values,
dtypes and grad_fn names are PyTorch's."""
import numpy as np

from .. import _layout, _quiet
from .._dtype import DEFAULT, int64, uint8, to_np
from ..autograd import forward_refusal
from ..autograd.grad_mode import GRAD
from ..tensor import Tensor
from . import shape, indexing, pointwise, reduction, creation
from ._composite import composite, node_class
from ._util import wrap_dim, wrap_dims, arg_error, check_tensor_args, undifferentiable


def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False, pin_memory=False):
    """An uninitialised tensor (ember fills it with zeros) with the given sizes and strides, on a storage just
    large enough for them (strides may overlap: a stride of 0 repeats one element)."""
    creation._factory(device, layout, pin_memory, 'empty_strided')
    size, stride = [int(n) for n in size], [int(s) for s in stride]
    if len(size) != len(stride):
        raise RuntimeError(f'dimensionality of sizes ({len(size)}) must match dimensionality of strides '
                           f'({len(stride)})')
    neg = [n for n in size if n < 0]
    if neg:
        raise RuntimeError(f'Trying to create tensor with negative dimension {neg[0]}: {size}')
    if any(s < 0 for s in stride):
        raise RuntimeError(f'Storage size calculation overflowed with sizes={size} and strides={stride}')
    nd = to_np(dtype) or DEFAULT.np
    n = 0 if 0 in size else 1 + sum((k - 1) * s for k, s in zip(size, stride))
    buf = np.zeros(max(n, 1), nd)
    arr = np.lib.stride_tricks.as_strided(buf, tuple(size), tuple(s * buf.itemsize for s in stride))
    return creation._finish(Tensor._make(arr), requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, layout=None, device=None, requires_grad=False,
                   pin_memory=False):
    """An uninitialised (zero-filled) tensor of logical shape ``size`` whose memory holds its dims in the order
    ``physical_layout`` (outermost first): empty_strided with the strides that order gives."""
    size, order = [int(n) for n in size], [int(d) for d in physical_layout]
    if len(size) != len(order):
        raise RuntimeError(f'Number of dimensions in size does not match the length of the physical_layout; i.e. '
                           f'len(size) = {len(size)} is not equal to len(physical_layout) = {len(order)}')
    if sorted(order) != list(range(len(size))):
        raise RuntimeError('Duplicate dim not allowed')
    stride, step = [0] * len(size), 1
    for d in reversed(order):
        stride[d] = step
        step *= max(size[d], 1)
    return empty_strided(size, stride, dtype=dtype, layout=layout, device=device, requires_grad=requires_grad,
                         pin_memory=pin_memory)


def new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                      pin_memory=False):
    """Tensor.new_empty_strided: ``empty_strided`` with this tensor's dtype (unless ``dtype``)."""
    return empty_strided(size, stride, dtype=dtype or self.dtype, layout=layout, device=device,
                         requires_grad=requires_grad, pin_memory=pin_memory)


def msort(input):
    """The values sorted along dim 0 (``sort(input, 0).values``)."""
    return indexing.sort(input, 0).values


def split_with_sizes(input, split_sizes, dim=0):
    """Views of ``input`` of the given sizes along ``dim`` (split with a list of sizes)."""
    return shape.split(input, list(split_sizes), dim)


# -- trapezoid rule: PyTorch's aten/src/ATen/native/Integration.cpp, step by step --------------------------
MulBackward1 = node_class('MulBackward1')
DivBackward1 = node_class('DivBackward1')


def _half(t):
    """t / 2. as PyTorch's C++ div(Tensor, Scalar) records it (DivBackward1)."""
    return composite(DivBackward1, lambda v: v / 2., (t,))


def _spacing(y, x, dim, name):
    """dx along ``dim`` from the sample points ``x`` (1-d: along dim; fewer dims: leading 1s), PyTorch's views."""
    if x._data.dtype == np.bool_ or y._data.dtype == np.bool_:
        raise RuntimeError(f'{name}: received a bool input for `x` or `y`, but bool is not supported')
    if x.dim() == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f'{name}: There must be one `x` value for each sample point')
        x = x.view([x.shape[0] if k == dim else 1 for k in range(y.dim())])
    elif x.dim() < y.dim():
        x = x.view([1] * (y.dim() - x.dim()) + list(x.shape))
    n = x.shape[dim]
    return shape.narrow(x, dim, 1, n - 1) - shape.narrow(x, dim, 0, max(n - 1, 0))


def _scalar_dx(y, dx, name):
    if y._data.dtype == np.bool_:
        raise RuntimeError(f'{name}: received a bool input for `y`, but bool is not supported')
    if isinstance(dx, (bool, complex)):
        raise RuntimeError(f'{name}: Currently, we only support dx as a real number.')
    return float(dx)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoid rule along ``dim``: sample points ``x``, or a constant spacing ``dx`` (default 1)."""
    try:
        d = wrap_dim(dim, y.dim())
        n = y.shape[d]
        if n == 0:
            return creation.zeros([k for i, k in enumerate(y.shape) if i != d], dtype=y.dtype)
        if x is not None:
            dxs = _spacing(y, x, d, 'trapezoid')
            return _half(reduction.sum(dxs * (shape.narrow(y, d, 1, n - 1) + shape.narrow(y, d, 0, n - 1)), d))
        h = _scalar_dx(y, 1 if dx is None else dx, 'trapezoid')
        inner = reduction.sum(y, d) - (shape.select(y, d, 0) + shape.select(y, d, -1)) * 0.5
        return composite(MulBackward1, lambda t: t * h, (inner,))
    except (AttributeError, TypeError):
        check_tensor_args('trapezoid', 'y', 'x')
        raise


def trapz(y, x=None, *, dx=None, dim=-1):
    """The old name of ``trapezoid`` (dx defaults to 1)."""
    try:
        return trapezoid(y, x, dx=dx, dim=dim)
    except (AttributeError, TypeError):
        check_tensor_args('trapz', 'y', 'x')
        raise


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid rule along ``dim`` (one fewer value than the samples)."""
    try:
        d = wrap_dim(dim, y.dim())
        n = y.shape[d]
        pair = shape.narrow(y, d, 0, max(n - 1, 0)) + shape.narrow(y, d, min(1, n), max(n - 1, 0))
        if x is not None:
            return _half(reduction.cumsum(_spacing(y, x, d, 'cumulative_trapezoid') * pair, d))
        h = _scalar_dx(y, 1 if dx is None else dx, 'cumulative_trapezoid')
        return reduction.cumsum(composite(MulBackward1, lambda t: h / 2. * t, (pair,)), d)
    except (AttributeError, TypeError):
        check_tensor_args('cumulative_trapezoid', 'y', 'x')
        raise


def _gradient_dims(input, dim):
    """The dims torch.gradient differentiates along (an int, a sequence of ints, or None: all), checked."""
    dims = [dim] if isinstance(dim, (int, np.integer)) else dim
    if input.dim() == 0 and dims:
        raise IndexError(f'Dimension specified as {int(dims[0])} but tensor has no dimensions')
    return list(wrap_dims(dims, input.dim()))


def _gradient_spacings(input, spacing, dims, dim):
    """One spacing per differentiated dim: a number, or a 1-D tensor of coordinates, with PyTorch's checks."""
    if isinstance(spacing, Tensor):
        raise TypeError('gradient() received an invalid combination of arguments - got (Tensor, spacing=Tensor): '
                        'spacing is a number, a tuple of numbers or a tuple of 1-D coordinate tensors')
    if spacing is None or not isinstance(spacing, (list, tuple)):
        return [1.0 if spacing is None else spacing] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        if dim is None:
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                               f"equal to 'self.dim() = {input.dim()}', since dim argument was not given, but got "
                               f"a list of length {len(spacing)}")
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {len(spacing)} "
                           f"and a dim argument of length {len(dims)}.")
    for h in spacing:
        if isinstance(h, Tensor) and h.dim() != 1:
            raise RuntimeError('torch.gradient expected each element of spacing to have one dimension, but got an '
                               f'element with {h.dim()} dimensions!')
    return spacing


def _edges(y, d, h, edge_order):
    """The one-sided differences at both ends of dim ``d`` for a uniform spacing ``h``."""
    s = lambda start, end=None: _slice(y, d, start, end)
    if edge_order == 1:
        return (s(1, 2) - s(0, 1)) / h, (s(-1) - s(-2, -1)) / h
    return ((-1.5 * s(0, 1) + 2 * s(1, 2) - 0.5 * s(2, 3)) / h,
            (0.5 * s(-3, -2) - 2 * s(-2, -1) + 1.5 * s(-1)) / h)


def _coordinate_gradient(y, d, x, edge_order):
    """The second-order central differences on the (non-uniform) coordinates ``x`` along dim ``d``, with
    PyTorch's weights, and its one-sided ends."""
    s = lambda start, end=None: _slice(y, d, start, end)
    dx = x.diff()
    dx1, dx2 = dx[:-1], dx[1:]
    at = [1] * y.dim()
    at[d] = -1
    a = (-dx2 / (dx1 * (dx1 + dx2))).reshape(at)
    b = ((dx2 - dx1) / (dx1 * dx2)).reshape(at)
    c = (dx1 / (dx2 * (dx1 + dx2))).reshape(at)
    center = a * s(0, -2) + b * s(1, -1) + c * s(2)
    if edge_order == 1:
        return center, (s(1, 2) - s(0, 1)) / dx[0], (s(-1) - s(-2, -1)) / dx[-1]
    h0, h1, hm2, hm1 = dx[0], dx[1], dx[-2], dx[-1]
    first = (-(2.0 * h0 + h1) / (h0 * (h0 + h1)) * s(0, 1) + (h0 + h1) / (h0 * h1) * s(1, 2)
             + (-h0) / (h1 * (h0 + h1)) * s(2, 3))
    last = (hm1 / (hm2 * (hm1 + hm2)) * s(-3, -2) + (-(hm1 + hm2) / (hm1 * hm2)) * s(-2, -1)
            + (2 * hm1 + hm2) / (hm1 * (hm1 + hm2)) * s(-1))
    return center, first, last


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Derivative estimates of ``input`` along each of ``dim``: central differences inside, one-sided
    differences of order ``edge_order`` at the ends; ``spacing`` is a step per dim or its coordinates."""
    try:
        if input.dtype == uint8:
            raise RuntimeError('torch.gradient does not support uint8 input.')
        dims = _gradient_dims(input, dim)
        spacings = _gradient_spacings(input, spacing, dims, dim)
        if edge_order not in (1, 2):
            raise RuntimeError('torch.gradient only supports edge_order=1 and edge_order=2.')
        if any(n < edge_order + 1 for n in input.shape):
            raise RuntimeError('torch.gradient expected each dimension size to be at least edge_order+1')
        result = []
        for d, h in zip(dims, spacings):
            if isinstance(h, Tensor):
                center, first, last = _coordinate_gradient(input, d, h, edge_order)
            else:
                center = (_slice(input, d, 2) - _slice(input, d, 0, -2)) / h / 2
                first, last = _edges(input, d, h, edge_order)
            result.append(shape.cat([first, center, last], d))
        return tuple(result)
    except (AttributeError, TypeError):
        check_tensor_args('gradient', 'input')
        raise


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-d ``x``: columns x**0 ... x**(N-1), highest power first unless
    ``increasing``; integer and bool inputs give int64 (PyTorch's cumprod promotes them)."""
    try:
        if x.dim() != 1:
            raise RuntimeError('x must be a one-dimensional tensor.')
        n = x.shape[0] if N is None else int(N)
        if n < 0:
            raise RuntimeError('N must be non-negative.')
        dt = x.dtype if x.is_floating_point() else int64
        result = creation.empty(x.shape[0], n, dtype=dt)
        if n > 0:
            result.fill_(1)
            if n > 1:
                shape.narrow(result, 1, 1, n - 1).copy_(x.unsqueeze(1))
                powers = shape.narrow(result, 1, 1, n - 1)
                if forward_refusal.SOURCES:   # (PyTorch's forward mode reads no saved values: its cumprod's input,
                    powers = powers.clone()   # overwritten by the copy, stays readable to ember's tangent)
                shape.narrow(result, 1, 1, n - 1).copy_(reduction.cumprod(powers, 1))
        return result if increasing else shape.flip(result, [1])
    except (AttributeError, TypeError):
        check_tensor_args('vander', 'x')
        raise


# -- the *_copy forms: the view op's result copied out, recorded as PyTorch's '<view node>_copy' --------------
_COPY_NODES = {}


def _copy_node(name):
    """The CompositeNode class named ``name`` (one per name)."""
    if name not in _COPY_NODES:
        _COPY_NODES[name] = node_class(name, unchecked=(0,))   # a copy's gradient reads no values
    return _COPY_NODES[name]


def _copy_form(name, view, node=None):
    """torch.``name``: ``view(input, *args)`` as a new contiguous tensor; its grad_fn is ``node``, else the view's
    own node name with '_copy' (SqueezeBackward0/1/2_copy by the arguments, as PyTorch names them)."""
    def contiguous_copy(out):
        if isinstance(out, (tuple, list)):
            return tuple(o.clone(memory_format=_layout.contiguous_format) for o in out)
        return out.clone(memory_format=_layout.contiguous_format)

    def op(input, *args, **kwargs):
        try:
            grad = GRAD.enabled and input.requires_grad
        except AttributeError:
            raise arg_error(name, 'input', 1, input) from None
        if not grad:
            return contiguous_copy(view(input, *args, **kwargs))
        out = view(input, *args, **kwargs)
        first = out[0] if isinstance(out, (tuple, list)) else out
        cls = _copy_node(node or first.grad_fn.name() + '_copy')
        if isinstance(out, (tuple, list)):   # one node per output, as PyTorch's multi-output copies
            return tuple(composite(cls, lambda t, i=i: contiguous_copy(view(t, *args, **kwargs)[i]), (input,))
                         for i in range(len(out)))
        return composite(cls, lambda t: contiguous_copy(view(t, *args, **kwargs)), (input,))
    op.__name__ = name
    op.__doc__ = f'The view ``{name[:-5]}`` copied into a new contiguous tensor.'
    return op


def _method(name):
    return lambda t, *a, **k: getattr(t, name)(*a, **k)


def _slice(t, dim=0, start=None, end=None, step=1):
    return t[(slice(None),) * wrap_dim(dim, t.dim()) + (slice(start, end, step),)]


COPY_FORMS = {name: _copy_form(name, _method(name[:-5])) for name in (
    'expand_copy permute_copy t_copy transpose_copy view_copy select_copy squeeze_copy unsqueeze_copy '
    'diagonal_copy unfold_copy as_strided_copy unbind_copy split_copy').split()}
COPY_FORMS.update(alias_copy=_copy_form('alias_copy', lambda t: t.view_as(t), 'AliasBackward0_copy'),
                  slice_copy=_copy_form('slice_copy', _slice, 'SliceBackward0_copy'),
                  split_with_sizes_copy=_copy_form('split_with_sizes_copy', split_with_sizes))
narrow_copy = _copy_form('narrow_copy', _method('narrow'), 'NarrowCopyBackward0')


def _view_as_real(t):
    from .complex import view_as_real
    return view_as_real(t)


COPY_FORMS['view_as_real_copy'] = _copy_form('view_as_real_copy', _view_as_real)
DetachCopyNotImplemented = undifferentiable('NotImplemented', 'derivative for aten::detach_copy is not implemented',
                                            'torch::autograd::NotImplemented')


def detach_copy(input):
    """``input.detach()`` copied; PyTorch records a NotImplemented node where input requires grad (its backward
    raises)."""
    if not isinstance(input, Tensor):
        raise arg_error('detach_copy', 'input', 1, input)
    out = input.detach().clone(memory_format=_layout.contiguous_format)
    if GRAD.enabled and input.requires_grad:
        return Tensor._make(out._data, DetachCopyNotImplemented((input,)))
    return out


def view_as_complex_copy(input):
    """``view_as_complex(input)`` copied; PyTorch has no derivative for it (a complex output)."""
    from .complex import view_as_complex
    if not isinstance(input, Tensor):
        raise arg_error('view_as_complex_copy', 'input', 1, input)
    out = view_as_complex(input.detach())
    if GRAD.enabled and input.requires_grad:
        raise RuntimeError('view_as_complex_copy does not support automatic differentiation for outputs with complex '
                           'dtype.')
    return out.clone(memory_format=_layout.contiguous_format)


def _accessor_copy(name):
    """torch.``name``: the sparse accessor ``name[:-5]``'s tensor copied; PyTorch's sparse COO dispatch has no
    kernel for it."""
    def op(input):
        if not isinstance(input, Tensor):
            raise arg_error(name, 'input', 1, input)
        if input.layout is _layout.sparse_coo:
            raise NotImplementedError(f"Could not run 'aten::{name}' with arguments from the 'SparseCPU' backend. "
                                      'This could be because the operator doesn\'t exist for this backend (ember: '
                                      f'call {name[:-5]}() and clone it, or use a CSR/CSC tensor).')
        return getattr(input, name[:-5])().clone()
    op.__name__ = name
    op.__doc__ = f'The sparse accessor ``{name[:-5]}`` copied into a new tensor.'
    return op


COPY_FORMS.update({name: _accessor_copy(name) for name in (
    'values_copy indices_copy crow_indices_copy col_indices_copy ccol_indices_copy row_indices_copy').split()},
    detach_copy=detach_copy, view_as_complex_copy=view_as_complex_copy)


def inplace_without_derivative(fn, name):
    """``fn`` recorded as PyTorch records its in-place form ``name``_ (asinh_, acosh_, atanh_): a node
    '<Name>Backward1' whose backward raises PyTorch's error (it has no derivative for these in-place forms)."""
    from ._util import undifferentiable
    cls = undifferentiable(name.capitalize() + 'Backward1',
                           f"the derivative for 'inplace version of {name}' is not implemented.")

    def op(*args, **kwargs):
        r = fn(*args, **kwargs)
        if r.grad_fn is not None:
            if forward_refusal.SOURCES:   # nor a forward-mode formula
                forward_refusal.refuse(name + '_', r, kind='inplace')
            r.grad_fn.__class__ = cls       # the same slots: only the name and the backward change
        return r
    op.__name__, op.__doc__ = fn.__name__, fn.__doc__
    return op


# -- Tensor methods and torch functions PyTorch keeps under more names -----------------------------------
def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero`` with a fixed number of rows: the first ``size`` indices, padded with ``fill_value`` rows."""
    if not isinstance(size, int) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = np.argwhere(input._data)[:size]
    out = np.full((size, input._data.ndim), fill_value, np.int64)
    out[:len(found)] = found
    return Tensor._make(out)


def is_nonzero(self):
    """Whether the one value of a one-element tensor is nonzero."""
    n = self._data.size
    if n != 1:
        raise RuntimeError('Boolean value of Tensor with ' + ('no values' if n == 0 else 'more than one value') +
                           ' is ambiguous')
    return bool(self._data.reshape(-1)[0])


def apply_(self, callable):
    """Replace each element by ``callable(element)`` (a Python number in, cast back to the tensor's dtype)."""
    if self.requires_grad:
        raise RuntimeError("Can't call apply_() on Variable that requires grad. Use var.detach().apply_() instead.")
    return _map_into(self, callable, self._data)


def map_(self, tensor, callable):
    """Replace each element by ``callable(element, other's element)``, ``tensor`` broadcast to self's shape."""
    if self.requires_grad:
        raise RuntimeError("Can't call map_() on Variable that requires grad. Use var.detach().map_() instead.")
    if tensor.dtype != self.dtype:
        raise TypeError(f"map_: expected {self.type()} for 'other' (got {tensor.type()})")
    other = np.broadcast_to(tensor.expand_as(self)._data, self._data.shape)
    return _map_into(self, callable, self._data, other)


def _map_into(self, fn, *arrays):
    """Each element of ``self`` set to ``fn`` of the elements of ``arrays`` (self's shape) at its place."""
    a = self._data
    vals = [fn(*xs) for xs in zip(*(arr.reshape(-1).tolist() for arr in arrays))]
    vals = np.asarray(vals, np.float64 if a.dtype.kind == 'f' else None)
    try:
        a[...] = vals.astype(a.dtype, casting='unsafe').reshape(a.shape)
    except RuntimeWarning:  # a result beyond a's range (inf, as PyTorch), raised by the user's filter (see _quiet)
        a[...] = _quiet.again(vals.astype, a.dtype, casting='unsafe').reshape(a.shape)
    self._bump()
    return self
