"""torch-level ops, most of them composed from others as PyTorch composes them (so their grad_fn is the last
op's, as PyTorch's): combinations, cov, corrcoef; and copysign, signbit, heaviside, unique_consecutive and
unravel_index."""
import numpy as np

from .. import _meta
from .._dtype import DEFAULT, scalar_name
from .._warn import warn_user
from ..autograd import dual
from ..autograd.grad_mode import GRAD
from ..autograd.graph import Node
from ..tensor import Tensor
from ._util import not_implemented, undifferentiable, check_tensor_args


def combinations(input, r=2, with_replacement=False):
    """The r-length combinations of a 1-d tensor's elements, as rows (PyTorch's meshgrid, triangular mask and
    stack)."""
    try:
        from .creation import empty
        from .indexing import masked_select
        from .shape import meshgrid, stack
        if input._data.ndim != 1:
            raise RuntimeError(f'Expect a 1D vector, but got shape {list(input._data.shape)}')
        if r < 0:
            raise RuntimeError(f'Expect a non-negative number, but got {r}')
        if r == 0:
            return empty(0, dtype=input.dtype)
        n = input._data.size
        grids = meshgrid(*([input] * r), indexing='ij')
        idx = np.indices((n,) * r)
        mask = np.ones((n,) * r, bool)
        for i in range(r - 1):
            mask &= (idx[i] <= idx[i + 1]) if with_replacement else (idx[i] < idx[i + 1])
        m = Tensor._make(mask)
        return stack([masked_select(g, m) for g in grids], 1)
    except (AttributeError, TypeError):
        check_tensor_args('combinations', 'input')
        raise


def _no_complex(name, input):
    """Refuse a complex input (ember's composition is written for real numbers)."""
    if input._data.dtype.kind == 'c':
        raise NotImplementedError(f'"{name}" is not supported for complex tensors by ember yet')


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the rows (variables) over the columns (observations), as PyTorch composes it:
    mean-centred rows times their (weighted) transpose, over the weight sum - correction; ``fweights`` (integer
    repeat counts) and ``aweights`` (float importances) weight the observations."""
    try:
        from .blas import mm
        from .pointwise import div, mul, sub
        from .reduction import sum as sum_
        from .shape import squeeze, t, unsqueeze, view
        _no_complex('cov', input)
        a = input._data
        if a.ndim > 2:
            raise RuntimeError(f'cov(): expected input to have two or fewer dimensions but got an input with {a.ndim} '
                               'dimensions')
        if a.dtype == np.bool_:
            raise RuntimeError('cov(): bool dtype is not supported for input')
        x = view(input, (1, -1)) if a.ndim < 2 else input
        if x._data.dtype.kind != 'f':
            from .shape import to
            x = to(x, DEFAULT.dtype)
        n = x._data.shape[1]
        w = _cov_weight(fweights, 'fweights', n, integral=True)
        aw = _cov_weight(aweights, 'aweights', n, integral=False)
        if aw is not None:
            w = aw if w is None else mul(w, aw)
        if w is None:
            w_sum = Tensor._make(np.array(n, np.int64))
            avg = div(sum_(x, 1), w_sum)
            norm = Tensor._make(np.array(n - correction, np.int64))
        else:     # PyTorch's norm factor is a tensor, so aweights get a gradient through it too
            w_sum = sum_(w)
            avg = div(sum_(mul(x, w), 1), w_sum)
            norm = sub(w_sum, div(mul(sum_(mul(w, aw)), correction), w_sum) if aw is not None else correction)
        if norm.item() <= 0:
            warn_user('cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of '
                      'observations.')
            norm = mul(norm, 0)
        x = sub(x, unsqueeze(avg, 1))
        c = mm(x, t(x if w is None else mul(x, w)))
        return squeeze(div(c, norm))
    except (AttributeError, TypeError):
        check_tensor_args('cov', 'input')
        raise


def _cov_weight(weight, name, n, integral):
    """Check a cov() weight vector as PyTorch does: 1-D (or 0-D), one per observation, of the right kind."""
    if weight is None:
        return None
    wa = weight._data
    if wa.ndim > 1:
        raise RuntimeError(f'cov(): expected {name} to have one or fewer dimensions but got {name} with {wa.ndim} '
                           'dimensions')
    if wa.size != n:
        raise RuntimeError(f'cov(): expected {name} to have the same numel as there are observations in the input '
                           f'but got {wa.size} != {n}')
    if integral and wa.dtype.kind not in 'iu':
        raise RuntimeError(f'cov(): expected fweights to have integral dtype but got fweights with '
                           f'{scalar_name(wa.dtype)} dtype')
    if not integral and wa.dtype.kind != 'f':
        raise RuntimeError(f'cov(): expected aweights to have floating point dtype but got aweights with '
                           f'{scalar_name(wa.dtype)} dtype')
    if (wa < 0).any():
        raise RuntimeError(f'cov(): {name} cannot be negative')
    return weight


def corrcoef(input):
    """Pearson correlation coefficients of the rows: cov over the outer product of the standard deviations,
    clipped to [-1, 1]."""
    try:
        _no_complex('corrcoef', input)
        from .pointwise import clamp, sqrt
        from .shape import view
        from . import diagonal
        c = cov(input)
        if not c._data.ndim:
            return c / c
        std = sqrt(diagonal(c))
        c = c / view(std, (-1, 1))
        c = c / view(std, (1, -1))
        return clamp(c, -1, 1)
    except (AttributeError, TypeError):
        check_tensor_args('corrcoef', 'input')
        raise


class _CopysignBackward(Node):
    """d copysign(x, y) / dx = copysign(x, y) / x (0 where x is 0); y gets zeros."""
    __slots__ = ('other_shape',)

    def backward(self, g):
        x, y = self.saved()
        if dual.is_array(g):
            with np.errstate(invalid='ignore', divide='ignore'):
                ratio = np.where(x == 0, 0, y / np.where(x == 0, 1, x))
            gi = dual.sum_to((g * ratio).astype(g.dtype, copy=False), x.shape)
            return gi, (np.zeros(self.other_shape, g.dtype) if len(self.next_functions) > 1 else None)
        from .pointwise import where
        ratio = where(x == 0, 0.0, y / where(x == 0, 1.0, x))
        return dual.sum_to(g * ratio, tuple(x.shape)), (g.new_zeros(self.other_shape) if len(self.next_functions) > 1 else None)


CopysignBackward0 = type('CopysignBackward0', (_CopysignBackward,), {'__slots__': ()})
CopysignBackward1 = type('CopysignBackward1', (_CopysignBackward,), {'__slots__': ()})


def copysign(input, other):
    """|input| with the sign of ``other`` (a tensor or a number), in a floating dtype."""
    from ._util import binary_arrays, NotOperand, operand_error
    try:
        x, y, a, b = binary_arrays(input, other, True)
    except NotOperand:
        raise operand_error('copysign', input, other) from None
    try:
        r = np.copysign(a, b)
    except (TypeError, NotImplementedError):   # complex operands: no NumPy loop, as no PyTorch kernel
        raise not_implemented('copysign_cpu', np.result_type(a, b)) from None
    except ValueError:
        from ._util import broadcast_mismatch
        raise broadcast_mismatch([np.shape(a), np.shape(b)]) from None
    if r.dtype.kind != 'f':
        r = r.astype(DEFAULT.np)
    from .pointwise import _follow_operands
    r = _follow_operands(r, a, b)
    ot = isinstance(other, Tensor)
    if GRAD.enabled and (input._requires_grad or (ot and other._requires_grad)):
        node = (CopysignBackward0 if ot else CopysignBackward1)((input, other) if ot else (input,))
        node.other_shape = other._data.shape if ot else None
        out = Tensor._make(r, node)
        node.save(input)
        node.save_output(out)
        return out
    return Tensor._make(r)


def signbit(input):
    """Whether the sign bit is set (True for -0.0 and negative NaNs)."""
    if input._data.dtype.kind == 'c':
        raise RuntimeError('signbit is not implemented for complex tensors.')
    return Tensor._make(np.signbit(input._data))


def heaviside(input, values):
    """0 where input < 0, 1 where input > 0, ``values`` where input is 0 (no gradient, as in PyTorch)."""
    if not isinstance(values, Tensor):
        check_tensor_args('heaviside', 'input', 'values')
    a, v = input._data, values._data
    if a.dtype != v.dtype:
        raise RuntimeError('heaviside is not yet implemented for tensors with different dtypes.')
    if a.dtype.kind == 'c':
        raise RuntimeError('heaviside is not yet implemented for complex tensors.')
    r = np.where(a == 0, v, (a > 0).astype(a.dtype)).astype(np.result_type(a, v))
    if GRAD.enabled and (input._requires_grad or values._requires_grad):
        return Tensor._make(r, _HeavisideBackward((input, values)))
    return Tensor._make(r)


_HeavisideBackward = undifferentiable('NotImplemented', 'derivative for aten::heaviside is not implemented',
                                      'torch::autograd::NotImplemented')
UniqueConsecutiveBackward0 = undifferentiable('UniqueConsecutiveBackward0',
                                              "the derivative for 'unique_consecutive' is not implemented.")


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Runs of equal consecutive elements (or slices along ``dim``) collapsed to one; optionally each input
    element's run and each run's length."""
    if input.is_meta:
        raise _meta.refuse()
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        change = np.ones(flat.size, bool)
        if flat.size:
            change[1:] = flat[1:] != flat[:-1]
        out = flat[change]
        inv_shape = a.shape
    else:
        from ._util import wrap_dim
        from .indexing import _unique_dim_check
        d = wrap_dim(dim, a.ndim)
        _unique_dim_check(a.shape, d)
        m = np.moveaxis(a, d, 0).reshape(a.shape[d], a.size // a.shape[d] if a.shape[d] else 1)
        change = np.ones(m.shape[0], bool)
        if m.shape[0]:
            change[1:] = (m[1:] != m[:-1]).any(axis=1)
        # PyTorch's result is laid out with dim outermost (its slices contiguous), seen back in dim's place
        out = np.moveaxis(np.moveaxis(np.compress(change, a, axis=d), d, 0).copy(), 0, d)
        inv_shape = (a.shape[d],)
    inverse = (np.cumsum(change) - 1).reshape(inv_shape).astype(np.int64)
    counts = np.diff(np.append(np.flatnonzero(change), change.size)).astype(np.int64)
    values = Tensor._make(out.copy() if dim is None else out)
    if GRAD.enabled and input._requires_grad:
        values = Tensor._make(values._data, UniqueConsecutiveBackward0((input,)))
    res = [values]
    if return_inverse:
        res.append(Tensor._make(inverse))
    if return_counts:
        res.append(Tensor._make(counts))
    return res[0] if len(res) == 1 else tuple(res)


def unravel_index(indices, shape):
    """The coordinates in a tensor of ``shape`` of flat ``indices``, as a tuple of int64 tensors."""
    if isinstance(shape, int):
        shape = (shape,)
    ix = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    if ix.dtype.kind not in 'iu':
        raise TypeError(f"expected 'indices' to be integer dtype, but got {scalar_name(ix.dtype)}")
    n = int(np.prod(shape))
    if not shape:
        return ()
    coords = np.stack(np.unravel_index(ix % n if n else ix, tuple(shape)), -1).astype(np.int64)
    return tuple(Tensor._make(coords[..., i]) for i in range(len(shape)))   # views of one array, as PyTorch's

