"""``ember.linalg``: solve, inv, det, lstsq and norms, differentiable like PyTorch's."""
from collections import namedtuple

import numpy as np

from .autograd import dual
from .autograd.grad_mode import GRAD
from .autograd.graph import Node
from .tensor import Tensor
from .ops.reduction import vector_norm
from .ops.blas import matmul


def _mT(x):
    return x.swapaxes(-1, -2)


def _square(a, op):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f'linalg.{op}: A must be batches of square matrices, but they are '
                           f'{a.shape[-2] if a.ndim > 1 else a.shape[0]} by {a.shape[-1]} matrices')


def _solve(a, b):
    return np.linalg.solve(a, b) if dual.is_array(a) else solve(a, b)


class LinalgSolveExBackward0(Node):
    """X = A^-1 B: gB = A^-T G, gA = -gB X^T."""
    __slots__ = ('vec', 'need')

    def backward(self, g):
        a, x = self.saved()
        if self.vec:
            g, x = g.reshape(tuple(g.shape) + (1,)), x.reshape(tuple(x.shape) + (1,))
        gb = _solve(_mT(a), g)
        ga = -(gb @ _mT(x)) if self.need[0] else None
        if self.vec:
            gb = gb.reshape(tuple(gb.shape[:-1]))
        return ga, (gb if self.need[1] else None)


def solve(A, B, *, left=True):
    """The solution X of A X = B."""
    a, b = A._data, B._data
    _square(a, 'solve')
    vec = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    try:
        x = np.linalg.solve(a, b[..., None] if vec else b)
    except np.linalg.LinAlgError:
        raise RuntimeError('torch.linalg.solve: The solver failed because the input matrix is singular.') from None
    if vec:
        x = x[..., 0]
    if GRAD.enabled and (A._requires_grad or B._requires_grad):
        node = LinalgSolveExBackward0((A, B))
        node.vec, node.need = vec, (A._requires_grad, B._requires_grad)
        out = Tensor._make(x, node)
        node.save(A)
        node.save_output(out)
        return out
    return Tensor._make(x)


class LinalgInvExBackward0(Node):
    """Y = A^-1: gA = -Y^T G Y^T."""
    __slots__ = ()

    def backward(self, g):
        (y,) = self.saved()
        return -(_mT(y) @ g @ _mT(y))


def inv(A):
    """The inverse of a square matrix (or batch)."""
    a = A._data
    _square(a, 'inv')
    try:
        y = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise RuntimeError('linalg.inv: The diagonal element 1 is zero, the inversion could not be completed '
                           'because the input matrix is singular.') from None
    if GRAD.enabled and A._requires_grad:
        node = LinalgInvExBackward0((A,))
        out = Tensor._make(y, node)
        node.save_output(out)
        return out
    return Tensor._make(y)


class LinalgDetBackward0(Node):
    """d det(A) = det(A) A^-T."""
    __slots__ = ()

    def backward(self, g):
        a, d = self.saved()
        if dual.is_array(a):
            return (g * d)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
        return (g * d).unsqueeze(-1).unsqueeze(-1) * _mT(inv(a))


def det(A):
    """The determinant of a square matrix (or batch)."""
    a = A._data
    _square(a, 'det')
    d = np.asarray(np.linalg.det(a)).astype(a.dtype)
    if GRAD.enabled and A._requires_grad:
        node = LinalgDetBackward0((A,))
        out = Tensor._make(d, node)
        node.save(A)
        node.save_output(out)
        return out
    return Tensor._make(d)


def slogdet(A):
    s, l = np.linalg.slogdet(A._data)
    return Tensor._make(np.asarray(s, A._data.dtype)), Tensor._make(np.asarray(l, A._data.dtype))


_LstsqResult = namedtuple('lstsq', ['solution', 'residuals', 'rank', 'singular_values'])


class LinalgLstsqBackward0(Node):
    """x = (A^T A)^-1 A^T B: with Z = (A^T A)^-1 G, gA = (B - A x) Z^T - A Z x^T and gB = A Z."""
    __slots__ = ('need',)

    def backward(self, g):
        a, b, x = self.saved()
        z = _solve(_mT(a) @ a, g)
        ga = (b - a @ x) @ _mT(z) - a @ z @ _mT(x) if self.need[0] else None
        gb = a @ z if self.need[1] else None
        return ga, gb


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solution of A X = B (named tuple; residuals/singular_values empty as with 'gelsy')."""
    a, b = A._data, B._data
    if a.dtype != b.dtype:
        raise RuntimeError(f'torch.linalg.lstsq: Expected input and other to have the same dtype, but got '
                           f'input\'s dtype {A.dtype} and other\'s dtype {B.dtype}')
    vec = b.ndim == a.ndim - 1
    bb = b[..., None] if vec else b
    if a.ndim == 2:
        x, _, rank, _ = np.linalg.lstsq(a, bb, rcond=rcond)
        rank = np.asarray(rank, np.int64)
    else:
        x = np.linalg.pinv(a) @ bb
        rank = np.asarray(np.linalg.matrix_rank(a), np.int64)
    x = x.astype(a.dtype)
    if vec:
        x = x[..., 0]
    empty = Tensor._make(np.zeros((0,), a.dtype))
    if GRAD.enabled and (A._requires_grad or B._requires_grad) and not vec:
        node = LinalgLstsqBackward0((A, B))
        node.need = (A._requires_grad, B._requires_grad)
        sol = Tensor._make(x, node)
        node.save(A, B)
        node.save_output(sol)
        return _LstsqResult(sol, empty, Tensor._make(rank), empty)
    return _LstsqResult(Tensor._make(x), empty, Tensor._make(rank), Tensor._make(np.zeros((0,), a.dtype)))


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """Vector 2-norm of all elements by default; a matrix norm for 2-D ``ord`` like 'fro' or 'nuc'."""
    if ord is None or (dim is None and A.dim() == 1) or (isinstance(dim, int)):
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
    return matrix_norm(A, ord, dim if dim is not None else (-2, -1), keepdim)


def matrix_norm(A, ord='fro', dim=(-2, -1), keepdim=False, *, dtype=None):
    """Frobenius (default), nuclear, or induced 1/inf/2 norms."""
    if ord == 'fro':
        return vector_norm(A, 2, dim, keepdim)
    from .ops.reduction import amax, amin, sum as _sum
    from .ops.pointwise import abs as _abs
    d0, d1 = dim
    if ord in (1, -1):
        s = _sum(_abs(A), d0, keepdim=True)
        r = amax(s, d1, keepdim=True) if ord == 1 else amin(s, d1, keepdim=True)
    elif ord in (float('inf'), float('-inf')):
        s = _sum(_abs(A), d1, keepdim=True)
        r = amax(s, d0, keepdim=True) if ord > 0 else amin(s, d0, keepdim=True)
    else:
        sv = np.linalg.svd(A._data, compute_uv=False)
        val = sv.sum(-1) if ord == 'nuc' else sv.max(-1) if ord == 2 else sv.min(-1)
        return Tensor._make(np.asarray(val, A._data.dtype))
    return r if keepdim else r.squeeze(max(d0 % A.dim(), d1 % A.dim())).squeeze(min(d0 % A.dim(), d1 % A.dim()))


def matrix_rank(A, tol=None, hermitian=False):
    return Tensor._make(np.asarray(np.linalg.matrix_rank(A._data, tol=tol), np.int64))


def pinv(A, rcond=1e-15, hermitian=False):
    return Tensor._make(np.linalg.pinv(A._data, rcond=rcond).astype(A._data.dtype))


def cross(a, b, dim=-1):
    return Tensor._make(np.cross(a._data, b._data, axis=dim))




def eigh(A, UPLO='L'):
    w, v = np.linalg.eigh(A._data, UPLO=UPLO)
    return Tensor._make(w), Tensor._make(v)


def svd(A, full_matrices=True):
    u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices)
    return Tensor._make(u), Tensor._make(s), Tensor._make(vh)


def cholesky(A, upper=False):
    l = np.linalg.cholesky(A._data)
    return Tensor._make(np.swapaxes(l, -1, -2).copy() if upper else l)


def qr(A, mode='reduced'):
    q, r = np.linalg.qr(A._data, mode=mode)
    return Tensor._make(q), Tensor._make(r)


__all__ = ['solve', 'inv', 'det', 'slogdet', 'lstsq', 'norm', 'vector_norm', 'matrix_norm', 'matrix_rank', 'pinv',
           'eigh', 'svd', 'cholesky', 'qr', 'cross', 'matmul']
