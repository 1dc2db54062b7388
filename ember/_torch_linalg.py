"""The linear algebra PyTorch keeps at ``torch.*`` and as Tensor methods (``torch.inverse``, ``x.det()``,
``torch.cholesky_solve``...): thin forms of ``ember.linalg``'s functions, with PyTorch's deprecation warnings
for the old ones. ``ember._linalg`` is imported on the first call (it stays out of ``import ember``)."""

import sys

import numpy as np

from ._dtype import scalar_name
from ._warn import warn_user
from .autograd import dual, forward_refusal
from .autograd.graph import Node
from .ops._util import arg_error, call_site, check_tensor_args, dim_aliases

__all__ = ['inverse', 'det', 'logdet', 'slogdet', 'pinverse', 'matrix_power', 'matrix_exp', 'cholesky',
           'cholesky_solve', 'cholesky_inverse', 'qr', 'cross', 'chain_matmul']


def _L():
    from . import _linalg
    return _linalg


def inverse(input):
    """The inverse of a square matrix (or batch): ``linalg.inv``."""
    try:
        return _L().inv(input)
    except (AttributeError, TypeError):
        check_tensor_args('inverse', 'input')
        raise


def det(input):
    try:
        return _L().det(input)
    except (AttributeError, TypeError):
        check_tensor_args('det', 'input')
        raise


def logdet(input):
    """log det(input): NaN where the determinant is negative, -inf where it is zero."""
    from .ops.pointwise import where
    from .ops.creation import full_like
    from ._linalg import _low_precision
    _low_precision(input, 'logdet')
    sign, logabs = _L().slogdet(input)
    return where(sign == -1, full_like(logabs, float('nan')), logabs)


def slogdet(input):
    """(sign, log|det|) as ``torch.return_types.slogdet``."""
    L = _L()
    return _SLOGDET(*L.slogdet(input))


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, singular values below ``rcond`` times the largest dropped."""
    return _L().pinv(input, rcond=rcond)


def matrix_power(input, n):
    try:
        return _L().matrix_power(input, n)
    except (AttributeError, TypeError):
        check_tensor_args('matrix_power', 'input')
        raise


def matrix_exp(input):
    from .tensor import Tensor
    if not isinstance(input, Tensor):
        check_tensor_args('matrix_exp', 'input')
    return _L().matrix_exp(input)


def cholesky(input, upper=False):
    """Deprecated ``torch.cholesky`` (PyTorch's warning): ``linalg.cholesky``'s factor, node CholeskyBackward0."""
    warn_user('torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future '
                  'PyTorch release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\n'
                  'U = torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis '
                  'transform will produce equivalent results for all valid (symmetric positive definite) inputs.',
                  once=True)   # TORCH_WARN_ONCE, at the caller's line
    L = _L()
    L._low_precision(input, 'torch.cholesky')
    L._square(input._data, 'cholesky')
    if forward_refusal.SOURCES:   # linalg.cholesky has a forward-mode formula, the deprecated cholesky none
        forward_refusal.refuse('cholesky', input)
    return L._cholesky(input, upper, L.CholeskyBackward0, 'cholesky')


def _mH(a):
    """The conjugate transpose of each matrix (the transpose of a real one)."""
    a = np.swapaxes(a, -1, -2)
    return np.conjugate(a) if a.dtype.kind == 'c' else a


def cholesky_solve(input, input2, upper=False):
    """X with (L L^H) X = input, L = ``input2`` lower (or U^H U with ``upper``)."""
    from .autograd.grad_mode import GRAD
    from .tensor import Tensor
    b, l = input._data, input2._data
    if b.ndim < 2 or l.ndim < 2:
        raise RuntimeError(f'torch.cholesky_solve: Expected b and A to have at least 2 dimensions, but they have '
                           f'{b.ndim} and {l.ndim} dimensions respectively')
    lower = _mH(np.triu(l)) if upper else np.tril(l)   # LAPACK's potrs reads one triangle only
    x = _L().lapack_order(np.linalg.solve(_mH(lower), np.linalg.solve(lower, b)).astype(b.dtype))
    if GRAD.enabled and (input.requires_grad or input2.requires_grad):
        node = CholeskySolveBackward0((input, input2))
        node.upper = upper
        node.shapes = (b.shape, l.shape)
        out = Tensor._make(x, node)
        node.save(input2)
        node.save_output(out)
        node.guard(input)   # (PyTorch's node saves self, b; the backward reads the solution)
        return out
    return Tensor._make(x)


def cholesky_inverse(input, upper=False):
    """(L L^H)^-1 of a Cholesky factor L = ``input`` (or (U^H U)^-1 with ``upper``)."""
    from .autograd.grad_mode import GRAD
    from .tensor import Tensor
    l = input._data
    if input.dtype._cat < 2 or input.dtype.itemsize == 2 and input.dtype.is_floating_point:
        raise NotImplementedError(f'"cholesky_inverse_out_cpu" not implemented for \'{scalar_name(input.dtype)}\'')
    _L()._square(l, 'cholesky_inverse')
    l = np.triu(l) if upper else np.tril(l)     # LAPACK's potri reads one triangle only
    if l.size and not np.diagonal(l, axis1=-2, axis2=-1).all():
        L = _L()
        raise L._failure(l, 'cholesky_inverse', lambda m: int(np.argmin(np.diagonal(m) != 0)) + 1
                         if not np.diagonal(m).all() else 0, L._SINGULAR)
    m = _mH(l) @ l if upper else l @ _mH(l)
    y = _L().lapack_order(np.linalg.inv(m).astype(l.dtype))
    if GRAD.enabled and input.requires_grad:
        node = CholeskyInverseBackward0((input,))
        node.upper = upper
        out = Tensor._make(y, node)
        node.save(input)
        node.save_output(out)
        return out
    return Tensor._make(y)


def qr(input, some=True):
    """Deprecated ``torch.qr`` (PyTorch's warning): ``linalg.qr`` reduced (``some``) or complete."""
    from .tensor import Tensor
    if not isinstance(input, Tensor):   # (the argument parser's error, before the warning)
        raise arg_error('qr', 'input', 1, input)
    if not isinstance(some, (bool, np.bool_)):   # (x.qr(1): PyTorch's parser takes no int for a bool)
        site = call_site(sys._getframe())
        pos = None if site is not None and 'some' in site[2] else 1 if site is not None and site[0] else 2
        raise arg_error('qr', 'some', pos, some, 'bool')
    warn_user("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
                  "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = "
                  "torch.qr(A, some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else "
                  "'complete')", once=True)   # TORCH_WARN_ONCE, at the caller's line
    return _QR(*_L().qr(input, 'reduced' if some else 'complete'))


def cross(input, other, dim=None):
    """The cross product along ``dim``; without it, along the first dim of size 3 (PyTorch's deprecated default,
    with its warning)."""
    from .tensor import Tensor
    if not (isinstance(input, Tensor) and isinstance(other, Tensor)):
        check_tensor_args('cross', 'input', 'other')
    if dim is None:
        warn_user('Using torch.cross without specifying the dim arg is deprecated.\nPlease either pass the dim '
                      'explicitly or simply use torch.linalg.cross.\nThe default value of dim will change to agree '
                      'with that of linalg.cross in a future release.', once=True,
                  internally='aten/src/ATen/native/Cross.cpp:63')   # TORCH_WARN_ONCE, at the caller's line
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
        dim = next((i for i, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError('no dimension of size 3 in input')
    return _L().cross(input, other, dim=dim)


cross = dim_aliases(cross)   # torch.cross(a, b, axis=1), as PyTorch's argument parser reads axis for dim


def chain_matmul(*matrices):
    """Deprecated ``torch.chain_matmul`` (PyTorch's warning): ``linalg.multi_dot`` of the matrices."""
    warn_user('torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use '
              'torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple '
              'parameters.', once=True, internally='aten/src/ATen/native/LinearAlgebra.cpp:1102',
              inside=0)   # TORCH_WARN_ONCE, from torch/functional.py's wrapper
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if len(matrices) == 1:
        return matrices[0].clone()
    return _L().multi_dot(matrices)


def _mT(x):
    return np.swapaxes(x, -1, -2) if dual.is_array(x) else x.mT


class CholeskySolveBackward0(Node):
    """X = (L L^T)^-1 B: gB = (L L^T)^-1 G; gL = -(gB X^T + X gB^T) L (transposed for an upper factor); each
    summed back over the batch dims its input was broadcast along. Under create_graph=True the same formulas in
    differentiable ops (PyTorch's cholesky_solve_backward), gB by cholesky_solve itself."""
    __slots__ = ('upper', 'shapes')

    def backward(self, g):
        l, x = self.saved()
        if dual.is_array(g):
            lower = np.swapaxes(l, -1, -2) if self.upper else l
            gb = np.linalg.solve(np.swapaxes(lower, -1, -2), np.linalg.solve(lower, g)).astype(g.dtype)
        else:
            gb = cholesky_solve(g, l, self.upper)
        common = gb @ _mT(x)
        common = common + _mT(common)
        gl = -(l @ common) if self.upper else -(common @ l)
        b_shape, l_shape = self.shapes
        return dual.sum_to(gb, b_shape), dual.sum_to(gl.astype(g.dtype) if dual.is_array(g) else gl, l_shape)


class CholeskyInverseBackward0(Node):
    """Y = (L L^T)^-1: gL = -Y (G + G^T) Y L (L^T-side for an upper factor); in differentiable ops under
    create_graph=True (PyTorch's cholesky_inverse_backward)."""
    __slots__ = ('upper',)

    def backward(self, g):
        l, y = self.saved()
        if not dual.is_array(g) and forward_refusal.SOURCES:   # a forward-mode transform differentiates this in g
            s = g + _mT(g)   # (the adjoint of PyTorch's cholesky_inverse_jvp: -Y dL Y L^T and its transpose)
            return -(y @ l @ s @ y) if self.upper else -(y @ s @ l @ y)
        common = y @ ((g + _mT(g)) @ y)
        gl = -(l @ common) if self.upper else -(common @ l)
        return gl.astype(g.dtype) if dual.is_array(g) else gl


def _result(name, fields):
    from .ops import return_types
    return getattr(return_types, name, None) or _make_result(name, fields)


def _make_result(name, fields):
    from collections import namedtuple
    base = namedtuple(name, fields)

    def __repr__(self):
        body = ',\n'.join(f'{f}={v!r}' for f, v in zip(self._fields, self))
        return f'torch.return_types.{name}(\n{body})'
    return type(name, (base,), {'__slots__': (), '__repr__': __repr__})


_SLOGDET = _result('slogdet', ['sign', 'logabsdet'])
_QR = _result('qr', ['Q', 'R'])
